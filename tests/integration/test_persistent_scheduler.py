"""The persistent scheduler as a real process on a real SQLite file: kills, restarts and files it must refuse."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from durabletask import task
from durabletask.client import OrchestrationStatus, TaskHubGrpcClient
from durabletask.entities import EntityInstanceId
from durabletask.history import TimerCreatedEvent
from durabletask.worker import TaskHubGrpcWorker

from durable_app.scheduler.reconnect import channel_options, worker_resiliency
from durable_app.workflows.registry import register_all
from local_stack.ports import free_port
from local_stack.scheduler.store import APPLICATION_ID, WAL_SIZE_LIMIT_BYTES
from tests.helpers.polling import wait_until
from tests.helpers.stack import ROOT, LocalStack

pytestmark = pytest.mark.timeout(300)

RECONNECT_SECONDS = 1.0


def sleeper(ctx: task.OrchestrationContext, seconds: float) -> Any:
    """Wait on one durable timer."""
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=seconds))
    return seconds


def approval(ctx: task.OrchestrationContext, _: Any) -> Any:
    """Wait for one raised event and return its payload."""
    answer = yield ctx.wait_for_external_event("approval")
    return answer


@pytest.fixture(autouse=True)
def in_test_work_is_instant(instant_work: None) -> None:
    """The in-test worker's work items finish at once."""


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[LocalStack]:
    """A persistent scheduler process alone, on a data file in ``tmp_path``."""
    stack = LocalStack(log_dir=tmp_path, scheduler_args=["--store", "sqlite", "--data-file", str(data_file(tmp_path))])
    stack.start_scheduler()
    try:
        yield stack
    finally:
        stack.stop()


def data_file(folder: Path) -> Path:
    return folder / "scheduler.sqlite3"


@contextmanager
def worker(stack: LocalStack) -> Iterator[TaskHubGrpcWorker]:
    """A worker hosting the app's registry plus this module's orchestrators, reconnecting within a second."""
    hosted = TaskHubGrpcWorker(
        host_address=f"localhost:{stack.scheduler_port}",
        channel_options=channel_options(RECONNECT_SECONDS),
        resiliency_options=worker_resiliency(RECONNECT_SECONDS),
    )
    register_all(hosted)
    hosted.add_orchestrator(sleeper)
    hosted.add_orchestrator(approval)
    hosted.start()
    try:
        yield hosted
    finally:
        hosted.stop()


@contextmanager
def client(stack: LocalStack) -> Iterator[TaskHubGrpcClient]:
    connected = TaskHubGrpcClient(host_address=f"localhost:{stack.scheduler_port}")
    try:
        yield connected
    finally:
        connected.close()


def kill_and_restart(stack: LocalStack, down_for: float = 0.0) -> None:
    stack.kill("scheduler")
    time.sleep(down_for)
    stack.start_scheduler()


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def wait_for_timer(connected: TaskHubGrpcClient, instance_id: str, timeout: float = 30) -> datetime:
    """When the instance's timer is due, once its creation is recorded."""

    def created() -> TimerCreatedEvent | None:
        history = connected.get_orchestration_history(instance_id)
        return next((event for event in history if isinstance(event, TimerCreatedEvent)), None)

    return utc(wait_until(created, timeout, message=f"{instance_id} never created its timer").fire_at)


def test_timers_fire_after_a_restart_at_their_time(scheduler: LocalStack) -> None:
    with worker(scheduler), client(scheduler) as before:
        soon = before.schedule_new_orchestration(sleeper, input=1)
        later = before.schedule_new_orchestration(sleeper, input=8)
        due = {instance_id: wait_for_timer(before, instance_id) for instance_id in (soon, later)}
        kill_and_restart(scheduler, down_for=4)  # soon's timer falls due while the scheduler is down
        with client(scheduler) as after:
            finished = {i: after.wait_for_orchestration_completion(i, timeout=60) for i in (soon, later)}
    for instance_id, state in finished.items():
        assert state is not None and state.runtime_status is OrchestrationStatus.COMPLETED
        assert utc(state.last_updated_at) >= due[instance_id]  # never early
    # Re-armed for its original time, not for a full period from the restart (which would be 4 s late).
    assert utc(finished[later].last_updated_at) - due[later] < timedelta(seconds=3)


