"""Shared fixtures: a real local scheduler on a free loopback port, and the app imported against it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from durabletask.azuremanaged.client import DurableTaskSchedulerClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from durable_app.settings import app_settings  # noqa: E402
from local_stack.ports import free_port  # noqa: E402
from local_stack.scheduler import LocalScheduler  # noqa: E402
from tests.helpers.settings import INSTANT_WORK, app_settings_with  # noqa: E402


@pytest.fixture(scope="session")
def scheduler() -> Iterator[LocalScheduler]:
    backend = LocalScheduler(port=free_port())
    backend.start()
    yield backend
    backend.stop(grace=0)


@pytest.fixture(scope="session")
def endpoint(scheduler: LocalScheduler) -> str:
    return f"http://127.0.0.1:{scheduler.port}"


@pytest.fixture(scope="session")
def app_module(endpoint: str) -> Iterator[ModuleType]:
    """``function_app`` imported as the Functions worker would, its hosted worker on the test scheduler."""
    os.environ["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"] = f"Endpoint={endpoint};TaskHub=default;Authentication=None"
    os.environ.update(INSTANT_WORK)
    app_settings.cache_clear()  # read at the import below, as in a new worker process, whatever ran before
    import function_app
    from durable_app.worker_host import _hosted

    yield function_app
    if _hosted is not None:
        _hosted.stop()


@pytest.fixture(scope="session")
def client(app_module: ModuleType, endpoint: str) -> Iterator[DurableTaskSchedulerClient]:
    """A direct client on the same scheduler, for arranging and checking state behind the API's back."""
    with DurableTaskSchedulerClient(
        host_address=endpoint.removeprefix("http://"), taskhub="default", token_credential=None, secure_channel=False
    ) as direct:
        yield direct


@pytest.fixture
def instant_work() -> Iterator[None]:
    """Work items in this process finish at once for the test's duration."""
    with app_settings_with(**INSTANT_WORK):
        yield
