"""The two anonymous routes: this process's health (its handler lives with the hosted worker, in
``function_app.py``) and the OpenAPI document."""

from __future__ import annotations

import azure.functions as func

from durable_app.http import answers
from durable_app.http.declarations import Answer, Given, Route
from durable_app.http.openapi import openapi_document
from durable_app.http.responses import api_base_url, json_response

bp = func.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)

HEALTH = Route(
    "GET",
    "health",
    "Health of this process's hosted worker.",
    answers=(
        Answer(200, "The hosted worker is connected to the scheduler (or disabled).", answers.Health),
        Answer(503, "The hosted worker is not connected.", answers.Health),
    ),
    shared=(),
    anonymous=True,
)

OPENAPI = Route(
    "GET",
    "openapi.json",
    "This OpenAPI document.",
    answers=(Answer(200, "This document.", answers.Document),),
    shared=(),
    anonymous=True,
)


@OPENAPI(bp)
async def openapi(req: func.HttpRequest, given: Given) -> func.HttpResponse:
    """The OpenAPI 3.1 document of this API, with this request's base URL as its server."""
    return json_response(openapi_document(api_base_url(req)))
