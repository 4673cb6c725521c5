"""The API while no worker runs the work (a client-only Function App): what it answers must not wait for one.

A counter read before its first operation has run is 404, as in Azure; a terminate takes effect at once, so a
second one is refused. Signals and instances stay queued until a separate worker process connects.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import httpx
import pytest

from tests.e2e.conftest import SCHEDULER_MODES, running_stack
from tests.helpers.counters import counter_over_http, wait_for_value
from tests.helpers.polling import wait_until
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import ROOT, LocalStack

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", params=list(SCHEDULER_MODES))
def client_only_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running_stack(request.param, {**INSTANT_WORK, "DTS_WORKER_ENABLED": "false"}, tmp_path_factory)


def test_a_counter_has_no_value_until_a_worker_runs_its_first_operation(client_only_stack: LocalStack) -> None:
    with httpx.Client(base_url=client_only_stack.base_url, timeout=30) as api:
        assert api.post("/counters/early/add", json=100).status_code == 202
        assert api.post("/counters/early/subtract", json=25).status_code == 202
        early = api.get("/counters/early")
        assert early.status_code == 404, early.text
        assert early.json()["field"] == "key"
        assert api.get("/counters", params={"prefix": "early"}).json() == {"counters": []}
        with _worker_process(client_only_stack):
            wait_for_value(partial(counter_over_http, api, "early"), 75)


def test_terminate_is_immediate_and_a_second_one_is_refused(client_only_stack: LocalStack) -> None:
    with httpx.Client(base_url=client_only_stack.base_url, timeout=30) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json={"count": 3})
        assert started.status_code == 202, started.text
        terminate = started.json()["terminatePostUri"].replace("{text}", "enough")
        assert api.post(terminate).status_code == 202
        status = api.get(started.json()["statusQueryGetUri"])
        assert status.status_code == 200, status.text
        assert (status.json()["runtimeStatus"], status.json()["output"]) == ("Terminated", "enough")
        again = api.post(terminate)
        assert again.status_code == 409, again.text
        assert again.json()["field"] == "instance_id"


def test_a_batch_queued_with_no_worker_running_ends_at_exact_totals_once_one_runs(
    client_only_stack: LocalStack,
) -> None:
    """The whole batch waits in the scheduler; a worker then applies each key's signals in the order given."""
    keys = [f"queued-batch-{number}" for number in range(10)]
    per_key = [("add", 7), ("reset", None), ("add", 5), ("subtract", 2), ("add", 10)]
    signals = [{"key": key, "operation": operation, "amount": amount} for operation, amount in per_key for key in keys]
    with httpx.Client(base_url=client_only_stack.base_url, timeout=30) as api:
        sent = api.post("/batch/signals", json={"signals": signals})
        assert sent.status_code == 202, sent.text
        assert sent.json()["count"] == len(signals)
        assert api.get("/counters", params={"prefix": "queued-batch-"}).json() == {"counters": []}
        with _worker_process(client_only_stack):

            def values() -> dict[str, int]:
                listed = api.get("/counters", params={"prefix": "queued-batch-"}).json()["counters"]
                return {counter["key"]: counter["value"] for counter in listed}

            wait_until(lambda: values() == dict.fromkeys(keys, 13), 60, 0.1, lambda: f"the counters are {values()}")


@contextmanager
def _worker_process(stack: LocalStack) -> Iterator[None]:
    """A DTS worker in a process of its own, connected to ``stack``'s scheduler while the block runs."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.worker_process", str(stack.scheduler_port)],
        cwd=ROOT,
        env=stack.process_env(),
    )
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(15)
