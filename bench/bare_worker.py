"""A bare ``durabletask`` worker hosting the same registry with the SDK's default concurrency: the baseline."""

from __future__ import annotations

import signal
import sys
import threading

from durabletask.azuremanaged.worker import DurableTaskSchedulerWorker

from durable_app.workflows.registry import register_all


def main(host_address: str) -> None:
    worker = DurableTaskSchedulerWorker(
        host_address=host_address, taskhub="default", token_credential=None, secure_channel=False
    )
    register_all(worker)
    worker.start()
    print("bare worker started", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    worker.stop()


if __name__ == "__main__":
    main(sys.argv[1])
