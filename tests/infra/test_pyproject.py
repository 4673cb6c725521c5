"""`azd restore` runs `pip install .` on the project: it must install the app's modules, and nothing dev-only."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import INFRA

ROOT = INFRA.parent
APP = ["function_app.py", "durable_app", "entities", "orchestrations"]
DEV_ONLY = ["local_stack", "clients", "bench", "tests"]


def test_pip_install_dot_installs_the_app_and_its_runtime_pins(tmp_path: Path) -> None:
    """A real install of a copy of the project (the dev-only packages beside it, as in the repo) into a fresh venv."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ["pyproject.toml", "requirements.txt", *APP, *DEV_ONLY]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, project / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    assert "Multiple top-level packages" not in install.stderr
    listing = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, json; d = m.distribution('durable-functions-dts');"
            "print(json.dumps({'requires': d.requires, 'top': sorted({f.parts[0] for f in d.files})}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    installed = json.loads(listing.stdout)
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert installed["requires"] == pins
    top = {name.removesuffix(".py") for name in installed["top"] if not name.endswith(".dist-info")}
    assert top - {"__pycache__"} == {"function_app", "durable_app", "entities", "orchestrations"}
