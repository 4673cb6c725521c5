"""Reading counters until their queued signals are applied: signals are one-way, so a test waits for the total."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx
from durabletask.client import TaskHubGrpcClient
from durabletask.entities import EntityInstanceId

from tests.helpers.polling import wait_until

T = TypeVar("T")


def wait_for_value(read: Callable[[], T], expected: T, timeout: float = 60, what: str = "the counter") -> None:
    """Read until ``read()`` is exactly ``expected``; fail naming the last value read.

    Returns nothing, so a caller cannot mistake the wait for an assertion on what it read.
    """
    wait_until(lambda: read() == expected, timeout, 0.1, lambda: f"{what} is {read()!r}, expected {expected!r}")


def entity_over_http(api: httpx.Client, name: str, key: str) -> object:
    """``GET /entities/{name}/{key}``: the entity's state, or None while it has none (404); any other answer fails."""
    response = api.get(f"/entities/{name}/{key}")
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def counter_over_http(api: httpx.Client, key: str) -> int | None:
    """``GET /counters/{key}``: its value, or None while the counter does not exist (404); any other answer fails."""
    response = api.get(f"/counters/{key}")
    assert response.status_code in (200, 404), response.text
    return response.json()["value"] if response.status_code == 200 else None


def entity_value(client: TaskHubGrpcClient, entity_id: EntityInstanceId) -> int | None:
    """The sample's read over gRPC, ``get_entity(...).get_state(int)``; None while the entity has no state."""
    metadata = client.get_entity(entity_id, include_state=True)
    return metadata.get_state(int) if metadata is not None else None
