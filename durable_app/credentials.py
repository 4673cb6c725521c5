"""Map the connection string's ``Authentication`` value to an ``azure.identity`` credential.

The worker is synchronous and wants a ``TokenCredential``; the HTTP triggers use the async client, which
wants an ``AsyncTokenCredential``. Both are built from the same table so the two sides always authenticate
the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import azure.identity as identity
import azure.identity.aio as identity_aio
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential

from durable_app.connection_string import Authentication, ConnectionString

_SYNC: dict[Authentication, Callable[..., TokenCredential]] = {
    Authentication.DEFAULT_AZURE: identity.DefaultAzureCredential,
    Authentication.MANAGED_IDENTITY: identity.ManagedIdentityCredential,
    Authentication.WORKLOAD_IDENTITY: identity.WorkloadIdentityCredential,
    Authentication.ENVIRONMENT: identity.EnvironmentCredential,
    Authentication.AZURE_CLI: identity.AzureCliCredential,
    Authentication.AZURE_POWERSHELL: identity.AzurePowerShellCredential,
    Authentication.VISUAL_STUDIO_CODE: identity.VisualStudioCodeCredential,
    Authentication.INTERACTIVE_BROWSER: identity.InteractiveBrowserCredential,
}

_ASYNC: dict[Authentication, Callable[..., AsyncTokenCredential]] = {
    Authentication.DEFAULT_AZURE: identity_aio.DefaultAzureCredential,
    Authentication.MANAGED_IDENTITY: identity_aio.ManagedIdentityCredential,
    Authentication.WORKLOAD_IDENTITY: identity_aio.WorkloadIdentityCredential,
    Authentication.ENVIRONMENT: identity_aio.EnvironmentCredential,
    Authentication.AZURE_CLI: identity_aio.AzureCliCredential,
    Authentication.AZURE_POWERSHELL: identity_aio.AzurePowerShellCredential,
    Authentication.VISUAL_STUDIO_CODE: identity_aio.VisualStudioCodeCredential,
}


def _client_id_kwargs(connection: ConnectionString) -> dict[str, Any]:
    """User-assigned identities are selected by client id; the keyword differs per credential type."""
    if not connection.client_id:
        return {}
    if connection.authentication is Authentication.DEFAULT_AZURE:
        return {"managed_identity_client_id": connection.client_id}
    return {"client_id": connection.client_id}


def sync_credential(connection: ConnectionString) -> TokenCredential | None:
    """The worker's credential, or ``None`` for ``Authentication=None`` (emulator, local stack)."""
    if connection.authentication is Authentication.NONE:
        return None
    return _SYNC[connection.authentication](**_client_id_kwargs(connection))


def async_credential(connection: ConnectionString) -> AsyncTokenCredential | None:
    """The async client's credential; interactive browser sign-in has no async form, so it is adapted."""
    if connection.authentication is Authentication.NONE:
        return None
    factory = _ASYNC.get(connection.authentication)
    if factory is None:
        return ThreadedAsyncCredential(_SYNC[connection.authentication](**_client_id_kwargs(connection)))
    return factory(**_client_id_kwargs(connection))


class ThreadedAsyncCredential(AsyncTokenCredential):
    """Runs a synchronous credential's token requests on a thread so the event loop never blocks."""

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return await asyncio.to_thread(self._inner.get_token, *scopes, **kwargs)

    async def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    async def __aexit__(self, *args: object) -> None:
        await self.close()
