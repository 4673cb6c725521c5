"""Start routes for every declared orchestrator, one by one or in batches, generated from the declarations.

Each orchestrator gets ``POST /api/orchestrators/<name>/{instance_id?}``, a function named
``start_<name>``, whose body is validated against the orchestrator's request model before anything reaches
the scheduler; ``POST /api/batch/orchestrators/{name}`` starts many of any declared orchestrator.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import azure.functions as func
from durabletask.internal.orchestrator_service_pb2 import OrchestrationIdReusePolicy

from durable_app.http import answers
from durable_app.http import requests as inputs
from durable_app.http.batch import send_batch
from durable_app.http.completion import completion_or_check_status
from durable_app.http.declarations import Answer, Body, Given, Kind, Param, Route, Schema
from durable_app.http.errors import batch_failure
from durable_app.http.parameters import ID, TIMEOUT
from durable_app.http.responses import json_response, management_urls
from durable_app.scheduler import TERMINAL, shared_client
from durable_app.telemetry import ATTR_INSTANCE_ID, ATTR_NAME, annotate
from durable_app.values import RefusedRequest, optional_identifier
from durable_app.workflows import StartRequest, workflows
from durable_app.workflows.registry import Orchestrator

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from durable_app.http.openapi.models import WorkflowSchemas

bp = func.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)

REUSE_FINISHED_IDS = OrchestrationIdReusePolicy(replaceableStatus=[status.value for status in TERMINAL])
"""A caller-chosen id may be reused once its instance has finished; while it runs, a second start is 409."""


def orchestration_input(declaration: Orchestrator, body: Any, params: Any) -> Any:
    """What the orchestrator receives: the validated request model's input, or the body as sent."""
    if declaration.request is None:
        return body
    return declaration.request.from_request(body, params).orchestration_input()


CHOSEN_ID = Param(
    "instance_id",
    "path",
    Kind(ID.schema, optional_identifier),
    "A caller-chosen id, reusable once it finished.",
)


def start_route(declaration: Orchestrator) -> Route:
    """``POST /orchestrators/<name>/{instance_id?}``: the body (or query fields) checked by the request model."""
    return Route(
        "POST",
        f"orchestrators/{declaration.name}/{{instance_id?}}",
        f"Start {declaration.name}: {declaration.summary}",
        (CHOSEN_ID, TIMEOUT),
        Body(
            f"The input of `{declaration.name}`. Without a body, its fields may be given as query parameters.",
            lambda body, req, _: orchestration_input(declaration, body, req.params),
            lambda schemas: schemas.start_input(declaration),
            query_fields=True,
        ),
        (
            *answers.STARTED,
            Answer(400, "Bad input; `field` names it (`items[3]`).", answers.Error),
            Answer(409, "An instance with this id is still running; `field` is `instance_id`.", answers.Error),
        ),
        subject="instance_id",
    )


async def start_instance(req: func.HttpRequest, given: Given, declaration: Orchestrator) -> func.HttpResponse:
    """Schedule the instance, answer 202 with its management URLs (or, with ``?timeout=``, 200 with its status if
    it finishes within that time)."""
    # The id is chosen here, not by the SDK: durabletask 1.12 tags its create_orchestration span with an id of
    # its own when none is given, so the span would name an instance that does not exist.
    instance_id = await shared_client().schedule_new_orchestration(
        declaration.name,
        input=given["body"],
        instance_id=given["instance_id"] or uuid.uuid4().hex,
        reuse_id_policy=REUSE_FINISHED_IDS,
    )
    annotate({ATTR_INSTANCE_ID: instance_id, ATTR_NAME: declaration.name})
    logger.info("Started %s instance %s", declaration.name, instance_id)
    return await completion_or_check_status(req, instance_id, given["timeout"])


def _start_trigger(declaration: Orchestrator) -> Callable[[func.HttpRequest, Given], Awaitable[func.HttpResponse]]:
    async def start(req: func.HttpRequest, given: Given) -> func.HttpResponse:
        return await start_instance(req, given, declaration)

    start.__name__ = start.__qualname__ = f"start_{declaration.name}"
    start.__doc__ = f"Start ``{declaration.name}``: {declaration.summary}"
    return start


def add_start_routes(blueprint: func.Blueprint) -> None:
    """One start route per declared orchestrator."""
    for declaration in workflows.orchestrators.values():
        start_route(declaration)(blueprint)(_start_trigger(declaration))


add_start_routes(bp)


def _start_batch_schema(schemas: WorkflowSchemas) -> Schema:
    ids = {"type": "array", "maxItems": inputs.MAX_BATCH_STARTS, "items": {"anyOf": [ID.schema, {"type": "null"}]}}
    properties = {"inputs": schemas.batch_inputs(), "instance_ids": ids}
    return {"type": "object", "required": ["inputs"], "properties": properties, "additionalProperties": False}


