"""`make run` installs what running needs; the test and scan tools come with `make install`/`make test` only."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.stack import ROOT

TEST_TOOLS = {"pytest", "pytest-timeout", "ruff", "pycep-parser", "schemathesis", "hypothesis", "detect-secrets",
              "bandit", "playwright", "matplotlib", "psutil"}  # fmt: skip
RUNNING = {"uvicorn", "httptools", "starlette", "httpx"}


def pins(name: str) -> set[str]:
    """The packages a requirements file pins, following its ``-r`` includes."""
    found: set[str] = set()
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found |= pins(line.removeprefix("-r ").strip())
        elif line:
            found.add(re.split(r"[=<>~!\[; ]", line, maxsplit=1)[0].lower())
    return found


def dry_run(target: str, tmp_path: Path) -> str:
    """The commands ``make <target>`` would run on a fresh clone (no virtual environment yet)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "fresh-venv"
    completed = subprocess.run(
        [make, "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return completed.stdout


def test_the_first_make_run_installs_only_what_running_needs(tmp_path: Path) -> None:
    commands = dry_run("run", tmp_path)
    installs = re.findall(r"pip install --quiet -r (\S+)", commands)
    assert installs == ["requirements-local.txt"]
    assert "-m local_stack run" in commands


def test_make_install_adds_the_test_tools_to_the_same_environment(tmp_path: Path) -> None:
    installs = re.findall(r"pip install --quiet -r (\S+)", dry_run("install", tmp_path))
    assert installs == ["requirements-local.txt", "requirements-dev.txt"]


def test_running_pins_no_test_tool_and_the_test_pins_include_running() -> None:
    running = pins("requirements-local.txt")
    assert running >= RUNNING | pins("requirements.txt")
    assert not running & TEST_TOOLS
    assert pins("requirements-dev.txt") >= running
