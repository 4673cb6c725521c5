"""The schemas of the declared workflows' inputs, generated from their request models and operation types.

A start route's body is its orchestrator's request model (pydantic's JSON Schema, with the shorthand form beside
the object); a batch entry is any of them; an entity signal's body is the input type of one of the declared
operations: a new workflow module documents itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import TypeAdapter
from pydantic.json_schema import CoreModeRef, DefsRef, GenerateJsonSchema

from durable_app.http.declarations import Schema
from durable_app.http.requests import MAX_BATCH_STARTS
from durable_app.workflows import workflows
from durable_app.workflows.registry import Entity, Orchestrator, Workflows
from durable_app.workflows.request_models import type_adapter

REF_TEMPLATE = "#/components/schemas/{model}"


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
    """The workflows' input schemas, and the model definitions they refer to (for ``components.schemas``).

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

    def start_input(self, declaration: Orchestrator) -> Schema:
        """One start's body, as the single route and each batch entry take it."""
        if declaration.request is None:
            return {}
        return declaration.request.request_schema(self._schemas[("start", declaration.name)])

    def batch_inputs(self) -> Schema:
        """A batch entry: the input of any declared orchestrator."""
        return {
            "type": "array",
            "maxItems": MAX_BATCH_STARTS,
            "items": {"anyOf": [self.start_input(item) for item in self._declared.orchestrators.values()]},
        }

    def operation_inputs(self) -> Schema:
        """An entity signal's body: the input of any declared operation."""
        entities = self._declared.entities.values()
        return {"anyOf": [self._operation_input(item, name) for item in entities for name in item.operations]}

    def _operation_input(self, declaration: Entity, name: str) -> Schema:
        kind = declaration.operations[name]
        if kind is None:
            return {"type": "null", "description": f"{declaration.name}.{name} takes no input."}
        schema = self._schemas[("op", declaration.name, name)]
        return {**schema, "description": f"The input of {declaration.name}.{name}."}


def query_parameters(body: Schema) -> list[Schema]:
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
