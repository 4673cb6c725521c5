"""The route blueprints: starts of every declared orchestrator, every declared entity, instance management."""

from durable_app.http.routes import entities, instances, orchestrations

blueprints = (orchestrations.bp, entities.bp, instances.bp)
"""Every route of the API, in the order ``function_app.py`` registers them."""

__all__ = ["blueprints", "entities", "instances", "orchestrations"]
