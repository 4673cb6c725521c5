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
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from typing_extensions import is_typeddict

from durable_app.values import ID_PATTERN, MAX_NUMBER_MAGNITUDE, RefusedRequest, id_problem, json_words


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
    problem = id_problem(value)
    if problem is not None:
        raise ValueError(problem)
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
        names = json_names(cls)
        if body is None:
            query = {name: _query_value(cls, name, params[name]) for name in names if name in params}
            return validated(cls, query)
        both = sorted(name for name in names if params.get(name) is not None)
        if both:
            raise RefusedRequest(both[0], f"give {both[0]} in the body or the query string, not both")
        return validated(cls, body)

    @classmethod
    def from_json(cls, body: Any) -> Self:
        """A body as the batch routes carry it: ``null`` is no body, validated as an empty object."""
        return validated(cls, {} if body is None else body)

    def orchestration_input(self) -> Any:
        return self.model_dump(mode="json", by_alias=True)

    def work_items(self) -> int:
        """How many work items this start fans out to; a batch caps the sum."""
        return 0

    @classmethod
    def request_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        """The body's JSON Schema from the model's: the shorthand form beside the object."""
        if cls.shorthand:
            return {"anyOf": [schema["properties"][cls.shorthand], schema]}
        return schema

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
        raise bad_request(first_error(model, error.errors())) from None
    except Exception as error:  # a validator raising anything but ValueError is still the input's fault
        raise _validator_failure(model, error, "") from None


def first_error(kind: Any, errors: list[ErrorDetails]) -> ErrorDetails:
    """The error to answer with: an unknown field first, else the first error; located by JSON names only.

    Pydantic puts the member's tag in the location of an error inside a union (``("amount", "int")``); those
    tags are dropped, and when every member of a union refused the value for its type, their messages are joined
    (``amount must be a JSON integer or a string``)."""
    located = [{**detail, "loc": _json_location(kind, detail["loc"])} for detail in errors]
    first = next((detail for detail in located if detail["type"] == "extra_forbidden"), located[0])
    kinds = [detail["type"] for detail in located if detail["loc"] == first["loc"]]
    if len(kinds) > 1 and all(MESSAGES.get(kind, "").startswith("must be ") for kind in kinds):
        words = " or ".join(dict.fromkeys(MESSAGES[kind].removeprefix("must be ") for kind in kinds))
        return {**first, "type": "union_type", "ctx": {"words": words}}
    return first


