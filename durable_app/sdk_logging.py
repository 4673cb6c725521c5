"""Loggers handed to the ``durabletask`` SDK.

The SDK logs every client call and work item at INFO, which drowns the app's own logs (and Application
Insights ingestion) under load, so its loggers sit under one parent whose level is an app setting. The
Azure SDK's loggers (``azure.identity`` names the managed identity's client id at INFO, ``azure.core`` logs
every token request) follow the same setting.
"""

from __future__ import annotations

import logging

SDK_LOGGER_NAME = "durabletask"
AZURE_LOGGER_NAME = "azure"


def sdk_logger(component: str, level: int) -> logging.Logger:
    """A child of the ``durabletask`` logger for ``component``; the parent carries ``level``."""
    logging.getLogger(SDK_LOGGER_NAME).setLevel(level)
    logging.getLogger(AZURE_LOGGER_NAME).setLevel(level)
    return logging.getLogger(f"{SDK_LOGGER_NAME}.{component}")
