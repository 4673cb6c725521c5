"""A function key given as ``?code=`` (or ``x-functions-key``) reaches no log line, span or error body.

The stack runs with a function key and exports its spans and logs over OTLP to a loopback receiver; a run
that meets every answer carrying a URL in the logs (accepted, refused by the scheduler, bad input, unknown
instance, wrong key) is then searched, the host's access log and the scheduler's log included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.stack import LocalStack, wait_for_output
from tests.observability.test_otlp import OtlpReceiver
from tests.reliability.conftest import INSTANT_WORK

pytestmark = pytest.mark.timeout(300)

KEY = f"canary-key-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    otlp = OtlpReceiver()
    yield otlp
    otlp.stop()


@pytest.fixture(scope="module")
def keyed_stack(tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver) -> Iterator[LocalStack]:
    env = {
        **INSTANT_WORK,
        "LOCAL_FUNCTION_KEY": KEY,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
    }
    with LocalStack(log_dir=Path(tmp_path_factory.mktemp("keyed")), env=env).running() as local:
        yield local


def _exported_text(receiver: OtlpReceiver) -> str:
    """Every exported span (name, attributes, events, status) and log record (body, attributes), as text."""
    return "\n".join(str(item) for item in [*receiver.spans, *receiver.logs])


def _error_bodies(answers: list[httpx.Response]) -> list[Any]:
    return [answer.text for answer in answers if answer.status_code >= 400]


def test_a_keyed_run_leaves_the_key_in_no_log_span_or_error_body(
    keyed_stack: LocalStack, receiver: OtlpReceiver
) -> None:
    keyed = {"code": KEY}
    with httpx.Client(base_url=keyed_stack.base_url, timeout=30) as api:
        started = api.post("/orchestrators/approval_workflow/keyed-1", params=keyed, json={"timeout_seconds": 600})
        assert started.status_code == 202, started.text
        answers = [
            api.post("/orchestrators/approval_workflow/keyed-1", params=keyed, json={}),  # 409: still running
            api.post("/orchestrators/fan_out_fan_in_orchestrator", params=keyed, json=[1, "two"]),  # 400
            api.get("/instances/no-such-instance", params={**keyed, "showHistory": "true"}),  # 404
            api.get("/instances", params={**keyed, "createdTimeFrom": "yesterday"}),  # 400
            api.get("/instances/keyed-1", params={"code": KEY + "-wrong"}),  # 401
            api.post("/instances/keyed-1/terminate", headers={"x-functions-key": KEY}),
        ]
        assert [answer.status_code for answer in answers] == [409, 400, 404, 400, 401, 202]
        fan_out = api.post("/orchestrators/fan_out_fan_in_orchestrator", params=keyed, json=[1, 2])
        assert wait_for_output(api, fan_out.json()["statusQueryGetUri"])["output"]["sum"] == 5
    keyed_stack.stop()  # flush and close every log; a clean stop exports what is still batched

    host_log = keyed_stack.log("host")
    assert "Scheduler call for POST" in host_log and "code=***" in host_log  # the URLs were logged, redacted
    assert any(span.name == "start_approval_workflow" for span in receiver.spans)  # the spans were exported
    places = {
        "host log": host_log,
        "scheduler log": keyed_stack.log("scheduler"),
        "spans and exported logs": _exported_text(receiver),
        "error bodies": "\n".join(_error_bodies(answers)),
    }
    for place, text in places.items():
        assert KEY not in text, place
