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
import types
import typing
from typing import Any

from durabletask.serialization import JsonDataConverter
from pydantic import BaseModel, TypeAdapter


def json_form(value: Any) -> Any:
    """``value`` with every model in it replaced by its JSON form, as the API and the worker send it."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {key: json_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_form(item) for item in value]
    return value


def holds_model(annotation: Any) -> bool:
    """Whether a type is a model, or an ``Optional``/``list``/union of models."""
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
    """The SDK's JSON converter, plus pydantic models both ways."""

    def serialize(self, value: Any) -> str | None:
        return super().serialize(json_form(value))

    def deserialize(self, data: str | None, target_type: type | None = None) -> Any:
        if data and holds_model(target_type):
            return _adapter(target_type).validate_json(data)
        return super().deserialize(data, target_type)

    def coerce(self, value: Any, target_type: type | None = None) -> Any:
        if value is not None and holds_model(target_type):
            return _adapter(target_type).validate_python(value)
        return super().coerce(value, target_type)

    def can_reconstruct(self, target_type: Any) -> bool:
        return holds_model(target_type) or super().can_reconstruct(target_type)


MODEL_JSON = ModelJsonConverter()
"""The one converter the hosted worker and every scheduler client use."""
