"""The dashboard's routes: HTML pages (or just their live region, for the refresh script) and actions.

The reader's gRPC calls block (a slow or unreachable scheduler holds one for up to its timeout), so every
route runs them in Starlette's thread pool: one slow page never stalls the others or the refresh script.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import grpc
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from durable_app import values
from durable_app.http.status import http_status
from durable_app.scheduler import STATUS_BY_NAME, TERMINAL_NAMES
from durable_app.values import RefusedRequest
from local_stack.dashboard import pages
from local_stack.dashboard.guard import Guard, GuardMiddleware, SecurityHeaders
from local_stack.dashboard.reader import SchedulerReader

logger = logging.getLogger("local_stack.dashboard")

STATIC = Path(__file__).resolve().parent / "static"
COUNT_LIMIT = 100_000
"""Instances read at most to count them per status; past it the counts say "at least"."""
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
INSTANCE_ACTIONS = set(pages.ACTIONS)
PAYLOADS = ("input", "output", "custom_status")
UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def create_app(reader: SchedulerReader, guard: Guard) -> Starlette:
    """The dashboard for ``reader``'s task hub, answering only under ``guard``'s names and to its own pages."""

    def page(request: Request, title: str, body: str, *, live: str, refresh: bool, status: int = 200) -> Response:
        if request.headers.get("x-fragment") == "live":
            return HTMLResponse(live, status_code=status)
        frame = pages.layout(title, body, endpoint=reader.endpoint, taskhub=reader.taskhub, refresh=refresh)
        return HTMLResponse(frame, status_code=status)

    async def instances(request: Request) -> Response:
        params = request.query_params
        statuses = params.getlist("status")
        unknown = [status for status in statuses if status not in STATUS_BY_NAME]
        if unknown:
            raise RefusedRequest("status", f"unknown status {unknown[0]!r}; one of {', '.join(STATUS_BY_NAME)}")
        name = params.get("name", "")
        id_prefix = params.get("instance_id", "").strip()
        created_from = _datetime(params, "created_from")
        created_to = _datetime(params, "created_to")
        page_size = _page_size(params)
        result = await run_in_threadpool(
            reader.instances,
            statuses=statuses,
            name_prefix=name,
            created_from=created_from,
            created_to=created_to,
            page_size=page_size,
            token=_token(params),
            id_prefix=id_prefix,
        )
        query = {
            k: params.getlist(k) for k in ("status", "name", "instance_id", "created_from", "created_to", "page_size")
        }
        table = pages.instance_table(result, query, first_page=not params.get("token"))
        filters = pages.instance_filters(
            statuses, name, id_prefix, params.get("created_from", ""), params.get("created_to", ""), page_size
        )
        purged = params.get("purged")
        done = pages.notice(f"Orchestration {purged} purged.") if purged else ""
        return page(request, "Orchestrations", done + filters + table, live=table, refresh=True)

    async def counts(request: Request) -> Response:
        """Instances per status (fetched by the list page after it loads, so the list never waits for it)."""
        tally, more = await run_in_threadpool(reader.counts, COUNT_LIMIT)
        return HTMLResponse(pages.status_counts(tally, more=more, limit=COUNT_LIMIT))

    async def instance(request: Request) -> Response:
        instance_id = request.path_params["instance_id"]
        history_page = _whole_number(request.query_params, "history_page", default=1)
        done = request.query_params.get("done")
        if done is not None and done not in INSTANCE_ACTIONS:
            raise RefusedRequest("done", f"done must name an action: one of {', '.join(sorted(INSTANCE_ACTIONS))}")
        detail = await run_in_threadpool(reader.instance, instance_id)
        if detail is None:
            return not_found(request, instance_id)
        actions, live = pages.instance_page(detail, history_page, token=guard.token)
        sent = (
            pages.notice(f"{_label(done)} sent; this page shows it once the scheduler has applied it.") if done else ""
        )
        running = detail.row.status not in TERMINAL_NAMES
        return page(request, f"Orchestration {instance_id}", sent + actions + live, live=live, refresh=running)

    async def payload(request: Request) -> Response:
        """An instance's whole input, output or custom status, as the JSON it is (the page shows the start)."""
        instance_id, part = request.path_params["instance_id"], request.path_params["part"]
        if part not in PAYLOADS:
            raise RefusedRequest("part", f"part must be one of {', '.join(PAYLOADS)}")
        detail = await run_in_threadpool(reader.instance, instance_id, with_history=False)
        if detail is None:
            return not_found(request, instance_id)
        text = {"input": detail.input, "output": detail.output, "custom_status": detail.custom_status}[part]
        return Response(text if text is not None else "null", media_type="application/json")

    async def act(request: Request) -> Response:
        instance_id, action = request.path_params["instance_id"], request.path_params["action"]
        if action not in INSTANCE_ACTIONS:
            raise RefusedRequest("action", f"unknown action {action!r}; one of {', '.join(sorted(INSTANCE_ACTIONS))}")
        form = _form(await request.body())
        guard.check_token(form.get("token"))
        event = form.get("event", "").strip()
        if action == "raise-event" and not event:
            raise RefusedRequest("event", "raising an event needs its name")
        data = _json_data(form.get("data", ""))
        reason = values.reason(form.get("reason") or None)
        status = await run_in_threadpool(reader.status, instance_id)
        if status is None:
            return refused(request, instance_id, f"No orchestration instance {instance_id!r} in this task hub.", 404)
        if action not in pages.actions_for(status):
            allowed = ", ".join(_label(a) for a in pages.actions_for(status))
            why = f"{_label(action)} does not apply: the orchestration is {status}. What applies now: {allowed}."
            return refused(request, instance_id, why, 409)
        shown = await run_in_threadpool(reader.act, instance_id, action, reason=reason, event=event, data=data)
        logger.info("%s %s from the dashboard", action, instance_id)
        if action == "purge":
            return RedirectResponse(f"/?{urlencode({'purged': instance_id})}", status_code=303)
        return RedirectResponse(f"/instances/{quote(shown)}?done={action}", status_code=303)

    def not_found(request: Request, instance_id: str) -> Response:
        message = pages.banner(f"No orchestration instance {instance_id!r} in this task hub.")
        return page(request, "Not found", message, live=pages.live(message), refresh=False, status=404)

    def refused(request: Request, instance_id: str, message: str, status: int) -> Response:
        """A refused action's page: why, and the way back to the instance (never a silent redirect)."""
        back = f' <a href="/instances/{quote(instance_id)}">Back to the instance</a>'
        shown = pages.live(pages.banner(message) + back)
        return page(request, "Refused", shown, live=shown, refresh=False, status=status)

    async def entities(request: Request) -> Response:
        params = request.query_params
        prefix = params.get("prefix", "")
        page_size = _page_size(params)
        result = await run_in_threadpool(reader.entities, prefix=prefix, page_size=page_size, token=_token(params))
        body = pages.entity_table(result, prefix, page_size, first_page=not params.get("token"))
        live = body[body.index('<div id="live">') :]
        return page(request, "Entities", body, live=live, refresh=True)

    async def entity(request: Request) -> Response:
        name, key = request.path_params["name"], request.path_params["key"]
        if not name or "@" in name:
            raise RefusedRequest("name", "an entity name is not empty and holds no @")
        entity_id = f"@{name.lower()}@{key}"
        row = await run_in_threadpool(reader.entity, entity_id)
        if row is None:
            message = pages.banner(f"No entity {entity_id!r} with state in this task hub.")
            return page(request, "Not found", message, live=pages.live(message), refresh=False, status=404)
        live = pages.entity_page(row)
        return page(request, f"Entity {entity_id}", live, live=live, refresh=True)

    async def refused_request(request: Request, error: Exception) -> Response:
        """A page saying what is wrong for a browser (it asks for HTML), the JSON error shape for API clients."""
        assert isinstance(error, RefusedRequest)
        if "text/html" in request.headers.get("accept", ""):
            body = pages.live(pages.error_page_body(error.message, error.field or ""))
            return page(request, "Bad request", body, live=body, refresh=False, status=error.status)
        return JSONResponse({"error": error.message, "field": error.field}, status_code=error.status)

    async def scheduler_error(request: Request, error: Exception) -> Response:
        """A banner, never a traceback: unreachable (polled until it answers again) or a refused request."""
        assert isinstance(error, grpc.RpcError)
        code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
        if code in UNREACHABLE:
            message = f"The scheduler at {reader.endpoint} (task hub {reader.taskhub}) did not answer: {code.name}."
            logger.warning("%s", message)
            shown = pages.live(pages.banner(message))
            return page(request, "Scheduler unavailable", shown, live=shown, refresh=True, status=http_status(code))
        message = f"The scheduler refused: {error.details()} ({code.name})."  # type: ignore[attr-defined]
        instance_id = request.path_params.get("instance_id")
        if instance_id:
            return refused(request, instance_id, message, http_status(code))
        shown = pages.live(pages.banner(message))
        return page(request, "Refused", shown, live=shown, refresh=False, status=http_status(code))

    routes = [
        Route("/", instances),
        Route("/counts", counts),
        Route("/instances/{instance_id}", instance),
        Route("/instances/{instance_id}/payload/{part}", payload),
        Route("/instances/{instance_id}/{action}", act, methods=["POST"]),
        Route("/entities", entities),
        Route("/entities/{name}/{key:path}", entity),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {RefusedRequest: refused_request, grpc.RpcError: scheduler_error}
    middleware = [Middleware(SecurityHeaders), Middleware(GuardMiddleware, guard=guard, refuse=refused_request)]
    return Starlette(routes=routes, exception_handlers=handlers, middleware=middleware)


def _form(body: bytes) -> dict[str, str]:
    """The action forms' fields (``application/x-www-form-urlencoded``, no files)."""
    return {name: values[-1] for name, values in parse_qs(body.decode("utf-8", errors="replace")).items()}


def _page_size(params: Any) -> int:
    return values.page_size(params.get("page_size"), DEFAULT_PAGE_SIZE, field="page_size", maximum=MAX_PAGE_SIZE)


def _token(params: Any) -> str | None:
    return values.continuation_token(params.get("token"), "token")


def _whole_number(params: Any, name: str, *, default: int) -> int:
    raw = params.get(name, str(default))
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        raise RefusedRequest(name, f"{name} must be a whole number from 1")
    return int(raw)


def _label(action: str) -> str:
    return action.replace("-", " ").capitalize()


def _datetime(params: Any, name: str) -> datetime | None:
    raw = params.get(name, "")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise RefusedRequest(name, f"{name} must be an ISO date-time such as 2026-01-31T12:00") from None


def _json_data(raw: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's reader goes
        raise RefusedRequest("data", "event data must be JSON") from None
