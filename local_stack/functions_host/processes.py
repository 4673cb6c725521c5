"""Several Python worker processes behind one port, as ``FUNCTIONS_WORKER_PROCESS_COUNT`` gives in Azure.

The Functions host spreads invocations over that many language worker processes, and each one imports
``function_app.py``, so each hosts its own DTS worker on the same task hub: the scheduler shares the work
among them. Locally, uvicorn's supervisor plays the host: it binds the port once and runs the app in that
many processes, each built by :func:`asgi_app` exactly as the single-process host builds it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from durable_app.http.host_config import route_prefix
from durable_app.settings.catalog import LOCAL_FUNCTION_KEY, WORKER_PROCESS_COUNT
from local_stack import LOG_FORMAT
from local_stack.functions_host.app import create_asgi_app, load_function_app, load_local_settings


def worker_process_count(settings: Mapping[str, str] = os.environ) -> int:
    """The number of worker processes the settings ask for (1 when unset; Azure accepts 1 to 10).

    Anything else raises :class:`durable_app.settings.schema.SettingsError` naming the setting.
    """
    return WORKER_PROCESS_COUNT.read(settings)


def asgi_app() -> Starlette:
    """The app one worker process serves: settings, ``function_app`` (and so its DTS worker), the routes."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    load_local_settings()
    return create_asgi_app(load_function_app(), route_prefix(), function_key=LOCAL_FUNCTION_KEY.read(os.environ))


def serve_processes(config: uvicorn.Config) -> None:
    """Serve ``config`` (naming :func:`asgi_app` as its factory) in ``config.workers`` processes until SIGINT/SIGTERM.

    The supervisor binds the port before starting the processes and stops them all on a signal.
    """
    Multiprocess(config, sockets=[config.bind_socket()]).run()
