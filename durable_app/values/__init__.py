"""The app's value rules: each kind of value the API accepts is checked in one place, and refused one way.

The lowest room: it imports nothing else of the app and no HTTP or Azure Functions module, so settings, request
models, query strings and the dashboard share one rule per kind of value.
"""

from durable_app.values.booleans import BOOLEAN_WORDS, parse_boolean
from durable_app.values.describe import json_words
from durable_app.values.ids import (
    EXISTING_ID_PATTERN,
    EXISTING_ID_RULE,
    ID_PATTERN,
    ID_RULE,
    existing_instance_id,
    id_problem,
    identifier,
    optional_identifier,
)
from durable_app.values.numbers import MAX_NUMBER_MAGNITUDE
from durable_app.values.pages import MAX_PAGE_SIZE, MAX_TOKEN_LENGTH, continuation_token, page_size
from durable_app.values.reasons import MAX_REASON_LENGTH, reason
from durable_app.values.refusal import RefusedRequest
from durable_app.values.times import utc_iso

__all__ = [
    "BOOLEAN_WORDS",
    "EXISTING_ID_PATTERN",
    "EXISTING_ID_RULE",
    "ID_PATTERN",
    "ID_RULE",
    "MAX_NUMBER_MAGNITUDE",
    "MAX_PAGE_SIZE",
    "MAX_REASON_LENGTH",
    "MAX_TOKEN_LENGTH",
    "RefusedRequest",
    "continuation_token",
    "existing_instance_id",
    "id_problem",
    "identifier",
    "json_words",
    "optional_identifier",
    "page_size",
    "parse_boolean",
    "reason",
    "utc_iso",
]
