"""A local Azure Functions host for the app's HTTP triggers, on uvicorn + starlette.

It imports ``function_app.py`` exactly as the Functions Python worker does (so the hosted DTS worker starts
the same way), reads each trigger's route, methods and auth level from ``app.get_functions()``, and calls
the very same function objects with real ``func.HttpRequest`` objects under host.json's ``routePrefix``.
App settings come from ``local.settings.json``'s ``Values`` unless already set in the environment.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import importlib
import inspect
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import azure.functions as func
from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import request_response

from durable_app.http.tracing import redacted_url
from local_stack.functions_host.routes import Route, RouteTable

logger = logging.getLogger("local_stack.host")

APP_ROOT = Path(__file__).resolve().parents[2]

_ENCODED_SLASH = re.compile("(%2F)", re.IGNORECASE)
"""Splits a raw path around its encoded slashes, keeping them (as sent) between the parts to decode."""


def load_local_settings(app_root: Path = APP_ROOT) -> list[str]:
    """Export ``local.settings.json`` Values that the environment does not already set; return their names."""
    path = app_root / "local.settings.json"
    if not path.exists():
        return []
    values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
    applied = [name for name in values if name not in os.environ]
    for name in applied:
        os.environ[name] = str(values[name])
    return applied


def load_function_app(app_root: Path = APP_ROOT, module: str = "function_app") -> func.FunctionApp:
    """Import the app module (starting its hosted worker) and return its ``FunctionApp``."""
    if str(app_root) not in sys.path:
        sys.path.insert(0, str(app_root))
    loaded = importlib.import_module(module)
    apps = [value for value in vars(loaded).values() if isinstance(value, func.FunctionApp)]
    if len(apps) != 1:
        raise RuntimeError(f"{module}.py must define exactly one FunctionApp, found {len(apps)}")
    return apps[0]


@functools.cache
def registered_functions(app: func.FunctionApp) -> tuple[func.Function, ...]:
    """``app.get_functions()``, once: a second call re-validates the app and fails on its own names."""
    return tuple(app.get_functions())


def route_table(app: func.FunctionApp) -> RouteTable:
    """One route per HTTP-triggered function; other trigger types are not served locally."""
    routes = []
    for function in registered_functions(app):
        trigger = function.get_trigger()
        if not isinstance(trigger, func.decorators.http.HttpTrigger):
            logger.warning("Skipping %s: only HTTP triggers are served locally", function.get_function_name())
            continue
        methods = frozenset(str(getattr(m, "value", m)).upper() for m in (trigger.methods or [])) or frozenset(
            {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}
        )
        template = trigger.route or function.get_function_name()
        routes.append(Route.compile(template, methods, function))
    return RouteTable(routes)


def create_asgi_app(app: func.FunctionApp, route_prefix: str, function_key: str | None = None) -> Starlette:
    """An ASGI app serving ``app``'s HTTP triggers under ``/<route_prefix>``.

    With ``function_key``, routes whose auth level is not anonymous require it as ``?code=`` or the
    ``x-functions-key`` header, as Azure does; without it every route is open, as under ``func start``.
    """
    _redact_access_log()
    table = route_table(app)
    prefix = "/" + route_prefix.strip("/") if route_prefix.strip("/") else ""

    async def dispatch(request: Request) -> Response:
        path = request_path(request.scope)
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return _no_function(request, path)
        route, params = table.match(path[len(prefix) :] or "/", request.method)
        if route is None:
            return _no_function(request, path)
        function = route.target
        if function_key and not _authorised(request, function, function_key):
            return _error(401, "a function key is required (?code= or x-functions-key)")
        return await _invoke(function, request, params)

    asgi = Starlette()
    asgi.router.default = request_response(dispatch)  # every path, even those Starlette's patterns cannot match
    return asgi


def request_path(scope: dict[str, Any]) -> str:
    """The request path as the Functions host routes it: percent-decoded, except ``%2F``, which stays encoded.

    So a route parameter never holds ``/`` (uvicorn's ``path`` has ``%2F`` decoded already). Control characters
    stay as sent: "a%0A" is not "a".
    """
    raw = scope.get("raw_path")
    if raw is None:
        return scope["path"]
    path = raw.decode("latin-1").split("?", 1)[0]
    if "%" not in path:  # nothing to decode: most requests
        return path
    parts = _ENCODED_SLASH.split(path)
    return "".join(part if index % 2 else unquote(part) for index, part in enumerate(parts))


def query_params(request: Request) -> dict[str, str]:
    """The query as the Functions host hands it to a worker: repeated keys joined with ``,``, empty values dropped.

    Keys compare case-insensitively, the first spelling kept, as in ASP.NET Core's query collection.
    """
    if not request.scope.get("query_string"):  # no query: skip Starlette's parse
        return {}
    joined: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        joined.setdefault(key.lower(), []).append(value)
        spelling.setdefault(key.lower(), key)
    return {spelling[key]: ",".join(values) for key, values in joined.items() if ",".join(values)}


def request_headers(scope: dict[str, Any]) -> dict[str, str]:
    """The request's headers as one value per name, the first one where a name repeats.

    What ``dict(request.headers)`` gives, read straight from the ASGI scope (whose names are lower case): the
    Starlette mapping looks every name up again in its list, a cost paid on every request.
    """
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


def request_url(scope: dict[str, Any], headers: dict[str, str]) -> str:
    """The request's URL, as ``str(request.url)`` writes it.

    Starlette parses the ``Host`` header into the URL's origin on every request; the origin depends only on the
    scheme, the server and that header, so it is made once per such triple and the path and query appended as
    Starlette appends them. A request whose origin Starlette would not write as ``scheme://netloc`` takes
    Starlette's own way.
    """
    path = scope["path"]
    server = scope.get("server")
    origin = _origin(scope.get("scheme", "http"), None if server is None else tuple(server), headers.get("host"))
    if origin is None or not path.startswith("/"):
        return str(URL(scope=scope))
    query = scope.get("query_string", b"")
    url = origin + path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return f"{url}?{query.decode()}" if query else url


@functools.lru_cache(maxsize=256)
def _origin(scheme: str, server: tuple[str, int] | None, host: str | None) -> str | None:
    """``scheme://netloc`` as Starlette writes it for a request to ``/``; ``None`` where it writes no netloc."""
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    probe = str(URL(scope={"scheme": scheme, "server": server, "path": "/", "query_string": b"", "headers": headers}))
    netloc = probe.removeprefix(f"{scheme}://").removesuffix("/")
    if probe != f"{scheme}://{netloc}/" or not netloc or "/" in netloc:
        return None
    return probe[:-1]


async def request_body(request: Request, headers: dict[str, str]) -> bytes:
    """The body, forwarded only with a ``Content-Length`` as the Functions host does: a chunked body arrives empty."""
    if "content-length" not in headers:
        return b""
    return await request.body()


@functools.cache
def _is_async(user_function: Any) -> bool:
    return inspect.iscoroutinefunction(user_function)


async def _invoke(function: Any, request: Request, route_params: dict[str, str]) -> Response:
    headers = request_headers(request.scope)
    http_request = func.HttpRequest(
        method=request.method,
        url=request_url(request.scope, headers),
        headers=headers,
        params=query_params(request),
        route_params=route_params,
        body=await request_body(request, headers),
    )
    user_function = function.get_user_function()
    argument = function.get_trigger().name
    started = time.perf_counter()
    try:
        if _is_async(user_function):
            result = await user_function(**{argument: http_request})
        else:
            result = await asyncio.to_thread(user_function, **{argument: http_request})
    except Exception:
        logger.exception("Function %s failed", function.get_function_name())
        return _error(500, "the function raised an unhandled exception; see the host log")
    logger.debug("%s %.1f ms", function.get_function_name(), (time.perf_counter() - started) * 1000)
    return _to_starlette(result)


def _to_starlette(result: Any) -> Response:
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items() if k.lower() != "content-type"}
        media_type = result.mimetype + (f"; charset={result.charset}" if result.charset else "")
        return Response(result.get_body(), status_code=result.status_code, headers=headers, media_type=media_type)
    if result is None:
        return Response(status_code=204)
    return Response(str(result), media_type="text/plain")