def test_raised_events_and_queued_signals_survive_a_kill(scheduler: LocalStack) -> None:
    counter = EntityInstanceId("counter", "persisted")
    with worker(scheduler), client(scheduler) as connected:
        waiting = connected.schedule_new_orchestration(approval)
        connected.wait_for_orchestration_start(waiting, timeout=30)  # its first episode is in the history
    with client(scheduler) as connected:  # no worker now: everything below stays queued in the scheduler
        never_ran = connected.schedule_new_orchestration(approval)
        connected.raise_orchestration_event(waiting, "approval", data={"by": "ops"})
        connected.raise_orchestration_event(never_ran, "approval", data="early")
        for _ in range(3):
            connected.signal_entity(counter, "add", input=7)
        signal_time = datetime.now(UTC) + timedelta(seconds=3)
        connected.signal_entity(counter, "add", input=100, signal_time=signal_time)
    kill_and_restart(scheduler)
    with worker(scheduler), client(scheduler) as connected:
        assert connected.wait_for_orchestration_completion(waiting, timeout=60).get_output() == {"by": "ops"}
        assert connected.wait_for_orchestration_completion(never_ran, timeout=60).get_output() == "early"
        entity = wait_for_entity_value(connected, counter, 121)
    assert utc(entity.last_modified) >= signal_time  # the delayed signal waited for its time


def wait_for_entity_value(connected: TaskHubGrpcClient, entity_id: EntityInstanceId, expected: int) -> Any:
    def reached() -> Any:
        entity = connected.get_entity(entity_id)
        raw = entity.get_state() if entity is not None else None  # empty until the entity first runs
        return entity if raw and json.loads(raw) == expected else None

    return wait_until(reached, 60, 0.1, f"{entity_id} never reached {expected}")


def test_purged_work_leaves_the_file_bounded(scheduler: LocalStack, tmp_path: Path) -> None:
    path = data_file(tmp_path)
    sizes = []
    with worker(scheduler), client(scheduler) as connected:
        for _ in range(12):
            started = [
                connected.schedule_new_orchestration("fan_out_fan_in_orchestrator", input=[1, 2, 3]) for _ in range(25)
            ]
            for instance_id in started:
                assert connected.wait_for_orchestration_completion(instance_id, timeout=60).get_output()["sum"] == 14
                assert connected.purge_orchestration(instance_id).deleted_instance_count == 1
            sizes.append(path.stat().st_size)
        wal = path.with_name(path.name + "-wal").stat().st_size
    assert sizes[-1] <= sizes[5] * 1.25, sizes  # freed pages are reused: the file stops growing
    assert wal <= WAL_SIZE_LIMIT_BYTES
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as reader:
        leftovers = {table: count_rows(reader, table) for table in ("instances", "history", "inbox")}
    assert leftovers == {"instances": 0, "history": 0, "inbox": 0}


def count_rows(reader: sqlite3.Connection, table: str) -> int:
    return reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - table names are literals


def run_scheduler_on(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "local_stack", "scheduler", "--port", str(free_port()), "--data-file", str(path)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('keep me')")
    connection.close()


def future_format(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE meta (key TEXT)")
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute("PRAGMA user_version = 99")
    connection.close()


def garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def damaged(path: Path) -> None:
    """A scheduler file with part of its pages overwritten."""
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute("PRAGMA user_version = 1")
        connection.execute("CREATE TABLE history (body TEXT)")
        connection.executemany("INSERT INTO history VALUES (?)", [("x" * 500,) for _ in range(200)])
    connection.close()
    content = bytearray(path.read_bytes())
    content[8192:12288] = b"\xff" * 4096
    path.write_bytes(bytes(content))


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (garbage, "is not a readable SQLite database"),
        (foreign_database, "of another application"),
        (future_format, "has scheduler data format 99"),
        (damaged, "database disk image is malformed"),
    ],
)
def test_a_file_it_cannot_use_is_refused_and_left_untouched(tmp_path: Path, make_file: Any, message: str) -> None:
    path = data_file(tmp_path)
    make_file(path)
    before = path.read_bytes()
    finished = run_scheduler_on(path)
    assert finished.returncode == 2
    assert message in finished.stderr and str(path) in finished.stderr
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()


def test_a_second_scheduler_on_the_same_file_is_refused(scheduler: LocalStack, tmp_path: Path) -> None:
    finished = run_scheduler_on(data_file(tmp_path))
    assert finished.returncode == 2
    assert "in use by another scheduler" in finished.stderr
    with client(scheduler) as connected:  # the first one is unaffected
        assert connected.get_orchestration_state("absent") is None
