"""Every route's OpenAPI entry against the rules its handler enforces: parameters and their constraints, bodies,
status codes. A drift fails here, in the fast tier, before the slow contract test could notice it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import azure.functions as func
import jsonschema_rs
import pytest
from pydantic import TypeAdapter

from durable_app.http import openapi_document
from durable_app.http.declarations import DECLARED, Param, Route
from durable_app.http.paging import CONTINUATION_PATTERN, INSTANCE_LISTING, api_token
from durable_app.http.requests import CONTINUATION_HEADER
from durable_app.http.responses import management_urls
from durable_app.values import (
    BOOLEAN_WORDS,
    ID_RULE,
    MAX_PAGE_SIZE,
    MAX_REASON_LENGTH,
    MAX_TOKEN_LENGTH,
    RefusedRequest,
    continuation_token,
    existing_instance_id,
    identifier,
    page_size,
    reason,
)
from durable_app.workflows import Amount

DOCUMENT = openapi_document()
METHODS = ("get", "post", "put", "delete", "patch")


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def parameters(name: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every parameter ``name`` in ``where`` (query, header, path) of every operation, with its path."""
    return [
        (path, parameter)
        for path, _, described in operations()
        for parameter in described.get("parameters", [])
        if (parameter["name"], parameter["in"]) == (name, where)
    ]


