"""Values from ``host.json`` the app itself needs (the Functions host reads the rest)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"


@cache
def route_prefix(host_json: Path = HOST_JSON) -> str:
    """``extensions.http.routePrefix``; Functions defaults it to ``api``, and ``""`` means no prefix."""
    config = json.loads(host_json.read_text(encoding="utf-8"))
    prefix = config.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    return str(prefix).strip("/")
