"""A bare ``durabletask`` worker process hosting the registry, for tests that kill workers mid-run."""

from __future__ import annotations

import signal
import sys
import threading

from durabletask.worker import TaskHubGrpcWorker

from durable_app.workflows.registry import register_all


def main() -> None:
    worker = TaskHubGrpcWorker(host_address=f"localhost:{sys.argv[1]}")
    register_all(worker)
    worker.start()
    print("worker started", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    worker.stop()


if __name__ == "__main__":
    main()
