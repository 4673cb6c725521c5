"""The entity and orchestrations run for real by the hosted worker on the local scheduler (no SDK mocks)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from types import SimpleNamespace

import pytest
from durabletask.client import OrchestrationStatus, TaskHubGrpcClient
from durabletask.entities import EntityInstanceId
from durabletask.worker import TaskHubGrpcWorker

from durable_app.settings import AppSettings
from durable_app.worker import drills as work_item_drills
from durable_app.worker.drills import WorkItemDrills, with_drills
from durable_app.workflows import workflows
from durable_app.workflows.registry import register_all
from local_stack.ports import free_port
from local_stack.scheduler import serve
from orchestrations import fan_out_fan_in
from tests.helpers.counters import entity_value, wait_for_value
from tests.helpers.settings import app_settings_with


def test_counter_operations(client) -> None:
    key = f"ops-{uuid.uuid4().hex[:8]}"
    entity = EntityInstanceId("counter", key)
    client.signal_entity(entity, "add", input=100)
    client.signal_entity(entity, "subtract", input=25)
    wait_for_value(partial(entity_value, client, entity), 75, 10)
    client.signal_entity(entity, "reset")
    client.signal_entity(entity, "add", input=2)
    wait_for_value(partial(entity_value, client, entity), 2, 10)


@pytest.mark.parametrize(("operation", "amount"), [("multiply", 3), ("add", "3"), ("add", 1.5), ("subtract", None)])
def test_bad_operations_leave_the_state_untouched(client, operation: str, amount: object) -> None:
    key = f"bad-{uuid.uuid4().hex[:8]}"
    entity = EntityInstanceId("counter", key)
    client.signal_entity(entity, "add", input=5)
    client.signal_entity(entity, operation, input=amount)
    client.signal_entity(entity, "add", input=1)
    wait_for_value(partial(entity_value, client, entity), 6, 10)


def run(client, name: str, orchestration_input: object, timeout: float = 30):
    instance_id = client.schedule_new_orchestration(name, input=orchestration_input)
    state = client.wait_for_orchestration_completion(instance_id, timeout=timeout)
    assert state is not None
    return state


def test_fan_out_output_is_the_sum_of_squares(client) -> None:
    state = run(client, "fan_out_fan_in_orchestrator", list(range(1, 11)))
    assert state.runtime_status is OrchestrationStatus.COMPLETED
    assert state.get_output() == {"total_items": 10, "sum": 385, "average": 38.5}


def test_empty_fan_out_completes_with_zeros(client) -> None:
    state = run(client, "fan_out_fan_in_orchestrator", [])
    assert state.get_output() == {"total_items": 0, "sum": 0, "average": 0}


def test_fan_out_runs_work_items_in_parallel(client, monkeypatch) -> None:
    """20 items are all in their simulated I/O at the same time, not one after another.

    Each item's sleep waits at a barrier for all 20 instead: run one after another, the first would wait alone
    and the barrier would break, failing its item.
    """
    barrier = threading.Barrier(20)
    monkeypatch.setattr(fan_out_fan_in, "time", SimpleNamespace(sleep=lambda _seconds: barrier.wait(timeout=60)))
    with app_settings_with(WORK_ITEM_DELAY_MIN_SECONDS="1", WORK_ITEM_DELAY_MAX_SECONDS="1"):
        state = run(client, "fan_out_fan_in_orchestrator", list(range(20)), timeout=120)
    assert state.get_output()["sum"] == sum(i * i for i in range(20))
    assert not barrier.broken


def test_cpu_bound_fan_out_does_the_work_and_returns_the_sum(instant_work: None, monkeypatch) -> None:
    """A worker with ``WORK_ITEM_CPU_UNITS`` set hashes that many units per item, and the sums stay exact."""
    burned: list[int] = []

    def recording_burn_cpu(units: int) -> bytes:
        burned.append(units)
        return real_burn_cpu(units)

    real_burn_cpu = work_item_drills.burn_cpu
    monkeypatch.setattr(work_item_drills, "burn_cpu", recording_burn_cpu)
    with drilled_worker(AppSettings.from_env({"WORK_ITEM_CPU_UNITS": "3"}).drills) as drilled_client:
        state = run(drilled_client, "fan_out_fan_in_orchestrator", list(range(1, 31)))
    assert state.runtime_status is OrchestrationStatus.COMPLETED
    assert state.get_output() == {"total_items": 30, "sum": 9455, "average": 9455 / 30}
    assert burned == [3] * 30


@contextmanager
def drilled_worker(drills: WorkItemDrills) -> Iterator[TaskHubGrpcClient]:
    """A worker registered as the hosted one is with ``drills`` on, alone on its own scheduler."""
    scheduler = serve(free_port())
    worker = TaskHubGrpcWorker(host_address=f"localhost:{scheduler.port}")
    register_all(with_drills(worker, drills))
    worker.start()
    try:
        with TaskHubGrpcClient(host_address=f"localhost:{scheduler.port}") as drilled_client:
            yield drilled_client
    finally:
        worker.stop()
        scheduler.stop(grace=0)


def test_a_failing_work_item_fails_the_orchestration_naming_it(client) -> None:
    state = run(client, "fan_out_fan_in_orchestrator", [1, "oops", 3], timeout=60)
    assert state.runtime_status is OrchestrationStatus.FAILED
    assert "oops" in state.failure_details.message


def test_counter_workflow_result(client) -> None:
    key = f"wf-{uuid.uuid4().hex[:8]}"
    state = run(client, "counter_workflow", key)
    assert state.get_output() == f"Counter '{key}' final value: 12"
    assert run(client, "counter_workflow", key).get_output() == f"Counter '{key}' final value: 24"


class RecordingRegistrar:
    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}

    def add_orchestrator(self, fn) -> str:
        self.kinds[fn.__name__] = "orchestrator"
        return fn.__name__

    def add_activity(self, fn) -> str:
        self.kinds[fn.__name__] = "activity"
        return fn.__name__

    def add_entity(self, fn, name=None) -> str:
        """As the worker does: the name given, else the function's (a class entity's name is given lower-case)."""
        self.kinds[name or fn.__name__] = "entity"
        return name or fn.__name__


def test_registry_registers_the_sample_names() -> None:
    registrar = RecordingRegistrar()
    names = register_all(registrar)
    samples = {
        "fan_out_fan_in_orchestrator": "orchestrator",
        "counter_workflow": "orchestrator",
        "process_work_item": "activity",
        "aggregate_results": "activity",
        "counter": "entity",
    }
    assert registrar.kinds.items() >= samples.items()
    declared = [*workflows.orchestrators, *workflows.activities, *workflows.entities]
    assert sorted(names) == sorted(declared) == sorted(registrar.kinds)
