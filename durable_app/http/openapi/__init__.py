"""The OpenAPI 3.1 document served at ``/api/openapi.json``, built from the routes and the declarations."""

from durable_app.http.openapi.document import openapi_document

__all__ = ["openapi_document"]
