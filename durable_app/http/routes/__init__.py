"""The route blueprints: starts of every declared orchestrator, every declared entity, instance management, and
the OpenAPI document; :data:`HEALTH` is registered by ``function_app.py`` with the hosted worker's status."""

from durable_app.http.routes import entities, instances, orchestrations, service
from durable_app.http.routes.service import HEALTH

blueprints = (orchestrations.bp, entities.bp, instances.bp, service.bp)
"""Every route of the API but health, in the order ``function_app.py`` registers them."""

__all__ = ["HEALTH", "blueprints", "entities", "instances", "orchestrations", "service"]
