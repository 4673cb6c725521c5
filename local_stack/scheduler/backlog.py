"""Reading the local scheduler's backlog from another process: the client side of its backlog query.

The scheduler answers ``/localscheduler.Scheduler/Backlog`` on its gRPC port (see
:meth:`local_stack.scheduler.memory.LocalScheduler.backlog`) with a JSON object::

    {"pending":   {"orchestration": 0, "activity": 975, "entity": 0},
     "in_flight": {"orchestration": 0, "activity": 25,  "entity": 0},
     "workers": 1}

``pending`` is what waits for a worker; ``in_flight`` what a connected worker holds, unfinished; ``workers``
the connected worker streams. The managed scheduler has no such call: its backlog reaches the
``azure-durabletask-scheduler`` KEDA scaler inside Azure Container Apps.
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from local_stack.scheduler.memory import BACKLOG_METHOD


def read_backlog(address: str, timeout: float = 5.0) -> dict[str, Any]:
    """The backlog of the scheduler at ``address`` (``host:port``), as the scheduler answers it."""
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(BACKLOG_METHOD, request_serializer=None, response_deserializer=None)
        return json.loads(call(b"", timeout=timeout))
