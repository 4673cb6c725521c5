"""A 5,000-item fan-out on the dashboard: its page stays small (history paged, long values folded)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local_stack.dashboard.pages import TIMELINE_BARS
from tests.dashboard.conftest import ARTIFACTS
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack, wait_for_output

ITEMS = 5000
MAX_PAGE_BYTES = 200_000
"""The instance page's ceiling; the whole history of this fan-out rendered at once was 3.8 MB."""


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, str]]:
    local = LocalStack(log_dir=Path(tmp_path_factory.mktemp("large-stack")), env=dict(INSTANT_WORK))
    with local.running(dashboard=True):
        with httpx.Client(base_url=local.base_url, timeout=30) as api:
            started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json={"count": ITEMS}).json()
            assert wait_for_output(api, started["statusQueryGetUri"], timeout=300)["output"]["total_items"] == ITEMS
        yield local, started["id"]


def test_the_page_of_a_5000_item_fan_out_stays_small(large: tuple[LocalStack, str]) -> None:
    stack, instance_id = large
    for history_page in (1, 26, 51):
        page = httpx.get(f"{stack.dashboard_url}/instances/{instance_id}", params={"history_page": history_page})
        assert page.status_code == 200
        assert len(page.content) < MAX_PAGE_BYTES, (history_page, len(page.content))
    whole_input = httpx.get(f"{stack.dashboard_url}/instances/{instance_id}/payload/input", timeout=30)
    assert whole_input.json() == list(range(1, ITEMS + 1))


def test_the_history_pages_and_long_values_fold_in_the_browser(browser, large: tuple[LocalStack, str]) -> None:  # type: ignore[no-untyped-def]
    stack, instance_id = large
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/instances/{instance_id}")
    assert page.locator("tr.step").count() == 100
    assert page.locator("nav.history").inner_text().startswith(f"steps 1-100 of {ITEMS + 2}")
    assert page.locator("tr.step.orchestration").count() == 1
    lanes = page.locator(".timeline-panel.dense .lane")
    assert 0 < lanes.count() <= TIMELINE_BARS
    assert f"{ITEMS + 1:,} steps in {lanes.count()} bars" in page.locator(".timeline-panel .axis").inner_text()
    assert "process_work_item" in lanes.first.get_attribute("title")
    facts_input = page.locator("table.facts tr", has_text="Input")
    assert "characters in all" in facts_input.locator(".fold-note").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-large-instance.png"))

    page.click("a.history-next")
    page.wait_for_url("**?history_page=2")
    assert page.locator("nav.history").inner_text().startswith(f"steps 101-200 of {ITEMS + 2}")
    assert page.locator("tr.step.activity").count() == 100

    page.goto(f"{stack.dashboard_url}/instances/{instance_id}?history_page=51")
    last = page.locator("tr.step")
    assert last.count() == 2  # the last two of 5,002 steps: item 5000 and the aggregate
    assert last.locator("td.name").all_inner_texts()[-1] == "aggregate_results"

    page.goto(f"{stack.dashboard_url}/instances/{instance_id}")
    with page.expect_navigation():
        facts_input.locator("a", has_text="whole value").click()
    assert json.loads(page.locator("body").inner_text()) == list(range(1, ITEMS + 1))
    page.close()
