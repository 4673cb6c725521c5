"""The OpenAPI description of the declared workflows, generated from their declarations.

Every declared orchestrator's start route takes its body schema from the request model (pydantic's JSON
Schema, with the shorthand form beside the object), the batch route lists the declared names, and the entity
routes list each entity's operations with their input types: a new workflow module documents itself.
"""

from __future__ import annotations

from durable_app.http_requests import ID_PATTERN, MAX_BATCH_STARTS, MAX_BATCH_WORK_ITEMS, MAX_PAGE_SIZE
from durable_app.openapi_instances import TIMEOUT, started_answers
from durable_app.openapi_parts import (
    COMMON_ERRORS,
    SCHEDULER_ERRORS,
    Schema,
    error_answer,
    json_answer,
    operation,
    optional_body,
    path_identifier,
    ref,
)
from durable_app.registry import Entity, Orchestrator, workflows

REF_TEMPLATE = "#/components/schemas/{model}"

KEY: Schema = {"type": "string", "pattern": ID_PATTERN}

_SCALARS = ("string", "integer", "number", "boolean")


class WorkflowSchemas:
    """The workflow paths, and the model definitions they refer to (for ``components.schemas``)."""

    def __init__(self) -> None:
        self.definitions: Schema = {}

    def paths(self) -> Schema:
        paths: Schema = {}
        for declaration in workflows.orchestrators.values():
            route = f"/orchestrators/{declaration.name}"
            paths[route] = self._start(declaration, path_id=False)
            paths[route + "/{instance_id}"] = self._start(declaration, path_id=True)
        paths["/entities/{name}/{key}"] = {"post": self._signal_entity(), "get": _get_entity()}
        paths["/entities/{name}"] = {"get": _list_entities()}
        return paths

    def start_input(self, declaration: Orchestrator) -> Schema:
        """One start's body, as the single route and each batch entry take it."""
        if declaration.request is None:
            return {}
        schema, definitions = declaration.request.request_schema(REF_TEMPLATE)
        self.definitions.update(definitions)
        return schema

    def _start(self, declaration: Orchestrator, path_id: bool) -> Schema:
        parameters = _query_parameters(self.start_input(declaration))
        if path_id:
            parameters.insert(0, path_identifier("instance_id", "A caller-chosen id, reusable once it finished."))
        body = optional_body(
            self.start_input(declaration),
            f"The input of `{declaration.name}`. Without a body, its fields may be given as query parameters.",
        )
        parameters.append(TIMEOUT)
        responses = {
            **started_answers(),
            "400": error_answer("Bad input; `field` names it (`items[3]`)."),
            "409": error_answer("An instance with this id is still running; `field` is `instance_id`."),
        }
        summary = f"Start {declaration.name}: {declaration.summary}"
        return {"post": operation(summary, responses, parameters=parameters, body=body)}

    def batch_inputs(self) -> Schema:
        """A batch entry: the input of any declared orchestrator."""
        return {
            "type": "array",
            "maxItems": MAX_BATCH_STARTS,
            "items": {"anyOf": [self.start_input(item) for item in workflows.orchestrators.values()]},
        }

    def _signal_entity(self) -> Schema:
        op = {
            "name": "op",
            "in": "query",
            "required": True,
            "description": "The operation: " + "; ".join(_operations(item) for item in workflows.entities.values()),
            "schema": {"type": "string", "enum": sorted(_all_operations())},
        }
        inputs = [self._operation_input(item, name) for item in workflows.entities.values() for name in item.operations]
        body = optional_body({"anyOf": inputs}, "The operation's input, as its entity declares it.")
        responses = {
            "202": json_answer(ref("EntitySignal"), "The signal was queued."),
            "400": error_answer("Bad input (an unknown operation, a bad input); `field` names it."),
            "404": error_answer("No entity of that name; `field` is `name`."),
        }
        return operation(
            "Signal an operation on an entity.", responses, parameters=[_entity_name(), _key(), op], body=body
        )

    def _operation_input(self, declaration: Entity, name: str) -> Schema:
        adapter = declaration.operations[name]
        if adapter is None:
            return {"type": "null", "description": f"{declaration.name}.{name} takes no input."}
        schema = adapter.json_schema(ref_template=REF_TEMPLATE)
        self.definitions.update(schema.pop("$defs", {}))
        return {**schema, "description": f"The input of {declaration.name}.{name}."}


