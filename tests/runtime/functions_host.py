"""The Functions host's side of the protocol: a ``FunctionRpc`` gRPC server a language worker connects to.

It does what the host does with a Python worker that indexes itself: ``WorkerInitRequest`` (the worker imports
function_app.py), ``FunctionsMetadataRequest`` (the functions it found, with their raw bindings),
``FunctionLoadRequest`` for each, then one ``InvocationRequest`` per HTTP request, routed by the triggers' own
route templates under host.json's ``routePrefix`` and answered from the ``$return`` HTTP binding. A path no
trigger accepts is answered 404 by the host itself, without invoking anything, as Azure does. Function keys
are not checked, as under ``func start``.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import grpc

from local_stack.functions_host.routes import Route, RouteTable

PROTO = Path(__file__).with_name("function_rpc.proto")
REPLY_TIMEOUT = 120.0


def compile_protos(python: Path, out: Path) -> Path:
    """``function_rpc.proto`` compiled by grpcio-tools of ``python``: generated code matches its protobuf."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(python), "-m", "grpc_tools.protoc", f"-I{PROTO.parent}", f"--python_out={out}",
         f"--grpc_python_out={out}", PROTO.name],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out


def load_protos(directory: Path) -> tuple[ModuleType, ModuleType]:
    """The message and service modules compiled into ``directory``, imported into this process."""
    sys.path.insert(0, str(directory))
    try:
        import function_rpc_pb2
        import function_rpc_pb2_grpc
    finally:
        sys.path.remove(str(directory))
    return function_rpc_pb2, function_rpc_pb2_grpc


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class HttpFunction:
    """An indexed HTTP trigger: its id, the name of the request parameter, and its methods."""

    function_id: str
    name: str
    request_parameter: str


class FunctionsHost:
    """The server end of one worker's ``EventStream``; replies are matched to requests by kind and id."""

    def __init__(self, protos: ModuleType, services: ModuleType, route_prefix: str) -> None:
        self.protos, self.route_prefix = protos, route_prefix.strip("/")
        self.server = grpc.server(ThreadPoolExecutor(max_workers=4))
        services.add_FunctionRpcServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.outgoing: queue.Queue[Any] = queue.Queue()
        self.replies: dict[tuple[str, str], Future[Any]] = {}
        self.lock = threading.Lock()
        self.worker_id: str | None = None
        self.connected = threading.Event()
        self.logs: list[Any] = []
        self.functions: list[Any] = []
        self.routes = RouteTable([])
        self.server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def EventStream(self, incoming: Any, context: grpc.ServicerContext) -> Any:
        """The RPC (its name is the protocol's): our requests out, the worker's messages read on a thread."""
        threading.Thread(target=self._read, args=(incoming,), daemon=True).start()
        while (message := self.outgoing.get()) is not None:
            yield message

    def _read(self, incoming: Any) -> None:
        for message in incoming:
            kind = message.WhichOneof("content")
            if kind == "start_stream":
                self.worker_id = message.start_stream.worker_id
                self.connected.set()
            elif kind == "rpc_log":
                self.logs.append(message.rpc_log)
            else:
                reply = getattr(message, kind)
                key = getattr(reply, "invocation_id", "") or getattr(reply, "function_id", "")
                with self.lock:
                    future = self.replies.pop((kind, key))
                future.set_result(reply)

    def request(self, kind: str, payload: Any, reply: str, key: str = "") -> Any:
        """Send one request on the stream and wait for the reply of kind ``reply`` carrying ``key``."""
        future: Future[Any] = Future()
        with self.lock:
            self.replies[(reply, key)] = future
        self.outgoing.put(self.protos.StreamingMessage(request_id=uuid.uuid4().hex, **{kind: payload}))
        answer = future.result(timeout=REPLY_TIMEOUT)
        if answer.result.status != self.protos.StatusResult.Success:
            raise AssertionError(f"{kind} failed: {answer.result.exception.message}")
        return answer

    def start_app(self, directory: Path) -> Any:
        """Initialise the worker on the app, index it and load every function; returns the init response."""
        init = self.protos.WorkerInitRequest(
            host_version="4", function_app_directory=str(directory), worker_directory=str(directory),
            capabilities={"RpcHttpBodyOnly": "true", "RawHttpBodyBytes": "true", "TypedDataCollection": "true"},
        )  # fmt: skip
        response = self.request("worker_init_request", init, "worker_init_response")
        metadata = self.request(
            "functions_metadata_request",
            self.protos.FunctionsMetadataRequest(function_app_directory=str(directory)),
            "function_metadata_response",
        )
        self.functions = list(metadata.function_metadata_results)
        routes = []
        for function in self.functions:
            load = self.protos.FunctionLoadRequest(function_id=function.function_id, metadata=function)
            self.request("function_load_request", load, "function_load_response", function.function_id)
            routes.extend(self._routes(function))
        self.routes = RouteTable(routes)
        return response

    def _routes(self, function: Any) -> list[Route]:
        for raw in function.raw_bindings:
            binding = json.loads(raw)
            if binding.get("type") == "httpTrigger":
                methods = frozenset(method.upper() for method in binding.get("methods") or ["GET", "POST"])
                target = HttpFunction(function.function_id, function.name, binding["name"])
                return [Route.compile(binding.get("route") or function.name, methods, target)]
        return []

    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        trace_parent: str | None = None,
    ) -> HttpAnswer:
        """One HTTP request as the host forwards it: routed, converted to ``RpcHttp``, invoked, answered. The
        invocation carries the host's request span as W3C ``trace_parent`` (a new one unless given)."""
        prefix = f"/{self.route_prefix}"
        assert path.startswith(prefix + "/"), path
        route, params = self.routes.match(path.removeprefix(prefix), method)
        if route is None:
            return HttpAnswer(404, {}, b"")
        target: HttpFunction = route.target
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {"host": "127.0.0.1:7071", **({"content-type": "application/json"} if raw else {})}
        url = f"http://127.0.0.1:7071{path}" + (f"?{urlencode(query)}" if query else "")
        request = self.protos.RpcHttp(
            method=method, url=url, headers=headers, params=params, query=query or {},
            body=self.protos.TypedData(bytes=raw),
        )  # fmt: skip
        invocation_id = uuid.uuid4().hex
        invocation = self.protos.InvocationRequest(
            invocation_id=invocation_id, function_id=target.function_id,
            input_data=[self.protos.ParameterBinding(name=target.request_parameter,
                                                     data=self.protos.TypedData(http=request))],
            trace_context=self.protos.RpcTraceContext(
                trace_parent=trace_parent or f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"),
        )  # fmt: skip
        answer = self.request("invocation_request", invocation, "invocation_response", invocation_id)
        http = answer.return_value.http
        content = http.body.WhichOneof("data")
        payload = getattr(http.body, content) if content else b""
        return HttpAnswer(
            int(http.status_code), dict(http.headers), payload if isinstance(payload, bytes) else payload.encode()
        )

    def close(self) -> None:
        self.outgoing.put(None)
        self.server.stop(grace=1)
