"""The scheduler's SQLite store and the event-list sync, against a real file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from durabletask.internal import helpers
from durabletask.internal import orchestrator_service_pb2 as pb

from local_stack.scheduler.mirrors import EventLog
from local_stack.scheduler.store import Changeset, SchedulerStore, StoredState, StoreError
from tests.helpers.polling import wait_until

INSTANCE_ROW = ("i-1", "fan_out_fan_in_orchestrator", 1, None, "[1]", None, None, "2026-01-01T00:00:00+00:00")
INSTANCE_ROW += ("2026-01-01T00:00:01+00:00", None, None, None)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SchedulerStore]:
    opened = SchedulerStore(tmp_path / "scheduler.sqlite3")
    opened.start()
    yield opened
    opened.close()


def commit(store: SchedulerStore, changes: Changeset) -> None:
    store.wait_durable(store.submit(changes))


def reopened(store: SchedulerStore) -> StoredState:
    store.close()
    again = SchedulerStore(store.path)
    try:
        return again.load()
    finally:
        again.close()


def raised(name: str) -> pb.HistoryEvent:
    return helpers.new_event_raised_event(name, None)


def test_committed_rows_are_read_back_after_reopening(store: SchedulerStore) -> None:
    changes = Changeset()
    changes.put_instance(INSTANCE_ROW)
    changes.append_events("history", "i-1", 0, [raised("a").SerializeToString(), raised("b").SerializeToString()])
    changes.put_entity(("@counter@k", "12", "2026-01-01T00:00:00+00:00", None))
    changes.put_delayed_signal(7, "@counter@k", raised("later").SerializeToString(), "2026-01-02T00:00:00+00:00")
    changes.put_meta("pending_lock_requests", [["section", "parent", ["@counter@k"]]])
    commit(store, changes)

    state = reopened(store)
    assert [tuple(row) for row in state.instances] == [INSTANCE_ROW]
    assert [pb.HistoryEvent.FromString(event).eventRaised.name for _, event in state.events["history"]["i-1"]] == [
        "a",
        "b",
    ]
    assert [tuple(row) for row in state.entities] == [("@counter@k", "12", "2026-01-01T00:00:00+00:00", None)]
    assert state.delayed_signals[0]["signal_id"] == 7
    assert state.meta == {"pending_lock_requests": [["section", "parent", ["@counter@k"]]]}


def test_deleting_an_instance_removes_its_events(store: SchedulerStore) -> None:
    changes = Changeset()
    changes.put_instance(INSTANCE_ROW)
    changes.append_events("inbox", "i-1", 0, [raised("a").SerializeToString()])
    commit(store, changes)
    gone = Changeset()
    gone.delete_instance("i-1")
    commit(store, gone)
    state = reopened(store)
    assert state.instances == [] and state.events["inbox"] == {}


def names_on_file(state: StoredState, table: str, owner: str) -> list[str]:
    return [pb.HistoryEvent.FromString(event).eventRaised.name for _, event in state.events[table].get(owner, [])]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["a", "b"], ["a", "b", "c"]),  # history grows at the end
        (["a", "b", "c"], ["c", "d"]),  # an inbox consumed from the front while new events arrive
        (["a", "b"], []),  # an inbox emptied
        (["a", "b"], ["x", "a", "b"]),  # any other change rewrites the list
    ],
)
def test_an_event_log_sync_leaves_exactly_the_current_list_on_file(
    store: SchedulerStore, before: list[str], after: list[str]
) -> None:
    events = {name: raised(name) for name in {*before, *after}}
    log = EventLog("inbox", "i-1")
    for current in ([events[name] for name in before], [events[name] for name in after]):
        changes = Changeset()
        log.sync(current, changes)
        commit(store, changes)
    assert names_on_file(reopened(store), "inbox", "i-1") == after


def test_a_restored_log_keeps_syncing_from_its_stored_positions(store: SchedulerStore) -> None:
    first = [raised("a"), raised("b"), raised("c")]
    changes = Changeset()
    EventLog("inbox", "i-1").sync(first, changes)
    commit(store, changes)
    consumed = Changeset()
    log = EventLog("inbox", "i-1")
    log.sync(first, Changeset())
    log.sync(first[1:], consumed)
    commit(store, consumed)

    state = reopened(store)
    restored, events = EventLog.loaded("inbox", "i-1", state.events)
    assert restored.first == 1
    again = SchedulerStore(store.path)
    again.start()
    try:
        changes = Changeset()
        restored.sync([*events[1:], raised("d")], changes)
        again.wait_durable(again.submit(changes))
    finally:
        again.close()
    final = SchedulerStore(store.path)
    try:
        assert names_on_file(final.load(), "inbox", "i-1") == ["c", "d"]
    finally:
        final.close()


def test_a_failed_write_is_reported_to_every_waiter(store: SchedulerStore) -> None:
    broken = Changeset()
    broken.add("INSERT INTO no_such_table VALUES (1)")
    sequence = store.submit(broken)
    with pytest.raises(StoreError, match=r"writing .* failed"):
        store.wait_durable(sequence)
    with pytest.raises(StoreError):
        store.wait_durable(store.submit(Changeset()))


def test_changesets_queued_together_are_all_committed_in_order(store: SchedulerStore) -> None:
    sequences = []
    for position in range(200):
        changes = Changeset()
        changes.append_events("history", "i-1", position, [raised(str(position)).SerializeToString()])
        sequences.append(store.submit(changes))
    store.wait_durable(sequences[-1])
    assert names_on_file(reopened(store), "history", "i-1") == [str(position) for position in range(200)]


def test_changes_no_call_waits_for_are_committed_anyway(store: SchedulerStore) -> None:
    """A timer firing or a delayed signal changes state with no caller waiting: the store commits it itself."""
    changes = Changeset()
    changes.put_instance(INSTANCE_ROW)
    store.submit(changes)
    with sqlite3.connect(f"{store.path.as_uri()}?mode=ro", uri=True) as reader:
        wait_until(
            lambda: reader.execute("SELECT count(*) FROM instances").fetchone()[0],
            timeout=30, interval=0.01, message="the change was never committed",
        )  # fmt: skip
    reader.close()
