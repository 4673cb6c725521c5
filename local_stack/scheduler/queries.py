"""Newest-first instance queries: an option of the local scheduler's API that DTS does not have.

The protocol's ``InstanceQuery`` has no ordering field, and ``InMemoryOrchestrationBackend`` (1.12) pages
oldest first with an offset token. A client that sends the gRPC metadata ``query-order: created-desc`` on
``QueryInstances`` gets, from :class:`NewestFirstQueries`:

- the same filters (runtime status, created from/to, instance id prefix) and at most ``maxInstanceCount`` rows,
  ordered by ``(created_at, instance_id)`` descending;
- a *keyset* continuation token (the last row's creation time to the microsecond and its id): the next page
  starts strictly after that row, so work created while someone pages never repeats or skips a row. The last
  page has no token;
- the pair echoed in the call's initial metadata, so the client knows the order was honoured.

Without that metadata nothing changes: oldest first with the backend's offset tokens, as
``get_all_orchestration_states`` expects. The managed DTS and its emulator have no such option; a client
there gets the scheduler's own order and no echo (the local dashboard then says it shows that order).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from operator import attrgetter

import grpc
from durabletask.internal import orchestrator_service_pb2 as pb
from google.protobuf import timestamp_pb2, wrappers_pb2

from local_stack.scheduler.backend import InMemoryOrchestrationBackend, OrchestrationInstance

NEWEST_FIRST = ("query-order", "created-desc")
"""The request metadata that asks for newest first, echoed in the initial metadata when honoured."""

Position = tuple[datetime, str]
"""(created_at, instance_id): where a row sits in newest-first order."""

_SEPARATOR = "|"


class NewestFirstQueries(InMemoryOrchestrationBackend):
    """``QueryInstances`` newest first with keyset paging, when the call asks for it; mixed in below DTS's answers."""

    def QueryInstances(self, request: pb.QueryInstancesRequest, context: grpc.ServicerContext):
        if NEWEST_FIRST not in (context.invocation_metadata() or ()):
            return super().QueryInstances(request, context)
        query = request.query
        after = _position_after(query, context)
        size = query.maxInstanceCount if query.maxInstanceCount > 0 else None
        with self._lock:
            candidates = _matching(self._instances.values(), query, after)
            if size is None:
                page = sorted(candidates, key=_position, reverse=True)
                more = False
            else:
                page = heapq.nlargest(size + 1, candidates, key=_position)
                more = len(page) > size
                page = page[:size]
            states = [_state(instance, query.fetchInputsAndOutputs) for instance in page]
        context.send_initial_metadata((NEWEST_FIRST,))
        token = wrappers_pb2.StringValue(value=_token(_position(page[-1]))) if more else None
        return pb.QueryInstancesResponse(orchestrationState=states, continuationToken=token)


_position: Callable[[OrchestrationInstance], Position] = attrgetter("created_at", "instance_id")


def _token(position: Position) -> str:
    created_at, instance_id = position
    return f"{created_at.isoformat(timespec='microseconds')}{_SEPARATOR}{instance_id}"


def _position_after(query: pb.InstanceQuery, context: grpc.ServicerContext) -> Position | None:
    """The row a newest-first page continues after; a token this module did not make is refused."""
    token = query.continuationToken.value if query.HasField("continuationToken") else ""
    if not token:
        return None
    created, separator, instance_id = token.partition(_SEPARATOR)
    try:
        created_at = datetime.fromisoformat(created)
    except ValueError:
        created_at = None
    if not separator or created_at is None or created_at.tzinfo is None:
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"continuationToken {token!r} is not a newest-first token (created time{_SEPARATOR}instance id)",
        )
    return (created_at, instance_id)


def _matching(
    instances: Iterable[OrchestrationInstance], query: pb.InstanceQuery, after: Position | None
) -> list[OrchestrationInstance]:
    """The backend's own filters, applied the same way, and only rows past ``after`` (read once, not per row)."""
    statuses = set(query.runtimeStatus)
    since = _utc(query.createdTimeFrom) if query.HasField("createdTimeFrom") else None
    until = _utc(query.createdTimeTo) if query.HasField("createdTimeTo") else None
    prefix = query.instanceIdPrefix.value if query.HasField("instanceIdPrefix") else ""
    return [
        instance
        for instance in instances
        if (not statuses or instance.status in statuses)
        and (since is None or instance.created_at >= since)
        and (until is None or instance.created_at < until)
        and instance.instance_id.startswith(prefix)
        and (after is None or _position(instance) < after)
    ]


def _utc(moment: timestamp_pb2.Timestamp) -> datetime:
    return moment.ToDatetime(UTC)


def _state(instance: OrchestrationInstance, include_payloads: bool) -> pb.OrchestrationState:
    """One row as the backend's ``QueryInstances`` builds it."""
    created, updated = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
    created.FromDatetime(instance.created_at)
    updated.FromDatetime(instance.last_updated_at)
    return pb.OrchestrationState(
        instanceId=instance.instance_id,
        name=instance.name,
        orchestrationStatus=instance.status,
        createdTimestamp=created,
        lastUpdatedTimestamp=updated,
        input=_text(instance.input) if include_payloads else None,
        output=_text(instance.output) if include_payloads else None,
        customStatus=_text(instance.custom_status),
        failureDetails=instance.failure_details or None,
    )


def _text(value: str | None) -> wrappers_pb2.StringValue | None:
    return wrappers_pb2.StringValue(value=value) if value else None
