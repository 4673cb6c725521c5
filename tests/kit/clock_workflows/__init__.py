"""Workflows that only the kit's own tests declare: what they read of durable time."""