def _authorised(request: Request, function: Any, function_key: str) -> bool:
    level = function.get_trigger().auth_level
    if str(getattr(level, "value", level)).upper() == "ANONYMOUS":
        return True
    return hmac.compare_digest(_supplied_key(request).encode(), function_key.encode())


def _supplied_key(request: Request) -> str:
    """The key a request gives, read as the Functions host reads it: the first ``x-functions-key`` header when
    there is one (even empty: the header takes precedence), else the first ``code`` query value, any case."""
    if "x-functions-key" in request.headers:
        return request.headers.getlist("x-functions-key")[0]
    return next((value for key, value in request.query_params.multi_items() if key.lower() == "code"), "")


class _RedactedAccessLog(logging.Filter):
    """Replaces the function key in uvicorn's access lines (``"GET /api/x?code=<key> HTTP/1.1" 200``) by ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == _ACCESS_LINE_ARGS:
            client, method, full_path, version, status = record.args
            record.args = (client, method, redacted_url(str(full_path)), version, status)
        return True


_ACCESS_LINE_ARGS = 5
"""uvicorn logs each request as (client, method, path with query, HTTP version, status)."""


def _redact_access_log() -> None:
    """Keep function keys out of the access log, once per process, as the Functions host keeps them out of its own."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, _RedactedAccessLog) for existing in access.filters):
        access.addFilter(_RedactedAccessLog())


def _no_function(request: Request, path: str) -> JSONResponse:
    """404 for a path or method no function's route accepts, as the Functions host answers both (never 405).

    Azure's answer has an empty body; the local host says in the API's error shape what was not found.
    """
    return _error(404, f"no function's route accepts {request.method} {path}")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "field": None}, status_code=status)
