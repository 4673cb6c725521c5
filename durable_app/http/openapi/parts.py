"""Building blocks of the OpenAPI document: references, answers, parameters and the shared error answers."""

from __future__ import annotations

from typing import Any

from durable_app.http.paging import CONTINUATION_PATTERN
from durable_app.http.requests import MAX_BODY_BYTES
from durable_app.values import ID_PATTERN, MAX_NUMBER_MAGNITUDE, MAX_TOKEN_LENGTH

Schema = dict[str, Any]

NUMBER: Schema = {"type": "number", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}

ISSUED_TOKEN: Schema = {
    "type": "string",
    "maxLength": MAX_TOKEN_LENGTH,
    "pattern": CONTINUATION_PATTERN,
    "description": "Opaque: send it back as answered; a token this API did not issue is a 400.",
}
"""The ``x-ms-continuation-token`` a partial page answers with."""

SENT_TOKEN: Schema = {
    **ISSUED_TOKEN,
    "pattern": f"^(?:{CONTINUATION_PATTERN.removeprefix('^').removesuffix('$')})?$",
    "description": f"{ISSUED_TOKEN['description']} An empty header counts as none.",
}
"""The token a caller sends back: an issued one, or an empty header, which the app reads as none."""

FUNCTION_KEY_SECURITY: list[dict[str, list[str]]] = [{"functionKeyQuery": []}, {"functionKeyHeader": []}]
"""Routes at the FUNCTION auth level take the key as ``?code=`` or ``x-functions-key``."""


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_answer(description: str) -> Schema:
    return json_answer(ref("Error"), description)


def header(description: str) -> Schema:
    return {"description": description, "schema": {"type": "string"}}


def path_identifier(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": ID_PATTERN},
    }


INSTANCE_ID = path_identifier("instance_id", "The orchestration instance id.")
STATUS_HEADERS = {
    "Location": header("The instance's status URL."),
    "Retry-After": header("Seconds to wait before polling again."),
}

COMMON_ERRORS: dict[str, Schema] = {
    "401": error_answer("A function key is required (only where the host enforces keys)."),
    "413": error_answer(f"The request body is larger than {MAX_BODY_BYTES} bytes."),
    "502": error_answer("The scheduler answered with an unexpected error."),
    "503": error_answer("The scheduler is unreachable."),
    "504": error_answer("The scheduler did not answer in time."),
}
"""Answers any route with a function key and a body may give, besides its own."""

SCHEDULER_ERRORS = {code: COMMON_ERRORS[code] for code in ("401", "502", "503", "504")}


def operation(
    summary: str,
    responses: dict[str, Schema],
    *,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    errors: dict[str, Schema] | None = None,
    anonymous: bool = False,
) -> Schema:
    shared = COMMON_ERRORS if errors is None else errors  # {} for routes that answer none of them
    operation: Schema = {"summary": summary, "responses": {**responses, **shared}}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    operation["security"] = [] if anonymous else FUNCTION_KEY_SECURITY
    return operation


def optional_body(schema: Schema, description: str) -> Schema:
    """A body that may be left out; the JSON literal ``null`` counts as no body."""
    content = {"application/json": {"schema": {"anyOf": [schema, {"type": "null"}]}}}
    return {"required": False, "description": f"{description} `null` is the same as no body.", "content": content}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}