START_BATCH = Route(
    "POST",
    "batch/orchestrators/{name}",
    "Start many instances of one orchestration in one request.",
    (
        Param(
            "name",
            "path",
            Kind({"type": "string", "enum": list(workflows.orchestrators)}, lambda raw, _: _declared(raw)),
            "The orchestration to start.",
        ),
    ),
    Body(
        f"Up to {inputs.MAX_BATCH_STARTS} inputs, each as the orchestrator's single start takes its body (`null` for "
        f"none), at most {inputs.MAX_BATCH_WORK_ITEMS} fan-out work items in all. Optional `instance_ids`: one per "
        "input, in the same order, null for a generated one.",
        lambda body, _, given: start_batch(given["name"], body),
        _start_batch_schema,
        required=True,
    ),
    (
        Answer(202, "Every instance was started.", answers.StartsQueued),
        Answer(
            400, "Bad input, nothing started; `field` names it (`inputs[2].count`, `instance_ids[1]`).", answers.Error
        ),
        Answer(404, "No orchestration of that name; `field` is `name`.", answers.Error),
        *answers.batch_failures(
            answers.StartBatchFailure,
            "A chosen id is taken by a running instance; `field` names it (`instance_ids[1]`).",
        ),
    ),
    shared=answers.BATCH_SHARED,
    description=answers.BATCH_RULES.replace("signals[3].amount", "inputs[3].count"),
)


@START_BATCH(bp)
async def start_orchestrations(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """Start up to 500 instances of one orchestration: all validated first, then started concurrently."""
    declaration, starts = given["name"], given["body"]
    ids = [instance_id or uuid.uuid4().hex for _, instance_id in starts]
    client = shared_client()
    calls = [
        functools.partial(
            client.schedule_new_orchestration,
            declaration.name,
            input=start_input,
            instance_id=instance_id,
            reuse_id_policy=REUSE_FINISHED_IDS,
        )
        for (start_input, _), instance_id in zip(starts, ids, strict=True)
    ]
    outcome = await send_batch(calls)
    annotate({ATTR_NAME: declaration.name})
    instances = [_instance_urls(req, instance_id) for instance_id in ids]
    if outcome.error is not None:
        return batch_failure(outcome, "instance_ids", {"instances": instances})
    logger.info("Started %d %s instances", len(ids), declaration.name)
    return json_response({"count": len(ids), "instances": instances}, status=202)


def _declared(name: str | None) -> Orchestrator:
    declaration = workflows.orchestrators.get(name or "")
    if declaration is None:
        choices = ", ".join(workflows.orchestrators)
        raise RefusedRequest("name", f'no orchestration named "{name}"; use one of {choices}', status=404)
    return declaration


def start_batch(declaration: Orchestrator, body: Any) -> list[tuple[Any, str | None]]:
    """``{"inputs": [...], "instance_ids": [...]}``: each input as the single start takes its body.

    Every entry is validated before any is started; ``instance_ids`` is optional, one id (or ``null`` for a
    generated one) per input. The fan-out work items of all entries together are capped.
    """
    entries = inputs.batch_list(body, "inputs", inputs.MAX_BATCH_STARTS, optional=("instance_ids",))
    models = [_batch_entry(declaration, entry, f"inputs[{index}]") for index, entry in enumerate(entries)]
    work_items = sum(model.work_items() for model in models if isinstance(model, StartRequest))
    if work_items > inputs.MAX_BATCH_WORK_ITEMS:
        raise RefusedRequest(
            "inputs",
            f"inputs hold {work_items} work items in all; the maximum per batch is {inputs.MAX_BATCH_WORK_ITEMS}",
        )
    ids = inputs.batch_instance_ids(body.get("instance_ids"), len(models))
    start_inputs = [model.orchestration_input() if isinstance(model, StartRequest) else model for model in models]
    return list(zip(start_inputs, ids, strict=True))


def _batch_entry(declaration: Orchestrator, entry: Any, field: str) -> Any:
    """One batch input; a refusal inside an entry given in shorthand is named from the entry (``inputs[1][3]``)."""
    model = declaration.request
    if model is None:
        return entry
    try:
        return model.from_json(entry)
    except RefusedRequest as error:
        inner = error.field or "body"
        if model.shorthand and not isinstance(entry, dict) and inner.startswith(model.shorthand):
            inner = inner.removeprefix(model.shorthand)
        elif inner != "body":
            inner = f".{inner}"
        else:
            inner = ""
        raise RefusedRequest(f"{field}{inner}", f"{field}: {error.message}", error.status) from None


def _instance_urls(req: func.HttpRequest, instance_id: str) -> dict[str, str]:
    urls = management_urls(req, instance_id)
    return {"id": instance_id, "statusQueryGetUri": urls["statusQueryGetUri"]}
