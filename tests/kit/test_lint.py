"""The determinism check: every hazard named at its line with its replay-safe alternative, the app's own clean."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from durable_app.workflows.determinism import app_findings, lint_paths, warn_at_startup
from local_stack.ports import free_port
from tests.kit.app_copy import copy_app
from tests.kit.hazard_workflows import hazards
from tests.kit.hazard_workflows.hazards import EXPECTED, hazard_workflows

ROOT = Path(__file__).resolve().parents[2]
HAZARDS = Path(hazards.__file__)


def run_lint(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "durable_app.lint", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_apps_own_workflows_are_replay_safe() -> None:
    checked = run_lint()
    assert (checked.returncode, checked.stdout, checked.stderr.strip()) == (0, "", "no replay hazards found")


def test_each_hazard_is_named_at_its_line_with_the_replay_safe_alternative() -> None:
    findings = lint_paths([HAZARDS])
    assert [finding.name for finding in findings] == list(EXPECTED)
    assert {finding.orchestrator for finding in findings} == {"hazardous"}
    source = HAZARDS.read_text(encoding="utf-8").splitlines()
    for finding in findings:
        assert finding.alternative.startswith(EXPECTED[finding.name])
        assert source[finding.line - 1][finding.column :].startswith(finding.written)


def test_the_command_prints_file_line_and_exits_non_zero() -> None:
    checked = run_lint(str(HAZARDS.parent))
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert len(lines) == len(EXPECTED)
    assert lines[0].startswith(f"{HAZARDS.parent}/hazards.py:")
    assert any("nap (time.sleep) differs between replays; use yield ctx.create_timer(...)" in line for line in lines)
    assert lines[0].endswith(
        ": datetime.now (datetime.datetime.now) differs between replays; use ctx.current_utc_datetime (in hazardous)"
    )
    assert checked.stderr.strip() == f"{len(EXPECTED)} finding(s)"


def test_a_path_that_cannot_be_read_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def orchestrator(:\n", encoding="utf-8")
    assert run_lint(str(broken)).returncode == 2
    deep = tmp_path / "deep.py"
    deep.write_text(
        "def orchestrator(ctx: OrchestrationContext):\n    return " + "-" * 100_000 + "1\n", encoding="utf-8"
    )
    too_deep = run_lint(str(deep))
    assert (too_deep.returncode, too_deep.stderr.strip()) == (2, f"{deep}: nested too deeply for Python's parser")
    missing = run_lint(str(tmp_path / "missing"))
    assert (missing.returncode, missing.stderr.strip()) == (2, f"{tmp_path / 'missing'}: no such file or folder")


def test_startup_logs_each_finding_of_the_declared_orchestrators(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.kit.startup")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        warn_at_startup(logger, hazard_workflows)
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == len(EXPECTED)
    assert all(message.startswith(f"Replay hazard: {HAZARDS}:") for message in warnings)
    assert app_findings() == []


def test_startup_skips_sources_it_cannot_read_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    package = tmp_path / "shipped_without_sources"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "flow.py").write_text(
        "from durable_app.workflows.registry import Workflows\n\n"
        "declared = Workflows(packages=('shipped_without_sources',))\n\n\n"
        "@declared.orchestrator\n"
        "def flow(ctx, _):\n"
        "    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from shipped_without_sources.flow import declared  # type: ignore[import-not-found]

    declared.discover()
    (package / "flow.py").unlink()
    logger = logging.getLogger("tests.kit.startup")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        warn_at_startup(logger, declared)
    assert [record.getMessage() for record in caplog.records] == [
        f"Replay hazards not checked: {package / 'flow.py'}: cannot be read as Python: "
        f"[Errno 2] No such file or directory: '{package / 'flow.py'}'"
    ]


def test_the_app_warns_of_a_hazardous_orchestrator_when_its_worker_starts(tmp_path: Path) -> None:
    copy_app(tmp_path)
    (tmp_path / "orchestrations" / "clocked_workflow.py").write_text(
        "from datetime import datetime\n\n"
        "from durable_app.workflows.registry import workflows\n\n\n"
        "@workflows.orchestrator\n"
        "def clocked_workflow(ctx, _):\n"
        "    return datetime.now().isoformat()\n",
        encoding="utf-8",
    )
    environment = {
        **os.environ,
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": f"Endpoint=http://127.0.0.1:{free_port()};TaskHub=default",
        "DTS_WORKER_ENABLED": "true",
    }
    started = subprocess.run(
        [sys.executable, "-c", "import function_app"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 0, started.stderr[-3000:]
    expected = (
        f"Replay hazard: {tmp_path / 'orchestrations' / 'clocked_workflow.py'}:8:12: datetime.now "
        "(datetime.datetime.now) differs between replays; use ctx.current_utc_datetime (in clocked_workflow)"
    )
    assert expected in started.stderr.splitlines()
