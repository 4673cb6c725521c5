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
    """Routes ordered as Functions orders them: more literal segments first."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: (-r.literal_segments, r.template))

    def match(self, path: str, method: str) -> tuple[Route | None, dict[str, str]]:
        """(route, route params) of the first route accepting ``path`` and ``method``; ``(None, {})`` if none."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found is not None and method.upper() in route.methods:
                return route, {k: v for k, v in found.groupdict().items() if v is not None}
        return None, {}
