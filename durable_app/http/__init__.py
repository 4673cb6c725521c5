"""The HTTP API: Durable Functions' routes and shapes, each route its own Azure Functions trigger, declared once
(``durable_app.http.declarations``) for its checks and its OpenAPI entry.

:data:`blueprints` are registered by ``function_app.py``, with :data:`HEALTH`'s handler; :func:`openapi_document`
describes every route.
"""

from durable_app.http.declarations import Given
from durable_app.http.openapi import openapi_document
from durable_app.http.responses import json_response
from durable_app.http.routes import HEALTH, blueprints

__all__ = ["HEALTH", "Given", "blueprints", "json_response", "openapi_document"]
