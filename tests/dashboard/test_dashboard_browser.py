"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.dashboard.conftest import ARTIFACTS, Shown
from tests.helpers.stack import LocalStack, wait_for_output


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
        steps = (
            ("Suspend", "Suspended", "resume terminate raise-event"),
            ("Resume", "Running", "suspend terminate raise-event"),
            ("Terminate", "Terminated", "restart purge"),
        )
        for button, status, then_applies in steps:
            page.click(f"button:has-text('{button}')")
            page.wait_for_url(f"**/instances/{running}?done={button.lower()}")
            assert f"{button} sent" in page.locator(".notice").inner_text()
            # The page refreshes itself until the scheduler has applied the action, then reloads with new buttons.
            page.wait_for_selector(f'.actions[data-actions="{then_applies}"]')
            assert page.locator("table.facts .status").inner_text() == status
            assert api.get(f"/instances/{running}").json()["runtimeStatus"] == status
        lifecycle = page.locator("tr.step.lifecycle td.name").all_inner_texts()
        assert lifecycle[:2] == ["Suspended", "Resumed"]
        page.screenshot(path=str(ARTIFACTS / "dashboard-actions.png"), full_page=True)

        page.click("button:has-text('Restart')")
        page.wait_for_url("**/instances/**?done=restart")
        restarted = httpx.URL(page.url).path.rsplit("/", 1)[1]
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


def test_the_newest_work_comes_first(browser, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        started = [api.post("/orchestrators/counter_workflow", json={"entity_key": f"new-{n}"}).json()["id"]
                   for n in range(3)]  # fmt: skip
    page = browser.new_page()
    page.goto(f"{stack.dashboard_url}/?page_size=3")  # no filter: the first page must still hold the newest work
    assert page.locator("tr[data-instance]").evaluate_all("rows => rows.map(r => r.dataset.instance)") == [
        *reversed(started)
    ]
    assert page.locator(".order").get_attribute("data-order") == "newest-first"
    page.close()


def test_actions_sit_at_the_top_and_only_those_that_apply(browser, stack: LocalStack, shown: Shown) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/instances/{shown.fan_out_id}")
    assert page.locator(".actions button").all_inner_texts() == ["Restart", "Purge"]  # finished: no Terminate
    actions_top = page.locator(".actions").bounding_box()["y"]
    assert actions_top < page.locator("table.facts").bounding_box()["y"]
    assert actions_top < page.locator("table.timeline").bounding_box()["y"]
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        running = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[1]).json()["id"]
        page.goto(f"{stack.dashboard_url}/instances/{running}")
        assert page.locator(".actions button").all_inner_texts() == ["Suspend", "Terminate", "Raise event"]
        api.post(f"/instances/{running}/suspend")
        page.wait_for_selector(".actions button:has-text('Resume')")  # redrawn once the status moved on
        assert page.locator(".actions button").all_inner_texts() == ["Resume", "Terminate", "Raise event"]
        api.post(f"/instances/{running}/terminate")
    page.close()


def test_a_refused_action_says_why(browser, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        running = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[2]).json()["id"]
        page = browser.new_page()
        page.goto(f"{stack.dashboard_url}/instances/{running}")
        page.uncheck("#auto-refresh")  # the page keeps the buttons it was drawn with
        api.post(f"/instances/{running}/terminate")
        wait_for_output(api, f"/instances/{running}")
        page.click("button:has-text('Suspend')")
        banner = page.locator(".banner").inner_text()
        assert "Suspend does not apply: the orchestration is Terminated" in banner
        assert "Restart, Purge" in banner
        assert page.locator(f'a[href="/instances/{running}"]').inner_text() == "Back to the instance"
        assert api.get(f"/instances/{running}").json()["runtimeStatus"] == "Terminated"
    page.close()


def test_the_entity_filter_takes_a_plain_key_prefix(browser, stack: LocalStack, shown: Shown) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{stack.dashboard_url}/entities")
    page.fill("input[name=prefix]", shown.counter_key[:4])
    page.click("form.filters button")
    page.wait_for_url("**/entities?prefix=*")
    keys = page.locator("tr[data-entity] td:nth-child(2)").all_inner_texts()
    assert shown.counter_key in keys
    assert all(key.startswith(shown.counter_key[:4]) for key in keys)
    page.close()


def test_a_bad_parameter_is_a_page_for_browsers_and_json_for_clients(browser, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    response = page.goto(f"{stack.dashboard_url}/?page_size=lots")
    assert response.status == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "page_size must be a whole number from 1 to 500" in page.locator(".banner").inner_text()
    assert page.locator("a[href='/']").first.is_visible()
    page.close()
    for_client = httpx.get(f"{stack.dashboard_url}/?page_size=lots", headers={"accept": "application/json"})
    assert (for_client.status_code, for_client.json()["field"]) == (400, "page_size")


def test_one_row_spans_the_whole_orchestration(browser, stack: LocalStack, shown: Shown) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/instances/{shown.fan_out_id}")
    rows = page.locator("tr.step.orchestration")
    assert rows.count() == 1
    assert rows.locator("td.name").inner_text() == "fan_out_fan_in_orchestrator"
    assert rows.locator("td .status").inner_text() == "Completed"
    assert int(rows.locator("td.duration").inner_text().removesuffix(" ms")) > 0
    assert '"sum": 14' in rows.locator("td.output").inner_text()
    assert rows.locator(".span").evaluate("bar => bar.style.width") == "100%"
    assert page.locator("tr.step td.name", has_text="finished").count() == 0
    page.close()
