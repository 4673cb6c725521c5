"""Functions route templates: parameters, the optional last parameter, literal-first precedence, no match."""

from __future__ import annotations

import pytest

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
