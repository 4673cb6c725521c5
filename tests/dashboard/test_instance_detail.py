"""An instance in detail: what it waits for (API and page alike), its failures in full, linked children and entities,
and the list's search, durations and counts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.dashboard.conftest import ARTIFACTS, FAILING_ITEM, Shown
from tests.helpers.polling import wait_until
from tests.helpers.stack import LocalStack, wait_for_output


@pytest.fixture
def api(stack: LocalStack) -> httpx.Client:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


def waiting(api: httpx.Client, instance_id: str) -> dict[str, Any]:
    answer = api.get(f"/instances/{instance_id}/waiting")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_waiting_approval_shows_its_timer_the_event_it_awaits_and_the_events_received(
    browser,  # type: ignore[no-untyped-def]
    stack: LocalStack,
    api: httpx.Client,
) -> None:
    started_at = datetime.now(UTC)
    instance_id = api.post("/orchestrators/approval_workflow", json={"subject": "invoice 7", "timeout_seconds": 600})
    instance_id = instance_id.json()["id"]
    found = wait_until(lambda: waiting(api, instance_id)["timers"] and waiting(api, instance_id), 30)
    assert (found["runtimeStatus"], found["finished"], found["activities"]) == ("Running", False, [])
    (timer,) = found["timers"]
    fire_at = datetime.fromisoformat(timer["fireAt"])
    assert started_at + timedelta(seconds=599) < fire_at < datetime.now(UTC) + timedelta(seconds=600)
    assert 0 < timer["secondsLeft"] <= 600
    assert [event["name"] for event in found["eventsAwaited"]] == ["approval"]  # with the deadline beside it
    assert found["waitsForAnEvent"] is True

    assert api.post(f"/instances/{instance_id}/raiseEvent/approval", json={"maybe": 1}).status_code == 202
    received = wait_until(lambda: waiting(api, instance_id)["eventsReceived"], 30)
    assert [event["name"] for event in received] == ["approval"]

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/instances/{instance_id}")
    section = page.locator("section.waiting")
    assert section.locator("h2").inner_text() == "Waiting for"
    assert "timer firing at" in section.locator("li.timer").inner_text()
    assert "left" in section.locator("li.timer").inner_text()
    assert section.locator("li.event").inner_text().startswith("event approval since ")
    assert "Events received: approval" in section.locator(".events-received").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-waiting.png"), full_page=True)

    api.post(f"/instances/{instance_id}/raiseEvent/approval", json={"approved": True})
    assert wait_for_output(api, f"/instances/{instance_id}")["output"]["outcome"] == "approved"
    done = waiting(api, instance_id)
    assert (done["finished"], done["timers"], done["eventsAwaited"], done["waitsForAnEvent"]) == (True, [], [], False)
    page.reload()
    assert page.locator("section.waiting").count() == 0
    page.close()


def test_work_in_flight_is_listed_with_links_to_the_children(browser, stack: LocalStack, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    parent = api.post("/orchestrators/chunked_fan_out", json={"items": [1, 2, 3], "chunk_size": 2}).json()["id"]
    found = wait_until(lambda: len(waiting(api, parent)["subOrchestrations"]) == 2 and waiting(api, parent), 30)
    children = [child["instanceId"] for child in found["subOrchestrations"]]
    assert children == [f"{parent}-chunk-0", f"{parent}-chunk-1"]
    assert {child["name"] for child in found["subOrchestrations"]} == {"fan_out_fan_in_orchestrator"}
    in_child = wait_until(lambda: len(waiting(api, children[0])["activities"]) == 2 and waiting(api, children[0]), 30)
    assert [activity["name"] for activity in in_child["activities"]] == ["process_work_item"] * 2

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/instances/{parent}")
    links = page.locator("section.waiting li.sub-orchestration a.instance-link")
    assert links.all_inner_texts() == children
    links.first.click()
    page.wait_for_url(f"**/instances/{children[0]}")
    assert page.locator("section.waiting li.activity").count() == 2
    assert "process_work_item" in page.locator("section.waiting li.activity").first.inner_text()
    page.close()
    for instance_id in (parent, *children):
        api.post(f"/instances/{instance_id}/terminate")


def test_a_failure_is_shown_in_full_with_the_failing_work_by_name(  # type: ignore[no-untyped-def]
    browser, stack: LocalStack, api: httpx.Client
) -> None:
    parent = api.post("/orchestrators/chunked_fan_out", json={"items": [FAILING_ITEM], "chunk_size": 1}).json()["id"]
    status = wait_for_output(api, f"/instances/{parent}")
    assert status["runtimeStatus"] == "Failed"
    child = f"{parent}-chunk-0"

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/instances/{parent}")
    facts = page.locator("table.facts")
    assert facts.locator(".failure .error-type").first.inner_text() == status["failureDetails"]["errorType"]
    assert "chunk 0" in facts.locator(".failure .error-message").first.inner_text()
    failed_in = facts.locator(".failed-step")
    assert failed_in.locator(".name").inner_text() == "fan_out_fan_in_orchestrator"
    assert json.loads(failed_in.locator("pre").inner_text()) == [FAILING_ITEM]  # the input the child was given

    failed_in.locator("a.instance-link").click()
    page.wait_for_url(f"**/instances/{child}")
    step = page.locator("table.facts .failed-step")
    assert step.locator(".name").first.inner_text() == "process_work_item"
    assert json.loads(step.first.locator("pre").inner_text()) == FAILING_ITEM
    assert step.count() == 3  # each of the retry policy's three attempts
    fault = "durable_app.worker.drills.InjectedFault"
    assert page.locator("table.facts .failure .inner .error-type").first.inner_text() == fault  # what it wraps
    row = page.locator("tr.step.activity", has=page.locator(".failure")).first
    assert row.locator(".error-type").inner_text() == fault
    assert f"work item {FAILING_ITEM} failed" in row.locator(".error-message").inner_text()
    stack_trace = row.locator("details.stack")
    assert not stack_trace.locator("pre").is_visible()  # folded until clicked
    stack_trace.locator("summary").click()
    assert "worker/drills.py" in stack_trace.locator("pre").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-failure.png"), full_page=True)

    page.click("button:has-text('Rewind')")  # the item fails again, and the history says it was rewound
    page.wait_for_url(f"**/instances/{child}?done=rewind")
    page.wait_for_selector("tr.step.lifecycle td.name:has-text('Rewound')")
    page.close()


def test_the_waiting_route_refuses_what_is_not_an_instance(api: httpx.Client) -> None:
    missing = api.get("/instances/no-such-instance/waiting")
    assert (missing.status_code, missing.json()["field"]) == (404, "instance_id")
    bad = api.get("/instances/%20spaced%20/waiting")
    assert (bad.status_code, bad.json()["field"]) == (400, "instance_id")
    document = api.get("/openapi.json").json()
    operation = document["paths"]["/instances/{instance_id}/waiting"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("InstanceWaiting")


def test_the_list_searches_by_id_and_shows_durations_and_counts(  # type: ignore[no-untyped-def]
    browser, stack: LocalStack, shown: Shown
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/?instance_id={shown.fan_out_id[:10]}")
    rows = page.locator("tr[data-instance]")
    assert shown.fan_out_id in rows.evaluate_all("rows => rows.map(r => r.dataset.instance)")
    assert all(i.startswith(shown.fan_out_id[:10]) for i in rows.evaluate_all("r => r.map(x => x.dataset.instance)"))
    duration = page.locator(f'tr[data-instance="{shown.fan_out_id}"] td.duration').inner_text()
    assert duration.endswith(" s") and float(duration.removesuffix(" s")) > 0

    page.goto(f"{stack.dashboard_url}/?instance_id={shown.fan_out_id}")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.instance)") == [shown.fan_out_id]

    completed = page.locator('.counts a[data-status="Completed"] .count')
    completed.wait_for()  # fetched after the page loaded
    total = int(page.locator(".counts").get_attribute("data-total"))
    listed = httpx.get(f"{stack.base_url}/instances", params={"top": 1000}, timeout=30).json()
    assert total == len(listed)
    completed_later = sum(status["runtimeStatus"] == "Completed" for status in listed)
    assert 0 < int(completed.inner_text().replace(",", "")) <= completed_later  # work may finish in between
    page.close()


def test_an_entity_has_a_page_of_its_own(browser, stack: LocalStack, shown: Shown) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack.dashboard_url}/instances/{shown.workflow_id}")
    page.locator("tr.step.entity-call a.entity-link").first.click()
    page.wait_for_url(f"**/entities/counter/{shown.counter_key}")
    facts = page.locator(f'table.facts[data-entity="@counter@{shown.counter_key}"]')
    cells = dict(zip(facts.locator("th").all_inner_texts(), facts.locator("td").all_inner_texts(), strict=True))
    counter = httpx.get(f"{stack.base_url}/counters/{shown.counter_key}", timeout=30).json()
    assert int(cells["State"]) == counter["value"] >= 12  # 12 per counter_workflow run on this key
    assert cells["Locked by"] == "nobody"
    assert cells["Pending operations"] == "0"
    assert cells["Last modified"].startswith(str(datetime.now(UTC).year))
    missing = httpx.get(f"{stack.dashboard_url}/entities/counter/never-used-key", timeout=30)
    assert missing.status_code == 404
    page.close()


def test_locked_entities_link_to_their_pages(stack: LocalStack, api: httpx.Client) -> None:
    transfer = {"source": "lock-a", "destination": "lock-b", "amount": 1, "allow_negative": True}
    started = api.post("/orchestrators/transfer_workflow", json=transfer).json()
    assert wait_for_output(api, started["statusQueryGetUri"])["output"]["transferred"] is True
    page = httpx.get(f"{stack.dashboard_url}/instances/{started['id']}", timeout=30).text
    lock_row = re.search(r'<tr class="step entity-lock">(.*?)</tr>', page, re.S)
    assert lock_row, page
    assert re.findall(r'href="(/entities/[^"]+)"', lock_row[1]) == [
        "/entities/counter/lock-a",
        "/entities/counter/lock-b",
    ]
    entity = httpx.get(f"{stack.dashboard_url}/entities/counter/lock-b", timeout=30)
    assert (entity.status_code, "<pre>1</pre>" in entity.text) == (200, True)
