"""What both clients share: reaching the scheduler directly (as the seeds do) or through the HTTP API."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import httpx
from durabletask.azuremanaged.client import DurableTaskSchedulerClient

from durable_app.scheduler import sync_credential
from durable_app.settings import connection_from_env

logger = logging.getLogger("client")


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        help="the app's base URL (e.g. http://localhost:7071); without it, talk to the scheduler directly "
        "using DURABLE_TASK_SCHEDULER_CONNECTION_STRING or ENDPOINT/TASKHUB",
    )
    parser.add_argument("--code", help="function key for a deployed app (sent as x-functions-key)")


UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
"""gRPC answers that mean nothing is listening (or answering) at the scheduler's address."""


@contextmanager
def scheduler_reachable(env: dict[str, str]) -> Iterator[None]:
    """Turn "no scheduler there" into one line naming the address and how to start one (exit status 1)."""
    try:
        yield
    except grpc.RpcError as error:
        code = error.code()  # type: ignore[attr-defined]
        if code not in UNREACHABLE:
            raise
        connection = connection_from_env(env)
        raise SystemExit(
            f"Could not reach the scheduler at {connection.endpoint} (task hub {connection.taskhub}): {code.name}. "
            "Start the local stack with `make run` (or the DTS emulator), or point "
            "DURABLE_TASK_SCHEDULER_CONNECTION_STRING or ENDPOINT at a running scheduler."
        ) from None


@contextmanager
def app_reachable(base_url: str) -> Iterator[None]:
    """Turn "no app there" into one line naming the URL and how to start the app (exit status 1)."""
    try:
        yield
    except httpx.TransportError as error:
        raise SystemExit(
            f"Could not reach the app at {base_url}: {error or type(error).__name__}. "
            "Start it with `make run` (the app answers on http://localhost:7071), or pass --url with its address."
        ) from None


def scheduler_client(env: dict[str, str]) -> DurableTaskSchedulerClient:
    """A direct client, configured exactly as the seeds' clients and the app's worker are."""
    connection = connection_from_env(env)
    if connection.authentication.value == "None":
        print("Using local emulator with no authentication")
    print(f"Using taskhub: {connection.taskhub}")
    print(f"Using endpoint: {connection.endpoint}")
    return DurableTaskSchedulerClient(
        host_address=connection.host_address,
        taskhub=connection.taskhub,
        token_credential=sync_credential(connection),
        secure_channel=connection.secure_channel,
        logger=logging.getLogger("durabletask.client"),
    )


class AppApi:
    """The app's HTTP API: start, poll until done, signal."""

    def __init__(self, base_url: str, code: str | None = None, timeout: float = 30.0) -> None:
        headers = {"x-functions-key": code} if code else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/api", headers=headers, timeout=timeout)

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self._http.post(path, json=body)
        _raise_for_status(response)
        return response.json()

    def get(self, path: str) -> dict[str, Any]:
        response = self._http.get(path)
        _raise_for_status(response)
        return response.json()

    def wait_for_completion(self, status_url: str, timeout: float) -> dict[str, Any]:
        """Poll ``statusQueryGetUri`` until it answers 200 (done) or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            response = self._http.get(status_url)
            _raise_for_status(response)
            if response.status_code == 200:
                return response.json()
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the orchestration did not finish within {timeout:.0f}s")
            time.sleep(min(float(response.headers.get("Retry-After", 1)), 0.25))

    def close(self) -> None:
        self._http.close()


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            detail = response.json().get("error")
        except ValueError:
            detail = response.text
        raise SystemExit(f"{response.request.method} {response.request.url} -> {response.status_code}: {detail}")
