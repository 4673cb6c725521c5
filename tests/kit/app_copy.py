"""A copy of the app to add modules to, as a user of this repo would, without touching the repo itself."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.e2e.test_declarations import APP_PARTS
from tests.helpers.stack import ROOT


def copy_app(destination: Path) -> Path:
    """Copy what the app needs to run (its packages, the local stack) into ``destination``; return it."""
    for part in APP_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, destination / part)
    return destination
