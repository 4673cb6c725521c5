"""Typed request bodies for declared workflows, and their validation into the API's 400 answer.

A workflow's input is a pydantic model deriving from :class:`StartRequest`. The start route validates the
request body against it in pydantic's strict JSON mode (``"5"`` is not a number, ``5.0`` is not an integer),
or the query string when there is no body, and turns the first error into ``{"error", "field"}`` with the
field's path (``items[3]``, ``shipping.address``). The same model gives the route's OpenAPI schema.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import ErrorDetails

from durable_app.http_requests import ID_PATTERN, ID_RULE, MAX_NUMBER_MAGNITUDE, json_words
from durable_app.http_status import RefusedRequest


class FieldError(ValueError):
    """A rule across fields, raised in a model validator, naming the field it blames (``items``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _bounded_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number between -2^53 and 2^53, got {json_words(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a number between -2^53 and 2^53, got {json_words(value)}")
    if abs(value) > MAX_NUMBER_MAGNITUDE:
        raise ValueError(f"must be between -2^53 and 2^53, got {value}")
    return value


NUMBER_SCHEMA = {"type": "number", "minimum": -MAX_NUMBER_MAGNITUDE, "maximum": MAX_NUMBER_MAGNITUDE}

Number = Annotated[int | float, BeforeValidator(_bounded_number), WithJsonSchema(NUMBER_SCHEMA)]
"""A JSON number within +-2^53; integers stay integers, so sums of squares print as the seeds print them."""


def _bounded_integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a JSON integer, got {json_words(value)}")
    return _bounded_number(value)


Amount = Annotated[int, BeforeValidator(_bounded_integer), WithJsonSchema({**NUMBER_SCHEMA, "type": "integer"})]
"""A JSON integer within +-2^53."""


def _key(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(ID_PATTERN, value):
        raise ValueError(f"must be {ID_RULE}, got {json_words(value)}")
    return value


Key = Annotated[str, BeforeValidator(_key), WithJsonSchema({"type": "string", "pattern": ID_PATTERN})]
"""An entity key or instance id: 1-100 URL-safe characters DTS accepts everywhere."""


class StartRequest(BaseModel):
    """The body of ``POST /api/orchestrators/<name>``; subclass it for a workflow's input.

    ``shorthand`` names the one field a body that is not a JSON object stands for (``[1, 2]`` for
    ``{"items": [1, 2]}``). :meth:`orchestration_input` is what the orchestrator receives; by default the
    model's JSON form, which an orchestrator annotated with the model receives as the model itself.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    shorthand: ClassVar[str | None] = None

    @classmethod
    def from_request(cls, body: Any, params: Mapping[str, str]) -> Self:
        """Validate a body (``None`` when empty) or, without one, the query parameters named like fields."""
        if body is None:
            query = {name: _query_value(cls, name, params[name]) for name in cls.model_fields if name in params}
            return validated(cls, query)
        both = sorted(name for name in cls.model_fields if params.get(name) is not None)
        if both:
            raise RefusedRequest(both[0], f"give {both[0]} in the body or the query string, not both")
        return validated(cls, body)

    @classmethod
    def from_json(cls, body: Any) -> Self:
        """A body as the batch routes carry it: ``null`` is no body, validated as an empty object."""
        return validated(cls, {} if body is None else body)

    def orchestration_input(self) -> Any:
        return self.model_dump(mode="json")

    def work_items(self) -> int:
        """How many work items this start fans out to; a batch caps the sum."""
        return 0

    @classmethod
    def request_schema(cls, ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The body's JSON Schema and the definitions it refers to, with the shorthand form beside the object."""
        schema = cls.model_json_schema(ref_template=ref_template)
        definitions = schema.pop("$defs", {})
        if cls.shorthand:
            schema = {"anyOf": [schema["properties"][cls.shorthand], schema]}
        return schema, definitions

    @classmethod
    def _expand_shorthand(cls, data: Any) -> Any:
        """A body that is not an object stands for the shorthand field, when it is of a type that field takes."""
        if isinstance(data, dict):
            return data
        kinds = _json_types(cls, cls.shorthand) if cls.shorthand else set()
        if _json_type(data) in kinds or (_json_type(data) == "integer" and "number" in kinds):
            return {cls.shorthand: data}
        forms = " or ".join(["a JSON object", *sorted(f"a JSON {kind}" for kind in kinds - {"null"})])
        raise RefusedRequest("body", f"body must be {forms}, got {json_words(data)}")


M = TypeVar("M", bound=StartRequest)


def validated(model: type[M], value: Any) -> M:
    """``value`` as ``model``; the first error is a :class:`RefusedRequest` naming its field.

    Values are validated as JSON text, strictly, so JSON's own types apply (``"5"`` is no number, a datetime or
    enum field takes its string). An unknown field is reported before anything else, as ``StartRequest`` describes.
    """
    expanded = model._expand_shorthand(value)
    try:
        return model.model_validate_json(json.dumps(expanded), strict=True)
    except ValidationError as error:
        errors = error.errors()
        first = next((detail for detail in errors if detail["type"] == "extra_forbidden"), errors[0])
        raise bad_request(first) from None


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _query_value(model: type[StartRequest], name: str, raw: str) -> Any:
    """A query value as JSON would carry it: a number where the field takes one (ASCII digits only), else text."""
    kinds = _json_types(model, name)
    if kinds & {"integer", "number"} and _JSON_NUMBER.fullmatch(raw.strip()):
        return json.loads(raw)
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def validated_value(adapter: TypeAdapter[Any], value: Any, field: str) -> Any:
    """One JSON value (an entity operation's input) against its declared type, strictly."""
    try:
        return adapter.validate_json(json.dumps(value), strict=True)
    except ValidationError as error:
        detail = error.errors()[0]
        raise bad_request({**detail, "loc": (field, *detail["loc"])}) from None


def bad_request(detail: ErrorDetails) -> RefusedRequest:
    """One pydantic error as the API's 400: the field's path and a message in JSON's words."""
    cause = (detail.get("ctx") or {}).get("error")
    path = field_path(detail["loc"])
    if isinstance(cause, FieldError):
        field = f"{path}.{cause.field}" if path else cause.field
        return RefusedRequest(field, str(cause))
    field = path or "body"
    kind = detail["type"]
    if kind == "missing":
        return RefusedRequest(field, f"{field} is required")
    if kind == "extra_forbidden":
        return RefusedRequest(field, f'unknown field "{detail["loc"][-1]}"')
    if kind == "value_error" and isinstance(cause, ValueError):
        return RefusedRequest(field, f"{field} {cause}")
    message = _MESSAGES.get(kind) or detail["msg"].replace("Input should be", "must be", 1)
    return RefusedRequest(field, f"{field} {message}, got {json_words(detail['input'])}")


_MESSAGES = {
    "int_type": "must be a JSON integer",
    "int_from_float": "must be a JSON integer",
    "int_parsing": "must be a JSON integer",
    "float_type": "must be a JSON number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be a JSON array",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
}
"""Pydantic's words for a wrong JSON type, in the API's (JSON's) words."""


def field_path(location: tuple[int | str, ...]) -> str:
    """``("items", 3)`` as ``items[3]``, ``("a", "b")`` as ``a.b``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


@functools.cache
def _json_types(model: type[StartRequest], name: str) -> frozenset[str]:
    """The JSON types a field of ``model`` takes, from its JSON Schema."""
    schema = model.model_json_schema()["properties"][name]
    return frozenset(option["type"] for option in schema.get("anyOf", [schema]) if "type" in option)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kind, name in ((int, "integer"), (float, "number"), (str, "string"), (list, "array")):
        if isinstance(value, kind):
            return name
    return "object"
