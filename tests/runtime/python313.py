"""Where the tests find a Python 3.13 environment holding the app's requirements and its pinned runtime."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_VENV_PYTHON = ROOT / ".venv-3.13" / "bin" / "python"
MISSING = "no Python 3.13 environment: `make test` creates .venv-3.13 where a Python 3.13 exists"
REQUIRED = "REQUIRE_RUNTIME_TESTS"


def runtime_python() -> Path | None:
    """An interpreter of 3.13 or later with ``azure_functions_runtime`` installed: this one, or .venv-3.13's."""
    if sys.version_info >= (3, 13) and importlib.util.find_spec("azure_functions_runtime") is not None:
        return Path(sys.executable)
    return RUNTIME_VENV_PYTHON if RUNTIME_VENV_PYTHON.exists() else None


def without_runtime() -> NoReturn:
    """Skip a 3.13 test where no 3.13 environment exists, or fail it where ``REQUIRE_RUNTIME_TESTS=1`` (CI).

    These are the only tests of the Python every hosting plan runs by default: CI must not pass without them.
    """
    if os.environ.get(REQUIRED) == "1":
        pytest.fail(f"the Python 3.13 tests are required here ({REQUIRED}=1) but cannot run: {MISSING}")
    pytest.skip(MISSING)
