"""The OpenAPI description of the declared workflows, generated from their declarations.

Every declared orchestrator's start route takes its body schema from the request model (pydantic's JSON
Schema, with the shorthand form beside the object), the batch route lists the declared names, and the entity
routes list each entity's operations with their input types: a new workflow module documents itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import TypeAdapter
from pydantic.json_schema import CoreModeRef, DefsRef, GenerateJsonSchema

from durable_app.http.openapi.instances import TIMEOUT, started_answers
from durable_app.http.openapi.parts import (
    ISSUED_TOKEN,
    SCHEDULER_ERRORS,
    SENT_TOKEN,
    Schema,
    error_answer,
    json_answer,
    operation,
    optional_body,
    path_identifier,
    ref,
)
from durable_app.http.requests import MAX_BATCH_STARTS, MAX_BATCH_WORK_ITEMS
from durable_app.values import ID_PATTERN, MAX_PAGE_SIZE
from durable_app.workflows import workflows
from durable_app.workflows.registry import Entity, Orchestrator, Workflows
from durable_app.workflows.request_models import type_adapter

REF_TEMPLATE = "#/components/schemas/{model}"

KEY: Schema = {"type": "string", "pattern": ID_PATTERN}

_SCALARS = ("string", "integer", "number", "boolean")


class ComponentNames(GenerateJsonSchema):
    """Pydantic's schema generator, naming each model by its class name unless another model or one of the API's
    own schemas (``taken``) has that name: then by its module-qualified name (``orchestrations.a.Address``)."""

    taken: frozenset[str] = frozenset()

    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        defs_ref = super().get_defs_ref(core_mode_ref)
        choices = self._prioritized_defsref_choices[defs_ref]
        if choices[0] in self.taken:
            del choices[:2]  # the class name, and the class name with its mode: the module-qualified ones remain
        return defs_ref


class WorkflowSchemas:
    """The workflow paths, and the model definitions they refer to (for ``components.schemas``).

    Every declared input type is described by one generator, so two models of one name get distinct component
    names, and none takes a name in ``taken`` (the API's own schemas, such as ``Error``).
    """

    def __init__(self, taken: Iterable[str] = (), declared: Workflows = workflows) -> None:
        self._declared = declared
        generator = type("Names", (ComponentNames,), {"taken": frozenset(taken)})
        kinds = {("start", item.name): item.request for item in declared.orchestrators.values() if item.request}
        for entity in declared.entities.values():
            kinds |= {("op", entity.name, op): kind for op, kind in entity.operations.items() if kind is not None}
        schemas, definitions = TypeAdapter.json_schemas(
            [(key, "validation", type_adapter(kind)) for key, kind in kinds.items()],
            ref_template=REF_TEMPLATE,
            schema_generator=generator,
        )
        self.definitions: Schema = definitions.get("$defs", {})
        self._schemas = {key: self._inlined(schema) for (key, _), schema in schemas.items()}

    def _inlined(self, schema: Schema) -> Schema:
        """A top-level model's schema in place of its reference, as the operation's own body."""
        reference = schema.get("$ref", "")
        name = reference.removeprefix(REF_TEMPLATE.format(model=""))
        if not reference or name not in self.definitions:
            return schema
        return {**self.definitions[name], **{key: value for key, value in schema.items() if key != "$ref"}}

    def paths(self) -> Schema:
        paths: Schema = {}
        for declaration in self._declared.orchestrators.values():
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
        return declaration.request.request_schema(self._schemas[("start", declaration.name)])

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
            "items": {"anyOf": [self.start_input(item) for item in self._declared.orchestrators.values()]},
        }

    def _signal_entity(self) -> Schema:
        entities = list(self._declared.entities.values())
        op = {
            "name": "op",
            "in": "query",
            "required": True,
            "description": "The operation: " + "; ".join(_operations(item) for item in entities),
            "schema": {"type": "string", "enum": sorted(_all_operations())},
        }
        inputs = [self._operation_input(item, name) for item in entities for name in item.operations]
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
        kind = declaration.operations[name]
        if kind is None:
            return {"type": "null", "description": f"{declaration.name}.{name} takes no input."}
        schema = self._schemas[("op", declaration.name, name)]
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
    page = paged_answer(
        "One page of entities; `x-ms-continuation-token` is set when more follow.",
        {"type": "array", "items": ref("EntityEntry")},
    )
    responses = {
        "200": page,
        "400": error_answer("Bad input (`top`, a token this API did not issue); `field` names it."),
        "404": error_answer("No entity of that name; `field` is `name`."),
    }
    return operation(
        "List an entity's instances, a page at a time.",
        responses,
        parameters=[_entity_name(), *PAGE_PARAMETERS],
        errors=SCHEDULER_ERRORS,
    )


PAGE_PARAMETERS: list[Schema] = [
    {
        "name": "top",
        "in": "query",
        "required": False,
        "description": "The most entities in one page.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    },
    {
        "name": "x-ms-continuation-token",
        "in": "header",
        "required": False,
        "description": "The token the previous page answered with.",
        "schema": SENT_TOKEN,
    },
]
"""``top`` and the continuation header of an entity listing."""


def paged_answer(description: str, schema: Schema) -> Schema:
    """A 200 holding one page of a listing, with the next page's token in a header when one follows."""
    headers = {"x-ms-continuation-token": {"description": "Send it back for the next page.", "schema": ISSUED_TOKEN}}
    return {**json_answer(schema, description), "headers": headers}


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
