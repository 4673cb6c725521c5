"""The whole local stack as processes, with instant work items, shared by one reliability module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.stack import LocalStack

INSTANT_WORK = {"WORK_ITEM_DELAY_MIN_SECONDS": "0", "WORK_ITEM_DELAY_MAX_SECONDS": "0"}


def started_stack(log_dir: Path, env: dict[str, str]) -> Iterator[LocalStack]:
    """A healthy stack (scheduler + Functions host) with ``env`` on top of instant work; stopped afterwards."""
    with LocalStack(log_dir=log_dir, env={**INSTANT_WORK, **env}).running() as local:
        yield local


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("stack"), {})


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as http:
        yield http
