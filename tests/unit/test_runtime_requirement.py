"""Where CI requires the Python 3.13 tests, a missing 3.13 environment fails them instead of skipping them."""

from __future__ import annotations

import pytest

from tests.runtime.python313 import MISSING, REQUIRED, without_runtime


def test_a_missing_runtime_skips_where_not_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRED, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        without_runtime()
    assert str(skipped.value) == MISSING


def test_a_missing_runtime_fails_where_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRED, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        without_runtime()
    assert (
        str(failed.value)
        == f"the Python 3.13 tests are required here (REQUIRE_RUNTIME_TESTS=1) but cannot run: {MISSING}"
    )
