"""The local stack's dashboard: orchestrations, their history and entities of any DTS-protocol task hub."""

from __future__ import annotations

import logging
import signal
import threading

import uvicorn

from local_stack.dashboard.app import create_app
from local_stack.dashboard.guard import Guard
from local_stack.dashboard.reader import SchedulerReader


def serve(host: str, port: int, endpoint: str, taskhub: str) -> int:
    """Serve until SIGINT/SIGTERM; uvicorn runs in a thread so a stop is a clean return."""
    logging.getLogger("durabletask").setLevel(logging.WARNING)  # the SDK logs every call at INFO
    reader = SchedulerReader(endpoint, taskhub)
    app = create_app(reader, Guard(host, port))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, name="dashboard")
    serving.start()
    print(f"Dashboard on http://{host}:{port} for {endpoint} (task hub {taskhub})", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while serving.is_alive() and not stop.wait(0.5):
        pass
    server.should_exit = True
    serving.join(timeout=30)
    reader.close()
    return 0
