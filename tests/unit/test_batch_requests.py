"""The batch validators: every entry is checked, and a refusal names the entry's exact field."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from durabletask.entities import EntityInstanceId

from durable_app.http.routes.entities import signal_batch
from durable_app.http.routes.orchestrations import start_batch as start_declared_batch
from durable_app.values import RefusedRequest
from durable_app.workflows import workflows
from entities.loyalty import Redemption
from tests.helpers.limits import MAX_BATCH_SIGNALS, MAX_BATCH_STARTS, MAX_BATCH_WORK_ITEMS, MAX_FAN_OUT_ITEMS


def start_batch(name: str, body: Any) -> list[tuple[Any, str | None]]:
    return start_declared_batch(workflows.orchestrators[name], body)


def refusal(function: Any, *arguments: Any) -> RefusedRequest:
    with pytest.raises(RefusedRequest) as caught:
        function(*arguments)
    return caught.value


def test_a_signal_batch_keeps_its_entries_in_order() -> None:
    body = {
        "signals": [
            {"key": "a", "operation": "reset"},
            {"key": "a", "operation": "add", "amount": 5},
            {"key": "b", "operation": "subtract", "amount": -2},
            {"key": "c", "operation": "reset", "amount": None},
        ]
    }
    counter = functools.partial(EntityInstanceId, "counter")
    assert signal_batch(body) == [
        (counter("a"), "reset", None),
        (counter("a"), "add", 5),
        (counter("b"), "subtract", -2),
        (counter("c"), "reset", None),
    ]
    assert signal_batch({"signals": []}) == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (None, "body", 'body must be an object {"signals": [...]}'),
        ([], "body", "got an array"),
        ({}, "signals", "signals must be a JSON array, got null"),
        ({"signals": {}}, "signals", "got an object"),
        ({"signals": [], "extra": 1}, "extra", 'unknown field "extra"'),
        ({"signals": [{"key": "a", "operation": "add", "amount": 1}, 5]}, "signals[1]", "got 5"),
        ({"signals": [{"key": "a", "operation": "add"}]}, "signals[0].amount", "add needs an amount"),
        ({"signals": [{"key": "a", "operation": "add", "amount": "5"}]}, "signals[0].amount", 'the string "5"'),
        ({"signals": [{"key": "a", "operation": "add", "amount": 1.5}]}, "signals[0].amount", "got 1.5"),
        ({"signals": [{"key": "a", "operation": "add", "amount": True}]}, "signals[0].amount", "got true"),
        ({"signals": [{"key": "a", "operation": "add", "amount": {"amount": 1}}]}, "signals[0].amount", "object"),
        ({"signals": [{"key": "a", "operation": "add", "amount": 2**60}]}, "signals[0].amount", "2^53"),
        ({"signals": [{"key": "a", "operation": "reset", "amount": 3}]}, "signals[0].amount", "reset takes no"),
        ({"signals": [{"key": "a", "operation": "get"}]}, "signals[0].operation", 'got the string "get"'),
        ({"signals": [{"operation": "reset"}]}, "signals[0].key", "got null"),
        ({"signals": [{"key": "a b", "operation": "reset"}]}, "signals[0].key", "1-100 characters"),
        ({"signals": [{"key": "a", "operation": "reset", "colour": 1}]}, "signals[0].colour", 'unknown field "colour"'),
    ],
)
def test_a_bad_signal_batch_names_the_field(body: Any, field: str, words: str) -> None:
    error = refusal(signal_batch, body)
    assert (error.status, error.field) == (400, field)
    assert words in error.message


def test_a_signal_batch_takes_any_declared_entity_with_its_operation_s_input_type() -> None:
    body = {
        "signals": [
            {"entity": "loyalty", "key": "pat", "operation": "earn", "input": 50},
            {"entity": "loyalty", "key": "pat", "operation": "redeem", "input": {"points": 20, "reason": "coffee"}},
            {"key": "pat", "operation": "add", "amount": 1},
        ]
    }
    earn, redeem, add = signal_batch(body)
    assert earn == (EntityInstanceId("loyalty", "pat"), "earn", 50)
    assert redeem[:2] == (EntityInstanceId("loyalty", "pat"), "redeem")
    assert redeem[2] == Redemption(points=20, reason="coffee")
    assert add == (EntityInstanceId("counter", "pat"), "add", 1)


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ({"entity": "nope", "key": "k", "operation": "earn"}, "signals[0].entity", "entity must be one of"),
        ({"entity": "loyalty", "key": "k", "operation": "spend", "input": 1}, "signals[0].operation", "no operation"),
        ({"entity": "loyalty", "key": "k"}, "signals[0].operation", "operation is required"),
        ({"entity": "loyalty", "key": "k", "operation": "earn", "amount": 1}, "signals[0].amount", "unknown field"),
        (
            {"entity": "loyalty", "key": "k", "operation": "redeem", "input": {"points": 1}},
            "signals[0].input.reason",
            "required",
        ),
        (
            {"entity": "loyalty", "key": "k", "operation": "redeem", "input": {"points": 1, "reason": "a", "x": 1}},
            "signals[0].input.x",
            'unknown field "x"',
        ),
    ],
)
def test_a_bad_entity_signal_in_a_batch_names_its_field(entry: dict[str, Any], field: str, words: str) -> None:
    error = refusal(signal_batch, {"signals": [entry]})
    assert (error.status, error.field) == (400, field)
    assert words in error.message


def test_the_fourth_bad_entry_is_named_even_when_the_others_are_good() -> None:
    good = {"key": "k", "operation": "add", "amount": 1}
    error = refusal(signal_batch, {"signals": [good, good, good, {**good, "amount": None}, good]})
    assert error.field == "signals[3].amount"
    assert error.message.startswith("signals[3]: ")


def test_a_signal_batch_above_the_maximum_is_refused_naming_signals() -> None:
    entry = {"key": "k", "operation": "reset"}
    assert len(signal_batch({"signals": [entry] * MAX_BATCH_SIGNALS})) == MAX_BATCH_SIGNALS
    error = refusal(signal_batch, {"signals": [entry] * (MAX_BATCH_SIGNALS + 1)})
    assert (error.field, error.status) == ("signals", 400)
    assert str(MAX_BATCH_SIGNALS) in error.message


def test_start_batches_take_each_input_as_the_single_start_does() -> None:
    fan_outs = start_batch("fan_out_fan_in_orchestrator", {"inputs": [[1, 2], {"count": 3}, {"items": [4]}, None]})
    assert [start_input for start_input, _ in fan_outs] == [[1, 2], [1, 2, 3], [4], list(range(1, 11))]
    counter_workflows = start_batch(
        "counter_workflow", {"inputs": [{"entity_key": "a"}, "b"], "instance_ids": ["x", None]}
    )
    assert counter_workflows == [("a", "x"), ("b", None)]


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("fan_out_fan_in_orchestrator", {"inputs": [[1], [1, "two"]]}, "inputs[1][1]"),
        ("fan_out_fan_in_orchestrator", {"inputs": [{"items": [True]}]}, "inputs[0].items[0]"),
        ("fan_out_fan_in_orchestrator", {"inputs": [{"count": -1}]}, "inputs[0].count"),
        ("fan_out_fan_in_orchestrator", {"inputs": [{"colour": 1}]}, "inputs[0].colour"),
        ("fan_out_fan_in_orchestrator", {"inputs": ["text"]}, "inputs[0]"),
        ("fan_out_fan_in_orchestrator", {"inputs": [list(range(MAX_FAN_OUT_ITEMS + 1))]}, "inputs[0]"),
        ("counter_workflow", {"inputs": [{"entity_key": "a"}, {}]}, "inputs[1].entity_key"),
        ("counter_workflow", {"inputs": [5]}, "inputs[0]"),
        ("counter_workflow", {"inputs": ["a", "b"], "instance_ids": ["x"]}, "instance_ids"),
        ("counter_workflow", {"inputs": ["a", "b"], "instance_ids": ["x", "bad id"]}, "instance_ids[1]"),
        ("counter_workflow", {"inputs": ["a", "b"], "instance_ids": ["x", "x"]}, "instance_ids[1]"),
        ("counter_workflow", {"inputs": ["a"], "ids": ["x"]}, "ids"),
        ("counter_workflow", {"inputs": ["a"] * (MAX_BATCH_STARTS + 1)}, "inputs"),
        ("fan_out_fan_in_orchestrator", {"inputs": [{"count": MAX_FAN_OUT_ITEMS}] * 11}, "inputs"),
    ],
)
def test_a_bad_start_batch_names_the_field(name: str, body: Any, field: str) -> None:
    error = refusal(start_batch, name, body)
    assert (error.status, error.field) == (400, field)


def test_the_work_item_cap_counts_every_fan_out_of_the_batch() -> None:
    full = {"count": MAX_FAN_OUT_ITEMS}
    per_batch = MAX_BATCH_WORK_ITEMS // MAX_FAN_OUT_ITEMS
    assert len(start_batch("fan_out_fan_in_orchestrator", {"inputs": [full] * per_batch})) == per_batch
    error = refusal(start_batch, "fan_out_fan_in_orchestrator", {"inputs": [full] * per_batch + [[1]]})
    assert str(MAX_BATCH_WORK_ITEMS) in error.message
