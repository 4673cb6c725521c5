"""The app served by the pinned ``azure_functions_runtime`` on Python 3.13, through the Functions host protocol.

Every request below is an ``InvocationRequest`` the runtime converts to a ``func.HttpRequest`` and whose
``func.HttpResponse`` it converts back, on the runtime's own event loop and thread pool; the orchestrations
and entities run on the hosted DTS worker that the app started when the runtime imported it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from tests.helpers.polling import wait_until
from tests.observability.test_otlp import OtlpReceiver
from tests.runtime.functions_host import FunctionsHost, HttpAnswer
from tests.runtime.language_worker import DEPENDENCIES_CATEGORY
from tests.runtime.python313 import ROOT

LIST_FUNCTIONS = (
    "import json, function_app;"
    "print(json.dumps(sorted(f.get_function_name() for f in function_app.app.get_functions())))"
)


def app_function_names(python: Path) -> list[str]:
    """The app's own list of functions, imported by the same interpreter with its DTS worker off."""
    env = {**os.environ, "DTS_WORKER_ENABLED": "false"}
    run = subprocess.run(
        [str(python), "-c", LIST_FUNCTIONS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def poll(host: FunctionsHost, path: str, done: Any, timeout: float = 60) -> HttpAnswer:
    """GET ``path`` until ``done(answer)``; the last answer is returned for the assertion's message."""
    deadline = time.monotonic() + timeout
    while True:
        answer = host.http("GET", path)
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def finished_output(host: FunctionsHost, started: HttpAnswer) -> Any:
    assert started.status == 202, started.body
    instance_id = started.json()["id"]
    status = poll(host, f"/api/instances/{instance_id}", lambda answer: answer.status == 200)
    assert status.status == 200, status.body
    assert status.json()["runtimeStatus"] == "Completed", status.body
    return status.json()["output"]


def test_every_function_of_the_app_is_indexed_by_the_runtime(runtime_host: FunctionsHost, python313: Path) -> None:
    indexed = sorted(function.name for function in runtime_host.functions)
    assert indexed == app_function_names(python313)
    assert all(function.properties["worker_indexed"] == "True" for function in runtime_host.functions)


def test_the_hosted_dts_worker_is_connected(runtime_host: FunctionsHost) -> None:
    health = poll(runtime_host, "/api/health", lambda answer: answer.status == 200)
    assert health.status == 200, health.body
    assert health.json()["worker"]["connected"] is True


def test_a_fan_out_reaches_its_sum(runtime_host: FunctionsHost) -> None:
    started = runtime_host.http("POST", "/api/orchestrators/fan_out_fan_in_orchestrator", {"count": 10})
    assert started.headers["Location"].endswith(f"/api/instances/{started.json()['id']}")
    assert finished_output(runtime_host, started) == {"total_items": 10, "sum": 385, "average": 38.5}


def test_counter_workflow_reaches_its_final_value(runtime_host: FunctionsHost) -> None:
    key = f"runtime-{uuid.uuid4().hex[:8]}"
    started = runtime_host.http("POST", "/api/orchestrators/counter_workflow", {"entity_key": key})
    assert finished_output(runtime_host, started) == f"Counter '{key}' final value: 12"


def test_two_counter_signals_are_read_back(runtime_host: FunctionsHost) -> None:
    key = f"signals-{uuid.uuid4().hex[:8]}"
    for amount in (5, 7):
        signal = runtime_host.http("POST", f"/api/counters/{key}/add", amount)
        assert signal.status == 202, signal.body
        assert signal.json() == {"key": key, "operation": "add", "amount": amount}
    counter = poll(
        runtime_host, f"/api/counters/{key}", lambda answer: answer.status == 200 and answer.json()["value"] == 12
    )
    assert counter.status == 200 and counter.json()["value"] == 12, counter.body


def test_an_unknown_route_is_404_without_an_invocation(runtime_host: FunctionsHost) -> None:
    assert runtime_host.http("GET", "/api/no-such-route").status == 404
    assert runtime_host.http("DELETE", "/api/health").status == 404


def test_a_bad_request_is_400_naming_its_field(runtime_host: FunctionsHost) -> None:
    refused = runtime_host.http("POST", "/api/orchestrators/fan_out_fan_in_orchestrator", {"count": -1})
    assert refused.status == 400, refused.body
    assert refused.json()["field"] == "count"


def test_the_app_uses_its_own_pinned_packages(runtime_host: FunctionsHost, python313: Path) -> None:
    """The runtime and library versions are requirements.txt's, and the OpenTelemetry context API through which
    the runtime attaches each invocation's trace context is the app's own module, from the app's environment."""
    reports = [log.message for log in runtime_host.logs if log.category == DEPENDENCIES_CATEGORY]
    assert len(reports) == 1, [log.message for log in runtime_host.logs]
    origins = json.loads(reports[0])
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"python_version": "3.13"}):
                pins[requirement.name] = str(requirement.specifier).removeprefix("==")
    assert origins["azure_functions_runtime"][0] == pins["azure-functions-runtime"]
    assert origins["azure_functions"][0] == pins["azure-functions"]
    environment = python313.parent.parent
    assert Path(origins["opentelemetry_context"]).is_relative_to(environment), origins
    assert origins["runtime_context_api_is_apps"] is True


def test_an_async_trigger_runs_in_the_hosts_trace_with_opentelemetry_enabled(
    runtime_host: FunctionsHost, otlp_receiver: OtlpReceiver
) -> None:
    """azure-functions-python-worker #1881: with PYTHON_ENABLE_OPENTELEMETRY=true, runtimes before 1.3.0 never set
    the trace-context propagator, and every async invocation failed with a 500 (``'NoneType' object has no
    attribute 'extract'``). The pinned runtime answers, and attaches the host's request span: the app's own span
    for the request is its child, in the host's trace."""
    trace_id, host_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    started = runtime_host.http(
        "POST",
        "/api/orchestrators/fan_out_fan_in_orchestrator",
        {"count": 3},
        trace_parent=f"00-{trace_id}-{host_span}-01",
    )
    assert started.status == 202, started.body
    wait_until(
        lambda: any(span.trace_id.hex() == trace_id for span in otlp_receiver.spans),
        60, 0.2, f"no span of trace {trace_id} was exported",
    )  # fmt: skip
    [request_span] = [
        span
        for span in otlp_receiver.spans
        if span.trace_id.hex() == trace_id and span.parent_span_id.hex() == host_span
    ]
    assert request_span.kind == request_span.SPAN_KIND_INTERNAL  # the host counts the request; the app does not