def own_schema(parameter: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without the empty value the Functions host drops."""
    schema = parameter["schema"]
    return schema["anyOf"][0] if "anyOf" in schema else schema


def properties_named(name: str, node: Any) -> Iterator[dict[str, Any]]:
    """Every schema of a property ``name`` anywhere under ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and name in node["properties"]:
            yield node["properties"][name]
        for value in node.values():
            yield from properties_named(name, value)
    elif isinstance(node, list):
        for value in node:
            yield from properties_named(name, value)


def test_every_path_parameter_of_a_template_is_declared_once() -> None:
    for path, method, described in operations():
        declared = [p["name"] for p in described.get("parameters", []) if p["in"] == "path"]
        assert declared == re.findall(r"\{(\w+)\}", path), f"{method.upper()} {path}"


def path_parser(path: str, name: str) -> Callable[[Any], object]:
    """The check the handler of ``path`` applies to its path parameter ``name``."""
    if name == "instance_id" and path.startswith("/instances/"):
        return existing_instance_id
    return lambda value: identifier(value, name)


IDS = ["a", "a" * 100, "a" * 101, "a" * 256, "a" * 257, "-a", "a b", "a/b", "@counter@k", "a:b.c_d-e", "é"]


@pytest.mark.parametrize("name", ["instance_id", "key", "event_name"])
def test_path_identifier_patterns_are_the_rules_the_handlers_check(name: str) -> None:
    found = parameters(name, "path")
    assert found
    for path, parameter in found:
        parse = path_parser(path, name)
        for value in IDS:
            try:
                parse(value)
                accepted = True
            except RefusedRequest:
                accepted = False
            documented = re.fullmatch(parameter["schema"]["pattern"], value) is not None
            assert documented == accepted, f"{path} {name}={value!r}"


def test_every_continuation_token_header_is_the_token_the_api_issues_and_checks() -> None:
    sent = parameters(CONTINUATION_HEADER, "header")
    answered = [
        (path, answer["headers"][CONTINUATION_HEADER])
        for path, _, described in operations()
        for answer in described["responses"].values()
        if CONTINUATION_HEADER in answer.get("headers", {})
    ]
    assert (
        {path for path, _ in sent} == {path for path, _ in answered} == {"/instances", "/entities/{name}", "/counters"}
    )
    issued = [
        api_token("after:@counter@" + "k" * 100, "entities:@counter@"),
        api_token("after:@loyalty@a:b.c", "entities:@loyalty@"),
        api_token("instance\nwith é" + "x" * 256, INSTANCE_LISTING),
    ]
    for path, header in [*sent, *answered]:
        for token in issued:
            assert re.fullmatch(header["schema"]["pattern"], token), (path, token)
            assert len(token) <= MAX_TOKEN_LENGTH
    for path, parameter in sent:
        assert parameter["schema"]["maxLength"] == MAX_TOKEN_LENGTH, path
        assert re.fullmatch(parameter["schema"]["pattern"], ""), f"{path}: an empty header counts as none"
        assert not re.fullmatch(parameter["schema"]["pattern"], "after:@counter@k"), path
    for path, header in answered:
        assert header["schema"]["pattern"] == CONTINUATION_PATTERN, path
    assert continuation_token("", CONTINUATION_HEADER) is None


def test_every_top_is_the_page_size_the_handlers_take() -> None:
    found = parameters("top", "query")
    assert {path for path, _ in found} == {"/instances", "/entities/{name}", "/counters"}
    for path, parameter in found:
        schema = own_schema(parameter)
        assert (schema["type"], schema["minimum"], schema["maximum"]) == ("integer", 1, MAX_PAGE_SIZE), path
    assert page_size(str(MAX_PAGE_SIZE), None) == MAX_PAGE_SIZE
    for refused in ("0", str(MAX_PAGE_SIZE + 1), "9" * 5000):
        with pytest.raises(RefusedRequest):
            page_size(refused, None)


def test_every_reason_in_a_query_or_a_body_has_the_reasons_limit() -> None:
    queries = parameters("reason", "query")
    bodies = [
        (path, schema)
        for path, _, described in operations()
        for schema in properties_named("reason", described.get("requestBody", {}))
        if path.startswith("/instances")  # an entity operation's own model may name a field reason
    ]
    actions = {f"/instances/{{instance_id}}/{action}" for action in ("terminate", "suspend", "resume", "rewind")}
    assert {path for path, _ in queries} == {path for path, _ in bodies} == actions
    for path, schema in [*((path, own_schema(p)) for path, p in queries), *bodies]:
        assert schema == {"type": "string", "maxLength": MAX_REASON_LENGTH}, path
    assert reason("r" * MAX_REASON_LENGTH) == "r" * MAX_REASON_LENGTH
    with pytest.raises(RefusedRequest):
        reason("r" * (MAX_REASON_LENGTH + 1))


def test_every_counter_amount_is_the_amount_model() -> None:
    amount = TypeAdapter(Amount).json_schema()
    signal = DOCUMENT["paths"]["/counters/{key}/{operation}"]["post"]
    batch = DOCUMENT["paths"]["/batch/signals"]["post"]
    found = [
        *(own_schema(p) for _, p in parameters("amount", "query") if _ == "/counters/{key}/{operation}"),
        *properties_named("amount", signal["requestBody"]),
        *(schema["anyOf"][0] for schema in properties_named("amount", batch["requestBody"])),
    ]
    assert len(found) == 3
    assert all(schema == amount for schema in found), found


def test_the_management_urls_schema_is_the_payload_a_start_answers() -> None:
    request = func.HttpRequest("POST", "http://localhost:7071/api/orchestrators/x", body=b"")
    schema = DOCUMENT["components"]["schemas"]["ManagementUrls"]
    assert schema["required"] == list(schema["properties"]) == list(management_urls(request, "an-id"))


def test_anonymous_routes_document_no_key_or_body_errors_and_health_keeps_its_own_503() -> None:
    for path in ("/health", "/openapi.json"):
        described = DOCUMENT["paths"][path]["get"]
        assert described["security"] == []
        assert not {"401", "413"} & set(described["responses"]), path
    unhealthy = DOCUMENT["paths"]["/health"]["get"]["responses"]["503"]
    assert unhealthy["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}


def test_the_id_rule_is_worded_once_for_routes_and_request_models() -> None:
    with pytest.raises(RefusedRequest) as refused:
        identifier("a b", "entity_key")
    assert refused.value.message == f'entity_key must be {ID_RULE}, got the string "a b"'


PROBES = (
    *IDS,
    *BOOLEAN_WORDS,
    *("TRUE", "True", "tRue", " true", "0", "1", "-1", "+7", "01", "2.5", "2.1234567", "120", "1000", "1001"),
    *("9" * 20, "1e3", "1_0", "nan", "inf", "\u0661", "abc", " ", " 5", "{text}", "r" * 1000, "r" * 1001),
    *("Running", "Running,Failed", "running", "Running,", "Pending,Completed,Terminated"),
    *("2026-01-31", "2026-01-31T08:00:00.5Z", "2026-01-31T08:00+02:00", "31/01/2026", "2026-13-01", "2026-01-31T24:00"),
    *(api_token("after:@counter@k", "entities:@counter@"), "after:@counter@k", "t" * 1001),
)
"""Values sent as path, query and header text: each declared parameter must accept exactly what it documents."""


INTEGER_TEXT = re.compile(r"-?[0-9]+")
NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _as_sent(text: str, schema: dict[str, Any]) -> Any:
    """The value ``text`` stands for where the document says ``schema``: a number only where it says number and
    the text is decimal digits (whole where it says integer), as clients write one in a URL."""
    form = {"integer": INTEGER_TEXT, "number": NUMBER_TEXT}.get(schema.get("type", ""))
    if form is None or not form.fullmatch(text):
        return text
    return int(text) if form is INTEGER_TEXT else float(text)


def declared_params() -> list[tuple[Route, Param]]:
    return [(route, param) for route in DECLARED for param in route.params]


@pytest.mark.parametrize(("route", "param"), declared_params(), ids=lambda item: getattr(item, "name", None))
def test_every_declared_parameter_accepts_exactly_what_its_schema_documents(route: Route, param: Param) -> None:
    validator = jsonschema_rs.validator_for(param.kind.schema)
    for text in PROBES:
        try:
            param.kind.read(text, param.name)
            accepted = True
        except RefusedRequest as refused:
            assert refused.field == param.name, (route.path, text)
            accepted = False
        documented = validator.is_valid(_as_sent(text, param.kind.schema))
        assert accepted == documented, f"{route.method} {route.path} {param.name}={text!r}"


def test_the_document_is_the_declarations() -> None:
    """Every declared route is in the document with its parameters (as declared, an empty query value admitted) and
    answers, and nothing else is."""
    documented = {(path, method) for path, method, _ in operations()}
    expected = set()
    for route in DECLARED:
        path = "/" + route.path
        for variant in [path.replace("/{instance_id?}", ""), path.replace("?}", "}")] if "?}" in path else [path]:
            expected.add((variant, route.method.lower()))
            described = DOCUMENT["paths"][variant][route.method.lower()]
            declared = {
                (p.name, p.where): p.kind.schema for p in route.params if f"{{{p.name}" in variant or p.where != "path"
            }
            found = {(p["name"], p["in"]): own_schema(p) for p in described.get("parameters", [])}
            assert {key: found[key] for key in declared} == declared, variant
            assert {str(answer.status) for answer in route.answers} <= set(described["responses"]), variant
            assert ("requestBody" in described) == (route.body is not None), variant
    assert documented == expected