def _json_location(kind: Any, location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """``location`` without the tags pydantic adds for union members, following ``kind`` through its fields."""
    kept: list[int | str] = []
    current = kind
    parts = list(location)
    while parts:
        current = _unannotated(current)
        members = _union_members(current)
        if members is not None:
            tag = parts.pop(0)
            current = next((member for member in members if _tag(member) == tag), None)
            continue
        part = parts.pop(0)
        kept.append(part)
        current = _inner(current, part)
    return tuple(kept)


def _unannotated(kind: Any) -> Any:
    while typing.get_origin(kind) is Annotated:
        kind = typing.get_args(kind)[0]
    return kind


def _union_members(kind: Any) -> list[Any] | None:
    """The members of a union pydantic tags (``None`` aside: an optional value is not tagged)."""
    if typing.get_origin(kind) not in (typing.Union, types.UnionType):
        return None
    members = [member for member in typing.get_args(kind) if member is not type(None)]
    return members if len(members) > 1 else None


def _tag(member: Any) -> str:
    member = _unannotated(member)
    return getattr(member, "__name__", str(member)) if typing.get_origin(member) is None else str(member)


def _inner(kind: Any, part: int | str) -> Any:
    """The type found at ``part`` of a value of ``kind``; ``None`` once the way is lost (no more tags dropped)."""
    if kind is None:
        return None
    members = [member for member in typing.get_args(kind) if member is not type(None)]
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(members) == 1:
        kind = _unannotated(members[0])
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        fields = {_json_name(name, field): field.annotation for name, field in kind.model_fields.items()}
        return fields.get(str(part))
    if is_typeddict(kind):
        return typing.get_type_hints(kind).get(str(part))
    arguments = typing.get_args(kind)
    if typing.get_origin(kind) in (list, set, frozenset) and arguments:
        return arguments[0]
    if typing.get_origin(kind) is dict and len(arguments) == 2:
        return arguments[1]
    if typing.get_origin(kind) is tuple and arguments and isinstance(part, int):
        return arguments[0] if arguments[-1] is Ellipsis else arguments[min(part, len(arguments) - 1)]
    return None


def json_names(model: type[BaseModel]) -> list[str]:
    """The names the model's fields take in JSON: the alias where a field has one."""
    return [_json_name(name, field) for name, field in model.model_fields.items()]


def _json_name(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
    return alias or name


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _query_value(model: type[StartRequest], name: str, raw: str) -> Any:
    """A query value as JSON would carry it: a number where the field takes one (ASCII digits only), else text."""
    kinds = _json_types(model, name)
    if kinds & {"integer", "number"} and _JSON_NUMBER.fullmatch(raw.strip()):
        return json.loads(raw)
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def validated_value(kind: Any, value: Any, field: str) -> Any:
    """One JSON value (an entity operation's input) against its declared type, strictly."""
    try:
        return type_adapter(kind).validate_json(json.dumps(value), strict=True)
    except ValidationError as error:
        detail = first_error(kind, error.errors())
        raise bad_request({**detail, "loc": (field, *detail["loc"])}) from None
    except Exception as error:  # a validator raising anything but ValueError is still the input's fault
        raise _validator_failure(kind, error, field) from None


def type_adapter(kind: Any) -> TypeAdapter[Any]:
    """One adapter per declared input type, built once it forbids unknown fields."""
    try:
        return _cached_adapter(kind)
    except TypeError:  # an annotation holding something unhashable: built each time
        return TypeAdapter(kind)


@functools.cache
def _cached_adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def bad_request(detail: ErrorDetails) -> RefusedRequest:
    """One pydantic error as the API's 400: the field's path and a message in the app's words."""
    context = detail.get("ctx") or {}
    cause = context.get("error")
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
    if kind in ("value_error", "assertion_error") and isinstance(cause, ValueError | AssertionError):
        return RefusedRequest(field, f"{field} {cause}".rstrip())
    message = _message(kind, context)
    return RefusedRequest(field, f"{field} {message}, got {json_words(detail['input'])}")


def _message(kind: str, context: Mapping[str, Any]) -> str:
    """The table's message for one kind of error, with the constraint's values filled in."""
    template = MESSAGES.get(kind)
    if template is None:
        template = next((text for suffix, text in _MESSAGE_FAMILIES.items() if kind.endswith(suffix)), "is not valid")
    return template.format_map({name: _constraint(value) for name, value in context.items()})


def _constraint(value: Any) -> str:
    return json.dumps(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


MESSAGES: dict[str, str] = {
    "int_type": "must be a JSON integer",
    "int_from_float": "must be a JSON integer",
    "int_parsing": "must be a JSON integer",
    "int_parsing_size": "must be a JSON integer within 64 bits",
    "float_type": "must be a JSON number",
    "float_parsing": "must be a JSON number",
    "finite_number": "must be a finite number",
    "decimal_type": "must be a JSON number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "none_required": "must be null",
    "list_type": "must be a JSON array",
    "tuple_type": "must be a JSON array",
    "set_type": "must be a JSON array",
    "frozen_set_type": "must be a JSON array",
    "set_item_not_hashable": "must hold only strings, numbers or booleans",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dataclass_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "typed_dict_type": "must be a JSON object",
    "too_short": "must have a length of at least {min_length}",
    "too_long": "must have a length of at most {max_length}",
    "string_too_short": "must be at least {min_length} characters long",
    "string_too_long": "must be at most {max_length} characters long",
    "string_pattern_mismatch": "must match the pattern {pattern}",
    "string_not_ascii": "must be ASCII text",
    "string_unicode": "must be valid Unicode text",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be {ge} or more",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be {le} or less",
    "multiple_of": "must be a multiple of {multiple_of}",
    "decimal_max_digits": "must have at most {max_digits} digits",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "decimal_whole_digits": "must have at most {whole_digits} digits before the point",
    "union_type": "must be {words}",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "union_tag_invalid": "must have {discriminator} set to one of {expected_tags}",
    "union_tag_not_found": "must have {discriminator} set",
    "date_type": "must be a date as text, such as 2025-01-31",
    "date_parsing": "must be a date as text, such as 2025-01-31",
    "date_from_datetime_parsing": "must be a date as text, such as 2025-01-31",
    "date_from_datetime_inexact": "must be a date without a time of day",
    "date_past": "must be a date in the past",
    "date_future": "must be a date in the future",
    "datetime_type": "must be a date and time as text, such as 2025-01-31T12:00:00Z",
    "datetime_parsing": "must be a date and time as text, such as 2025-01-31T12:00:00Z",
    "datetime_from_date_parsing": "must be a date and time as text, such as 2025-01-31T12:00:00Z",
    "datetime_past": "must be in the past",
    "datetime_future": "must be in the future",
    "timezone_naive": "must have no UTC offset",
    "timezone_aware": "must have a UTC offset, such as Z or +01:00",
    "timezone_offset": "must have the UTC offset {tz_expected}",
    "time_type": "must be a time of day as text, such as 12:00:00",
    "time_parsing": "must be a time of day as text, such as 12:00:00",
    "time_delta_type": "must be a duration, in seconds or as ISO 8601 (P1DT2H)",
    "time_delta_parsing": "must be a duration, in seconds or as ISO 8601 (P1DT2H)",
    "uuid_type": "must be a UUID as text",
    "uuid_parsing": "must be a UUID as text",
    "uuid_version": "must be a version {expected_version} UUID",
    "url_type": "must be a URL as text",
    "url_parsing": "must be a URL",
    "url_scheme": "must be a URL starting with {expected_schemes}",
    "url_too_long": "must be a URL of at most {max_length} characters",
    "bytes_type": "must be a string",
    "bytes_too_short": "must be at least {min_length} bytes long",
    "bytes_too_long": "must be at most {max_length} bytes long",
    "json_invalid": "must be valid JSON",
    "json_type": "must be JSON text",
    "is_instance_of": "is not valid",
    "callable_type": "is not valid",
    "frozen_field": "cannot be changed",
    "frozen_instance": "cannot be changed",
}
"""Every kind of error pydantic reports, in the app's words; a constraint's value fills its ``{name}``."""

_MESSAGE_FAMILIES = {"_type": "has the wrong JSON type", "_parsing": "is not in the expected form"}
"""Kinds not in the table fall into their family by suffix, then into "is not valid": no pydantic text leaks."""


def _validator_failure(annotation: Any, error: Exception, prefix: str) -> RefusedRequest:
    """A validator that raised something other than ``ValueError``: a 400 naming the field it validates."""
    field = _validated_field(annotation, error) or ""
    path = ".".join(part for part in (prefix, field) if part) or "body"
    return RefusedRequest(path, f"{path} is not valid: its check failed ({type(error).__name__})")


def _validated_field(annotation: Any, error: Exception) -> str | None:
    """The JSON name of the field whose validator raised ``error``, found from the validator in the traceback."""
    validators = _field_validators(annotation)
    traceback = error.__traceback__
    while traceback is not None:
        field = validators.get(traceback.tb_frame.f_code)
        if field:
            return field
        traceback = traceback.tb_next
    return None


def _field_validators(annotation: Any) -> dict[Any, str]:
    """Each field validator's code, for every model ``annotation`` reaches, with the field it checks first."""
    validators = {}
    for model in reachable_models(annotation):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for decorator in model.__pydantic_decorators__.field_validators.values():
            fields = [name for name in decorator.info.fields if name in model.model_fields]
            if fields:
                validators[_code(decorator.func)] = _json_name(fields[0], model.model_fields[fields[0]])
    return validators


def _code(function: Any) -> Any:
    return getattr(getattr(function, "__func__", function), "__code__", None)


def reachable_models(annotation: Any) -> list[Any]:
    """Every model and TypedDict ``annotation`` reaches through its fields, the innermost first."""
    found: list[Any] = []
    _collect(annotation, found)
    return found


def _collect(annotation: Any, found: list[Any]) -> None:
    if annotation in found:
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
        for field in annotation.model_fields.values():
            _collect(field.annotation, found)
        found.append(found.pop(found.index(annotation)))
    elif is_typeddict(annotation):
        found.append(annotation)
        for hint in typing.get_type_hints(annotation, include_extras=True).values():
            _collect(hint, found)
        found.append(found.pop(found.index(annotation)))
    else:
        for argument in typing.get_args(annotation):
            _collect(argument, found)


def forbid_unknown_fields(annotation: Any) -> None:
    """Refuse unknown fields at every depth: every model and TypedDict ``annotation`` reaches forbids extra
    fields, unless it sets ``extra`` itself (``ConfigDict(extra="allow")`` is how a model says it wants them)."""
    for model in reachable_models(annotation):
        if isinstance(model, type) and issubclass(model, BaseModel):
            if "extra" not in model.model_config:
                model.model_config["extra"] = "forbid"
            model.model_rebuild(force=True)
        else:
            config = getattr(model, "__pydantic_config__", None) or {}
            if "extra" not in config:
                model.__pydantic_config__ = {**config, "extra": "forbid"}


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
