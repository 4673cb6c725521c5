"""The Python language worker's side of the Functions host protocol, around the app's pinned runtime.

On Python 3.13+ the Functions host starts a thin language worker (the "proxy worker") that owns the gRPC
stream to the host and hands each request to the ``azure_functions_runtime`` package the app pins in
requirements.txt: ``worker_init_request`` (which imports function_app.py and indexes it),
``functions_metadata_request``, ``function_load_request`` and ``invocation_request``, each given a request
object with ``.request`` (the host's ``StreamingMessage``) and ``.properties`` (``protos``, ``host``). This
module does the same, with the protocol's messages compiled from ``function_rpc.proto``, so the app runs
inside the very runtime Azure runs it in. Run as a script by the interpreter under test:

    python language_worker.py <host:port> <worker id> <directory of the compiled protos>

Log records travel to the host as ``RpcLog`` messages, as the proxy worker sends them; once initialised, the
worker also reports where the app's OpenTelemetry API was imported from (category ``worker.dependencies``).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import grpc

DEPENDENCIES_CATEGORY = "worker.dependencies"


@dataclass
class WorkerRequest:
    """What the runtime's handlers receive: the proxy worker passes exactly these three attributes."""

    name: str
    request: Any
    properties: dict[str, Any] = field(default_factory=dict)


class RpcLogHandler(logging.Handler):
    """Every record at INFO and above goes to the host as an ``RpcLog`` on the stream."""

    def __init__(self, protos: ModuleType, outgoing: asyncio.Queue[Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.INFO)
        self.protos, self.outgoing, self.loop = protos, outgoing, loop

    def emit(self, record: logging.LogRecord) -> None:
        levels = self.protos.RpcLog
        level = levels.Error if record.levelno >= logging.ERROR else levels.Warning
        level = level if record.levelno >= logging.WARNING else levels.Information
        message = self.protos.StreamingMessage(
            rpc_log=levels(category=record.name, level=level, message=self.format(record))
        )
        self.loop.call_soon_threadsafe(self.outgoing.put_nowait, message)


class LanguageWorker:
    """One gRPC stream to the host; each request runs as its own task, as the proxy worker dispatches them."""

    def __init__(self, address: str, worker_id: str, protos: ModuleType, services: ModuleType) -> None:
        self.address, self.worker_id = address, worker_id
        self.protos, self.services = protos, services
        self.outgoing: asyncio.Queue[Any] = asyncio.Queue()
        self.runtime: ModuleType | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        handler = RpcLogHandler(self.protos, self.outgoing, loop)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        async with grpc.aio.insecure_channel(self.address) as channel:
            stream = self.services.FunctionRpcStub(channel).EventStream(self._outgoing_messages())
            self.outgoing.put_nowait(
                self.protos.StreamingMessage(start_stream=self.protos.StartStream(worker_id=self.worker_id))
            )
            async for message in stream:
                task = asyncio.create_task(self._dispatch(message))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _outgoing_messages(self) -> Any:
        while True:
            yield await self.outgoing.get()

    async def _dispatch(self, message: Any) -> None:
        kind = message.WhichOneof("content")
        if kind == "worker_init_request":
            response = await self._init(message)
            self.outgoing.put_nowait(self.protos.StreamingMessage(worker_init_response=response))
            return
        assert self.runtime is not None, f"{kind} before worker_init_request"
        handler, reply = {
            "functions_metadata_request": (self.runtime.functions_metadata_request, "function_metadata_response"),
            "function_load_request": (self.runtime.function_load_request, "function_load_response"),
            "invocation_request": (self.runtime.invocation_request, "invocation_response"),
        }[kind]
        response = await handler(WorkerRequest(kind, message))
        self.outgoing.put_nowait(self.protos.StreamingMessage(request_id=message.request_id, **{reply: response}))

    async def _init(self, message: Any) -> Any:
        """Put the script root on the path after the app's packages, as the proxy worker's dependency manager
        does for the customer's working directory, then let the runtime index the app."""
        directory = message.worker_init_request.function_app_directory
        if directory not in sys.path:
            sys.path.append(directory)
        self.runtime = importlib.import_module("azure_functions_runtime")
        self.runtime.start_threadpool_executor()
        properties = {"protos": self.protos, "host": self.address.rpartition(":")[0]}
        response = await self.runtime.worker_init_request(WorkerRequest("WorkerInitRequest", message, properties))
        logging.getLogger(DEPENDENCIES_CATEGORY).info(json.dumps(dependency_origins(self.runtime)))
        return response


def dependency_origins(runtime: ModuleType) -> dict[str, Any]:
    """Where the runtime and the app's telemetry API come from, and whether the runtime's OpenTelemetry
    context API (which attaches each invocation's trace context) is the very module the app's tracer uses."""
    import azure.functions
    import opentelemetry.context

    otel = importlib.import_module("azure_functions_runtime.otel")
    return {
        "python": sys.version.split()[0],
        "azure_functions_runtime": [runtime.version.VERSION, runtime.__file__],
        "azure_functions": [azure.functions.__version__, azure.functions.__file__],
        "opentelemetry_context": opentelemetry.context.__file__,
        "runtime_context_api_is_apps": otel.otel_manager.get_context_api() is opentelemetry.context,
    }


def main() -> None:
    address, worker_id, protos_directory = sys.argv[1:4]
    sys.path.insert(0, protos_directory)
    protos = importlib.import_module("function_rpc_pb2")
    services = importlib.import_module("function_rpc_pb2_grpc")
    asyncio.run(LanguageWorker(address, worker_id, protos, services).run())


if __name__ == "__main__":
    main()
