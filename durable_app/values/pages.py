"""Page sizes and continuation tokens: how a caller reads a listing a page at a time, checked one way for the
API's ``?top=`` and ``x-ms-continuation-token`` and the dashboard's ``page_size`` and ``token`` alike."""

from __future__ import annotations

from typing import TypeVar

from durable_app.values.describe import json_words
from durable_app.values.refusal import RefusedRequest

MAX_PAGE_SIZE = 1000
"""The largest ``top`` a listing takes: a page is one scheduler call and one response body, so it stays bounded;
more are a page at a time, with the continuation token."""

MAX_TOKEN_LENGTH = 1000
"""A continuation token longer than any the scheduler issues is refused before a call is made."""


Default = TypeVar("Default", bound=int | None)


def page_size(raw: str | None, default: Default, *, field: str = "top", maximum: int = MAX_PAGE_SIZE) -> int | Default:
    """How many entries one page holds: ASCII digits from 1 to ``maximum``; ``default`` when absent. The length is
    checked before the conversion, so a value of thousands of digits is a refusal, never Python's size error."""
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(maximum)) or not 1 <= int(raw) <= maximum:
        raise RefusedRequest(field, f"{field} must be a whole number from 1 to {maximum}, got {json_words(raw)}")
    return int(raw)


def continuation_token(raw: str | None, field: str) -> str | None:
    """A token a caller sent back to read the next page, if any; one no page could have carried is refused
    before the scheduler is asked."""
    token = raw or None
    if token is not None and len(token) > MAX_TOKEN_LENGTH:
        raise RefusedRequest(field, f"{field} is not a token this API issued")
    return token
