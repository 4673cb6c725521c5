"""Each route declared once: its path, parameters, body and answers, read by its handler and its OpenAPI entry.

A :class:`Route` registers its handler as the Azure Functions HTTP trigger it always was, reads and checks every
declared parameter and the body before the handler runs (a refusal is the usual 400 naming the field), and hands
the handler what was given. ``durable_app.http.openapi`` describes each route from the same declaration, so a
parameter, a limit or an answer cannot be documented one way and enforced another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import azure.functions as func

from durable_app.http.errors import api_errors
from durable_app.http.requests import json_body
from durable_app.http.tracing import traced_request
from durable_app.values import RefusedRequest

if TYPE_CHECKING:
    from durable_app.http.openapi.models import WorkflowSchemas

Schema = dict[str, Any]

Given = dict[str, Any]
"""What a request gave, read and checked: each declared parameter by its name, and the body as ``"body"``."""

Handler = Callable[[func.HttpRequest, Given], Awaitable[func.HttpResponse]]


@dataclass(frozen=True)
class Kind:
    """A kind of value in a path, query or header: how the handler reads it and how the document describes it.

    ``read`` takes the text as sent and the parameter's name (for the refusal) and answers the value.
    """

    schema: Schema
    read: Callable[[str, str], Any]


_SOURCES = {"path": "route_params", "query": "params", "header": "headers"}
"""Where each kind of parameter is on a request: only that one is read."""


@dataclass(frozen=True)
class Param:
    """A path, query or header parameter; an absent optional one reads as ``default``."""

    name: str
    where: Literal["path", "query", "header"]
    kind: Kind
    description: str = ""
    required: bool = False
    default: Any = None

    def read(self, req: func.HttpRequest) -> Any:
        raw = getattr(req, _SOURCES[self.where]).get(self.name)
        if raw is None:
            if self.required and self.where != "path":
                choices = self.kind.schema.get("enum")
                raise RefusedRequest(
                    self.name, f"{self.name} is required" + (f": one of {', '.join(choices)}" if choices else "")
                )
            return self.default
        return self.kind.read(raw, self.name)

    def document(self) -> Schema:
        described = {"name": self.name, "in": self.where, "required": self.required or self.where == "path"}
        if self.description:
            described["description"] = self.description
        return {**described, "schema": self.kind.schema}


@dataclass(frozen=True)
class Body:
    """A JSON body: ``read`` turns the decoded body (``None`` when empty), the request and what its parameters gave
    into the handler's ``given["body"]``; ``schema`` describes it from the app's declared workflows."""

    description: str
    read: Callable[[Any, func.HttpRequest, Given], Any]
    schema: Callable[[WorkflowSchemas], Schema]
    required: bool = False
    query_fields: bool = False
    """Without a body, the body's scalar fields may be given in the query string (a start's request model)."""


@dataclass(frozen=True)
class Answer:
    """One answer of a route: its status, its meaning, and its body's type (a TypedDict, a list of one, or Any)."""

    status: int
    description: str
    shape: Any = None
    headers: tuple[str, ...] = ()


@dataclass
class Route:
    """One HTTP trigger's declaration. Calling it with a blueprint (or the app) registers the handler under it.

    ``subject`` is what a scheduler refusal is about (``api_errors``); ``shared`` the status codes of the answers
    every route of its kind gives (a missing key, a large body, scheduler faults) besides its own.
    """

    method: str
    path: str
    summary: str
    params: tuple[Param, ...] = ()
    body: Body | None = None
    answers: tuple[Answer, ...] = ()
    subject: str = "body"
    shared: tuple[int, ...] = (401, 413, 502, 503, 504)
    description: str = ""
    anonymous: bool = False

    def __post_init__(self) -> None:
        DECLARED.append(self)

    def read(self, req: func.HttpRequest) -> Given:
        """Every parameter, then the body, checked in their declared order: the first refusal is the answer."""
        given: Given = {param.name: param.read(req) for param in self.params}
        if self.body is not None:
            given["body"] = self.body.read(json_body(req), req, given)
        return given

    def __call__(self, registrar: func.Blueprint | func.FunctionApp) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            async def trigger(req: func.HttpRequest) -> func.HttpResponse:
                return await handler(req, self.read(req))

            # The host binds the trigger by its name and its one parameter, so it is named after the handler
            # but keeps its own signature (no ``__wrapped__``).
            trigger.__name__ = trigger.__qualname__ = handler.__name__
            trigger.__doc__ = handler.__doc__
            auth = {"auth_level": func.AuthLevel.ANONYMOUS} if self.anonymous else {}
            wrapped = traced_request(api_errors(subject=self.subject)(trigger))
            registrar.route(route=self.path, methods=[self.method], **auth)(wrapped)
            return handler

        return register


DECLARED: list[Route] = []
"""Every declared route, in the order declared: the OpenAPI document describes exactly these."""
