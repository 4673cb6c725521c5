"""The fan-out/fan-in quickstart's client: process 1..N in parallel and print the aggregate.

python -m clients.fan_out_fan_in_client [number_of_items] [--url http://localhost:7071]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from clients.common import AppApi, add_connection_arguments, app_reachable, scheduler_client, scheduler_reachable

TIMEOUT_SECONDS = 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("number_of_items", nargs="?", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds to wait (default 60)")
    add_connection_arguments(parser)
    args = parser.parse_args(argv)
    if args.number_of_items < 0:
        parser.error("number_of_items must be 0 or more")

    work_items = list(range(1, args.number_of_items + 1))
    print(f"Starting new fan out/fan in orchestration with {args.number_of_items} work items")
    if args.url:
        with app_reachable(args.url):
            status, result = _through_http(AppApi(args.url, args.code), work_items, args.timeout)
    else:
        with scheduler_reachable(dict(os.environ)):
            status, result = _direct(work_items, args.timeout)
    print(f"Orchestration completed with status: {status}")
    if status != "COMPLETED" or not isinstance(result, dict):
        print(f"Orchestration did not complete successfully: {result}")
        return 1
    print(f"Total items processed: {result['total_items']}")
    print(f"Sum of results: {result['sum']}")
    print(f"Average result: {result['average']}")
    return 0


def _direct(work_items: list[int], timeout: float) -> tuple[str, Any]:
    client = scheduler_client(dict(os.environ))
    instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=work_items)
    print(f"Started orchestration with ID = {instance_id}")
    print("Waiting for orchestration to complete...")
    state = client.wait_for_orchestration_completion(instance_id, timeout=timeout)
    if state is None:
        return "UNKNOWN", None
    details = state.failure_details.message if state.failure_details else None
    return state.runtime_status.name, state.get_output() if details is None else details


def _through_http(api: AppApi, work_items: list[int], timeout: float) -> tuple[str, Any]:
    started = api.post("/orchestrators/fan_out_fan_in_orchestrator", work_items)
    print(f"Started orchestration with ID = {started['id']}")
    print("Waiting for orchestration to complete...")
    status = api.wait_for_completion(started["statusQueryGetUri"], timeout)
    api.close()
    failure = status.get("failureDetails")
    return status["runtimeStatus"].upper(), status["output"] if not failure else failure["errorMessage"]


if __name__ == "__main__":
    sys.exit(main())
