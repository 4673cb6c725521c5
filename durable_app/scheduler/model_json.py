"""Pydantic models as durable payloads: sent as their JSON form, received as the model where annotated.

``durabletask``'s own converter serializes builtins, dataclasses and ``to_json()`` objects only, so a model given
as an activity's result, an entity's input (``signal_entity``/``call_entity``) or a custom status would fail
with "Failed to serialize object of type ...". This converter, shared by the worker and the clients, sends a
model (also inside lists, tuples and dicts) as ``model_dump(mode="json", by_alias=True)``, and rebuilds it
wherever the receiving parameter (an activity's or entity operation's input, an activity's return type seen by
``call_activity``) is annotated with a model; an unannotated parameter receives the JSON form.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from typing import Any

from durabletask.serialization import JsonDataConverter, _encode_custom_object
from pydantic import BaseModel, TypeAdapter


def _encode(value: Any) -> Any:
    """The JSON encoder's hook for what it cannot write itself: a model as its JSON form, else the SDK's rule.

    So a payload is written in one pass, with no copy of its lists and dicts made beforehand to find models
    (a fan-out's results are thousands of dicts, and every replay writes the activities' inputs again).
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return _encode_custom_object(value)


_ENCODER = json.JSONEncoder(default=_encode)


def holds_model(annotation: Any) -> bool:
    """Whether a type is a model, or an ``Optional``/``list``/union of models."""
    try:
        return _holds_model(annotation)
    except TypeError:  # an unhashable annotation: not cached
        return _has_model(annotation)


@functools.cache
def _holds_model(annotation: Any) -> bool:
    return _has_model(annotation)


def _has_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        return any(holds_model(argument) for argument in typing.get_args(annotation))
    return False


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


class ModelJsonConverter(JsonDataConverter):
    """The SDK's JSON converter, plus pydantic models both ways.

    Whether a type holds a model, or can be rebuilt at all, is asked for every payload and, in an orchestrator,
    for every activity it calls on every replay; the answer depends on the type alone, so it is kept per type.
    """

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return _ENCODER.encode(value)
        except TypeError as error:  # the SDK's message
            raise TypeError(f"Failed to serialize object of type '{type(value).__name__}' to JSON: {error}") from error

    def deserialize(self, data: str | None, target_type: type | None = None) -> Any:
        if data and target_type is not None and holds_model(target_type):
            return _adapter(target_type).validate_json(data)
        return super().deserialize(data, target_type)

    def coerce(self, value: Any, target_type: type | None = None) -> Any:
        if value is not None and target_type is not None and holds_model(target_type):
            return _adapter(target_type).validate_python(value)
        return super().coerce(value, target_type)

    def can_reconstruct(self, target_type: Any) -> bool:
        try:
            return _reconstructable(type(self), target_type)
        except TypeError:  # an unhashable annotation: not cached
            return holds_model(target_type) or super().can_reconstruct(target_type)


@functools.cache
def _reconstructable(converter: type[ModelJsonConverter], target_type: Any) -> bool:
    return holds_model(target_type) or JsonDataConverter.can_reconstruct(converter(), target_type)


MODEL_JSON = ModelJsonConverter()
"""The one converter the hosted worker and every scheduler client use."""
