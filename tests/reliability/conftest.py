"""The whole local stack as processes, with instant work items, shared by one reliability module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack


def started_stack(log_dir: Path, env: dict[str, str]) -> Iterator[LocalStack]:
    """A healthy stack (scheduler + Functions host) with ``env`` on top of instant work; stopped afterwards."""
    with LocalStack(log_dir=log_dir, env={**INSTANT_WORK, **env}).running() as local:
        yield local


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("stack"), {})
