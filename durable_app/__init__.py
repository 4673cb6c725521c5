"""The wiring between Azure Functions and the Durable Task Scheduler, in rooms by job.

From the lowest to the highest, each room importing only those below it (``.importlinter`` holds the rule):

- :mod:`durable_app.values`: one rule per kind of value (ids, numbers) and the refusal every check raises.
- :mod:`durable_app.settings`: every app setting, declared once and read at startup, and the connection string.
- :mod:`durable_app.telemetry`: exporters, sampling, trace attributes and the replay-safe orchestration logger.
- :mod:`durable_app.scheduler`: reaching the scheduler: credentials, reconnection, the shared clients, status names.
- :mod:`durable_app.workflows`: what workflow authors import: declarations, request models, logging, the client.
- :mod:`durable_app.worker`: the DTS worker hosted in the Function App's process.
- :mod:`durable_app.http`: the HTTP API (routes, requests, answers, errors) and its OpenAPI document.
"""
