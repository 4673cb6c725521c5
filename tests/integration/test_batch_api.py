"""The batch triggers, called with real ``func.HttpRequest`` objects, against the real scheduler and worker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from types import ModuleType
from typing import Any

import pytest
from durabletask.azuremanaged.client import DurableTaskSchedulerClient

from tests.helpers.counters import wait_for_value
from tests.helpers.limits import MAX_BATCH_SIGNALS
from tests.integration.test_http_api import app_counter, call, payload, signal, wait_done


def batch_signals(app: ModuleType, body: Any) -> Any:
    return call(app, "signal_counters", "POST", "batch/signals", body)


def batch_start(app: ModuleType, name: str, body: Any) -> Any:
    return call(app, "start_orchestrations", "POST", f"batch/orchestrators/{name}", body, route={"name": name})


def entry(key: str, operation: str, amount: int | None = None) -> dict[str, Any]:
    return {"key": key, "operation": operation} | ({} if amount is None else {"amount": amount})


def test_a_batch_over_many_keys_ends_at_exact_totals(app_module: ModuleType) -> None:
    run = uuid.uuid4().hex[:8]
    keys = [f"{run}-{number}" for number in range(50)]
    signals = [entry(key, "add", number + 1) for round_number in range(4) for number, key in enumerate(keys)]
    signals += [entry(key, "subtract", 1) for key in keys]
    response = batch_signals(app_module, {"signals": signals})
    assert response.status_code == 202, response.get_body()
    assert payload(response) == {"count": len(signals), "queued": list(range(len(signals)))}
    for number, key in enumerate(keys):
        expected = 4 * (number + 1) - 1
        wait_for_value(partial(app_counter, app_module, key), expected)


def test_signals_to_one_key_apply_in_the_order_given(app_module: ModuleType) -> None:
    """Any reordering of a key's entries changes its result: reset last gives 0, add 3 after reset gives 6."""
    run = uuid.uuid4().hex[:8]
    keys = [f"{run}-order-{number}" for number in range(20)]
    for key in keys:
        assert signal(app_module, key, "add", 100).status_code == 202
    per_key = [("add", 3), ("reset", None), ("add", 5), ("subtract", 2)]
    signals = [entry(key, operation, amount) for operation, amount in per_key for key in keys]
    assert batch_signals(app_module, {"signals": signals}).status_code == 202
    again = batch_signals(app_module, {"signals": [entry(keys[0], "reset"), entry(keys[0], "add", 5)]})
    assert again.status_code == 202
    wait_for_value(partial(app_counter, app_module, keys[0]), 5)
    for key in keys[1:]:
        wait_for_value(partial(app_counter, app_module, key), 3)


def test_one_bad_entry_is_a_400_naming_it_and_nothing_is_queued(app_module: ModuleType) -> None:
    key = f"bad-batch-{uuid.uuid4().hex[:8]}"
    good = entry(key, "add", 1000)
    response = batch_signals(app_module, {"signals": [good, good, good, entry(key, "add", None), good]})
    assert response.status_code == 400
    assert payload(response)["field"] == "signals[3].amount"
    assert signal(app_module, key, "add", 1).status_code == 202
    wait_for_value(partial(app_counter, app_module, key), 1)  # the later single signal is applied, and no earlier one


def test_a_batch_above_the_limit_is_refused_and_queues_nothing(app_module: ModuleType) -> None:
    key = f"big-batch-{uuid.uuid4().hex[:8]}"
    response = batch_signals(app_module, {"signals": [entry(key, "add", 1)] * (MAX_BATCH_SIGNALS + 1)})
    assert response.status_code == 400
    assert payload(response)["field"] == "signals"
    assert signal(app_module, key, "add", 2).status_code == 202
    wait_for_value(partial(app_counter, app_module, key), 2)


def test_a_body_that_is_not_a_batch_is_400(app_module: ModuleType) -> None:
    for body, field in ((b"{not json", "body"), (None, "body"), ({"signal": []}, "signal")):
        response = batch_signals(app_module, body)
        assert (response.status_code, payload(response)["field"]) == (400, field)


