"""The HTTP API: Durable Functions' routes and shapes, each route its own Azure Functions trigger.

:data:`blueprints` are registered by ``function_app.py``; :func:`openapi_document` describes every route.
"""

from durable_app.http.openapi import openapi_document
from durable_app.http.responses import api_base_url, json_response
from durable_app.http.routes import blueprints

__all__ = ["api_base_url", "blueprints", "json_response", "openapi_document"]
