"""``OTEL_EXPORTER_OTLP_ENDPOINT`` sends the same trace over OTLP (http/protobuf) to a loopback receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack, wait_for_output

pytestmark = pytest.mark.timeout(300)


class OtlpReceiver:
    """Takes ``POST /v1/traces`` and ``/v1/logs`` as a collector does and keeps the decoded requests."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.logs: list[Any] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.take(self.path, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def take(self, path: str, body: bytes) -> None:
        with self._lock:
            if path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(body)
                self.spans += [s for r in request.resource_spans for scope in r.scope_spans for s in scope.spans]
            elif path == "/v1/logs":
                request = ExportLogsServiceRequest.FromString(body)
                self.logs += [rec for r in request.resource_logs for scope in r.scope_logs for rec in scope.log_records]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    otlp = OtlpReceiver()
    yield otlp
    otlp.stop()


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver
) -> Iterator[LocalStack]:
    """The stack under both scheduler stores: ``make run`` keeps the scheduler's state in SQLite."""
    log_dir = Path(tmp_path_factory.mktemp(f"otlp-{request.param}"))
    store = ["--store", "memory"] if request.param == "memory" else ["--store", "sqlite", "--data-file"]
    if request.param == "sqlite":
        store.append(str(log_dir / "scheduler.sqlite3"))
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        **INSTANT_WORK,
    }
    with LocalStack(log_dir=log_dir, env=env, scheduler_args=store).running() as local:
        yield local


@pytest.fixture
def started(stack: LocalStack) -> LocalStack:
    """The module's stack, running: each test stops it to flush what is batched, so each starts it as needed."""
    if not stack.processes:
        stack.start()
        stack.wait_healthy()
    return stack


def test_a_fan_out_arrives_over_otlp_as_one_trace_with_its_logs(started: LocalStack, receiver: OtlpReceiver) -> None:
    stack = started
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[1, 2, 3])
        instance_id = started.json()["id"]
        assert wait_for_output(api, started.json()["statusQueryGetUri"])["runtimeStatus"] == "Completed"

    def instance_of(span: Any) -> str | None:
        return next((a.value.string_value for a in span.attributes if a.key == "durabletask.task.instance_id"), None)

    stack.stop()  # a clean stop flushes what is still batched
    request = next(
        s for s in receiver.spans if s.name == "start_fan_out_fan_in_orchestrator" and instance_of(s) == instance_id
    )
    trace = [s for s in receiver.spans if s.trace_id == request.trace_id]
    names = sorted(s.name for s in trace if s.kind == s.SPAN_KIND_SERVER)
    assert names == [
        "activity:aggregate_results",
        "activity:process_work_item",
        "activity:process_work_item",
        "activity:process_work_item",
        "orchestration:fan_out_fan_in_orchestrator",
        "start_fan_out_fan_in_orchestrator",
    ]
    messages = {r.body.string_value for r in receiver.logs if r.trace_id == request.trace_id}
    assert "Starting fan out/fan in orchestration with 3 items" in messages
    assert "Aggregating results from 3 items" in messages


def test_every_work_item_of_a_large_fan_out_is_exported(started: LocalStack, receiver: OtlpReceiver) -> None:
    """2,000 work items make over 4,000 spans within seconds; none may be lost on the way."""
    stack = started
    with httpx.Client(base_url=stack.base_url, timeout=60) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json={"count": 2000})
        instance_id = started.json()["id"]
        assert wait_for_output(api, started.json()["statusQueryGetUri"])["runtimeStatus"] == "Completed"
    stack.stop()
    attempts = [
        s
        for s in receiver.spans
        if s.name == "activity:process_work_item"
        and s.kind == s.SPAN_KIND_SERVER
        and any(a.value.string_value == instance_id for a in s.attributes)
    ]
    assert len(attempts) == 2000
