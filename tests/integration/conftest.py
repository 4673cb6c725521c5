"""A scheduler in each store mode, started in this process, for tests that compare both with DTS's answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from durabletask.client import TaskHubGrpcClient

from local_stack.ports import free_port
from local_stack.scheduler import LocalScheduler, serve


@pytest.fixture(params=["memory", "sqlite"])
def store_scheduler(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalScheduler]:
    """A fresh scheduler with ``--store memory`` or ``--store sqlite`` (on a file in ``tmp_path``)."""
    data_file = tmp_path / "scheduler.sqlite3" if request.param == "sqlite" else None
    running = serve(free_port(), data_file=data_file)
    yield running
    running.stop(grace=0)


@pytest.fixture
def store_client(store_scheduler: LocalScheduler) -> Iterator[TaskHubGrpcClient]:
    direct = TaskHubGrpcClient(host_address=f"localhost:{store_scheduler.port}")
    yield direct
    direct.close()
