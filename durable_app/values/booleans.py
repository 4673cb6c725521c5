"""Booleans spelled as text (query strings and app settings): one set of words, read one way everywhere.

JSON bodies carry real booleans, which pydantic's strict mode reads; text has no boolean type, so a query flag
such as ``?showInput=yes`` and a setting such as ``DTS_WORKER_ENABLED=off`` are read by :func:`parse_boolean`.
"""

from __future__ import annotations

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
BOOLEAN_WORDS = TRUE_WORDS + FALSE_WORDS
"""Every spelling accepted, for documents that list them (a query flag's enum, the settings page)."""


def parse_boolean(text: str) -> bool:
    """``text`` as a boolean, in any case and with surrounding blanks; ``ValueError`` for any other word."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not a boolean (use true or false)")
