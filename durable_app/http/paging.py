"""One page of an instance or entity query, for the API's ``x-ms-continuation-token`` paging.

The SDK's ``get_all_orchestration_states`` and ``get_all_entities`` read every page into one list; an HTTP
caller asks for one page at a time and sends back the token it was given. The SDK has no public call for one
page, so this module is the one place that reaches the client's stub (durabletask 1.12's ``_get_stub``,
pinned by ``tests/unit/test_instance_queries.py``), and so goes through the client's own channel: its
credentials, task hub and retries.

Instance pages ask for newest-first keyset paging (``query-order: created-desc``, see
``local_stack.scheduler.queries``), and entity pages are keyset pages by id on the local scheduler: pages never
repeat or skip an item while others are created or purged, and a token the scheduler did not issue is refused
(``INVALID_ARGUMENT``, a 400 naming ``x-ms-continuation-token``). DTS ignores the ordering metadata and pages in
its own order with its own tokens.

The API never hands out the scheduler's token as it is: it may hold an instance id, and an id may carry
characters no HTTP header can (a newline, non-Latin-1 letters). The header holds the token base64url-encoded
with a check of what it is a token for (instances, or one entity name's instances); a token not in that form,
altered, or issued for another listing is a 400 before any scheduler call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from durabletask.client import (
    AsyncTaskHubGrpcClient,
    EntityQuery,
    OrchestrationQuery,
)
from durabletask.entities import EntityMetadata
from durabletask.internal.client_helpers import build_query_entities_req, build_query_instances_req
from google.protobuf import wrappers_pb2

from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.scheduler import VersionedState, versioned_state
from durable_app.values import RefusedRequest

NEWEST_FIRST = ("query-order", "created-desc")
"""The call metadata that asks the local scheduler for newest-first keyset pages (ignored by DTS)."""


CONTINUATION_PATTERN = r"^[A-Za-z0-9_-]+\.[0-9a-f]{16}$"
"""The form of every token the API issues: the scheduler's token in base64url, a dot, and its check."""

INSTANCE_LISTING = "instances"
"""What an instance page's token is for; an entity page's is ``entities:`` and the prefix it lists."""


async def instance_page(
    client: AsyncTaskHubGrpcClient, query: OrchestrationQuery, token: str | None
) -> tuple[list[VersionedState], str | None]:
    """One page of instances, newest first, and the token of the next one (``None`` on the last page)."""
    request = build_query_instances_req(query, _continuation(token, INSTANCE_LISTING))
    response, next_token = await _one_page(
        lambda: client._get_stub().QueryInstances(request, metadata=[NEWEST_FIRST]), token, INSTANCE_LISTING
    )
    return [versioned_state(state) for state in response.orchestrationState], next_token


async def entity_page(
    client: AsyncTaskHubGrpcClient, query: EntityQuery, token: str | None
) -> tuple[list[EntityMetadata], str | None]:
    """One page of entities and the token of the next one (``None`` on the last page)."""
    listing = f"entities:{query.instance_id_starts_with or ''}"
    request = build_query_entities_req(query, _continuation(token, listing))
    response, next_token = await _one_page(lambda: client._get_stub().QueryEntities(request), token, listing)
    converter = client._data_converter
    entities = [
        EntityMetadata.from_entity_metadata(entity, query.include_state, converter) for entity in response.entities
    ]
    return entities, next_token


def _continuation(token: str | None, listing: str) -> wrappers_pb2.StringValue | None:
    return wrappers_pb2.StringValue(value=scheduler_token(token, listing)) if token else None


async def _one_page(call: Callable[[], Awaitable[Any]], token: str | None, listing: str) -> tuple[Any, str | None]:
    """Make the one scheduler call; a token it refuses is the caller's 400, and the answer names the next page."""
    try:
        response = await call()
    except grpc.aio.AioRpcError as error:
        if token and error.code() is grpc.StatusCode.INVALID_ARGUMENT:
            raise _not_issued() from None
        raise
    next_token = response.continuationToken.value if response.HasField("continuationToken") else ""
    return response, api_token(next_token, listing) if next_token else None


def api_token(scheduler_token: str, listing: str) -> str:
    """The header-safe token the API issues for the scheduler's ``scheduler_token`` of ``listing``."""
    encoded = base64.urlsafe_b64encode(scheduler_token.encode()).decode().rstrip("=")
    return f"{encoded}.{_check(scheduler_token, listing)}"


def scheduler_token(token: str, listing: str) -> str:
    """The scheduler's token inside one the API issued for ``listing``; anything else is a 400."""
    encoded, _, check = token.rpartition(".")
    try:
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _not_issued() from None
    if not encoded or check != _check(decoded, listing):
        raise _not_issued()
    return decoded


def _check(scheduler_token: str, listing: str) -> str:
    return hashlib.sha256(f"{listing}\n{scheduler_token}".encode()).hexdigest()[:16]


def _not_issued() -> RefusedRequest:
    return RefusedRequest(CONTINUATION_HEADER, f"{CONTINUATION_HEADER} is not a token this API issued")
