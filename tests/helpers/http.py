"""The one HTTP client fixture of the stack tests: ``api``, on the module's ``stack`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.stack import LocalStack


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    """An httpx client on the ``stack`` fixture in scope (a module, a folder's conftest), closed after the test."""
    with httpx.Client(base_url=stack.base_url, timeout=60) as http:
        yield http
