"""Wiring between Azure Functions and the Durable Task Scheduler.

Settings and the connection string, credentials, the registry of everything the worker hosts, the hosted
worker's lifecycle, the per-process client and the HTTP response shapes live here, so that
``function_app.py`` stays a thin list of triggers.
"""
