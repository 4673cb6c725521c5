"""A local stack with its dashboard, plus work for the dashboard to show."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers.stack import ROOT, LocalStack, wait_for_output

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"

SLOW_WORK = {"WORK_ITEM_DELAY_MIN_SECONDS": "8", "WORK_ITEM_DELAY_MAX_SECONDS": "8"}
"""Long enough to act on a running fan-out from the page; the fixture's own fan-out waits for it once."""

FAILING_ITEM = 13
"""The work item that always fails on this stack (``WORK_ITEM_FAIL_ITEMS``), for the failure pages."""


@dataclass(frozen=True)
class Shown:
    """Finished work started through the app's API: what the dashboard must show."""

    fan_out_id: str
    workflow_id: str
    counter_key: str


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    env = {**SLOW_WORK, "WORK_ITEM_FAIL_ITEMS": str(FAILING_ITEM)}
    local = LocalStack(log_dir=Path(tmp_path_factory.mktemp("dashboard-stack")), env=env)
    with local.running(dashboard=True):
        yield local


@pytest.fixture(scope="package")
def shown(stack: LocalStack) -> Shown:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        fan_out = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[1, 2, 3]).json()
        workflow = api.post("/orchestrators/counter_workflow", json={"entity_key": "dash-counter"}).json()
        for started in (fan_out, workflow):
            wait_for_output(api, started["statusQueryGetUri"])
    return Shown(fan_out["id"], workflow["id"], "dash-counter")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (Debian package chromium; `make browser-tools` installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing (`make browser-tools` installs requirements-browser.txt)"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Headless Debian Chromium; skipped with the reason printed where it cannot run (unless required)."""
    reason = _missing()
    if reason:
        if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        print(f"\nSkipping the dashboard browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()
