"""Orchestrators and their activities: each module declares its own (``durable_app.workflows.registry``).

The two samples keep the names of the public DTS Python samples, so their clients work unchanged.
"""
