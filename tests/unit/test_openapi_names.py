"""OpenAPI component names: one per model, module-qualified where two models share a name or a model takes the
name of one of the API's own schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model

from durable_app.http import openapi_document
from durable_app.http.openapi.models import WorkflowSchemas
from durable_app.workflows import StartRequest
from durable_app.workflows.registry import Workflows


def model_in(module: str, name: str, base: type[BaseModel] = BaseModel, **fields: Any) -> type[BaseModel]:
    model = create_model(name, __base__=base, **fields)
    model.__module__ = module
    return model


HomeAddress = model_in("orchestrations.shipping", "Address", street=(str, ...))
WorkAddress = model_in("orchestrations.billing", "Address", vat_id=(str, ...))
UserError = model_in("orchestrations.billing", "Error", code_name=(str, ...))
ShipRequest = model_in("orchestrations.shipping", "ShipRequest", StartRequest, to=(HomeAddress, ...))
BillRequest = model_in(
    "orchestrations.billing", "BillRequest", StartRequest, to=(WorkAddress, ...), last=(UserError, ...)
)

declared = Workflows(packages=())


def ship(ctx: object, request: object) -> None: ...
def bill(ctx: object, request: object) -> None: ...


declared.orchestrator(request=ShipRequest)(ship)
declared.orchestrator(request=BillRequest)(bill)


def resolve(schemas: WorkflowSchemas, schema: dict[str, Any]) -> dict[str, Any]:
    return schemas.definitions[schema["$ref"].rsplit("/", 1)[-1]]


def test_two_models_of_one_name_get_two_components_each_route_referring_to_its_own() -> None:
    schemas = WorkflowSchemas(taken={"Error"}, declared=declared)
    ship_to = resolve(schemas, schemas.start_input(declared.orchestrators["ship"])["properties"]["to"])
    bill_to = resolve(schemas, schemas.start_input(declared.orchestrators["bill"])["properties"]["to"])
    assert set(ship_to["properties"]) == {"street"}
    assert set(bill_to["properties"]) == {"vat_id"}
    assert "Address" not in schemas.definitions


def test_a_model_named_like_an_api_schema_never_replaces_it() -> None:
    schemas = WorkflowSchemas(taken={"Error"}, declared=declared)
    last = schemas.start_input(declared.orchestrators["bill"])["properties"]["last"]
    assert last["$ref"] != "#/components/schemas/Error"
    assert set(resolve(schemas, last)["properties"]) == {"code_name"}
    assert "Error" not in schemas.definitions


def test_the_app_s_document_keeps_its_error_schema_and_short_names_where_unique() -> None:
    components = openapi_document()["components"]["schemas"]
    assert set(components["Error"]["properties"]) == {"error", "field"}
    assert not [name for name in components if "." in name]
