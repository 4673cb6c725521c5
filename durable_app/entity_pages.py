"""One page of an entity query, for the API's ``x-ms-continuation-token`` paging.

The SDK's ``get_all_entities`` reads every page into one list; an HTTP caller asks for one page at a time
and sends back the token it was given. The SDK has no public call for one page, so this module is the one
place that reaches its stub (durabletask 1.12's ``_get_stub``, covered by the entity listing tests).
"""

from __future__ import annotations

import grpc
from durabletask.client import AsyncTaskHubGrpcClient, EntityQuery, Page
from durabletask.entities import EntityMetadata
from durabletask.internal.client_helpers import build_query_entities_req
from google.protobuf import wrappers_pb2

from durable_app.http_requests import CONTINUATION_HEADER
from durable_app.http_status import RefusedRequest


async def entity_page(client: AsyncTaskHubGrpcClient, query: EntityQuery, token: str | None) -> Page[EntityMetadata]:
    """The page of ``query`` that ``token`` (from the previous page's answer, or none) points at."""
    continuation = wrappers_pb2.StringValue(value=token) if token else None
    request = build_query_entities_req(query, continuation)
    try:
        response = await client._get_stub().QueryEntities(request)
    except grpc.aio.AioRpcError as error:
        if token and error.code() is grpc.StatusCode.INVALID_ARGUMENT:
            raise RefusedRequest(CONTINUATION_HEADER, f"{CONTINUATION_HEADER} was not issued by this API") from None
        raise
    items = [
        EntityMetadata.from_entity_metadata(entity, query.include_state, client._data_converter)
        for entity in response.entities
    ]
    next_token = response.continuationToken.value if response.HasField("continuationToken") else ""
    return Page(items=items, continuation_token=next_token or None)
