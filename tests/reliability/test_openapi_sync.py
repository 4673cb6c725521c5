"""The OpenAPI document lists exactly the routes and methods the Function App registers."""

from __future__ import annotations

import re
from types import ModuleType

import azure.functions as func

from durable_app.http import openapi_document
from durable_app.http.host_config import route_prefix
from local_stack.functions_host import registered_functions

BATCH_FAILURES = ["BatchFailure", "StartBatchFailure"]
"""What a batch answers when the scheduler fails part-way: which entries were queued, and which not."""

_OPTIONAL = re.compile(r"/\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\?\}$")


def documented_operations() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {(path, method.upper()) for path, item in paths.items() for method in item}


def registered_operations(app: func.FunctionApp) -> set[tuple[str, str]]:
    """Each HTTP trigger's route as OpenAPI paths: ``x/{id?}`` is both ``/x`` and ``/x/{id}``."""
    operations = set()
    for function in registered_functions(app):
        trigger = function.get_trigger()
        route = "/" + (trigger.route or function.get_function_name()).strip("/")
        optional = _OPTIONAL.search(route)
        paths = [route] if optional is None else [route[: optional.start()], _OPTIONAL.sub(r"/{\g<name>}", route)]
        methods = [str(getattr(method, "value", method)).upper() for method in trigger.methods]
        operations |= {(path, method) for path in paths for method in methods}
    return operations


def test_every_registered_route_is_documented_and_nothing_else(app_module: ModuleType) -> None:
    registered = registered_operations(app_module.app)
    assert ("/orchestrators/counter_workflow", "POST") in registered  # optional segments expand to both forms
    assert documented_operations() == registered


def test_documented_base_path_is_the_route_prefix() -> None:
    assert openapi_document("http://host/api")["servers"] == [{"url": "http://host/api"}]
    assert route_prefix() == "api"


def test_every_operation_documents_the_error_shape_for_its_refusals() -> None:
    document = openapi_document()
    assert document["components"]["schemas"]["Error"] == {
        "type": "object",
        "required": ["error", "field"],
        "properties": {"error": {"type": "string"}, "field": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
        "additionalProperties": False,
    }
    schemas = document["components"]["schemas"]
    for name in BATCH_FAILURES:  # the error shape plus the lists, so any client reading errors reads these too
        assert {"error", "field"} <= set(schemas[name]["required"])
        assert schemas[name]["properties"]["field"] == schemas["Error"]["properties"]["field"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path != "/health":
                    schema = response["content"]["application/json"]["schema"]
                    allowed = ["Error"]
                    if path.startswith("/batch/") and status in ("409", "429", "502", "503", "504"):
                        allowed = BATCH_FAILURES
                    if (path, status) == ("/instances/{instance_id}", "500"):  # returnInternalServerErrorOnFailure
                        allowed = ["InstanceStatus"]
                    assert schema in [{"$ref": f"#/components/schemas/{name}"} for name in allowed], (
                        method,
                        path,
                        status,
                    )


def test_the_document_is_the_same_however_often_it_is_built() -> None:
    """Building it must not change the parts documents share (a query parameter wrapped twice, say)."""
    first = openapi_document()
    assert openapi_document() == first
    assert openapi_document("http://host/api")["paths"] == first["paths"]
