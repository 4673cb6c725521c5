"""Port checks shared by the local stack's commands."""

from __future__ import annotations

import socket
import time


class PortInUseError(OSError):
    """A port the local stack needs is taken; the message says which and how to choose another."""


def ensure_free(host: str, port: int, what: str, option: str) -> None:
    """Fail fast with a clear message instead of a server's bind traceback.

    The probe binds as the servers do (``SO_REUSEADDR``), so connections a crashed server left in TIME_WAIT
    do not count as "in use": only a live listener does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUseError(
                f"{what} cannot listen on {host}:{port}: the port is in use "
                f"(another local stack, the DTS emulator or func start?). Stop it or pass {option} <port>."
            ) from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free right now (for tests and ad-hoc runs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Whether something accepts connections on ``host:port`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False
