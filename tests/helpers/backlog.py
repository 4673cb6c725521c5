"""Waiting for the local scheduler to have nothing left to do: the proof that nothing more will happen."""

from __future__ import annotations

import grpc

from local_stack.scheduler.backlog import read_backlog
from tests.helpers.polling import wait_until


def idle(address: str) -> bool:
    """Nothing waits for a worker and no worker holds anything at the scheduler at ``address`` (``host:port``).

    A scheduler too busy to answer within the call's deadline is not idle.
    """
    try:
        backlog = read_backlog(address)
    except grpc.RpcError as error:
        if error.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
            return False
        raise
    return not any(backlog["pending"].values()) and not any(backlog["in_flight"].values())


def wait_for_idle(address: str, timeout: float = 60) -> None:
    """Wait until every queued signal and work item is applied, so a value read afterwards can no longer move."""
    wait_until(lambda: idle(address), timeout, 0.1, lambda: f"the backlog is still {read_backlog(address)}")
