"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.dashboard.conftest import Shown
from tests.helpers.stack import ROOT, LocalStack, wait_for_output

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (Debian package chromium; `make browser-tools` installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing (`make browser-tools` installs requirements-browser.txt)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
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


def test_the_work_appears_with_its_history_and_entity(browser, stack: LocalStack, shown: Shown) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(stack.dashboard_url)
    fan_out_row = page.locator(f'tr[data-instance="{shown.fan_out_id}"]')
    assert fan_out_row.locator("td").nth(2).inner_text() == "Completed"
    assert page.locator(f'tr[data-instance="{shown.workflow_id}"] td').nth(1).inner_text() == "counter_workflow"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-instances.png"), full_page=True)

    page.click(f"text={shown.fan_out_id}")
    page.wait_for_url(f"**/instances/{shown.fan_out_id}")
    activities = page.locator("tr.step.activity")
    assert activities.locator("td.name").all_inner_texts() == ["process_work_item"] * 3 + ["aggregate_results"]
    assert '"result": 9' in activities.nth(2).locator("td.output").inner_text()
    assert '"sum": 14' in activities.nth(3).locator("td.output").inner_text()
    assert activities.locator(".span.completed").count() == 4
    page.screenshot(path=str(ARTIFACTS / "dashboard-instance.png"), full_page=True)

    page.click("text=Entities")
    counter = page.locator(f'tr[data-entity="@counter@{shown.counter_key}"] td.state')
    assert counter.inner_text() == "12"
    page.screenshot(path=str(ARTIFACTS / "dashboard-entities.png"), full_page=True)
    page.close()


def test_actions_from_the_page(browser, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        running = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[5, 6]).json()["id"]
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{stack.dashboard_url}/instances/{running}")
        assert page.locator("table.facts .status").inner_text() in {"Pending", "Running"}
        for button, status in (("Suspend", "Suspended"), ("Resume", "Running"), ("Terminate", "Terminated")):
            page.click(f"button:has-text('{button}')")
            page.wait_for_url(f"**/instances/{running}")
            shown = f"document.querySelector('table.facts .status').innerText === '{status}'"
            page.wait_for_function(shown)  # the page refreshes itself until the scheduler has applied it
            assert api.get(f"/instances/{running}").json()["runtimeStatus"] == status
        lifecycle = page.locator("tr.step.lifecycle td.name").all_inner_texts()
        assert lifecycle[:2] == ["Suspended", "Resumed"]
        page.screenshot(path=str(ARTIFACTS / "dashboard-actions.png"), full_page=True)

        page.click("button:has-text('Restart')")
        page.wait_for_url("**/instances/**")
        restarted = page.url.rsplit("/", 1)[1]
        assert restarted != running
        assert wait_for_output(api, f"/instances/{restarted}")["output"] == {
            "total_items": 2,
            "sum": 61,
            "average": 30.5,
        }
        page.close()


def test_the_list_refreshes_by_itself(browser, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    since = datetime.now(UTC).replace(tzinfo=None).isoformat()
    page = browser.new_page()
    page.goto(f"{stack.dashboard_url}/?created_from={since}")
    assert page.locator("tr[data-instance]").count() == 0
    page.evaluate("window.sameDocument = true")
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        started = api.post("/orchestrators/counter_workflow", json={"entity_key": "refreshed"}).json()["id"]
    page.wait_for_selector(f'tr[data-instance="{started}"]')  # brought in by the 2 s poll, not by a reload
    assert page.evaluate("window.sameDocument") is True
    page.close()
