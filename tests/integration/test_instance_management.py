"""The management API over HTTP against the local stack, once per scheduler store (memory and SQLite).

The Functions host runs client-only; this process hosts the worker: the app's registry plus ``flaky``, an
orchestration whose one activity fails while ``FAILING`` is set, so a test can make an instance fail, fix the
cause, and rewind it. The dashboard runs too, for its rewind and restart buttons.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from durabletask import task
from durabletask.worker import TaskHubGrpcWorker

from durable_app.http.parameters import MAX_WAIT_SECONDS
from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.workflows.registry import register_all
from tests.helpers.dashboard import form_token
from tests.helpers.polling import wait_until
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack, wait_for_output

pytestmark = pytest.mark.timeout(300)

STORES = {"memory": ["--store", "memory"], "sqlite": ["--store", "sqlite", "--data-file", "{tmp}/scheduler.sqlite3"]}
FAILING = {"on": True}


def flaky_step(ctx: task.ActivityContext, value: int) -> int:
    if FAILING["on"]:
        raise RuntimeError("the step's dependency is down")
    return value * 2


def flaky(ctx: task.OrchestrationContext, value: int) -> Any:
    first = yield ctx.call_activity(flaky_step, input=value)
    return first + 1


def waits(ctx: task.OrchestrationContext, _: Any) -> Any:
    """Stays Running: it waits for an event nobody raises."""
    return (yield ctx.wait_for_external_event("never"))


@pytest.fixture(scope="module", params=list(STORES))
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log_dir = Path(tmp_path_factory.mktemp(f"management-{request.param}"))
    arguments = [argument.replace("{tmp}", str(log_dir)) for argument in STORES[request.param]]
    env = {"DTS_WORKER_ENABLED": "false", **INSTANT_WORK}
    local = LocalStack(log_dir=log_dir, env=env, scheduler_args=arguments)
    with local.running(dashboard=True):
        worker = TaskHubGrpcWorker(host_address=local.endpoint.removeprefix("http://"))
        register_all(worker)
        worker.add_orchestrator(flaky)
        worker.add_activity(flaky_step)
        worker.add_orchestrator(waits)
        worker.start()
        try:
            yield local
        finally:
            worker.stop()


def start(api: httpx.Client, instance_id: str, count: int = 2, **params: Any) -> httpx.Response:
    response = api.post(
        f"/orchestrators/fan_out_fan_in_orchestrator/{instance_id}", json={"count": count}, params=params
    )
    assert response.status_code in (200, 202), response.text
    return response


def start_waiting(stack: LocalStack, instance_id: str) -> None:
    with stack.direct_client() as client:
        client.schedule_new_orchestration(waits, instance_id=instance_id)
        client.wait_for_orchestration_start(instance_id, timeout=30)


def failed_instance(stack: LocalStack, api: httpx.Client) -> str:
    FAILING["on"] = True
    instance_id = f"flaky-{uuid.uuid4().hex[:8]}"
    with stack.direct_client() as client:
        client.schedule_new_orchestration(flaky, input=20, instance_id=instance_id)
    assert wait_for_output(api, f"/instances/{instance_id}")["runtimeStatus"] == "Failed"
    return instance_id


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [status["instanceId"] for status in response.json()]


def test_pages_never_repeat_or_skip_an_instance_while_new_ones_arrive(api: httpx.Client) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    for number in range(5):
        start(api, f"{prefix}{number}")
    first = api.get("/instances", params={"instanceIdPrefix": prefix, "top": 2})
    seen = ids(first)
    token = first.headers[CONTINUATION_HEADER]
    for number in range(5, 8):  # created between page reads
        start(api, f"{prefix}{number}")
    while token:
        page = api.get(
            "/instances", params={"instanceIdPrefix": prefix, "top": 2}, headers={CONTINUATION_HEADER: token}
        )
        seen += ids(page)
        token = page.headers.get(CONTINUATION_HEADER)
    older = [f"{prefix}{number}" for number in range(5)]
    assert sorted(seen) == sorted(set(seen))  # no repeats
    assert set(older) <= set(seen)  # nothing that existed when paging began is skipped
    assert seen[:2] == [f"{prefix}4", f"{prefix}3"]  # newest first on the local scheduler
    everything = api.get("/instances", params={"instanceIdPrefix": prefix})
    assert CONTINUATION_HEADER not in everything.headers  # one page holds them all: no token
    assert len(ids(everything)) == 8


def test_list_filters_by_status_and_creation_time_and_shows_input_on_request(
    stack: LocalStack, api: httpx.Client
) -> None:
    prefix = f"filter-{uuid.uuid4().hex[:6]}-"
    before = datetime.now(UTC) - timedelta(seconds=1)
    wait_for_output(api, start(api, f"{prefix}done", count=3).json()["statusQueryGetUri"])
    start_waiting(stack, f"{prefix}waiting")
    after = datetime.now(UTC) + timedelta(seconds=1)

    base = {"instanceIdPrefix": prefix}
    assert ids(api.get("/instances", params={**base, "runtimeStatus": "Completed"})) == [f"{prefix}done"]
    both = api.get("/instances", params={**base, "runtimeStatus": "Completed,Running"})
    assert sorted(ids(both)) == [f"{prefix}done", f"{prefix}waiting"]
    window = {**base, "createdTimeFrom": before.isoformat(), "createdTimeTo": after.isoformat()}
    assert len(ids(api.get("/instances", params=window))) == 2
    assert ids(api.get("/instances", params={**base, "createdTimeFrom": after.strftime("%Y-%m-%dT%H:%M:%SZ")})) == []

    hidden = api.get("/instances", params={**base, "runtimeStatus": "Completed"}).json()[0]
    assert hidden["input"] is None and hidden["output"]["sum"] == 14
    shown = api.get("/instances", params={**base, "runtimeStatus": "Completed", "showInput": "true"}).json()[0]
    assert shown["input"] == [1, 2, 3]


@pytest.mark.parametrize(
    ("params", "headers", "field"),
    [
        ({"runtimeStatus": "Running,Bogus"}, {}, "runtimeStatus"),
        ({"runtimeStatus": "running"}, {}, "runtimeStatus"),
        ({"createdTimeFrom": "yesterday"}, {}, "createdTimeFrom"),
        ({"createdTimeTo": "2026-13-01T00:00:00Z"}, {}, "createdTimeTo"),
        ({"top": "0"}, {}, "top"),
        ({"top": "-3"}, {}, "top"),
        ({"showInput": "maybe"}, {}, "showInput"),
        ({}, {CONTINUATION_HEADER: "not-a-token"}, CONTINUATION_HEADER),
        ({}, {CONTINUATION_HEADER: "17"}, CONTINUATION_HEADER),
    ],
)
def test_bad_list_input_is_a_400_naming_the_parameter(
    api: httpx.Client, params: dict[str, str], headers: dict[str, str], field: str
) -> None:
    response = api.get("/instances", params=params, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_purge_by_filter_deletes_only_finished_matches_and_needs_a_filter(stack: LocalStack, api: httpx.Client) -> None:
    prefix = f"purge-{uuid.uuid4().hex[:6]}-"
    wait_for_output(api, start(api, f"{prefix}earlier").json()["statusQueryGetUri"])  # outside createdTimeFrom
    since = datetime.now(UTC).isoformat()
    for number in range(3):
        wait_for_output(api, start(api, f"{prefix}{number}").json()["statusQueryGetUri"])
    start_waiting(stack, f"{prefix}running")
    start_waiting(stack, f"{prefix}terminated")  # finished, but outside runtimeStatus
    assert api.post(f"/instances/{prefix}terminated/terminate").status_code == 202
    survivors = [f"{prefix}earlier", f"{prefix}running", f"{prefix}terminated"]

    for params, field in [({}, "createdTimeFrom"), ({"runtimeStatus": "Completed", "top": "5"}, "top")]:
        refused = api.delete("/instances", params=params)
        assert (refused.status_code, refused.json()["field"]) == (400, field)
    refused = api.delete("/instances", params={"createdTimeFrom": since, "instanceIdPrefix": prefix})
    assert refused.json()["field"] == "instanceIdPrefix"
    assert len(ids(api.get("/instances", params={"instanceIdPrefix": prefix}))) == 6  # nothing changed

    purged = api.delete("/instances", params={"createdTimeFrom": since, "runtimeStatus": "Completed"})
    assert purged.status_code == 200, purged.text
    assert purged.json()["instancesDeleted"] == 3
    assert sorted(ids(api.get("/instances", params={"instanceIdPrefix": prefix}))) == survivors
    again = api.delete("/instances", params={"createdTimeFrom": since, "runtimeStatus": "Completed"})
    assert again.status_code == 404
    assert api.delete(f"/instances/{prefix}running").status_code == 409  # the scheduler refuses it: still running


def test_rewind_runs_a_failed_instance_again_and_refuses_any_other_status(stack: LocalStack, api: httpx.Client) -> None:
    instance_id = failed_instance(stack, api)
    assert (
        api.get(f"/instances/{instance_id}", params={"returnInternalServerErrorOnFailure": "true"}).status_code == 500
    )
    FAILING["on"] = False
    rewound = api.post(f"/instances/{instance_id}/rewind", params={"reason": "dependency is back"})
    assert rewound.status_code == 202, rewound.text
    assert rewound.json() == {"id": instance_id, "action": "rewind"}
    done = wait_for_output(api, f"/instances/{instance_id}")
    assert (done["runtimeStatus"], done["output"]) == ("Completed", 41)

    again = api.post(f"/instances/{instance_id}/rewind")
    assert again.status_code == 409
    assert "Completed" in again.json()["error"] and again.json()["field"] == "instance_id"
    assert api.post("/instances/no-such-instance/rewind").status_code == 404


def test_restart_runs_again_under_a_new_or_the_same_id(stack: LocalStack, api: httpx.Client) -> None:
    original = f"restart-{uuid.uuid4().hex[:6]}"
    wait_for_output(api, start(api, original, count=4).json()["statusQueryGetUri"])

    restarted = api.post(f"/instances/{original}/restart")
    assert restarted.status_code == 202, restarted.text
    new_id = restarted.json()["id"]
    assert new_id != original and restarted.headers["Location"] == restarted.json()["statusQueryGetUri"]
    assert wait_for_output(api, restarted.json()["statusQueryGetUri"])["input"] == [1, 2, 3, 4]

    same = api.post(f"/instances/{original}/restart", params={"restartWithNewInstanceId": "false", "timeout": "30"})
    assert same.status_code == 200, same.text
    assert (same.json()["instanceId"], same.json()["runtimeStatus"]) == (original, "Completed")

    running = f"restart-running-{uuid.uuid4().hex[:6]}"
    start_waiting(stack, running)
    refused = api.post(f"/instances/{running}/restart")
    assert refused.status_code == 409 and refused.json()["field"] == "instance_id"
    assert api.post("/instances/no-such-instance/restart").status_code == 404
    assert api.post(f"/instances/{original}/restart", params={"timeout": "soon"}).json()["field"] == "timeout"


def test_start_waits_within_timeout_and_a_bad_timeout_starts_nothing(api: httpx.Client) -> None:
    waited = start(api, f"wait-{uuid.uuid4().hex[:6]}", count=3, timeout=30)
    assert waited.status_code == 200
    assert (waited.json()["runtimeStatus"], waited.json()["output"]["sum"]) == ("Completed", 14)
    assert start(api, f"wait-{uuid.uuid4().hex[:6]}", timeout=0).status_code == 202
    huge = start(api, f"wait-{uuid.uuid4().hex[:6]}", timeout=10 * MAX_WAIT_SECONDS)  # held to the cap
    assert huge.status_code == 200

    for bad in ("-1", "ten", "nan", "inf"):
        instance_id = f"never-{uuid.uuid4().hex[:6]}"
        refused = api.post(f"/orchestrators/fan_out_fan_in_orchestrator/{instance_id}", params={"timeout": bad})
        assert (refused.status_code, refused.json()["field"]) == (400, "timeout"), bad
        assert api.get(f"/instances/{instance_id}").status_code == 404


def test_status_shows_history_outputs_and_input_as_durable_functions_defines_them(api: httpx.Client) -> None:
    instance_id = f"show-{uuid.uuid4().hex[:6]}"
    wait_for_output(api, start(api, instance_id, count=2).json()["statusQueryGetUri"])
    url = f"/instances/{instance_id}"

    plain = api.get(url).json()
    assert plain["input"] == [1, 2] and "historyEvents" not in plain
    assert api.get(url, params={"showInput": "false"}).json()["input"] is None
    bare = api.get(url, params={"showHistory": "true"}).json()["historyEvents"]
    assert [e["EventType"] for e in bare].count("TaskCompleted") == 3
    assert not any("Result" in event for event in bare)
    full = api.get(url, params={"showHistory": "true", "showHistoryOutput": "true"}).json()["historyEvents"]
    assert all("Result" in event for event in full if event["EventType"] == "TaskCompleted")
    assert api.get(url, params={"history": "true"}).json()["historyEvents"] == full  # the older spelling


def test_a_function_key_is_carried_by_every_management_url_only_when_sent(api: httpx.Client) -> None:
    keyless = start(api, f"key-{uuid.uuid4().hex[:6]}")
    assert "code=" not in keyless.text and "code=" not in keyless.headers["Location"]
    for sent in ({"headers": {"x-functions-key": "k/1+2"}}, {"params": {"code": "k/1+2"}}):
        instance_id = f"key-{uuid.uuid4().hex[:6]}"
        keyed = api.post(f"/orchestrators/fan_out_fan_in_orchestrator/{instance_id}", json=[1], **sent)
        urls = {name: url for name, url in keyed.json().items() if name != "id"}
        assert set(urls) >= {"rewindPostUri", "restartPostUri"}
        assert all(url.endswith("code=k%2F1%2B2") for url in urls.values()), urls
        assert keyed.headers["Location"] == urls["statusQueryGetUri"]
        assert urls["terminatePostUri"].endswith(f"/{instance_id}/terminate?reason={{text}}&code=k%2F1%2B2")
        assert api.get(urls["statusQueryGetUri"]).status_code in (200, 202)  # followed as given


def test_the_dashboard_offers_rewind_on_a_failed_instance_and_it_runs_again(
    stack: LocalStack, api: httpx.Client
) -> None:
    instance_id = failed_instance(stack, api)
    with httpx.Client(base_url=stack.dashboard_url, timeout=30) as dashboard:
        page = dashboard.get(f"/instances/{instance_id}").text
        assert 'data-actions="rewind restart purge"' in page
        assert f'action="/instances/{instance_id}/rewind"' in page
        FAILING["on"] = False
        form = {"reason": "fixed", "token": form_token(page)}
        rewound = dashboard.post(f"/instances/{instance_id}/rewind", data=form, follow_redirects=False)
        assert rewound.status_code == 303, rewound.text
        assert wait_for_output(api, f"/instances/{instance_id}")["runtimeStatus"] == "Completed"
        done_page = dashboard.get(f"/instances/{instance_id}").text
        assert 'data-actions="restart purge"' in done_page  # rewind applies to failed instances only
        refused = dashboard.post(f"/instances/{instance_id}/rewind", data={"token": form_token(page)})
        assert refused.status_code == 409


def test_purging_one_instance_is_one_call_answered_from_the_scheduler(stack: LocalStack, api: httpx.Client) -> None:
    instance_id = f"one-{uuid.uuid4().hex[:6]}"
    start_waiting(stack, instance_id)
    refused = api.delete(f"/instances/{instance_id}")
    assert (refused.status_code, refused.json()["field"]) == (409, "instance_id")
    assert "terminate it first" in refused.json()["error"]
    assert api.post(f"/instances/{instance_id}/terminate").status_code == 202
    wait_until(lambda: api.get(f"/instances/{instance_id}").status_code == 200)
    assert api.delete(f"/instances/{instance_id}").json() == {"id": instance_id, "instancesDeleted": 1}
    assert api.delete(f"/instances/{instance_id}").status_code == 404
