"""The shared clients reach the scheduler the app's settings name unless a caller passes other settings."""

from __future__ import annotations

import asyncio

from durable_app.scheduler import shared_client, shared_sync_client
from durable_app.settings import app_settings
from tests.helpers.settings import app_settings_with

APP = "Endpoint=http://127.0.0.1:9;TaskHub=app-hub;Authentication=None"
OTHER = "Endpoint=http://127.0.0.1:10;TaskHub=other-hub;Authentication=None"


def _address(client: object) -> str:
    address = getattr(client, "_host_address", None)
    assert isinstance(address, str), "the SDK's client moved its address: this test no longer sees it"
    return address


def test_the_blocking_client_defaults_to_the_app_settings_and_follows_them_when_reread() -> None:
    with app_settings_with(DURABLE_TASK_SCHEDULER_CONNECTION_STRING=APP) as settings:
        client = shared_sync_client()
        assert client is shared_sync_client(settings)
        assert _address(client) == "127.0.0.1:9"
        with app_settings_with(DURABLE_TASK_SCHEDULER_CONNECTION_STRING=OTHER):
            assert _address(shared_sync_client()) == "127.0.0.1:10"
        assert shared_sync_client() is client


def test_the_blocking_client_takes_explicit_settings_for_tests_and_tools() -> None:
    with app_settings_with(DURABLE_TASK_SCHEDULER_CONNECTION_STRING=OTHER) as other:
        pass
    with app_settings_with(DURABLE_TASK_SCHEDULER_CONNECTION_STRING=APP):
        assert app_settings() != other
        assert _address(shared_sync_client(other)) == "127.0.0.1:10"


def test_the_async_client_defaults_to_the_app_settings_once_per_loop() -> None:
    async def addresses() -> tuple[str, bool]:
        client = shared_client()
        try:
            return _address(client), shared_client(app_settings()) is client
        finally:
            await client.close()

    with app_settings_with(DURABLE_TASK_SCHEDULER_CONNECTION_STRING=APP):
        assert asyncio.run(addresses()) == ("127.0.0.1:9", True)
