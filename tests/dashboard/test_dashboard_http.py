"""The dashboard's pages over plain HTTP: lists, paging, history, entities, actions and bad input."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from datetime import UTC, datetime

import httpx
import pytest

from durable_app.workflows import workflows
from local_stack.ports import free_port, wait_for_port
from tests.dashboard.conftest import Shown
from tests.helpers.dashboard import form_token
from tests.helpers.stack import ROOT, LocalStack, wait_for_output


@pytest.fixture
def dashboard(stack: LocalStack) -> httpx.Client:
    with httpx.Client(base_url=stack.dashboard_url, timeout=30) as http:
        yield http


@pytest.fixture
def token(dashboard: httpx.Client, shown: Shown) -> str:
    """The token this dashboard process puts in every action form."""
    return form_token(dashboard.get(f"/instances/{shown.fan_out_id}").text)


def cells(page: str, row_marker: str) -> list[str]:
    """The text of each cell in the table row whose opening tag contains ``row_marker``."""
    row = page[page.index(row_marker) :]
    return _texts(row[: row.index("</tr>")])


def steps(page: str, kind: str) -> list[dict[str, str]]:
    """The history rows of one kind, each as its cells' text by column class (name, started, output...)."""
    rows = re.findall(rf'<tr class="step {kind}">(.*?)</tr>', page, re.S)
    return [dict(re.findall(r'<td class="([a-z]+)">(.*?)</td>', row, re.S)) | {"text": " ".join(_texts(row))}
            for row in rows]  # fmt: skip


def moment(cell: str) -> datetime:
    """The moment a history cell's ``<time>`` element holds."""
    found = re.search(r'datetime="([^"]+)"', cell)
    assert found, cell
    return datetime.fromisoformat(found[1])


def _texts(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


def test_instances_are_listed_with_status_and_name(dashboard: httpx.Client, shown: Shown) -> None:
    page = dashboard.get("/").text
    assert cells(page, f'data-instance="{shown.fan_out_id}"')[1:3] == ["fan_out_fan_in_orchestrator", "Completed"]
    assert cells(page, f'data-instance="{shown.workflow_id}"')[1:3] == ["counter_workflow", "Completed"]
    only_workflows = dashboard.get("/", params={"name": "counter_", "status": "Completed"}).text
    assert shown.workflow_id in only_workflows
    assert shown.fan_out_id not in only_workflows
    assert shown.fan_out_id not in dashboard.get("/", params={"status": "Failed"}).text


def test_each_instance_shows_the_version_it_was_started_under(
    dashboard: httpx.Client, shown: Shown, api: httpx.Client
) -> None:
    page = dashboard.get("/").text
    assert "<th>Version</th>" in page
    row = page[page.index(f'data-instance="{shown.fan_out_id}"') :]
    assert '<td class="version">1.0.0</td>' in row[: row.index("</tr>")]
    assert api.get(f"/instances/{shown.fan_out_id}").json()["version"] == "1.0.0"
    detail = dashboard.get(f"/instances/{shown.fan_out_id}").text
    assert "Version" in detail and "1.0.0" in detail


def test_history_shows_each_activity_with_its_output_and_timing(
    dashboard: httpx.Client, shown: Shown, api: httpx.Client
) -> None:
    status = api.get(f"/instances/{shown.fan_out_id}").json()
    created, updated = (datetime.fromisoformat(status[field]) for field in ("createdTime", "lastUpdatedTime"))
    page = dashboard.get(f"/instances/{shown.fan_out_id}").text
    activities = steps(page, "activity")
    assert [row["name"] for row in activities] == ["process_work_item"] * 3 + ["aggregate_results"]
    assert all("Completed" in row["text"] for row in activities)
    for row in activities:  # scheduled and completed moments, and the time between them
        started, ended = (moment(row[column]) for column in ("started", "ended"))
        assert created <= started <= ended <= updated  # the scheduler stamps each event as it happens
        assert re.fullmatch(r"\d+ ms", row["duration"])
    outputs = [html.unescape(re.sub(r"<[^>]+>", "", row["output"])) for row in activities]
    assert [json.loads(output) for output in outputs[:3]] == [{"item": n, "result": n * n} for n in (1, 2, 3)]
    assert json.loads(outputs[3])["sum"] == 14
    assert 'class="span completed"' in page


def test_the_counter_workflow_shows_entity_signals_and_the_call(dashboard: httpx.Client, shown: Shown) -> None:
    page = dashboard.get(f"/instances/{shown.workflow_id}").text
    signals = steps(page, "entity-signal")
    assert [_texts(f"<td>{row['name']}</td>")[0] for row in signals] == [
        f"{op} -&gt; @counter@dash-counter" for op in ("add", "add", "subtract")
    ]
    assert all('href="/entities/counter/dash-counter"' in row["name"] for row in signals)
    (call,) = steps(page, "entity-call")
    assert "Completed" in call["text"]
    assert "12" in call["output"]
    assert "Counter &#x27;dash-counter&#x27; final value: 12" in page


def test_entities_show_the_counter_value(dashboard: httpx.Client, shown: Shown) -> None:
    page = dashboard.get("/entities", params={"prefix": "@counter@dash"}).text
    row = cells(page, f'data-entity="@counter@{shown.counter_key}"')
    assert row[:3] == ["counter", shown.counter_key, "12"]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[3])


