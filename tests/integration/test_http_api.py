"""Every HTTP trigger, called with real ``func.HttpRequest`` objects, against the real scheduler and worker."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from functools import partial
from types import ModuleType
from typing import Any

import azure.functions as func
import pytest

from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.values import MAX_PAGE_SIZE, MAX_REASON_LENGTH, MAX_TOKEN_LENGTH
from local_stack.functions_host import registered_functions
from tests.helpers.counters import wait_for_value
from tests.helpers.polling import wait_until
from tests.helpers.settings import app_settings_with

BASE = "http://localhost:7071/api"


def call(app: ModuleType, handler: str, method: str, path: str, body: Any = None, **kwargs: Any) -> func.HttpResponse:
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    request = func.HttpRequest(
        method, f"{BASE}/{path}", body=raw, route_params=kwargs.get("route", {}), params=kwargs.get("params", {})
    )
    return asyncio.run(handler_named(app, handler)(request))


def handler_named(app: ModuleType, name: str) -> Any:
    """The user function of the trigger registered as ``name``, as the Functions host calls it."""
    functions = {function.get_function_name(): function for function in registered_functions(app.app)}
    return functions[name].get_user_function()


def payload(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


def wait_done(app: ModuleType, instance_id: str, timeout: float = 20) -> func.HttpResponse:
    def finished() -> func.HttpResponse | None:
        response = call(
            app, "get_instance_status", "GET", f"instances/{instance_id}", route={"instance_id": instance_id}
        )
        return response if response.status_code != 202 else None

    return wait_until(finished, timeout, message=f"{instance_id} is still running")


def test_start_fan_out_answers_202_with_management_urls(app_module: ModuleType) -> None:
    response = call(
        app_module, "start_fan_out_fan_in_orchestrator", "POST", "orchestrators/fan_out_fan_in_orchestrator", [1, 2, 3]
    )
    assert response.status_code == 202
    body = payload(response)
    instance = f"{BASE}/instances/{body['id']}"
    assert response.headers["Location"] == instance
    assert body["statusQueryGetUri"] == instance
    assert body["sendEventPostUri"] == f"{instance}/raiseEvent/{{eventName}}"
    assert body["terminatePostUri"].startswith(f"{instance}/terminate")
    assert body["suspendPostUri"].startswith(f"{instance}/suspend")
    assert body["resumePostUri"].startswith(f"{instance}/resume")
    assert body["purgeHistoryDeleteUri"] == instance
    done = wait_done(app_module, body["id"])
    assert done.status_code == 200
    assert payload(done)["output"] == {"total_items": 3, "sum": 14, "average": 14 / 3}


@pytest.mark.parametrize(
    ("body", "params", "expected_sum", "expected_count"),
    [
        (None, {}, 385, 10),
        ({"count": 4}, {}, 30, 4),
        (None, {"count": "3"}, 14, 3),
        ({"items": [2.5, -1]}, {}, 7.25, 2),
        ([], {}, 0, 0),
    ],
)
def test_fan_out_input_forms(app_module: ModuleType, body: Any, params: dict, expected_sum: float, expected_count: int):
    response = call(
        app_module,
        "start_fan_out_fan_in_orchestrator",
        "POST",
        "orchestrators/fan_out_fan_in_orchestrator",
        body,
        params=params,
    )
    assert response.status_code == 202, response.get_body()
    output = payload(wait_done(app_module, payload(response)["id"]))["output"]
    assert output["sum"] == expected_sum
    assert output["total_items"] == expected_count


def test_caller_chosen_id_conflicts_while_running_and_is_reusable_after(app_module: ModuleType) -> None:
    instance_id = f"fixed-{uuid.uuid4().hex[:8]}"
    route = {"instance_id": instance_id}
    first = call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", {"count": 2000}, route=route)
    second = call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", [1], route=route)
    assert first.status_code == 202
    assert second.status_code == 409
    assert payload(second)["field"] == "instance_id"
    assert f'instance_id "{instance_id}" is taken' in payload(second)["error"]
    assert payload(wait_done(app_module, instance_id, timeout=60))["output"]["total_items"] == 2000
    again = call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", [5], route=route)
    assert again.status_code == 202
    assert payload(wait_done(app_module, instance_id))["output"]["sum"] == 25


@pytest.mark.parametrize(
    ("body", "params", "route", "field", "status"),
    [
        (b"{not json", {}, {}, "body", 400),
        (b"\xff\xfe", {}, {}, "body", 400),
        (b"[" + b"9" * 5000 + b"]", {}, {}, "body", 400),
        (b"[" * 100_000 + b"]" * 100_000, {}, {}, "body", 400),
        ({"count": "ten"}, {}, {}, "count", 400),
        ({"count": "5"}, {}, {}, "count", 400),
        ({"count": 5.0}, {}, {}, "count", 400),
        ({"count": True}, {}, {}, "count", 400),
        ({"count": 5001}, {}, {}, "count", 400),
        ({"count": -1}, {}, {}, "count", 400),
        (None, {"count": "x"}, {}, "count", 400),
        (None, {"count": "1_000"}, {}, "count", 400),
        (None, {"count": "\u0663"}, {}, "count", 400),
        ({"count": 3}, {"count": "3"}, {}, "count", 400),
        ({"items": [1e200]}, {}, {}, "items[0]", 400),
        ({"items": [2, 10**400]}, {}, {}, "items[1]", 400),
        ({"items": [1, "two"]}, {}, {}, "items[1]", 400),
        ({"items": [True]}, {}, {}, "items[0]", 400),
        (list(range(5001)), {}, {}, "items", 400),
        ({"items": [1], "count": 1}, {}, {}, "items", 400),
        ({"colour": 1}, {}, {}, "colour", 400),
        ("text", {}, {}, "body", 400),
        ([1], {}, {"instance_id": "bad id/with spaces"}, "instance_id", 400),
        ([1], {}, {"instance_id": "x" * 101}, "instance_id", 400),
        (b"[" + b"1," * 600_000 + b"1]", {}, {}, "body", 413),
    ],
)
def test_fan_out_bad_input_is_400_naming_the_field(app_module, body, params, route, field, status) -> None:
    response = call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", body, params=params, route=route)
    assert response.status_code == status
    assert payload(response)["field"] == field
    assert payload(response)["error"]


@pytest.mark.parametrize(
    ("body", "params", "field", "words"),
    [
        ({"items": [True]}, {}, "items[0]", "got true"),
        ({"items": [None]}, {}, "items[0]", "got null"),
        ({"items": [[1]]}, {}, "items[0]", "got an array"),
        ({"count": "5"}, {}, "count", 'must be a JSON integer, got the string "5"'),
        ({"count": False}, {}, "count", "got false"),
        (None, {"count": "five"}, "count", 'got the string "five"'),
        ({"colour": 1}, {}, "colour", 'unknown field "colour"'),
    ],
)
def test_refusals_quote_the_input_in_json_words(app_module, body, params, field, words) -> None:
    response = call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", body, params=params)
    error = payload(response)
    assert (response.status_code, error["field"]) == (400, field)
    assert words in error["error"]
    assert not any(python in error["error"] for python in ("True", "False", "None", "'"))


def test_counter_workflow_returns_12_on_a_fresh_key(app_module: ModuleType) -> None:
    key = f"fresh-{uuid.uuid4().hex[:8]}"
    response = call(app_module, "start_counter_workflow", "POST", "orchestrators/counter_workflow", {"entity_key": key})
    assert response.status_code == 202
    assert payload(wait_done(app_module, payload(response)["id"]))["output"] == f"Counter '{key}' final value: 12"


@pytest.mark.parametrize(
    ("body", "field"), [(None, "entity_key"), ({"entity_key": "a@b"}, "entity_key"), ({"key": "k"}, "key"), (5, "body")]
)
def test_counter_workflow_bad_input(app_module: ModuleType, body: Any, field: str) -> None:
    response = call(app_module, "start_counter_workflow", "POST", "orchestrators/counter_workflow", body)
    assert response.status_code == 400
    assert payload(response)["field"] == field


def signal(app: ModuleType, key: str, operation: str, body: Any = None, **params: str) -> func.HttpResponse:
    route = {"key": key, "operation": operation}
    return call(app, "signal_counter", "POST", f"counters/{key}/{operation}", body, route=route, params=params)


def read_counter(app: ModuleType, key: str) -> func.HttpResponse:
    return call(app, "get_counter", "GET", f"counters/{key}", route={"key": key})


def app_counter(app: ModuleType, key: str) -> int | None:
    """The counter's value read through the app's own route; None while it does not exist (404)."""
    response = read_counter(app, key)
    assert response.status_code in (200, 404), response.get_body()
    return payload(response)["value"] if response.status_code == 200 else None


def test_counter_signals_and_reads(app_module: ModuleType) -> None:
    key = f"c-{uuid.uuid4().hex[:8]}"
    assert read_counter(app_module, key).status_code == 404
    assert signal(app_module, key, "add", 10).status_code == 202
    assert signal(app_module, key, "add", {"amount": 5}).status_code == 202
    assert signal(app_module, key, "subtract", None, amount="3").status_code == 202
    wait_for_value(partial(app_counter, app_module, key), 12)
    assert signal(app_module, key, "reset").status_code == 202
    wait_for_value(partial(app_counter, app_module, key), 0)
    listed = payload(call(app_module, "list_counters", "GET", "counters", params={"prefix": key}))["counters"]
    assert [(c["key"], c["value"]) for c in listed] == [(key, 0)]


@pytest.mark.parametrize(
    ("operation", "body", "field"),
    [
        ("multiply", 2, "operation"),
        ("get", None, "operation"),
        ("add", None, "amount"),
        ("add", "five", "amount"),
        ("add", "5", "amount"),
        ("add", {"amount": "5"}, "amount"),
        ("add", 1.5, "amount"),
        ("add", True, "amount"),
        ("add", 2**60, "amount"),
        ("reset", 3, "amount"),
        ("add", {"amount": 1, "extra": 2}, "extra"),
    ],
)
def test_counter_bad_signals_are_400_and_change_nothing(app_module, operation, body, field) -> None:
    key = f"bad-{uuid.uuid4().hex[:8]}"
    assert signal(app_module, key, "add", 7).status_code == 202
    response = signal(app_module, key, operation, body)
    assert response.status_code == 400
    assert payload(response)["field"] == field
    # Signals to one key apply in order: once the next one is applied, a queued refused one would be too.
    assert signal(app_module, key, "add", 1).status_code == 202
    wait_for_value(partial(app_counter, app_module, key), 8)


def test_counter_key_with_rejected_characters_is_400(app_module: ModuleType) -> None:
    response = signal(app_module, "a@b", "add", 1)
    assert response.status_code == 400
    assert payload(response)["field"] == "key"


def test_unknown_instance_is_404(app_module: ModuleType) -> None:
    for handler, method in [
        ("get_instance_status", "GET"),
        ("terminate_instance", "POST"),
        ("suspend_instance", "POST"),
        ("resume_instance", "POST"),
        ("purge_instance", "DELETE"),
    ]:
        response = call(app_module, handler, method, "instances/nope", route={"instance_id": "nope-unknown"})
        assert response.status_code == 404, handler
        assert payload(response)["field"] == "instance_id"


@pytest.fixture
def half_second_work() -> Iterator[None]:
    """Work items of 0.5 s: the instance is still running when the test suspends it."""
    with app_settings_with(WORK_ITEM_DELAY_MIN_SECONDS="0.5", WORK_ITEM_DELAY_MAX_SECONDS="0.5"):
        yield


def test_suspend_resume_raise_event_terminate_and_purge(app_module: ModuleType, half_second_work: None) -> None:
    instance_id = f"life-{uuid.uuid4().hex[:8]}"
    route = {"instance_id": instance_id}
    assert (
        call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", {"count": 3}, route=route).status_code == 202
    )

    running = call(app_module, "get_instance_status", "GET", "x", route=route)
    assert running.status_code == 202
    assert running.headers["Retry-After"] == "1"
    assert payload(running)["runtimeStatus"] in ("Pending", "Running")

    as_given = {"reason": "{text}"}  # the suspendPostUri posted without filling in its reason
    suspend = call(app_module, "suspend_instance", "POST", "x", {"reason": "pause"}, params=as_given, route=route)
    assert suspend.status_code == 202
    wait_for_status(app_module, route, "Suspended")
    both = call(app_module, "suspend_instance", "POST", "x", {"reason": "a"}, params={"reason": "b"}, route=route)
    assert both.status_code == 400
    assert payload(both)["field"] == "reason"
    assert call(app_module, "suspend_instance", "POST", "x", route=route).status_code == 202
    event = call(app_module, "raise_event", "POST", "x", {"go": 1}, route={**route, "event_name": "Approval"})
    assert event.status_code == 202
    bad_event = call(app_module, "raise_event", "POST", "x", None, route={**route, "event_name": "has space"})
    assert payload(bad_event)["field"] == "event_name"
    assert call(app_module, "purge_instance", "DELETE", "x", route=route).status_code == 409
    assert call(app_module, "resume_instance", "POST", "x", route=route).status_code == 202
    assert (
        call(app_module, "terminate_instance", "POST", "x", params={"reason": "test"}, route=route).status_code == 202
    )
    wait_for_status(app_module, route, "Terminated")
    done = call(app_module, "get_instance_status", "GET", "x", route=route, params={"history": "true"})
    assert done.status_code == 200
    kinds = [event["EventType"] for event in payload(done)["historyEvents"]]
    assert "ExecutionSuspended" in kinds and "ExecutionResumed" in kinds and "ExecutionTerminated" in kinds
    assert call(app_module, "terminate_instance", "POST", "x", route=route).status_code == 409
    assert call(app_module, "resume_instance", "POST", "x", route=route).status_code == 409

    purged = call(app_module, "purge_instance", "DELETE", "x", route=route)
    assert purged.status_code == 200
    assert payload(purged)["instancesDeleted"] == 1
    assert call(app_module, "get_instance_status", "GET", "x", route=route).status_code == 404


def wait_for_status(app: ModuleType, route: dict[str, str], status: str, timeout: float = 10) -> None:
    def current() -> str:
        return payload(call(app, "get_instance_status", "GET", "x", route=route))["runtimeStatus"]

    wait_until(lambda: current() == status, timeout, message=lambda: f"the instance is {current()}")


def test_status_history_lists_each_activity(app_module: ModuleType) -> None:
    started = payload(call(app_module, "start_fan_out_fan_in_orchestrator", "POST", "x", [3, 4]))
    wait_done(app_module, started["id"])
    response = call(
        app_module, "get_instance_status", "GET", "x", route={"instance_id": started["id"]}, params={"history": "true"}
    )
    events = payload(response)["historyEvents"]
    completed = [e for e in events if e["EventType"] == "TaskCompleted"]
    assert sorted(e["FunctionName"] for e in completed) == [
        "aggregate_results",
        "process_work_item",
        "process_work_item",
    ]
    assert all(e["ScheduledTime"] <= e["Timestamp"] for e in completed)
    assert not [e for e in events if e["EventType"] == "TaskScheduled"]  # each folded into the event that ended it
    assert payload(response)["createdTime"].endswith("+00:00")
    bad_flag = call(app_module, "get_instance_status", "GET", "x", route={"instance_id": "a"}, params={"history": "y"})
    assert payload(bad_flag)["field"] == "history"


def test_health_reports_the_connected_worker(app_module: ModuleType) -> None:
    def healthy() -> func.HttpResponse | None:
        response = call(app_module, "health", "GET", "health")
        return response if response.status_code == 200 else None

    response = wait_until(healthy, 10, 0.1, "health never answered 200")
    body = payload(response)
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["worker"]["connected"] is True
    assert body["scheduler"]["taskHub"] == "default"


def test_every_trigger_but_health_needs_a_function_key(app_module: ModuleType) -> None:
    levels = {f.get_function_name(): str(f.get_trigger().auth_level) for f in registered_functions(app_module.app)}
    assert levels.pop("health").endswith("ANONYMOUS")
    assert levels.pop("openapi").endswith("ANONYMOUS")
    assert levels and all(level.endswith("FUNCTION") for level in levels.values())


@pytest.mark.parametrize(
    ("handler", "route", "params", "headers", "field"),
    [
        ("list_instances", {}, {"top": "9" * 5000}, {}, "top"),
        ("list_counters", {}, {"top": "9" * 5000}, {}, "top"),
        ("list_entities", {"name": "counter"}, {"top": str(MAX_PAGE_SIZE + 1)}, {}, "top"),
        ("list_instances", {}, {}, {CONTINUATION_HEADER: "t" * (MAX_TOKEN_LENGTH + 1)}, CONTINUATION_HEADER),
        ("list_entities", {"name": "counter"}, {}, {CONTINUATION_HEADER: "t" * 1001}, CONTINUATION_HEADER),
        ("terminate_instance", {"instance_id": "x"}, {"reason": "r" * (MAX_REASON_LENGTH + 1)}, {}, "reason"),
    ],
)
def test_paging_and_reason_values_past_their_limits_are_a_400_naming_them(
    app_module: ModuleType,
    handler: str,
    route: dict[str, str],
    params: dict[str, str],
    headers: dict[str, str],
    field: str,
) -> None:
    """Checked by the values' one parser before any scheduler call: thousands of digits are no integer-size 500."""
    request = func.HttpRequest("GET", f"{BASE}/x", body=b"", route_params=route, params=params, headers=headers)
    answer = asyncio.run(handler_named(app_module, handler)(request))
    assert (answer.status_code, payload(answer)["field"]) == (400, field)
