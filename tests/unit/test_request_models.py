"""Request models and entity input types: unknown fields at every depth, aliases, validators that raise, and one
message table in the app's words for every kind of error pydantic reports."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from durable_app.values import RefusedRequest
from durable_app.workflows import StartRequest
from durable_app.workflows.registry import Workflows
from durable_app.workflows.request_models import MESSAGES, validated, validated_value


class Phone(TypedDict):
    number: str


class Customer(BaseModel):
    name: str
    phone: Phone | None = None


class Line(BaseModel):
    sku: str


class Tags(BaseModel):
    model_config = ConfigDict(extra="allow")

    label: str = ""


class OrderRequest(StartRequest):
    customer: Customer
    lines: list[Line] = Field(min_length=1)
    tags: Tags = Field(default_factory=Tags)


declared = Workflows(packages=())


@declared.orchestrator(request=OrderRequest)
def order_workflow(ctx: object, request: OrderRequest) -> None: ...


def refusal(model: type[StartRequest], body: Any) -> tuple[str | None, str]:
    with pytest.raises(RefusedRequest) as refused:
        validated(model, body)
    return refused.value.field, refused.value.message


ORDER = {"customer": {"name": "Ada"}, "lines": [{"sku": "a"}]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ORDER, "customer": {"name": "Ada", "phone": "123"}}, "customer.phone"),
        ({**ORDER, "customer": {"name": "Ada", "email": "a@b"}}, "customer.email"),
        ({**ORDER, "lines": [{"sku": "a"}, {"sku": "b", "color": "red"}]}, "lines[1].color"),
        (
            {**ORDER, "customer": {"name": "Ada", "phone": {"number": "1", "extension": "2"}}},
            "customer.phone.extension",
        ),
    ],
)
def test_unknown_fields_are_refused_at_every_depth_naming_their_path(body: dict[str, Any], field: str) -> None:
    found, message = refusal(OrderRequest, body)
    assert found == field
    assert message.endswith(f'"{field.rsplit(".", 1)[-1]}"') or "must be" in message


def test_a_model_that_allows_extra_fields_keeps_them() -> None:
    order = validated(OrderRequest, {**ORDER, "tags": {"label": "x", "anything": 1}})
    assert order.orchestration_input()["tags"] == {"label": "x", "anything": 1}


class Points(TypedDict):
    amount: int


@declared.entity(operations={"earn": Points, "redeem": Customer})
def wallet(ctx: object, value: object) -> None: ...


def test_an_entity_input_type_refuses_unknown_fields_at_every_depth() -> None:
    with pytest.raises(RefusedRequest) as refused:
        validated_value(Points, {"amount": 1, "bonus": 2}, "body")
    assert (refused.value.field, refused.value.message) == ("body.bonus", 'unknown field "bonus"')


class Kind(enum.Enum):
    RED = "red"


class Everything(StartRequest):
    text: str = Field("ab", min_length=2, max_length=3)
    code_like: str = Field("ab", pattern="^[a-z]+$")
    items: list[int] = Field(default_factory=lambda: [1], min_length=1, max_length=2)
    count: int = Field(2, gt=0, lt=10, multiple_of=2)
    ratio: float = Field(0.5, ge=0, le=1)
    choice: Literal["x", "y"] = "x"
    kind: Kind = Kind.RED
    when: datetime.datetime | None = None
    day: datetime.date | None = None
    ident: uuid.UUID | None = None
    flag: bool = False
    nested: Line | None = None
    required_thing: Annotated[int, Field(ge=0)] = 0


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"text": "a"}, "text", 'text must be at least 2 characters long, got the string "a"'),
        ({"text": "abcd"}, "text", 'text must be at most 3 characters long, got the string "abcd"'),
        ({"code_like": "A1"}, "code_like", 'code_like must match the pattern ^[a-z]+$, got the string "A1"'),
        ({"items": []}, "items", "items must have a length of at least 1, got an array"),
        ({"items": [1, 2, 3]}, "items", "items must have a length of at most 2, got an array"),
        ({"count": 0}, "count", "count must be more than 0, got 0"),
        ({"count": 12}, "count", "count must be less than 10, got 12"),
        ({"count": 3}, "count", "count must be a multiple of 2, got 3"),
        ({"ratio": -1}, "ratio", "ratio must be 0.0 or more, got -1"),
        ({"ratio": 2}, "ratio", "ratio must be 1.0 or less, got 2"),
        ({"choice": "z"}, "choice", "choice must be one of 'x' or 'y', got the string \"z\""),
        ({"kind": "blue"}, "kind", "kind must be one of 'red', got the string \"blue\""),
        (
            {"when": "soon"},
            "when",
            'when must be a date and time as text, such as 2025-01-31T12:00:00Z, got the string "soon"',
        ),
        ({"day": "x"}, "day", 'day must be a date as text, such as 2025-01-31, got the string "x"'),
        ({"ident": "x"}, "ident", 'ident must be a UUID as text, got the string "x"'),
        ({"flag": "yes"}, "flag", 'flag must be true or false, got the string "yes"'),
        ({"count": "2"}, "count", 'count must be a JSON integer, got the string "2"'),
        ({"count": 2.5}, "count", "count must be a JSON integer, got 2.5"),
        ({"ratio": "x"}, "ratio", 'ratio must be a JSON number, got the string "x"'),
        ({"text": 5}, "text", "text must be a string, got 5"),
        ({"items": {}}, "items", "items must be a JSON array, got an object"),
        ({"nested": []}, "nested", "nested must be a JSON object, got an array"),
        ({"nested": {}}, "nested.sku", "nested.sku is required"),
        ({"required_thing": -1}, "required_thing", "required_thing must be 0 or more, got -1"),
    ],
)
def test_every_kind_of_error_is_worded_by_the_app(body: dict[str, Any], field: str, message: str) -> None:
    assert refusal(Everything, body) == (field, message)


PYDANTIC_WORDS = ("Input should", "should have", "after validation", "valid integer", "valid string", "errors.pydantic")


def test_no_message_in_the_table_is_pydantic_s() -> None:
    assert not [text for text in MESSAGES.values() if any(words in text for words in PYDANTIC_WORDS)]


def test_a_kind_outside_the_table_still_speaks_the_app_s_words() -> None:
    class Ranged(StartRequest):
        at: datetime.datetime = Field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

        model_config = ConfigDict(extra="forbid")

    field, message = refusal(Ranged, {"at": "2025-13-45T00:00:00Z"})
    assert field == "at"
    assert not any(words in message for words in PYDANTIC_WORDS)


class Checked(StartRequest):
    user_name: str = Field(alias="userName")

    @field_validator("user_name")
    @classmethod
    def _no_root(cls, value: str) -> str:
        if value == "root":
            raise TypeError("a validator that raises the wrong kind of error")
        if value == "admin":
            raise LookupError("any exception at all")
        return value


@pytest.mark.parametrize("name", ["root", "admin"])
def test_any_exception_a_validator_raises_is_a_400_naming_the_field(name: str) -> None:
    field, message = refusal(Checked, {"userName": name})
    assert field == "userName"
    assert message.startswith("userName is not valid")


def test_a_validator_exception_in_an_entity_input_names_the_field_under_the_input() -> None:
    with pytest.raises(RefusedRequest) as refused:
        validated_value(Checked, {"userName": "root"}, "body")
    assert refused.value.field == "body.userName"


def test_an_aliased_field_is_read_by_its_alias_from_the_body_and_the_query_and_stored_by_it() -> None:
    assert Checked.from_request({"userName": "ada"}, {}).orchestration_input() == {"userName": "ada"}
    assert Checked.from_request(None, {"userName": "ada"}).user_name == "ada"
    with pytest.raises(RefusedRequest) as refused:
        Checked.from_request(None, {"user_name": "ada"})
    assert (refused.value.field, refused.value.message) == ("userName", "userName is required")
    with pytest.raises(RefusedRequest) as both:
        Checked.from_request({"userName": "ada"}, {"userName": "bob"})
    assert both.value.field == "userName"


class Either(StartRequest):
    value: int | str = 1
    where: Line | list[Line] | None = None


@declared.orchestrator(request=Either)
def either_workflow(ctx: object, request: Either) -> None: ...


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"value": 1.5}, "value", "value must be a JSON integer or a string, got 1.5"),
        ({"where": 5}, "where", "where must be a JSON object or a JSON array, got 5"),
        ({"where": {"sku": 1}}, "where.sku", "where.sku must be a string, got 1"),
        ({"where": [{"sku": "a", "color": "red"}]}, "where[0].color", 'unknown field "color"'),
    ],
)
def test_an_error_inside_a_union_names_the_field_not_pydantic_s_member_tag(
    body: dict[str, Any], field: str, message: str
) -> None:
    assert refusal(Either, body) == (field, message)
