"""The OpenAPI 3.1 description of the HTTP API, served at ``GET /api/openapi.json``, generated from the routes.

Every operation comes from its route's declaration (``durable_app.http.declarations``): the parameters with the
schemas of the checks the handler runs, the body, and the answers, whose component schemas are generated from
their types (``durable_app.http.answers``). The workflow bodies come from the declared request models
(``durable_app.http.openapi.models``). What is written here is prose and the Functions host's quirks.
Every error answer has the one shape ``{"error": str, "field": str | null}``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from durable_app.http.answers import Error
from durable_app.http.declarations import DECLARED, Answer, Route, Schema
from durable_app.http.openapi.models import REF_TEMPLATE, WorkflowSchemas, query_parameters
from durable_app.http.parameters import ISSUED_TOKEN
from durable_app.http.requests import CONTINUATION_HEADER, MAX_BODY_BYTES

DESCRIPTION = (
    "Start the declared orchestrations, manage their instances, and signal and read the declared entities. Every "
    'error is {"error": "<message>", "field": "<request field or null>"}: every refusal of input (400, 404, 409, '
    "413) names its field; it is null only for answers about no one field (a missing function key, a scheduler "
    'fault). Numbers are JSON numbers: a JSON string such as "5" is refused where a number is expected. Routes '
    "other than /health and /openapi.json need a function key in Azure."
)

SHARED_ANSWERS = {
    401: "A function key is required (only where the host enforces keys).",
    413: f"The request body is larger than {MAX_BODY_BYTES} bytes.",
    502: "The scheduler answered with an unexpected error.",
    503: "The scheduler is unreachable.",
    504: "The scheduler did not answer in time.",
}
"""The answers a route shares with every route of its kind (``Route.shared``), described once."""

HEADERS: dict[str, Schema] = {
    "Location": {"description": "The instance's status URL.", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before polling again.", "schema": {"type": "string"}},
    CONTINUATION_HEADER: {"description": "Present when more follow: send it back for the next page.",
                          "schema": ISSUED_TOKEN.schema},
}  # fmt: skip

SECURITY_SCHEMES = {
    "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
    "functionKeyHeader": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
}
"""Routes at the FUNCTION auth level take the key as ``?code=`` or ``x-functions-key``."""

EMPTY_QUERY_VALUE: Schema = {"type": "string", "maxLength": 0, "description": "An empty value counts as none."}

_OPTIONAL_SEGMENT = re.compile(r"/\{(\w+)\?\}$")


def openapi_document(server_url: str | None = None) -> Schema:
    """The whole document; ``server_url`` (``scheme://host/api``) makes the operations callable as listed."""
    shapes = _answer_shapes()
    answer_schemas, components = _component_schemas(shapes)
    models = WorkflowSchemas(taken=components)
    paths: Schema = {}
    for route in DECLARED:
        for path, described in _operations(route, models, answer_schemas):
            paths.setdefault(path, {})[route.method.lower()] = described
    document: Schema = {
        "openapi": "3.1.0",
        "info": {"title": "Durable fan-out and counters", "version": "1.0.0", "description": DESCRIPTION},
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": {**components, **models.definitions}},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def _operations(route: Route, models: WorkflowSchemas, answer_schemas: dict[Any, Schema]) -> list[tuple[str, Schema]]:
    """The route's operation at its path; a trailing optional segment (``{instance_id?}``) is two paths, the
    Functions host's way of one route with and without it."""
    path = "/" + route.path
    optional = _OPTIONAL_SEGMENT.search(path)
    if optional is None:
        return [(path, _operation(route, models, answer_schemas, ()))]
    left_out = (optional.group(1),)
    return [
        (path[: optional.start()], _operation(route, models, answer_schemas, left_out)),
        (path.replace("?}", "}"), _operation(route, models, answer_schemas, ())),
    ]


def _operation(
    route: Route, models: WorkflowSchemas, answer_schemas: dict[Any, Schema], left_out: tuple[str, ...]
) -> Schema:
    described: Schema = {"summary": route.summary}
    if route.description:
        described["description"] = route.description
    parameters = [param.document() for param in route.params if param.name not in left_out]
    body = None if route.body is None else route.body.schema(models)
    if route.body is not None and route.body.query_fields:
        after_path = sum(parameter["in"] == "path" for parameter in parameters)
        parameters[after_path:after_path] = query_parameters(body)
    if parameters:
        described["parameters"] = [_admitting_empty(parameter) for parameter in parameters]
    if route.body is not None:
        described["requestBody"] = _body(route.body.description, body, required=route.body.required)
    answers = {str(answer.status): _answer(answer, answer_schemas) for answer in route.answers}
    shared = {str(code): _json(answer_schemas[Error], text) for code, text in SHARED_ANSWERS.items()}
    described["responses"] = {
        **answers,
        **{code: shared[code] for code in map(str, route.shared) if code not in answers},
    }
    described["security"] = [] if route.anonymous else [{"functionKeyQuery": []}, {"functionKeyHeader": []}]
    return described


def _body(description: str, schema: Schema, *, required: bool) -> Schema:
    """A required body as described; an optional one also takes the JSON literal ``null``, read as no body."""
    if not required:
        schema, description = {"anyOf": [schema, {"type": "null"}]}, f"{description} `null` is the same as no body."
    return {"required": required, "description": description, "content": {"application/json": {"schema": schema}}}


def _answer(answer: Answer, answer_schemas: dict[Any, Schema]) -> Schema:
    described = _json(answer_schemas[answer.shape], answer.description)
    if answer.headers:
        described["headers"] = {name: HEADERS[name] for name in answer.headers}
    return described


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _answer_shapes() -> list[Any]:
    return list(dict.fromkeys([Error, *(answer.shape for route in DECLARED for answer in route.answers)]))


def _component_schemas(shapes: list[Any]) -> tuple[dict[Any, Schema], Schema]:
    """Each answer type's schema (a reference to its component for a TypedDict) and the components themselves."""
    keyed = [(index, "serialization", TypeAdapter(shape)) for index, shape in enumerate(shapes)]
    schemas, definitions = TypeAdapter.json_schemas(keyed, ref_template=REF_TEMPLATE, schema_generator=_Untitled)
    components = {
        name: {k: v for k, v in schema.items() if k != "title"} for name, schema in definitions.get("$defs", {}).items()
    }
    return {shapes[index]: schema for (index, _), schema in schemas.items()}, components


class _Untitled(GenerateJsonSchema):
    """Pydantic's generator without a title on every field: the field's name says it (and a component's)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _admitting_empty(parameter: Schema) -> Schema:
    """The Functions host drops a query parameter whose value is empty (``?subject=`` is no ``subject``), so every
    query parameter admits the empty string beside its own schema."""
    schema = parameter["schema"]
    if parameter["in"] != "query":
        return parameter
    if _takes_any_text(schema):
        return {**parameter, "allowEmptyValue": True}
    return {**parameter, "allowEmptyValue": True, "schema": {"anyOf": [schema, EMPTY_QUERY_VALUE]}}


def _takes_any_text(schema: Schema) -> bool:
    constraints = ("minLength", "pattern", "enum", "const", "format")
    return schema.get("type") == "string" and not any(key in schema for key in constraints)
