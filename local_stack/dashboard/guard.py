"""Cross-site defences: the dashboard's actions run only for its own pages, and only under its own name.

A page on any other site open in the same browser can send a form post to ``http://localhost:8082``, and a
DNS-rebinding page (a name of its own that it points at 127.0.0.1) can even read the answers. So:

- every request must name, in ``Host``, an address this dashboard serves (a rebinding page's name is refused);
- a state-changing request must come from the dashboard's own origin: ``Sec-Fetch-Site`` when the browser sends
  it, else ``Origin``, else ``Referer``; a client that sends none of them (curl, scripts) is not a browser page;
- and it must carry the per-process token that only the dashboard's own pages hold (``token`` form field).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from durable_app.values import RefusedRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that never change state: every route answering them only reads."""

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104  # nosec B104: names to recognise in Host, nothing binds
OWN_SITE = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of the dashboard's own pages (``none``: the user opened the address themselves)."""

FORBIDDEN = 403


class Guard:
    """The names this dashboard answers to and the token its forms carry, for one process."""

    def __init__(self, host: str, port: int) -> None:
        self.port = port
        self.token = secrets.token_urlsafe(32)
        self._names = _served_names(host)
        self._any_address = host in WILDCARDS

    def check_host(self, host_header: str) -> None:
        """Refuse a ``Host`` other than an address served here: how a DNS-rebinding page shows itself."""
        name, port = _split_host(host_header)
        if port != self.port or not (name in self._names or (self._any_address and _is_ip(name))):
            raise RefusedRequest("Host", f"Host {host_header!r} is not an address this dashboard serves", FORBIDDEN)

    def check_origin(self, request: Request) -> None:
        """Refuse a state-changing request that a page of another origin sent."""
        headers = request.headers
        own = f"{request.url.scheme}://{headers.get('host', '')}".lower()
        site = headers.get("sec-fetch-site")
        if site is not None:
            if site not in OWN_SITE:
                raise RefusedRequest("Sec-Fetch-Site", f"a {site} request cannot act on this dashboard", FORBIDDEN)
            return
        origin = headers.get("origin")
        if origin is not None:
            if origin.lower() != own:
                raise RefusedRequest("Origin", f"a page of {origin!r} cannot act on this dashboard", FORBIDDEN)
            return
        referer = headers.get("referer")
        if referer is not None and _origin_of(referer) != own:
            raise RefusedRequest("Referer", "a page of another origin cannot act on this dashboard", FORBIDDEN)

    def check_token(self, token: str | None) -> None:
        """Refuse a form that no page of this dashboard process drew (a forged or an old one)."""
        if not token or not hmac.compare_digest(token.encode(), self.token.encode()):
            why = "the form's token is missing or stale: reload the dashboard's page and try again"
            raise RefusedRequest("token", why, FORBIDDEN)


class GuardMiddleware:
    """Checks ``Host`` on every request and the origin of every state-changing one before any route runs."""

    def __init__(self, app: ASGIApp, guard: Guard, refuse: Callable[[Request, Exception], Awaitable[Response]]) -> None:
        self.app, self.guard, self.refuse = app, guard, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = await self._refusal(Request(scope)) if scope["type"] == "http" else None
        await (refusal or self.app)(scope, receive, send)

    async def _refusal(self, request: Request) -> Response | None:
        try:
            self.guard.check_host(request.headers.get("host", ""))
        except RefusedRequest as refused:  # a bare answer: no page of the dashboard under a foreign name
            return JSONResponse({"error": refused.message, "field": refused.field}, FORBIDDEN)
        try:
            if request.method not in SAFE_METHODS:
                self.guard.check_origin(request)
        except RefusedRequest as refused:
            return await self.refuse(request, refused)
        return None


def _served_names(host: str) -> frozenset[str]:
    """The bound address and, for loopback or every address, the loopback names (and this machine's name)."""
    names = {host.strip("[]").lower()}
    if host in WILDCARDS or host.strip("[]") in LOOPBACK_NAMES or _is_loopback(host):
        names |= LOOPBACK_NAMES
    if host in WILDCARDS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names - WILDCARDS)


def _split_host(host_header: str) -> tuple[str, int | None]:
    """``name[:port]`` (``[v6]:port`` too) as the lower-case name and the port (80 when none is given)."""
    if any(char in host_header for char in "@/?#\\ "):
        return ("", None)
    try:
        parts = urlsplit(f"//{host_header}")
        return (parts.hostname or "", parts.port or 80)
    except ValueError:
        return ("", None)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return _is_ip(host.strip("[]")) and ipaddress.ip_address(host.strip("[]")).is_loopback


SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
"""No other site may frame the dashboard (a click on its buttons through a page on top: clickjacking)."""


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)