def batch_start_description() -> str:
    return (
        f"Up to {MAX_BATCH_STARTS} inputs, each as the orchestrator's single start takes its body (`null` for "
        f"none), at most {MAX_BATCH_WORK_ITEMS} fan-out work items in all. Optional `instance_ids`: one per input, "
        "in the same order, null for a generated one."
    )


def orchestrator_names() -> list[str]:
    return list(workflows.orchestrators)


def _query_parameters(body: Schema) -> list[Schema]:
    """The body's scalar fields, which a request without a body may give in the query string."""
    model = next((schema for schema in body.get("anyOf", [body]) if schema.get("type") == "object"), {})
    parameters = []
    for name, schema in model.get("properties", {}).items():
        if _is_scalar(schema):
            parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    return parameters


def _is_scalar(schema: Schema) -> bool:
    kinds = [option.get("type") for option in schema.get("anyOf", [schema])]
    return any(kind in _SCALARS for kind in kinds) and all(kind in (*_SCALARS, "null") for kind in kinds)


def _all_operations() -> set[str]:
    return {name for item in workflows.entities.values() for name in item.operations}


def _operations(declaration: Entity) -> str:
    return f"{declaration.name}: {', '.join(declaration.operations)}"


def _entity_name() -> Schema:
    return {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The entity's name.",
        "schema": {"type": "string", "enum": list(workflows.entities)},
    }


def _key() -> Schema:
    return path_identifier("key", "The entity's key.")


def _get_entity() -> Schema:
    responses = {
        "200": json_answer({}, "The entity's state, as it stores it."),
        "400": error_answer("Bad input; `field` names it."),
        "404": error_answer("No entity of that name (`field` is `name`), or no state yet (`field` is `key`)."),
    }
    return operation("An entity's state.", responses, parameters=[_entity_name(), _key()], errors=SCHEDULER_ERRORS)


def _list_entities() -> Schema:
    top = {
        "name": "top",
        "in": "query",
        "required": False,
        "description": "The most entities in one page.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    }
    continuation = {
        "name": "x-ms-continuation-token",
        "in": "header",
        "required": False,
        "description": "The token the previous page answered with.",
        "schema": {"type": "string"},
    }
    page = {
        "description": "One page of entities; `x-ms-continuation-token` is set when more follow.",
        "headers": {"x-ms-continuation-token": {"description": "Send it back for the next page.", "schema": KEY}},
        "content": {"application/json": {"schema": {"type": "array", "items": ref("EntityEntry")}}},
    }
    responses = {
        "200": page,
        "400": error_answer("Bad input (`top`, a token this API did not issue); `field` names it."),
        "404": error_answer("No entity of that name; `field` is `name`."),
    }
    return operation(
        "List an entity's instances, a page at a time.",
        responses,
        parameters=[_entity_name(), top, continuation],
        errors={code: COMMON_ERRORS[code] for code in ("401", "502", "503", "504")},
    )


def entity_schemas() -> Schema:
    text: Schema = {"type": "string"}
    entity_id = {"type": "object", "required": ["name", "key"], "properties": {"name": text, "key": text}}
    return {
        "EntitySignal": {
            "type": "object",
            "required": ["name", "key", "operation"],
            "properties": {"name": text, "key": text, "operation": text},
        },
        "EntityEntry": {
            "type": "object",
            "required": ["entityId", "lastOperationTime", "state"],
            "properties": {
                "entityId": entity_id,
                "lastOperationTime": {"type": "string", "format": "date-time"},
                "state": {},
            },
        },
    }
