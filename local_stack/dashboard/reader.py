"""What the dashboard knows about a task hub, read over the public DTS gRPC API (so the emulator works too).

Lists are fetched one page at a time with the scheduler's own continuation tokens: the dashboard never loads
a whole task hub, whatever its size. The events an unfinished instance awaits are not in what the API returns:
they come from replaying its orchestrator with the declarations of the app beside the dashboard (the same
checkout), as the app's own ``/waiting`` route does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import grpc
from durabletask import history as h
from durabletask import task
from durabletask.azuremanaged.client import DurableTaskSchedulerClient
from durabletask.client import OrchestrationQuery, OrchestrationStatus
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs
from durabletask.internal.client_helpers import build_query_instances_req
from google.protobuf import wrappers_pb2

from durable_app.replay import instance_waiting
from durable_app.scheduler import STATUS_BY_NAME, TERMINAL_NAMES, status_name
from durable_app.scheduler.waiting import Waiting
from local_stack.dashboard.timeline import Step, timeline

COUNT_PAGE = 1000
"""Rows per scheduler page while counting instances per status."""

SCAN_PAGES = 20
"""Scheduler pages one list request may read while looking for names (or entity keys) that match the filter."""

NEWEST_FIRST = ("query-order", "created-desc")
"""Request metadata asking the scheduler to page instances newest first (by creation time, then instance id).

