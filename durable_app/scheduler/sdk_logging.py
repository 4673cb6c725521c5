"""Loggers handed to the ``durabletask`` SDK.

The SDK logs every client call and work item at INFO, which drowns the app's own logs (and Application
Insights ingestion) under load, so its loggers sit under one parent whose level is an app setting. The
Azure SDK's loggers (``azure.identity`` names the managed identity's client id at INFO, ``azure.core`` logs
every token request) follow the same setting.
"""

from __future__ import annotations

import logging
import threading

SDK_LOGGER_NAME = "durabletask"
AZURE_LOGGER_NAME = "azure"

STREAM_CANCELLED_BY_STOP = "Locally cancelled by application"
"""gRPC's message for a stream the app itself cancelled, which ``TaskHubGrpcWorker.stop()`` does."""


def sdk_logger(component: str, level: int) -> logging.Logger:
    """A child of the ``durabletask`` logger for ``component``; the parent carries ``level``."""
    logging.getLogger(SDK_LOGGER_NAME).setLevel(level)
    logging.getLogger(AZURE_LOGGER_NAME).setLevel(level)
    return logging.getLogger(f"{SDK_LOGGER_NAME}.{component}")


class CleanStopFilter(logging.Filter):
    """Demote the SDK's "Error in work item stream ... Locally cancelled" warning to DEBUG during a stop.

    ``stop()`` cancels the worker's stream, and the SDK's run loop then logs the cancellation it was asked
    for as a WARNING, so every clean shutdown (Ctrl-C, a scale-in) would read as a failure. Only the
    cancellation that follows :meth:`stopping` is demoted: a stream that breaks while running stays a warning.
    """

    def __init__(self) -> None:
        super().__init__()
        self._stopping = threading.Event()

    def stopping(self) -> None:
        """Mark the worker as stopping on purpose: its stream's cancellation is expected from now on."""
        self._stopping.set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self._stopping.is_set() and record.levelno == logging.WARNING and _is_stop_cancellation(record):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def _is_stop_cancellation(record: logging.LogRecord) -> bool:
    return STREAM_CANCELLED_BY_STOP in record.getMessage()
