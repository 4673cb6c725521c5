"""The request limits as the documentation states them (docs/api.md, the README), pinned here once.

Tests take these literals, never the code's own constants, so a limit changed in the code without the docs fails.
"""

from __future__ import annotations

MAX_BODY_BYTES = 1024 * 1024
"""1 MiB: a larger body is a 413."""

MAX_BATCH_SIGNALS = 1_000
"""Counter signals in one ``POST /batch/signals``."""

MAX_BATCH_STARTS = 500
"""Starts in one ``POST /batch/orchestrators/{name}``."""

MAX_BATCH_WORK_ITEMS = 50_000
"""Fan-out work items in all of one start batch."""

MAX_FAN_OUT_ITEMS = 5_000
"""Work items of one fan-out; more is a 400."""