The DTS protocol's ``InstanceQuery`` has no ordering field, so the dashboard asks in the call's metadata, as
it names the task hub. A scheduler that honours it says so by echoing the pair in its initial metadata; one
that does not (or ignores unknown metadata, as any gRPC server may) pages in its own order, and the list says
which order it shows.
"""


@dataclass(frozen=True)
class InstanceRow:
    instance_id: str
    name: str
    status: str
    created: datetime | None
    updated: datetime | None
    completed: datetime | None = None
    version: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        """From creation to completion; ``None`` while it runs (the page shows the time so far instead).

        A scheduler that does not report the completion time (the SDK's in-memory one) last updated a finished
        instance when it finished.
        """
        end = self.completed or (self.updated if self.status in TERMINAL_NAMES else None)
        if self.created is None or end is None:
            return None
        return (end - self.created).total_seconds()


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_token: str | None
    newest_first: bool = False


@dataclass(frozen=True)
class InstanceDetail:
    row: InstanceRow
    input: str | None
    output: str | None
    custom_status: str | None
    failure: task.FailureDetails | None
    steps: list[Step]
    trace_id: str | None = None
    waiting: Waiting | None = None
    parent_id: str | None = None


@dataclass(frozen=True)
class EntityRow:
    entity_id: str
    name: str
    key: str
    state: str | None
    last_modified: datetime | None
    backlog: int
    locked_by: str | None


class SchedulerReader:
    """Queries, history and actions for one task hub on one DTS-protocol endpoint."""

    def __init__(self, endpoint: str, taskhub: str, timeout: float = 10.0) -> None:
        parsed = urlparse(endpoint)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ValueError(f"endpoint must be http(s)://host:port, got {endpoint!r}")
        secure = parsed.scheme == "https"
        address = f"{parsed.hostname}:{parsed.port or (443 if secure else 80)}"
        self.endpoint, self.taskhub, self._timeout = endpoint, taskhub, timeout
        credentials = grpc.ssl_channel_credentials()
        self._channel = grpc.secure_channel(address, credentials) if secure else grpc.insecure_channel(address)
        self._stub = stubs.TaskHubSidecarServiceStub(self._channel)
        self._metadata = [("taskhub", taskhub)]  # DTS and its emulator route requests by this header
        self.client = DurableTaskSchedulerClient(
            host_address=address, taskhub=taskhub, token_credential=None, secure_channel=secure
        )

    def instances(
        self,
        *,
        statuses: list[str],
        name_prefix: str,
        created_from: datetime | None,
        created_to: datetime | None,
        page_size: int,
        token: str | None,
        id_prefix: str = "",
    ) -> Page:
        """One page of instances, newest first where the scheduler pages in that order (see ``NEWEST_FIRST``).

        The protocol filters by status and creation time; names are matched here, page by page, reading at most
        ``SCAN_PAGES`` scheduler pages per call so a rare name never turns one request into a scan of the hub.
        """
        query = OrchestrationQuery(
            created_time_from=created_from,
            created_time_to=created_to,
            runtime_status=[STATUS_BY_NAME[status] for status in statuses],
            max_instance_count=page_size,
            instance_id_prefix=id_prefix or None,
        )
        rows: list[InstanceRow] = []
        newest_first = False
        for _ in range(SCAN_PAGES):
            request = build_query_instances_req(query, wrappers_pb2.StringValue(value=token) if token else None)
            response, call = self._stub.QueryInstances.with_call(
                request, timeout=self._timeout, metadata=[*self._metadata, NEWEST_FIRST]
            )
            newest_first = NEWEST_FIRST in (call.initial_metadata() or ())
            rows += [_row(state) for state in response.orchestrationState if state.name.startswith(name_prefix)]
            token = response.continuationToken.value if response.HasField("continuationToken") else None
            if not token or len(rows) >= page_size or not name_prefix:
                break
        return Page(rows, token or None, newest_first)

    def counts(self, limit: int) -> tuple[dict[str, int], bool]:
        """Instances per runtime status, reading at most ``limit`` rows; ``True`` when there were more."""
        counts: dict[str, int] = {}
        token: str | None = None
        seen = 0
        while seen < limit:
            query = OrchestrationQuery(max_instance_count=min(COUNT_PAGE, limit - seen))
            request = build_query_instances_req(query, wrappers_pb2.StringValue(value=token) if token else None)
            response = self._stub.QueryInstances(request, timeout=self._timeout, metadata=self._metadata)
            for state in response.orchestrationState:
                name = status_name(OrchestrationStatus(state.orchestrationStatus))
                counts[name] = counts.get(name, 0) + 1
            seen += len(response.orchestrationState)
            token = response.continuationToken.value if response.HasField("continuationToken") else None
            if not token:
                return counts, False
        return counts, True

    def status(self, instance_id: str) -> str | None:
        """The instance's runtime status now (``Running``...), or ``None`` when there is no such instance."""
        state = self.client.get_orchestration_state(instance_id, fetch_payloads=False)
        return None if state is None else status_name(state.runtime_status)

    def instance(self, instance_id: str, *, with_history: bool = True) -> InstanceDetail | None:
        state = self.client.get_orchestration_state(instance_id, fetch_payloads=True)
        if state is None:
            return None
        history = self.client.get_orchestration_history(instance_id) if with_history else []
        return InstanceDetail(
            row=InstanceRow(
                instance_id=state.instance_id,
                name=state.name,
                status=status_name(state.runtime_status),
                created=state.created_at,
                updated=state.last_updated_at,
                version=_started_version(history),
            ),
            input=state.serialized_input,
            output=state.serialized_output,
            custom_status=state.serialized_custom_status,
            failure=state.failure_details,
            steps=timeline(history),
            trace_id=trace_id(history),
            waiting=instance_waiting(state.name, instance_id, history) if with_history else None,
            parent_id=parent_of(history),
        )

    def entities(self, *, prefix: str, page_size: int, token: str | None) -> Page:
        """One page of entities whose key starts with ``prefix`` (``my``), or whose id does (``@counter@my``).

        An entity id is ``@name@key``: a prefix starting with ``@`` goes to the scheduler as it is. A plain key
        prefix matches keys under any entity name, so it is matched here, a few scheduler pages at a time, as
        orchestration names are.
        """
        key_prefix = "" if prefix.startswith("@") else prefix
        rows: list[EntityRow] = []
        for _ in range(SCAN_PAGES):
            response = self._query_entities(prefix if not key_prefix else "", page_size, token)
            rows += [row for row in map(_entity_row, response.entities) if row.key.startswith(key_prefix)]
            token = response.continuationToken.value if response.HasField("continuationToken") else None
            if not token or len(rows) >= page_size or not key_prefix:
                break
        return Page(rows, token or None)

    def entity(self, entity_id: str) -> EntityRow | None:
        """One entity with its whole state (``@name@key``), or ``None`` when it has none."""
        request = pb.GetEntityRequest(instanceId=entity_id, includeState=True)
        response = self._stub.GetEntity(request, timeout=self._timeout, metadata=self._metadata)
        return _entity_row(response.entity, compact=False) if response.exists else None

    def _query_entities(self, id_prefix: str, page_size: int, token: str | None) -> pb.QueryEntitiesResponse:
        page = wrappers_pb2.Int32Value(value=page_size)
        query = pb.EntityQuery(includeState=True, includeTransient=False, pageSize=page)
        if id_prefix:
            query.instanceIdStartsWith.CopyFrom(wrappers_pb2.StringValue(value=id_prefix))
        if token:
            query.continuationToken.CopyFrom(wrappers_pb2.StringValue(value=token))
        request = pb.QueryEntitiesRequest(query=query)
        return self._stub.QueryEntities(request, timeout=self._timeout, metadata=self._metadata)

    def act(self, instance_id: str, action: str, *, reason: str | None, event: str | None, data: Any) -> str:
        """Run one management action; return the instance id to show next (a restart may create a new one)."""
        if action == "terminate":
            self.client.terminate_orchestration(instance_id, output=reason)
        elif action == "suspend":
            self.client.suspend_orchestration(instance_id, reason=reason)
        elif action == "resume":
            self.client.resume_orchestration(instance_id, reason=reason)
        elif action == "raise-event":
            self.client.raise_orchestration_event(instance_id, event or "", data=data)
        elif action == "rewind":
            self.client.rewind_orchestration(instance_id, reason=reason)
        elif action == "purge":
            self.client.purge_orchestration(instance_id)
        elif action == "restart":
            return self.client.restart_orchestration(instance_id, restart_with_new_instance_id=True)
        else:
            raise ValueError(action)
        return instance_id

    def close(self) -> None:
        self.client.close()
        self._channel.close()


def trace_id(history: list[h.HistoryEvent]) -> str | None:
    """The W3C trace id the instance was started in: its ``ExecutionStarted`` event's parent trace context."""
    for event in history:
        if isinstance(event, h.ExecutionStartedEvent):
            context = event.parent_trace_context
            parts = context.trace_parent.split("-") if context else []
            return parts[1] if len(parts) == 4 else None
    return None


def _started_version(history: list[h.HistoryEvent]) -> str | None:
    started = next((event for event in history if isinstance(event, h.ExecutionStartedEvent)), None)
    return started.version if started and started.version else None


def parent_of(history: list[h.HistoryEvent]) -> str | None:
    """The parent orchestration's id, where the scheduler records it in the ``ExecutionStarted`` event."""
    started = next((event for event in history if isinstance(event, h.ExecutionStartedEvent)), None)
    parent = started.parent_instance if started else None
    instance = parent.orchestration_instance if parent else None
    return instance.instance_id if instance else None


def _row(state: pb.OrchestrationState) -> InstanceRow:
    return InstanceRow(
        instance_id=state.instanceId,
        name=state.name,
        status=status_name(OrchestrationStatus(state.orchestrationStatus)),
        created=_time(state, "createdTimestamp"),
        updated=_time(state, "lastUpdatedTimestamp"),
        completed=_time(state, "completedTimestamp"),
        version=state.version.value if state.HasField("version") and state.version.value else None,
    )


def _entity_row(entity: pb.EntityMetadata, *, compact: bool = True) -> EntityRow:
    name, _, key = entity.instanceId.removeprefix("@").partition("@")
    state = entity.serializedState.value if entity.HasField("serializedState") else None
    return EntityRow(
        entity_id=entity.instanceId,
        name=name,
        key=key,
        state=_compact_json(state) if compact else state,
        last_modified=_time(entity, "lastModifiedTime"),
        backlog=entity.backlogQueueSize,
        locked_by=entity.lockedBy.value if entity.HasField("lockedBy") else None,
    )


def _time(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    return getattr(message, field).ToDatetime().replace(tzinfo=None)


def _compact_json(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        return text
