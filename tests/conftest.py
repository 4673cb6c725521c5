"""Shared fixtures (a real local scheduler on a free loopback port, the app imported against it) and test tiers."""

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

pytest_plugins = ["durable_app.testing", "tests.helpers.http"]
"""The workflow test kit's fixture (``workflow_env``) for every test, as a project using the kit declares it, and
the ``api`` client fixture."""

TIERS = ("unit", "integration", "stack", "heavy")
"""The markers pyproject.toml registers; ``make test-fast`` runs ``-m "unit or integration"``."""

FOLDER_TIERS = {
    "unit": "unit",
    "integration": "integration",
    "security": "stack",
    "observability": "stack",
    "e2e": "stack",
    "dashboard": "stack",
    "reliability": "heavy",
    "infra": "heavy",
    "bench": "heavy",
    "kit": "integration",
    "runtime": "heavy",
}
"""The tier of every test in a folder under ``tests/``, unless ``MODULE_TIERS`` names its module."""

MODULE_TIERS = {
    "integration/test_instance_management.py": "stack",
    "integration/test_persistent_scheduler.py": "stack",
    "integration/test_worker_processes.py": "stack",
    "security/test_static_scans.py": "integration",
    "observability/test_settings_and_sampling.py": "unit",
    "dashboard/test_timeline.py": "unit",
    "reliability/test_openapi_sync.py": "integration",
    "bench/test_rounds.py": "unit",
}
"""Modules whose kind differs from their folder's: they start the stack's processes, or need none."""

HEAVY_FIXTURES = {"browser"}
"""A test using one of these (headless Chromium) is heavy wherever it lives."""


def tier(item: pytest.Item) -> str:
    module = item.path.relative_to(ROOT / "tests").as_posix()
    if HEAVY_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return "heavy"
    if module in MODULE_TIERS:
        return MODULE_TIERS[module]
    folder = module.split("/")[0]
    if folder not in FOLDER_TIERS:
        raise pytest.UsageError(f"tests/{folder} has no tier: add it to FOLDER_TIERS in tests/conftest.py")
    return FOLDER_TIERS[folder]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, unless its module already chose one."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in TIERS):
            item.add_marker(tier(item))


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
    from durable_app.worker.hosting import _hosted

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
