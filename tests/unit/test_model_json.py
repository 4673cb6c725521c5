"""The payload converter: models written as their JSON form wherever they sit, in one pass, and the answers it
keeps per type the same as asking afresh."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, TypedDict

import pytest
from durabletask.serialization import JsonDataConverter
from pydantic import BaseModel, Field

from durable_app.scheduler.model_json import MODEL_JSON, ModelJsonConverter, holds_model

SDK = JsonDataConverter()


class Point(BaseModel):
    x: int
    label: str = Field(alias="Label")


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Box:
    width: int


class Item(TypedDict):
    item: int


def with_models_as_json(value: Any) -> Any:
    """Every model replaced by its JSON form, walked by hand: what the converter must write."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {key: with_models_as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [with_models_as_json(item) for item in value]
    return value


POINT = Point(x=1, Label="a")


@pytest.mark.parametrize(
    "value",
    [
        1,
        "text",
        2.5,
        True,
        [1, 2, 3],
        {"item": 3, "result": 9},
        [{"item": n, "result": n * n} for n in range(50)],
        POINT,
        [POINT, (POINT, 2)],
        {"nested": {"points": [POINT]}, "tuple": (1, "a")},
        Colour.RED,
        Box(width=3),
        {"box": Box(width=1), "colour": Colour.RED},
    ],
)
def test_values_are_written_as_the_sdk_writes_them_with_models_as_their_json_form(value: Any) -> None:
    assert MODEL_JSON.serialize(value) == SDK.serialize(with_models_as_json(value))


def test_none_is_no_payload_and_what_json_cannot_hold_is_refused_in_the_sdk_words() -> None:
    assert MODEL_JSON.serialize(None) is None
    with pytest.raises(TypeError, match="Failed to serialize object of type 'list' to JSON"):
        MODEL_JSON.serialize([object()])


def test_a_model_comes_back_where_the_type_asks_for_one() -> None:
    assert MODEL_JSON.deserialize(MODEL_JSON.serialize([POINT]), list[Point]) == [POINT]
    assert MODEL_JSON.deserialize('{"x": 1, "Label": "a"}') == {"x": 1, "Label": "a"}


@pytest.mark.parametrize(
    "annotation",
    [Point, list[Point], Point | None, int | float, Item, Box, list[Box], int, str, None, list[int], dict[str, Point]],
)
def test_what_is_kept_per_type_is_what_asking_afresh_answers(annotation: Any) -> None:
    afresh = ModelJsonConverter()
    for _ in range(2):  # the second answer comes from what was kept
        assert MODEL_JSON.can_reconstruct(annotation) == (
            holds_model(annotation) or JsonDataConverter.can_reconstruct(afresh, annotation)
        )
    assert holds_model(Point | None) and holds_model(list[Point]) and not holds_model(dict[str, Point])


def test_an_unhashable_annotation_is_answered_without_being_kept() -> None:
    unhashable: Any = [Point]
    assert holds_model(unhashable) is False
    assert MODEL_JSON.can_reconstruct(unhashable) is False
