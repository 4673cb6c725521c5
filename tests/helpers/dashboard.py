"""Posting to the local dashboard as its own pages do: with the token each of its forms carries."""

from __future__ import annotations

import re

TOKEN = re.compile(r'<input type="hidden" name="token" value="([^"]+)">')


def form_token(page: str) -> str:
    """The token in an instance page's action forms (one per dashboard process)."""
    found = TOKEN.search(page)
    assert found, "the page has no action form"
    return found[1]
