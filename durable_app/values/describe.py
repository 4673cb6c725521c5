"""Values as a JSON reader knows them, for refusals that quote what the client sent."""

from __future__ import annotations

import json
import math
from typing import Any


def json_words(value: Any) -> str:
    """``value`` as a JSON reader knows it: ``true``, ``null``, ``the string "5"``, ``an array``...

    Refusals quote what the client sent in JSON's spelling, never Python's (``True``, ``None``, ``'5'``).
    """
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"the string {json.dumps(shown)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, float) and not math.isfinite(value):
        return "a number out of range"
    return json.dumps(value)
