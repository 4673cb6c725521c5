"""The README's kit test of ``greeting_workflow`` passes as printed, in a copy of the app holding that module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.test_declarations import readme_example
from tests.helpers.stack import ROOT
from tests.kit.app_copy import copy_app


def readme_kit_test() -> str:
    """The test module the README's "Add your own workflow" section ends with."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("as `tests/kit/test_greeting_workflow.py`:", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_kit_test_passes_against_the_readme_workflow(tmp_path: Path) -> None:
    copy_app(tmp_path)
    (tmp_path / "orchestrations" / "greeting_workflow.py").write_text(readme_example(), encoding="utf-8")
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["durable_app.testing"]\n', encoding="utf-8")
    (tmp_path / "tests" / "kit").mkdir(parents=True)
    (tmp_path / "tests" / "kit" / "test_greeting_workflow.py").write_text(readme_kit_test(), encoding="utf-8")
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/kit/test_greeting_workflow.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "1 passed" in finished.stdout
    assert "warning" not in finished.stdout.lower()
