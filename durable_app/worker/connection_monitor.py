"""Observe the hosted worker's gRPC connection so the health endpoint can report it.

``TaskHubGrpcWorker`` exposes no connection state. It does, however, accept client interceptors, and every
(re)connection is a ``Hello`` call followed by a long-lived ``GetWorkItems`` stream: a successful ``Hello``
means connected, a failed one or a broken stream means disconnected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc

_HELLO = "/TaskHubSidecarService/Hello"
_WORK_ITEMS = "/TaskHubSidecarService/GetWorkItems"


@dataclass(frozen=True)
class ConnectionState:
    connected: bool
    since: float
    last_error: str | None = None


class ConnectionMonitor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """A gRPC interceptor recording whether the worker's work-item stream is up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = ConnectionState(connected=False, since=time.time(), last_error="not connected yet")

    @property
    def state(self) -> ConnectionState:
        with self._lock:
            return self._state

    def _set(self, connected: bool, error: str | None = None) -> None:
        with self._lock:
            if self._state.connected != connected or self._state.last_error != error:
                self._state = ConnectionState(connected, time.time(), error)

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        call = continuation(client_call_details, request)
        if _method(client_call_details).endswith(_HELLO):
            error = call.exception()
            self._set(error is None, None if error is None else _describe(error))
        return call

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        call = continuation(client_call_details, request)
        if _method(client_call_details).endswith(_WORK_ITEMS):
            return _WatchedStream(call, self._set)
        return call


class _WatchedStream:
    """Forwards a response stream unchanged, reporting when it ends or fails."""

    def __init__(self, call: Any, report: Callable[[bool, str | None], None]) -> None:
        self._call = call
        self._report = report

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except StopIteration:
            self._report(False, "work-item stream closed by the scheduler")
            raise
        except grpc.RpcError as error:
            self._report(False, _describe(error))
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


def _method(details: grpc.ClientCallDetails) -> str:
    method = details.method
    return method.decode() if isinstance(method, bytes) else method


def _describe(error: BaseException) -> str:
    if isinstance(error, grpc.RpcError):
        code = error.code()  # type: ignore[attr-defined]
        return f"{code.name if code else 'UNKNOWN'}: {error.details()}"  # type: ignore[attr-defined]
    return str(error)
