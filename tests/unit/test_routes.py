"""Functions route templates: parameters, the optional last parameter, literal-first precedence, no match; the
request URL the local host hands a trigger."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import URL

from local_stack.functions_host.app import request_headers, request_url
from local_stack.functions_host.routes import Route, RouteTable, RouteTemplateError

GET, POST = frozenset({"GET"}), frozenset({"POST"})


def table() -> RouteTable:
    return RouteTable(
        [
            Route.compile("counters/{key}", GET, "read"),
            Route.compile("counters/{key}/{operation}", POST, "signal"),
            Route.compile("orchestrators/counter_workflow/{instance_id?}", POST, "start"),
            Route.compile("instances/{instance_id}/terminate", POST, "terminate"),
            Route.compile("instances/{instance_id}/{action}", POST, "generic"),
        ]
    )


@pytest.mark.parametrize(
    ("path", "method", "target", "params"),
    [
        ("/counters/a", "GET", "read", {"key": "a"}),
        ("/counters/a/", "GET", "read", {"key": "a"}),
        ("/COUNTERS/a", "get", "read", {"key": "a"}),
        ("/counters/a/add", "POST", "signal", {"key": "a", "operation": "add"}),
        ("/orchestrators/counter_workflow", "POST", "start", {}),
        ("/orchestrators/counter_workflow/my-id", "POST", "start", {"instance_id": "my-id"}),
        ("/instances/x/terminate", "POST", "terminate", {"instance_id": "x"}),
        ("/instances/x/other", "POST", "generic", {"instance_id": "x", "action": "other"}),
    ],
)
def test_paths_match_their_route(path: str, method: str, target: str, params: dict[str, str]) -> None:
    route, found = table().match(path, method)
    assert route is not None, path
    assert (route.target, found) == (target, params)


def test_a_method_no_route_of_the_path_accepts_matches_nothing_like_an_unknown_path() -> None:
    """The Functions host answers both with 404: no route matches (never 405)."""
    assert table().match("/counters/a", "DELETE") == (None, {})
    assert table().match("/nothing/here", "GET") == (None, {})
    assert table().match("/counters/a/b/c", "POST") == (None, {})


@pytest.mark.parametrize("template", ["a/{x?}/b", "a/b{x}", "a/{x}b"])
def test_templates_this_host_cannot_serve_are_refused(template: str) -> None:
    with pytest.raises(RouteTemplateError, match=template.replace("?", r"\?").replace("{", r"\{")):
        Route.compile(template, GET, None)


def scanned(routes: RouteTable, path: str, method: str) -> tuple[object, dict[str, str]]:
    """The first route in order whose pattern and methods accept the request: what matching must always give."""
    for route in routes.routes:
        found = route.pattern.match(path)
        if found is not None and method.upper() in route.methods:
            return route.target, {k: v for k, v in found.groupdict().items() if v is not None}
    return None, {}


@pytest.mark.parametrize(
    "path",
    [
        "/counters/a",
        "/Counters/a/add",
        "/counter\u017f/a",  # the long s matches "s" case-insensitively, though its lower case is itself
        "/counters",
        "/",
        "",
        "counters/a",
        "//counters/a",
        "/anything/x",
        "/instances/x/terminate",
        "/INSTANCES/x/y",
        "/orchestrators/counter_workflow",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_matching_by_first_segment_gives_what_trying_every_route_gives(path: str, method: str) -> None:
    routes = RouteTable([*table().routes, Route.compile("{name}/only", GET, "open"), Route.compile("", GET, "root")])
    route, params = routes.match(path, method)
    assert ((route.target if route else None), params) == scanned(routes, path, method)
    if path == "/counter\u017f/a" and method == "GET":
        assert route is not None and route.target == "read"


def scope(path: str, query: bytes = b"", host: bytes | None = b"127.0.0.1:7071", **extra: object) -> dict[str, Any]:
    headers = [(b"content-type", b"application/json")] + ([] if host is None else [(b"host", host)])
    return {"type": "http", "scheme": "http", "server": ("127.0.0.1", 7071), "path": path, "query_string": query,
            "headers": headers, **extra}  # fmt: skip


@pytest.mark.parametrize(
    "request_scope",
    [
        scope("/api/counters/a/add"),
        scope("/api/instances/a?b#c\\d", b"code=x&reason=%7Btext%7D"),
        scope("/api/caf\u00e9/\u2603"),
        scope("/api/x", host=b"example.com"),
        scope("/api/x", host=b"[::1]:7071"),
        scope("/api/x", host=b"bad host:port"),
        scope("/api/x", host=b"h:99999"),
        scope("/api/x", host=b""),
        scope("/api/x", host=None),
        scope("/api/x", host=None, server=("::1", 80)),
        scope("/api/x", host=None, server=None),
        scope("//api/x", host=None, server=None),
        scope("/api/x", host=b"example.com", scheme="https"),
        scope("relative", host=b"example.com"),
    ],
)
def test_the_request_url_is_the_one_starlette_writes(request_scope: dict[str, Any]) -> None:
    assert request_url(request_scope, request_headers(request_scope)) == str(URL(scope=request_scope))
