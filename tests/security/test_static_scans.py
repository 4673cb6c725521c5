"""No secret in the repository (detect-secrets) and no known-insecure pattern in the code (bandit)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.stack import ROOT

BIN = Path(sys.executable).parent
CODE = ["function_app.py", "durable_app", "entities", "orchestrations", "local_stack", "clients"]


def tracked_files() -> list[str]:
    git = shutil.which("git")
    assert git, "git is needed to list the tracked files"
    listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def detect_secrets(files: list[str], cwd: Path) -> dict[str, list[dict]]:
    scan = subprocess.run(
        [str(BIN / "detect-secrets"), "scan", *files], cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(scan.stdout)["results"]


def test_no_secret_in_any_tracked_file() -> None:
    files = tracked_files()
    assert "function_app.py" in files and "local.settings.json" in files
    assert detect_secrets(files, ROOT) == {}


def test_the_secret_scan_finds_a_planted_secret(tmp_path: Path) -> None:
    """The scan above would pass if the scanner saw nothing at all; here it must see a credential."""
    planted = tmp_path / "settings.py"
    key = base64.b64encode(os.urandom(64)).decode()  # made here, so no key is ever committed
    planted.write_text(f'STORAGE = "DefaultEndpointsProtocol=https;AccountName=x;AccountKey={key}"\n')
    assert detect_secrets([planted.name], tmp_path)


def test_bandit_finds_nothing_in_the_code() -> None:
    scan = subprocess.run(
        [str(BIN / "bandit"), "-c", "pyproject.toml", "-r", "-q", "-f", "json", *CODE],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    report = json.loads(scan.stdout)
    assert report["results"] == [], json.dumps(report["results"], indent=1)
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really read the code
    assert scan.returncode == 0
