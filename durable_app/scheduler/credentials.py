"""Map the connection string's ``Authentication`` value to an ``azure.identity`` credential.

The worker is synchronous and wants a ``TokenCredential``; the HTTP triggers use the async client, which
wants an ``AsyncTokenCredential``. Both are built from the same table so the two sides always authenticate
the same way.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential

from durable_app.settings import Authentication, ConnectionString

_CREDENTIAL_CLASSES: dict[Authentication, str] = {
    Authentication.DEFAULT_AZURE: "DefaultAzureCredential",
    Authentication.MANAGED_IDENTITY: "ManagedIdentityCredential",
    Authentication.WORKLOAD_IDENTITY: "WorkloadIdentityCredential",
    Authentication.ENVIRONMENT: "EnvironmentCredential",
    Authentication.AZURE_CLI: "AzureCliCredential",
    Authentication.AZURE_POWERSHELL: "AzurePowerShellCredential",
    Authentication.VISUAL_STUDIO_CODE: "VisualStudioCodeCredential",
    Authentication.INTERACTIVE_BROWSER: "InteractiveBrowserCredential",
}
"""The ``azure.identity`` class for each ``Authentication`` value, in its sync and (but for the last) async form.

``azure.identity`` is imported on first use: it brings msal, requests and cryptography, a quarter of a
replica's start-up, which ``Authentication=None`` (the emulator, the local stack) never needs.
"""

_NO_ASYNC_FORM = {Authentication.INTERACTIVE_BROWSER}


def _credential_class(authentication: Authentication, *, asynchronous: bool) -> Any:
    module = importlib.import_module("azure.identity.aio" if asynchronous else "azure.identity")
    return getattr(module, _CREDENTIAL_CLASSES[authentication])


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
    return _credential_class(connection.authentication, asynchronous=False)(**_client_id_kwargs(connection))


def async_credential(connection: ConnectionString) -> AsyncTokenCredential | None:
    """The async client's credential; interactive browser sign-in has no async form, so it is adapted."""
    if connection.authentication is Authentication.NONE:
        return None
    if connection.authentication in _NO_ASYNC_FORM:
        return ThreadedAsyncCredential(sync_credential(connection))  # type: ignore[arg-type]
    return _credential_class(connection.authentication, asynchronous=True)(**_client_id_kwargs(connection))


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
