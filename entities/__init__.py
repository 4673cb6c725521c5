"""Durable entities hosted by the worker: each module declares its own (``durable_app.workflows.registry``)."""
