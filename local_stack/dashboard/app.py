"""The dashboard's routes: HTML pages (or just their live region, for the refresh script) and actions."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import grpc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from local_stack.dashboard import pages
from local_stack.dashboard.reader import STATUSES, TERMINAL, SchedulerReader

logger = logging.getLogger("local_stack.dashboard")

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
INSTANCE_ACTIONS = {*pages.ACTIONS, "raise-event"}
UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
REFUSED = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
}
"""HTTP statuses for requests the scheduler answered with a refusal; any other refusal is a 502."""


class BadParameter(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def create_app(reader: SchedulerReader) -> Starlette:
    """The dashboard for ``reader``'s task hub."""

    def page(request: Request, title: str, body: str, *, live: str, refresh: bool, status: int = 200) -> Response:
        if request.headers.get("x-fragment") == "live":
            return HTMLResponse(live, status_code=status)
        frame = pages.layout(title, body, endpoint=reader.endpoint, taskhub=reader.taskhub, refresh=refresh)
        return HTMLResponse(frame, status_code=status)

    async def instances(request: Request) -> Response:
        params = request.query_params
        statuses = params.getlist("status")
        unknown = [status for status in statuses if status not in STATUSES]
        if unknown:
            raise BadParameter("status", f"unknown status {unknown[0]!r}; one of {', '.join(STATUSES)}")
        name = params.get("name", "")
        created_from = _datetime(params, "created_from")
        created_to = _datetime(params, "created_to")
        page_size = _page_size(params)
        result = reader.instances(
            statuses=statuses,
            name_prefix=name,
            created_from=created_from,
            created_to=created_to,
            page_size=page_size,
            token=params.get("token") or None,
        )
        query = {k: params.getlist(k) for k in ("status", "name", "created_from", "created_to", "page_size")}
        table = pages.instance_table(result, query, first_page=not params.get("token"))
        filters = pages.instance_filters(
            statuses, name, params.get("created_from", ""), params.get("created_to", ""), page_size
        )
        return page(request, "Orchestrations", filters + table, live=table, refresh=True)

    async def instance(request: Request) -> Response:
        instance_id = request.path_params["instance_id"]
        detail = reader.instance(instance_id)
        if detail is None:
            message = pages.banner(f"No orchestration instance {instance_id!r} in this task hub.")
            return page(request, "Not found", message, live=pages.live(message), refresh=False, status=404)
        body = pages.instance_page(detail)
        live = body[: body.index("<h2>Actions</h2>")]
        running = detail.row.status not in TERMINAL
        return page(request, f"Orchestration {instance_id}", body, live=live, refresh=running)

    async def act(request: Request) -> Response:
        instance_id, action = request.path_params["instance_id"], request.path_params["action"]
        if action not in INSTANCE_ACTIONS:
            raise BadParameter("action", f"unknown action {action!r}; one of {', '.join(sorted(INSTANCE_ACTIONS))}")
        form = _form(await request.body())
        event = form.get("event", "").strip()
        if action == "raise-event" and not event:
            raise BadParameter("event", "raising an event needs its name")
        data = _json_data(form.get("data", ""))
        shown = reader.act(instance_id, action, reason=form.get("reason") or None, event=event, data=data)
        logger.info("%s %s from the dashboard", action, instance_id)
        return RedirectResponse("/" if action == "purge" else f"/instances/{shown}", status_code=303)

    async def entities(request: Request) -> Response:
        params = request.query_params
        prefix = params.get("prefix", "")
        page_size = _page_size(params)
        result = reader.entities(prefix=prefix, page_size=page_size, token=params.get("token") or None)
        body = pages.entity_table(result, prefix, page_size, first_page=not params.get("token"))
        live = body[body.index('<div id="live">') :]
        return page(request, "Entities", body, live=live, refresh=True)

    async def bad_parameter(request: Request, error: Exception) -> Response:
        assert isinstance(error, BadParameter)
        return JSONResponse({"error": str(error), "field": error.name}, status_code=400)

    async def scheduler_error(request: Request, error: Exception) -> Response:
        """A banner, never a traceback: unreachable (polled until it answers again) or a refused request."""
        assert isinstance(error, grpc.RpcError)
        code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
        if code in UNREACHABLE:
            message = f"The scheduler at {reader.endpoint} (task hub {reader.taskhub}) did not answer: {code.name}."
            logger.warning("%s", message)
            shown = pages.live(pages.banner(message))
            return page(request, "Scheduler unavailable", shown, live=shown, refresh=True, status=503)
        message = f"The scheduler refused: {error.details()} ({code.name})."  # type: ignore[attr-defined]
        instance_id = request.path_params.get("instance_id")
        back = f' <a href="/instances/{quote(instance_id)}">Back to the instance</a>' if instance_id else ""
        shown = pages.live(pages.banner(message) + back)
        return page(request, "Refused", shown, live=shown, refresh=False, status=REFUSED.get(code, 502))

    routes = [
        Route("/", instances),
        Route("/instances/{instance_id}", instance),
        Route("/instances/{instance_id}/{action}", act, methods=["POST"]),
        Route("/entities", entities),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {BadParameter: bad_parameter, grpc.RpcError: scheduler_error}
    return Starlette(routes=routes, exception_handlers=handlers)


def _form(body: bytes) -> dict[str, str]:
    """The action forms' fields (``application/x-www-form-urlencoded``, no files)."""
    return {name: values[-1] for name, values in parse_qs(body.decode("utf-8", errors="replace")).items()}


def _page_size(params: Any) -> int:
    raw = params.get("page_size", str(DEFAULT_PAGE_SIZE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise BadParameter("page_size", f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def _datetime(params: Any, name: str) -> datetime | None:
    raw = params.get(name, "")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise BadParameter(name, f"{name} must be an ISO date-time such as 2026-01-31T12:00") from None


def _json_data(raw: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise BadParameter("data", "event data must be JSON") from None
