"""The bench's backlog-driven scaler: KEDA's formula, and a replica stopped mid-fan-out losing nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from durabletask.client import TaskHubGrpcClient
from durabletask.entities import EntityInstanceId

from bench.autoscale import Autoscaler, desired_replicas
from bench.processes import stop
from bench.scale_out import replica_settings, replica_starter
from local_stack.ports import free_port
from local_stack.scheduler import LocalScheduler, serve
from tests.helpers.polling import wait_until

pytestmark = pytest.mark.timeout(300)

ITEMS = 60
PER_REPLICA = 5
SIGNALS = 300


def backlog(pending: int, in_flight: int) -> dict[str, dict[str, int]]:
    return {
        "pending": {"orchestration": 0, "activity": pending, "entity": 0},
        "in_flight": {"orchestration": 0, "activity": in_flight, "entity": 0},
    }


@pytest.mark.parametrize(
    ("pending", "in_flight", "expected"),
    [
        (0, 0, 1),  # idle: the minimum
        (975, 25, 8),  # ceil(1000 / 25) = 40, capped at the maximum
        (30, 25, 3),  # ceil(55 / 25)
        (0, 50, 2),  # work still running keeps its replicas
        (1, 0, 1),
    ],
)
def test_desired_replicas_is_kedas_average_value_formula(pending: int, in_flight: int, expected: int) -> None:
    assert desired_replicas(backlog(pending, in_flight), {"activity": 25}, minimum=1, maximum=8) == expected


def test_the_largest_rule_wins() -> None:
    both = backlog(100, 0) | {"pending": {"orchestration": 30, "activity": 100, "entity": 0}}
    assert desired_replicas(both, {"activity": 50, "orchestration": 10}, minimum=0, maximum=10) == 3


@pytest.fixture
def scheduler() -> Iterator[LocalScheduler]:
    running = serve(free_port())
    yield running
    running.stop(grace=0)


def test_a_replica_stopped_mid_fan_out_loses_nothing_and_runs_no_entity_operation_twice(
    scheduler: LocalScheduler,
) -> None:
    address = f"127.0.0.1:{scheduler.port}"
    scaler = Autoscaler(
        address=address,
        start_replica=replica_starter(replica_settings(scheduler.port, PER_REPLICA, (0.3, 0.6))),
        stop_replica=stop,
        targets={"activity": PER_REPLICA},
        minimum=3,
        maximum=3,
    )
    counter = EntityInstanceId("counter", "scale-in")
    with scaler, TaskHubGrpcClient(host_address=address) as client:
        wait_until(lambda: scheduler.connected_streams() == 3, timeout=90)
        instance_id = client.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=list(range(1, ITEMS + 1)))
        signals = threading.Thread(target=lambda: [client.signal_entity(counter, "add", 1) for _ in range(SIGNALS)])
        signals.start()
        wait_until(lambda: scheduler.backlog()["in_flight"]["activity"] == 3 * PER_REPLICA, timeout=60)
        scaler.scale_to(2)  # the harness's scale-in: the newest replica is stopped while it holds work
        signals.join()
        state = client.wait_for_orchestration_completion(instance_id, timeout=120)
        assert state is not None and state.get_output() == {
            "total_items": ITEMS,
            "sum": ITEMS * (ITEMS + 1) * (2 * ITEMS + 1) // 6,
            "average": ITEMS * (ITEMS + 1) * (2 * ITEMS + 1) // 6 / ITEMS,
        }
        wait_until(lambda: _value(client, counter) == SIGNALS, timeout=60, message=lambda: str(_value(client, counter)))
        wait_until(lambda: scheduler.backlog()["in_flight"]["entity"] == 0)
        assert _value(client, counter) == SIGNALS  # every signal applied, none twice
    assert scheduler.redelivered > 0  # the stopped replica did hold work, and it ran elsewhere


def _value(client: TaskHubGrpcClient, entity: EntityInstanceId) -> int | None:
    metadata = client.get_entity(entity)
    return None if metadata is None else metadata.get_state(int)
