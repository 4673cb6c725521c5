import asyncio
import os
import subprocess
import sys
from pathlib import Path

import azure.identity as identity
import azure.identity.aio as identity_aio
import pytest

from durable_app.scheduler import async_credential, sync_credential
from durable_app.scheduler.credentials import ThreadedAsyncCredential
from durable_app.settings import Authentication, parse_connection_string

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    Authentication.DEFAULT_AZURE: (identity.DefaultAzureCredential, identity_aio.DefaultAzureCredential),
    Authentication.MANAGED_IDENTITY: (identity.ManagedIdentityCredential, identity_aio.ManagedIdentityCredential),
    Authentication.WORKLOAD_IDENTITY: (identity.WorkloadIdentityCredential, identity_aio.WorkloadIdentityCredential),
    Authentication.ENVIRONMENT: (identity.EnvironmentCredential, identity_aio.EnvironmentCredential),
    Authentication.AZURE_CLI: (identity.AzureCliCredential, identity_aio.AzureCliCredential),
    Authentication.AZURE_POWERSHELL: (identity.AzurePowerShellCredential, identity_aio.AzurePowerShellCredential),
    Authentication.VISUAL_STUDIO_CODE: (identity.VisualStudioCodeCredential, identity_aio.VisualStudioCodeCredential),
    Authentication.INTERACTIVE_BROWSER: (identity.InteractiveBrowserCredential, ThreadedAsyncCredential),
}


@pytest.fixture(autouse=True)
def workload_identity_env(monkeypatch) -> None:
    """WorkloadIdentityCredential needs its federation settings to be constructed."""
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000000")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", "/dev/null")
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111")


@pytest.mark.parametrize("authentication", list(EXPECTED))
def test_each_authentication_maps_to_its_credential(authentication: Authentication) -> None:
    connection = parse_connection_string(
        f"Endpoint=https://s.durabletask.io;TaskHub=h;Authentication={authentication.value}"
    )
    sync_type, async_type = EXPECTED[authentication]
    assert isinstance(sync_credential(connection), sync_type)
    credential = async_credential(connection)
    assert isinstance(credential, async_type)
    asyncio.run(credential.close())


def test_none_means_no_credential() -> None:
    connection = parse_connection_string("Endpoint=http://localhost:8080;TaskHub=default;Authentication=None")
    assert sync_credential(connection) is None
    assert async_credential(connection) is None


def test_user_assigned_client_id_is_passed_on() -> None:
    connection = parse_connection_string(
        "Endpoint=https://s.durabletask.io;TaskHub=h;Authentication=ManagedIdentity;ClientID=abc-123"
    )
    credential = sync_credential(connection)
    assert "abc-123" in repr(vars(credential)) or "abc-123" in repr(vars(credential._credential))


def test_the_app_without_authentication_never_imports_azure_identity() -> None:
    """``azure.identity`` (msal, requests, cryptography) is a quarter of a replica's start; the emulator needs none."""
    probe = "import sys, function_app; print('azure.identity' in sys.modules, len(function_app.app.get_functions()))"
    env = {
        **os.environ,
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=http://127.0.0.1:1;TaskHub=default;Authentication=None",
        "DTS_WORKER_ENABLED": "false",
    }
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    imported, functions = done.stdout.split()
    assert int(functions) > 0
    assert imported == "False"
