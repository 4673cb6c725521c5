"""Azure Functions route templates (``counters/{key}``, ``orchestrators/x/{instance_id?}``) as matchers.

Starlette's router has no optional parameters, and Functions orders routes literal-first, so the local
host matches with this small table instead: same templates, same precedence. A path whose routes do not
accept the method matches nothing, as in Azure (404, not 405).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PARAM = re.compile(r"^\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z]+)?(?P<optional>\?)?\}$")


class RouteTemplateError(ValueError):
    """A route template this host cannot serve."""


@dataclass(frozen=True)
class Route:
    template: str
    methods: frozenset[str]
    target: Any
    pattern: re.Pattern[str]
    literal_segments: int

    @classmethod
    def compile(cls, template: str, methods: frozenset[str], target: Any) -> Route:
        segments = [s for s in template.strip("/").split("/") if s]
        regex = ""
        literals = 0
        for index, segment in enumerate(segments):
            match = _PARAM.match(segment)
            if match is None:
                if "{" in segment or "}" in segment:
                    raise RouteTemplateError(f"route '{template}': mixed literal/parameter segment '{segment}'")
                regex += "/" + re.escape(segment)
                literals += 1
            elif match["optional"]:
                if index != len(segments) - 1:
                    raise RouteTemplateError(f"route '{template}': only the last parameter may be optional")
                regex += f"(?:/(?P<{match['name']}>[^/]+))?"
            else:
                regex += f"/(?P<{match['name']}>[^/]+)"
        return cls(template, methods, target, re.compile(f"^{regex}/?\\Z", re.IGNORECASE), literals)


class RouteTable:
    """Routes ordered as Functions orders them: more literal segments first.

    Each path is tried only against the routes that can take its first segment (those whose template starts
    with that literal, or with a parameter), in the same order, so a request does not run every route's pattern.
    """

    def __init__(self, routes: list[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: (-r.literal_segments, r.template))
        self._open = [route for route in self.routes if _first_literal(route) is None]
        firsts = {first for route in self.routes if (first := _first_literal(route)) is not None}
        self._by_first = {
            first: [route for route in self.routes if _first_literal(route) in (first, None)] for first in firsts
        }

    def match(self, path: str, method: str) -> tuple[Route | None, dict[str, str]]:
        """(route, route params) of the first route accepting ``path`` and ``method``; ``(None, {})`` if none."""
        for route in self._candidates(path):
            found = route.pattern.match(path)
            if found is not None and method.upper() in route.methods:
                return route, {k: v for k, v in found.groupdict().items() if v is not None}
        return None, {}

    def _candidates(self, path: str) -> list[Route]:
        """The routes that may match ``path``, in order. A pattern's literals match case-insensitively, and past
        ASCII that is more than ``str.lower`` equality (the Kelvin sign matches "k"), so such paths try them all."""
        first = path[1:].split("/", 1)[0]
        if not path.startswith("/") or not first.isascii():
            return self.routes
        return self._by_first.get(first.lower(), self._open)


def _first_literal(route: Route) -> str | None:
    """A template's first segment, lower case, when it is an ASCII literal; ``None`` when any first segment may
    match it (a parameter, a literal past ASCII, or no segment at all)."""
    segments = [segment for segment in route.template.strip("/").split("/") if segment]
    if not segments or _PARAM.match(segments[0]) or not segments[0].isascii():
        return None
    return segments[0].lower()
