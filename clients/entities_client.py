"""The entities sample's client: signal a counter directly, then drive counters from orchestrations.

python -m clients.entities_client [entity-key] [--url http://localhost:7071]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from durabletask.entities import EntityInstanceId

from clients.common import AppApi, add_connection_arguments, app_reachable, scheduler_client, scheduler_reachable

ORCHESTRATIONS = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entity_key", nargs="?", default="my-counter")
    add_connection_arguments(parser)
    args = parser.parse_args(argv)

    print(f"Starting entity operations demo - {ORCHESTRATIONS} orchestrations")
    if args.url:
        with app_reachable(args.url):
            results = _through_http(AppApi(args.url, args.code), args.entity_key)
    else:
        with scheduler_reachable(dict(os.environ)):
            results = _direct(args.entity_key)
    failures = [result for result in results if result is None]
    return 1 if failures else 0


def _direct(key: str) -> list[str | None]:
    client = scheduler_client(dict(os.environ))
    entity_id = EntityInstanceId("counter", key)
    print("=== Direct Entity Operations ===")
    print(f"Signaling entity '{key}' to add 100")
    client.signal_entity(entity_id, "add", input=100)
    print(f"Signaling entity '{key}' to subtract 25")
    client.signal_entity(entity_id, "subtract", input=25)

    print("=== Orchestration-based Entity Operations ===")
    results: list[str | None] = []
    for number in range(1, ORCHESTRATIONS + 1):
        orch_key = f"{key}-orch-{number}"
        print(f"Scheduling orchestration #{number} for entity '{orch_key}'")
        instance_id = client.schedule_new_orchestration("counter_workflow", input=orch_key)
        state = client.wait_for_orchestration_completion(instance_id, timeout=60)
        results.append(_report(state.runtime_status.name if state else "UNKNOWN", state and state.get_output()))
    return results


def _through_http(api: AppApi, key: str) -> list[str | None]:
    print("=== Direct Entity Operations ===")
    print(f"Signaling entity '{key}' to add 100")
    api.post(f"/counters/{key}/add", 100)
    print(f"Signaling entity '{key}' to subtract 25")
    api.post(f"/counters/{key}/subtract", 25)

    print("=== Orchestration-based Entity Operations ===")
    results: list[str | None] = []
    for number in range(1, ORCHESTRATIONS + 1):
        orch_key = f"{key}-orch-{number}"
        print(f"Scheduling orchestration #{number} for entity '{orch_key}'")
        started = api.post("/orchestrators/counter_workflow", {"entity_key": orch_key})
        status = api.wait_for_completion(started["statusQueryGetUri"], timeout=60)
        results.append(_report(status["runtimeStatus"].upper(), status["output"]))
    api.close()
    return results


def _report(status: str, output: object) -> str | None:
    if status == "COMPLETED":
        print(f"Orchestration completed successfully with result: {json.dumps(output)}")
        return str(output)
    print(f"Orchestration did not complete successfully: {status}")
    return None


if __name__ == "__main__":
    sys.exit(main())
