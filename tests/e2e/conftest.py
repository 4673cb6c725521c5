"""The whole local stack as subprocesses, shared by the end-to-end tests of one module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack

SCHEDULER_MODES: dict[str, list[str]] = {
    "memory": ["--store", "memory"],
    "sqlite": ["--store", "sqlite", "--data-file", "{tmp}/scheduler.sqlite3"],
}
"""Every scheduler mode the end-to-end suite runs against, with the arguments that select it."""


def running_stack(mode: str, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A healthy stack whose scheduler runs in ``mode``, stopped when the fixture using it ends."""
    log_dir = tmp_path_factory.mktemp(f"stack-{mode}")
    arguments = [argument.replace("{tmp}", str(log_dir)) for argument in SCHEDULER_MODES[mode]]
    with LocalStack(log_dir=Path(log_dir), env=dict(env), scheduler_args=arguments).running() as local:
        yield local


@pytest.fixture(scope="module", params=list(SCHEDULER_MODES))
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running_stack(request.param, INSTANT_WORK, tmp_path_factory)
