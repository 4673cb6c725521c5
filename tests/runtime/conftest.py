"""The app inside the Functions Python runtime it pins, on Python 3.13, driven over the Functions host protocol.

One language worker process (``language_worker.py``, run by the 3.13 environment) connects to an in-test
Functions host (``functions_host.py``) and serves the app from the repository root, its hosted DTS worker on a
local scheduler of its own. The 3.13 environment is ``.venv-3.13``, which ``make test`` creates wherever a
Python 3.13 is found (pyenv's included); pytest itself may run on 3.11 or on 3.13.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.ports import free_port
from local_stack.scheduler import LocalScheduler
from tests.helpers.settings import INSTANT_WORK
from tests.observability.test_otlp import OtlpReceiver
from tests.runtime.functions_host import FunctionsHost, compile_protos, load_protos
from tests.runtime.python313 import ROOT, runtime_python, without_runtime

WORKER = Path(__file__).with_name("language_worker.py")
CONNECT_TIMEOUT = 60.0


def route_prefix() -> str:
    return json.loads((ROOT / "host.json").read_text())["extensions"]["http"]["routePrefix"]


@pytest.fixture(scope="session")
def python313() -> Path:
    python = runtime_python()
    if python is None:
        without_runtime()
    return python


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """Where the app in the runtime exports its spans (OTEL_EXPORTER_OTLP_ENDPOINT), as it would to a collector."""
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def runtime_host(
    python313: Path, tmp_path_factory: pytest.TempPathFactory, otlp_receiver: OtlpReceiver
) -> Iterator[FunctionsHost]:
    """The host with the app initialised, indexed and loaded in a 3.13 language worker, on its own scheduler.
    The worker runs as this app is configured in Azure: ``PYTHON_ENABLE_OPENTELEMETRY=true`` (host.json's
    ``telemetryMode`` is OpenTelemetry), and the app exports its own spans."""
    work = tmp_path_factory.mktemp("runtime")
    protos, services = load_protos(compile_protos(Path(sys.executable), work / "host-protos"))
    worker_protos = compile_protos(python313, work / "worker-protos")
    scheduler = LocalScheduler(port=free_port())
    scheduler.start()
    host = FunctionsHost(protos, services, route_prefix())
    env = {
        **os.environ,
        "AzureWebJobsScriptRoot": str(ROOT),
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "PYTHON_ENABLE_OPENTELEMETRY": "true",
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": (
            f"Endpoint=http://127.0.0.1:{scheduler.port};TaskHub=default;Authentication=None"
        ),
        **INSTANT_WORK,
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    for inherited in ("DTS_WORKER_ENABLED", "PYTHONPATH"):
        env.pop(inherited, None)
    log = (work / "worker.log").open("wb")
    worker = subprocess.Popen(
        [str(python313), str(WORKER), host.address, uuid.uuid4().hex, str(worker_protos)],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        if not host.connected.wait(CONNECT_TIMEOUT):
            raise AssertionError(f"the language worker never connected; see {work / 'worker.log'}")
        host.start_app(ROOT)
        yield host
    finally:
        host.close()
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=15)
        log.close()
        scheduler.stop(grace=0)
