"""The recipe of docs/changing-workflows.md, run for real: two versions of the app on one scheduler.

An instance started under 1.0.0 waits for an event. Version 2.0.0 changes the workflow (a new activity where
1.0.0 waited), keeping the old path behind ``ctx.version``. While only 1.0.0's worker runs, an instance started
by 2.0.0 waits, neither failed nor lost; once 2.0.0's worker runs, it takes the new path, and the 1.0.0
instance finishes on the old path under the new code.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.polling import wait_until
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack, wait_for_output
from tests.kit.app_copy import copy_app

pytestmark = pytest.mark.timeout(300)

VERSION_1 = '''
from durabletask import task

from durable_app.workflows import workflows


@workflows.orchestrator
def release_workflow(ctx: task.OrchestrationContext, _: object) -> dict:
    """Wait for the go-ahead."""
    go = yield ctx.wait_for_external_event("go")
    return {"path": "old", "version": ctx.version, "go": go}
'''

VERSION_2 = '''
from durabletask import task

from durable_app.workflows import workflows


@workflows.orchestrator
def release_workflow(ctx: task.OrchestrationContext, _: object) -> dict:
    """Instances of 1.0.0 wait for the go-ahead; from 2.0.0 on, an activity checks the release instead."""
    if ctx.version == "1.0.0":
        go = yield ctx.wait_for_external_event("go")
        return {"path": "old", "version": ctx.version, "go": go}
    checked = yield ctx.call_activity(check_release, input=ctx.version)
    return {"path": "new", "version": ctx.version, "checked": checked}


@workflows.activity
def check_release(ctx: task.ActivityContext, version: str) -> str:
    return f"checked {version}"
'''


def app_at(root: Path, module: str) -> Path:
    copy_app(root)
    (root / "orchestrations" / "release_workflow.py").write_text(module)
    return root


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        "1.0.0": app_at(tmp_path_factory.mktemp("app-1"), VERSION_1),
        "2.0.0": app_at(tmp_path_factory.mktemp("app-2"), VERSION_2),
    }


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[LocalStack]:
    """The scheduler alone; each host joins it as its own stack."""
    stack = LocalStack(log_dir=tmp_path)
    try:
        stack.start_scheduler()
        yield stack
    finally:
        stack.stop()


def host(scheduler: LocalStack, app: Path, version: str, log_dir: Path, *, worker: bool = True) -> LocalStack:
    """A Function App of ``version`` (its code in ``app``) on the shared scheduler, started and listening."""
    env = {**INSTANT_WORK, "WORKFLOW_VERSION": version, "DTS_WORKER_ENABLED": str(worker).lower()}
    log_dir.mkdir()
    stack = LocalStack(log_dir=log_dir, env=env, scheduler_port=scheduler.scheduler_port, root=app)
    stack.start_host()
    if worker:
        stack.wait_healthy()
    return stack


def start(api: httpx.Client, instance_id: str) -> None:
    response = api.post(f"/orchestrators/release_workflow/{instance_id}", json={})
    assert response.status_code == 202, response.text


def status(api: httpx.Client, instance_id: str) -> dict:
    return api.get(f"/instances/{instance_id}").json()


def test_old_instances_keep_the_old_path_and_new_ones_wait_for_a_new_worker(
    scheduler: LocalStack, apps: dict[str, Path], tmp_path: Path
) -> None:
    old_id, new_id, later_id = (f"release-{name}-{uuid.uuid4().hex[:6]}" for name in ("old", "new", "later"))
    first = host(scheduler, apps["1.0.0"], "1.0.0", tmp_path / "host-1")
    try:
        with httpx.Client(base_url=first.base_url, timeout=30) as api:
            start(api, old_id)
            waiting = wait_until(lambda: _running(status(api, old_id)), 60, 0.1, "the 1.0.0 instance never ran")
            assert waiting["version"] == "1.0.0"

        # 2.0.0's HTTP side is up before its worker: what it starts waits for a 2.0.0 worker
        front = host(scheduler, apps["2.0.0"], "2.0.0", tmp_path / "front-2", worker=False)
        try:
            with httpx.Client(base_url=front.base_url, timeout=30) as api:
                start(api, new_id)
                refusal = "is greater than the worker version"  # the SDK's warning as it rejects the instance
                offered_twice = lambda: first.log("host").count(refusal) >= 2  # noqa: E731
                wait_until(offered_twice, 60, 0.2, "the 1.0.0 worker was not offered the 2.0.0 instance twice")
                held = status(api, new_id)
                assert (held["runtimeStatus"], held["version"], held["failureDetails"]) == ("Pending", "2.0.0", None)
                listed = {item["instanceId"]: item["version"] for item in api.get("/instances").json()}
                assert listed[old_id] == "1.0.0" and listed[new_id] == "2.0.0"
        finally:
            front.stop()
    finally:
        first.stop()

    second = host(scheduler, apps["2.0.0"], "2.0.0", tmp_path / "host-2")
    try:
        with httpx.Client(base_url=second.base_url, timeout=30) as api:
            new = wait_for_output(api, f"/instances/{new_id}")
            assert new["output"] == {"path": "new", "version": "2.0.0", "checked": "checked 2.0.0"}
            assert api.post(f"/instances/{old_id}/raiseEvent/go", json="ship it").status_code == 202
            old = wait_for_output(api, f"/instances/{old_id}")
            assert (old["runtimeStatus"], old["version"]) == ("Completed", "1.0.0")
            assert old["output"] == {"path": "old", "version": "1.0.0", "go": "ship it"}
            batch = api.post("/batch/orchestrators/release_workflow", json={"inputs": [{}, {}]})
            assert batch.status_code == 202, batch.text
            for started in batch.json()["instances"]:
                done = wait_for_output(api, started["statusQueryGetUri"])
                assert (done["version"], done["output"]["path"]) == ("2.0.0", "new")
            finished = api.post(f"/orchestrators/release_workflow/{later_id}", params={"timeout": "60"}, json={})
            assert finished.status_code == 200, finished.text
            assert (finished.json()["version"], finished.json()["output"]["path"]) == ("2.0.0", "new")
    finally:
        second.stop()


def _running(body: dict) -> dict | None:
    return body if body.get("runtimeStatus") == "Running" else None