INSTANCE_ROW = r'<tr data-instance="([^"]+)">(.*?)</tr>'
ENTITY_ROW = r'<tr data-entity="([^"]+)">(.*?)</tr>'


def walk(dashboard: httpx.Client, url: str, row: str) -> tuple[list[int], list[tuple[str, str]]]:
    """Follow the Next links from ``url``: each page's row count, and every row ``row`` matches (id, cells)."""
    sizes: list[int] = []
    found: list[tuple[str, str]] = []
    while url:
        page = dashboard.get(url).text
        rows = re.findall(row, page, re.S)
        sizes.append(len(rows))
        found += rows
        assert ('class="first"' in page) == (len(sizes) > 1)
        following = re.search(r'<a class="next" href="([^"]+)"', page)
        url = html.unescape(following.group(1)) if following else ""
    return sizes, found


def test_paging_walks_every_instance_and_entity_once(stack: LocalStack, dashboard: httpx.Client) -> None:
    since = datetime.now(UTC).replace(tzinfo=None)
    with stack.direct_client() as client:
        started = {client.schedule_new_orchestration("counter_workflow", input=f"page-{n}") for n in range(250)}
        query = f"/?page_size=100&name=counter_workflow&created_from={since.isoformat()}"
        sizes, rows = walk(dashboard, query, INSTANCE_ROW)
        assert sizes == [100, 100, 50]
        assert len(rows) == len({instance_id for instance_id, _ in rows}) == 250
        assert {instance_id for instance_id, _ in rows} == started

        for instance_id in started:  # each workflow leaves its own counter at 12
            client.wait_for_orchestration_completion(instance_id, timeout=120)
    sizes, rows = walk(dashboard, "/entities?prefix=@counter@page-&page_size=100", ENTITY_ROW)
    assert sizes == [100, 100, 50]
    assert {entity: _texts(cells)[2] for entity, cells in rows} == {f"@counter@page-{n}": "12" for n in range(250)}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/?page_size=0", "page_size"),
        ("/?page_size=lots", "page_size"),
        ("/?status=Sleeping", "status"),
        ("/?created_from=yesterday", "created_from"),
        ("/entities?page_size=501", "page_size"),
        ("/?page_size=" + "9" * 5000, "page_size"),
        ("/?token=" + "t" * 1001, "token"),
        ("/entities?token=" + "t" * 1001, "token"),
        ("/?created_to=2026-13-01T00:00", "created_to"),
        ("/instances/any?history_page=0", "history_page"),
        ("/instances/any?history_page=%D9%A3", "history_page"),
        ("/instances/any?done=explode", "done"),
        ("/instances/any/payload/secrets", "part"),
    ],
)
def test_bad_parameters_answer_400_naming_them(dashboard: httpx.Client, path: str, field: str) -> None:
    response = dashboard.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["field"] == field
    for_a_browser = dashboard.get(path, headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert for_a_browser.status_code == 400
    assert for_a_browser.headers["content-type"].startswith("text/html")
    assert f"<code>{field}</code> was refused" in for_a_browser.text


def test_an_action_that_no_longer_applies_is_refused_saying_why(
    dashboard: httpx.Client, shown: Shown, token: str
) -> None:
    for action in ("terminate", "suspend", "resume", "raise-event"):
        refused = dashboard.post(f"/instances/{shown.fan_out_id}/{action}", data={"event": "go", "token": token})
        assert refused.status_code == 409
        label = action.replace("-", " ").capitalize()
        assert f"{label} does not apply: the orchestration is Completed" in refused.text
        assert "What applies now: Restart, Purge." in refused.text
    missing = dashboard.post("/instances/no-such-instance/terminate", data={"token": token})
    assert (missing.status_code, "No orchestration instance" in missing.text) == (404, True)
    too_long = dashboard.post(
        f"/instances/{shown.fan_out_id}/terminate",
        data={"token": token, "reason": "r" * 1001},
        headers={"accept": "application/json"},
    )
    assert (too_long.status_code, too_long.json()["field"]) == (400, "reason")


def test_entities_filter_by_plain_key_prefix(dashboard: httpx.Client, shown: Shown) -> None:
    by_key = dashboard.get("/entities", params={"prefix": "dash-"}).text
    by_id = dashboard.get("/entities", params={"prefix": "@counter@dash-"}).text
    assert cells(by_key, f'data-entity="@counter@{shown.counter_key}"')[:3] == ["counter", shown.counter_key, "12"]
    assert re.findall(ENTITY_ROW, by_key, re.S) == re.findall(ENTITY_ROW, by_id, re.S)
    assert "data-entity" not in dashboard.get("/entities", params={"prefix": "no-such-key-"}).text


def test_actions_manage_the_instance(stack: LocalStack, dashboard: httpx.Client, shown: Shown, token: str) -> None:
    form = {"token": token}
    restarted = dashboard.post(f"/instances/{shown.workflow_id}/restart", data=form, follow_redirects=False)
    assert restarted.status_code == 303
    location = httpx.URL(restarted.headers["location"])
    new_id = location.path.rsplit("/", 1)[1]
    assert new_id != shown.workflow_id
    assert location.params["done"] == "restart"
    assert "Restart sent" in dashboard.get(str(location)).text  # the page says what was done
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        output = wait_for_output(api, f"/instances/{new_id}")["output"]
        assert output == "Counter 'dash-counter' final value: 24"  # the same workflow ran again on the same key
        purged = dashboard.post(f"/instances/{new_id}/purge", data=form, follow_redirects=False)
        assert (purged.status_code, purged.headers["location"]) == (303, f"/?purged={new_id}")
        assert f"Orchestration {new_id} purged." in dashboard.get(purged.headers["location"]).text
        assert api.get(f"/instances/{new_id}").status_code == 404
    assert dashboard.get(f"/instances/{new_id}").status_code == 404
    assert dashboard.post(f"/instances/{shown.fan_out_id}/explode", data=form).json()["field"] == "action"
    no_event = dashboard.post(f"/instances/{shown.fan_out_id}/raise-event", data={"event": "", **form})
    assert no_event.json()["field"] == "event"
    too_deep = {"event": "go", "data": "[" * 100_000 + "]" * 100_000, **form}  # past Python's JSON reader
    deep = dashboard.post(f"/instances/{shown.fan_out_id}/raise-event", data=too_deep)
    assert (deep.status_code, deep.json()["field"]) == (400, "data")
    gone = dashboard.post(f"/instances/{new_id}/restart", data=form)
    assert (gone.status_code, 'class="banner"' in gone.text) == (404, True)


def test_a_refused_action_answers_with_a_banner(stack: LocalStack, dashboard: httpx.Client, token: str) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        running = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[7]).json()["id"]
        refused = dashboard.post(f"/instances/{running}/restart", data={"token": token})  # only finished ones restart
        assert refused.status_code == 409
        assert 'class="banner"' in refused.text
        assert f'href="/instances/{running}"' in refused.text
        terminated = dashboard.post(f"/instances/{running}/terminate", data={"token": token}, follow_redirects=False)
        assert terminated.status_code == 303
        assert wait_for_output(api, f"/instances/{running}")["runtimeStatus"] == "Terminated"


def test_an_unreachable_scheduler_shows_a_banner() -> None:
    port, nothing = free_port(), free_port()
    command = [sys.executable, "-m", "local_stack", "dashboard", "--port", str(port), "--endpoint",
               f"http://127.0.0.1:{nothing}"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for_port("127.0.0.1", port, 60)
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=60)
        assert response.status_code == 503
        assert 'class="banner"' in response.text
        assert f"127.0.0.1:{nothing}" in response.text
        assert 'data-refresh="on"' in response.text  # polled, so the page recovers when the scheduler is back
        fragment = httpx.get(f"http://127.0.0.1:{port}/entities", headers={"x-fragment": "live"}, timeout=60)
        assert fragment.status_code == 503
        assert fragment.text.startswith('<div id="live">')
        assert "did not answer" in fragment.text
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_filters_suggest_the_declared_workflows(dashboard: httpx.Client) -> None:
    instances, entities = dashboard.get("/").text, dashboard.get("/entities").text
    for name in workflows.orchestrators:
        assert f'<option value="{name}">' in instances
    for name in workflows.entities:
        assert f'<option value="@{name}@">' in entities
    assert '<option value="approval_workflow">' in instances