def test_a_batch_of_fan_outs_starts_each_with_its_input(app_module: ModuleType) -> None:
    body = {"inputs": [[1, 2, 3], {"count": 4}, {"items": [2.5]}]}
    response = batch_start(app_module, "fan_out_fan_in_orchestrator", body)
    assert response.status_code == 202, response.get_body()
    started = payload(response)
    assert started["count"] == 3
    outputs = [payload(wait_done(app_module, instance["id"]))["output"] for instance in started["instances"]]
    assert [output["sum"] for output in outputs] == [14, 30, 6.25]
    for instance in started["instances"]:
        assert instance["statusQueryGetUri"].endswith(f"/instances/{instance['id']}")


def test_a_batch_of_counter_workflows_with_chosen_ids(app_module: ModuleType) -> None:
    run = uuid.uuid4().hex[:8]
    ids = [f"{run}-wf-{number}" for number in range(3)]
    body = {"inputs": [{"entity_key": f"{run}-a"}, f"{run}-b", f"{run}-c"], "instance_ids": [ids[0], None, ids[2]]}
    response = batch_start(app_module, "counter_workflow", body)
    assert response.status_code == 202, response.get_body()
    instances = payload(response)["instances"]
    assert [instances[0]["id"], instances[2]["id"]] == [ids[0], ids[2]]
    for instance, key in zip(instances, ("a", "b", "c"), strict=True):
        output = payload(wait_done(app_module, instance["id"]))["output"]
        assert output == f"Counter '{run}-{key}' final value: 12"


def test_a_taken_id_is_a_409_naming_it_with_every_other_start_accounted_for(
    app_module: ModuleType, client: DurableTaskSchedulerClient
) -> None:
    run = uuid.uuid4().hex[:8]
    taken = f"{run}-taken"
    later = datetime.now(UTC) + timedelta(hours=1)
    client.schedule_new_orchestration("counter_workflow", input="x", instance_id=taken, start_at=later)
    body = {"inputs": ["a", "b", "c"], "instance_ids": [f"{run}-0", taken, f"{run}-2"]}
    response = batch_start(app_module, "counter_workflow", body)
    failure = payload(response)
    assert response.status_code == 409, failure
    assert failure["field"] == "instance_ids[1]"
    assert (failure["queued"], failure["failed"], failure["uncertain"]) == ([0, 2], [1], [])
    assert [instance["id"] for instance in failure["instances"]] == body["instance_ids"]
    assert payload(wait_done(app_module, f"{run}-2"))["runtimeStatus"] == "Completed"
    client.terminate_orchestration(taken)


@pytest.mark.parametrize(
    ("name", "body", "status", "field"),
    [
        ("nope", {"inputs": [[1]]}, 404, "name"),
        ("fan_out_fan_in_orchestrator", {"inputs": [[1], [True]]}, 400, "inputs[1][0]"),
        ("counter_workflow", {"inputs": ["a", {"entity_key": "a b"}]}, 400, "inputs[1].entity_key"),
        ("counter_workflow", {"inputs": ["a"], "instance_ids": [""]}, 400, "instance_ids[0]"),
        ("counter_workflow", {"inputs": ["a", "b"], "instance_ids": ["{run}-0", ""]}, 400, "instance_ids[1]"),
    ],
)
def test_bad_start_batches_are_refused_naming_the_field_and_start_nothing(
    app_module, name, body, status, field
) -> None:
    run = uuid.uuid4().hex[:8]
    ids = [instance_id.replace("{run}", run) for instance_id in body.get("instance_ids", [])] or [
        f"{run}-{number}" for number in range(len(body["inputs"]))
    ]
    response = batch_start(app_module, name, {**body, "instance_ids": ids})
    assert (response.status_code, payload(response)["field"]) == (status, field)
    for instance_id in filter(None, ids):
        unknown = call(app_module, "get_instance_status", "GET", "x", route={"instance_id": instance_id})
        assert unknown.status_code == 404, instance_id
