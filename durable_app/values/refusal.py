"""A refused request: the one exception every check raises, naming the part of the request at fault.

It lives below every other room so that settings, request models, query parsers and the dashboard raise the same
thing; the HTTP room turns it into a 4xx answer.
"""

from __future__ import annotations


class RefusedRequest(Exception):
    """A 4xx answer: ``field`` names the part of the request at fault (``None`` when no one part is)."""

    def __init__(self, field: str | None, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status
