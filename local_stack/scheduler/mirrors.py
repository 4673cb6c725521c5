"""What the SQLite file holds for each instance and entity, and how a change in memory becomes rows.

A mirror remembers the row and the events last written for one instance or entity, so a sync adds to the
:class:`~local_stack.scheduler.store.Changeset` only what changed. The row helpers go both ways: state to
row when writing, row to state when a restart reads the file back.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from durabletask.internal import orchestrator_service_pb2 as pb

from local_stack.scheduler.backend import EntityState, OrchestrationInstance
from local_stack.scheduler.store import Changeset, StoredEvents


class EventLog:
    """Which events of one list are in the file, at which positions.

    The lists the backend keeps only grow at the end (history) or also shrink from the front (an inbox, as
    the orchestrator or entity consumes it), so a sync writes new events and deletes consumed ones; any
    other change rewrites the list.
    """

    def __init__(self, table: str, owner: str) -> None:
        self.table = table
        self.owner = owner
        self.first = 0
        self.events: deque[pb.HistoryEvent] = deque()

    @classmethod
    def loaded(cls, table: str, owner: str, stored: StoredEvents) -> tuple[EventLog, list[pb.HistoryEvent]]:
        """The log of ``owner``'s events in ``table`` as read from the file, and those events."""
        rows = stored[table].get(owner, [])
        log = cls(table, owner)
        events = [pb.HistoryEvent.FromString(event) for _, event in rows]
        log.first = rows[0][0] if rows else 0
        log.events.extend(events)
        return log, events

    def sync(self, current: list[pb.HistoryEvent], changes: Changeset) -> None:
        consumed = self._consumed(current)
        if consumed is None:
            self._rewrite(current, changes)
            return
        if consumed:
            for _ in range(consumed):
                self.events.popleft()
            self.first += consumed
            changes.drop_events_before(self.table, self.owner, self.first)
        new = current[len(self.events) :]
        if new:
            changes.append_events(self.table, self.owner, self.first + len(self.events), _serialised(new))
            self.events.extend(new)

    def _consumed(self, current: list[pb.HistoryEvent]) -> int | None:
        """How many stored events left the front of the list, or ``None`` if it changed any other way."""
        if not self.events:
            return 0
        if not current:
            return len(self.events)
        consumed = 0
        for event in self.events:
            if event is current[0]:
                break
            consumed += 1
        kept = len(self.events) - consumed
        if len(current) < kept or (kept and current[kept - 1] is not self.events[-1]):
            return None
        return consumed

    def _rewrite(self, current: list[pb.HistoryEvent], changes: Changeset) -> None:
        changes.truncate_events(self.table, self.owner, 0)
        self.first = 0
        self.events = deque(current)
        changes.append_events(self.table, self.owner, 0, _serialised(current))


class InstanceMirror:
    """What the file holds for one orchestration instance."""

    def __init__(self, instance: OrchestrationInstance) -> None:
        self.live = instance
        self.row: tuple[Any, ...] | None = None
        self.history = EventLog("history", instance.instance_id)
        self.inbox = EventLog("inbox", instance.instance_id)

    def sync(self, changes: Changeset) -> None:
        """Add to ``changes`` what makes the file match the instance in memory."""
        instance = self.live
        row = _instance_row(instance)
        if row != self.row:
            changes.put_instance(row)
            self.row = row
        self.history.sync(instance.history, changes)
        self.inbox.sync([*instance.dispatched_events, *instance.pending_events], changes)

    def delete(self, changes: Changeset) -> None:
        changes.delete_instance(self.live.instance_id)


class EntityMirror:
    """What the file holds for one entity."""

    def __init__(self, entity: EntityState) -> None:
        self.live = entity
        self.row: tuple[Any, ...] | None = None
        self.inbox = EventLog("entity_inbox", entity.instance_id)

    def sync(self, changes: Changeset) -> None:
        """Add to ``changes`` what makes the file match the entity in memory."""
        entity = self.live
        row = (entity.instance_id, entity.serialized_state, iso_time(entity.last_modified_at), entity.locked_by)
        if row != self.row:
            changes.put_entity(row)
            self.row = row
        self.inbox.sync([*entity.dispatched_operations, *entity.pending_operations], changes)

    def delete(self, changes: Changeset) -> None:
        changes.delete_entity(self.live.instance_id)


def _instance_row(instance: OrchestrationInstance) -> tuple[Any, ...]:
    failure = instance.failure_details.SerializeToString() if instance.failure_details is not None else None
    return (
        instance.instance_id,
        instance.name,
        int(instance.status),
        instance.version,
        instance.input,
        instance.output,
        instance.custom_status,
        iso_time(instance.created_at),
        iso_time(instance.last_updated_at),
        iso_time(instance.completed_at) if instance.completed_at else None,
        failure,
        _dump_tags(instance.tags),
    )


def _serialised(events: Iterable[pb.HistoryEvent]) -> list[bytes]:
    return [event.SerializeToString() for event in events]


def iso_time(moment: datetime) -> str:
    return moment.isoformat()


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dump_tags(tags: dict[str, str] | None) -> str | None:
    return json.dumps(tags, sort_keys=True) if tags is not None else None


def loaded_tags(text: str | None) -> dict[str, str] | None:
    return json.loads(text) if text is not None else None
