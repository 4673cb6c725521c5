"""Who may call what, and how much: auth levels, function keys on the local host, body and item limits."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from local_stack.functions_host import registered_functions
from local_stack.ports import free_port, wait_for_port
from tests.helpers.limits import (
    MAX_BATCH_SIGNALS,
    MAX_BATCH_STARTS,
    MAX_BATCH_WORK_ITEMS,
    MAX_BODY_BYTES,
    MAX_FAN_OUT_ITEMS,
)
from tests.helpers.stack import HOST, ROOT, LocalStack
from tests.reliability.conftest import started_stack

FUNCTION_KEY = "local-test-key-not-a-secret"  # pragma: allowlist secret
ANONYMOUS = {"health", "openapi"}
KEYED_CALLS = [
    ("GET", "/counters", None, 200),
    ("GET", "/counters/some-key", None, 404),  # never signalled: the signal below goes to another key
    ("POST", "/counters/signalled-key/add", 1, 202),
    ("GET", "/instances/some-id", None, 404),
    ("DELETE", "/instances/some-id", None, 404),
    ("POST", "/orchestrators/fan_out_fan_in_orchestrator", [1], 202),
]
"""Each keyed call, and what it answers once the key is given."""
BODY_ROUTES = {
    "/orchestrators/fan_out_fan_in_orchestrator": (400, "body"),
    "/orchestrators/fan_out_fan_in_orchestrator/an-id": (400, "body"),
    "/orchestrators/counter_workflow": (400, "entity_key"),
    "/counters/some-key/add": (400, "amount"),
    "/batch/signals": (400, "body"),
    "/batch/orchestrators/fan_out_fan_in_orchestrator": (400, "body"),
    "/instances/some-id/terminate": (400, "body"),
    "/instances/some-id/suspend": (400, "body"),
    "/instances/some-id/resume": (400, "body"),
    "/instances/some-id/raiseEvent/an-event": (404, "instance_id"),
}
"""Each route taking a body, and its answer to a JSON string just under the size limit: judged, not refused by size."""


def test_every_trigger_but_health_and_openapi_is_at_function_level(app_module: ModuleType) -> None:
    levels = {
        function.get_function_name(): str(function.get_trigger().auth_level).rsplit(".", 1)[-1].upper()
        for function in registered_functions(app_module.app)
    }
    assert {name for name, level in levels.items() if level == "ANONYMOUS"} == ANONYMOUS
    assert {level for name, level in levels.items() if name not in ANONYMOUS} == {"FUNCTION"}


@pytest.fixture(scope="module")
def keyed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose host enforces a function key set through ``LOCAL_FUNCTION_KEY``."""
    yield from started_stack(tmp_path_factory.mktemp("keyed"), {"LOCAL_FUNCTION_KEY": FUNCTION_KEY})


def assert_keys_enforced(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as api:
        for method, path, body, status in KEYED_CALLS:
            refused = api.request(method, path, json=body)
            assert refused.status_code == 401, (method, path)
            assert set(refused.json()) == {"error", "field"}
            wrong = api.request(method, path, json=body, headers={"x-functions-key": FUNCTION_KEY + "x"})
            assert wrong.status_code == 401, (method, path)
            for auth in ({"headers": {"x-functions-key": FUNCTION_KEY}}, {"params": {"code": FUNCTION_KEY}}):
                allowed = api.request(method, path, json=body, **auth)
                assert allowed.status_code == status, (method, path, auth, allowed.text)
        assert api.get("/counters", params={"code": FUNCTION_KEY}).status_code == 200
        assert api.get("/openapi.json").status_code == 200
        health = api.get("/health")
        assert (health.status_code, health.json()["status"]) == (200, "healthy"), health.text


def test_the_host_enforces_a_key_from_the_environment(keyed_stack: LocalStack) -> None:
    assert_keys_enforced(keyed_stack.base_url)


def test_the_host_enforces_a_key_from_the_command_line(keyed_stack: LocalStack, tmp_path: Path) -> None:
    port = free_port()
    env = {**keyed_stack.process_env(), "LOCAL_FUNCTION_KEY": "", "DTS_WORKER_ENABLED": "false"}
    command = [sys.executable, "-m", "local_stack", "host", "--port", str(port), "--function-key", FUNCTION_KEY]
    with (tmp_path / "host.log").open("wb") as log:
        host = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_for_port(HOST, port, 60), (tmp_path / "host.log").read_text()
        assert_keys_enforced(f"http://{HOST}:{port}/api")
    finally:
        host.terminate()
        host.wait(timeout=30)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The stack whose limits the ``api`` fixture's requests probe."""
    yield from started_stack(tmp_path_factory.mktemp("limits"), {})


@pytest.mark.parametrize(("path", "under_the_limit"), BODY_ROUTES.items())
def test_a_body_over_the_limit_is_a_413(api: httpx.Client, path: str, under_the_limit: tuple[int, str]) -> None:
    oversized = b'"' + b"x" * MAX_BODY_BYTES + b'"'
    response = api.post(path, content=oversized)
    assert response.status_code == 413, response.text
    assert response.json() == {"error": f"request body is larger than {MAX_BODY_BYTES} bytes", "field": "body"}
    judged = api.post(path, content=b'"' + b"x" * (MAX_BODY_BYTES - 10) + b'"')
    assert (judged.status_code, judged.json()["field"]) == under_the_limit, judged.text
    assert "larger than" not in judged.json()["error"]


@pytest.mark.parametrize(
    ("request_args", "field"),
    [
        ({"json": list(range(MAX_FAN_OUT_ITEMS + 1))}, "items"),
        ({"json": {"items": [1] * (MAX_FAN_OUT_ITEMS + 1)}}, "items"),
        ({"json": {"count": MAX_FAN_OUT_ITEMS + 1}}, "count"),
        ({"params": {"count": str(MAX_FAN_OUT_ITEMS + 1)}}, "count"),
    ],
)
def test_more_items_than_the_maximum_is_a_400(api: httpx.Client, request_args: dict, field: str) -> None:
    response = api.post("/orchestrators/fan_out_fan_in_orchestrator", **request_args)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert str(MAX_FAN_OUT_ITEMS) in response.json()["error"]


@pytest.mark.parametrize(
    ("path", "body", "field", "maximum"),
    [
        (
            "/batch/signals",
            {"signals": [{"key": "k", "operation": "reset"}] * (MAX_BATCH_SIGNALS + 1)},
            "signals",
            MAX_BATCH_SIGNALS,
        ),
        (
            "/batch/orchestrators/counter_workflow",
            {"inputs": ["k"] * (MAX_BATCH_STARTS + 1)},
            "inputs",
            MAX_BATCH_STARTS,
        ),
        (
            "/batch/orchestrators/fan_out_fan_in_orchestrator",
            {"inputs": [{"count": MAX_FAN_OUT_ITEMS}] * (MAX_BATCH_WORK_ITEMS // MAX_FAN_OUT_ITEMS + 1)},
            "inputs",
            MAX_BATCH_WORK_ITEMS,
        ),
    ],
)
def test_a_batch_above_its_limits_is_a_400(api: httpx.Client, path: str, body: dict, field: str, maximum: int) -> None:
    response = api.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert str(maximum) in response.json()["error"]
