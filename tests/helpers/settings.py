"""App settings for in-process tests: the app reads its settings once, so a test that changes one re-reads them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from durable_app.settings import AppSettings, app_settings

INSTANT_WORK = {"WORK_ITEM_DELAY_MIN_SECONDS": "0", "WORK_ITEM_DELAY_MAX_SECONDS": "0"}
"""Work items without the seed's simulated I/O."""


@contextmanager
def app_settings_with(**values: str) -> Iterator[AppSettings]:
    """The app's settings re-read with ``values`` set over the environment; both restored on leaving.

    Activities running in this process (the session's hosted worker, a test's own worker) see the new values
    from their next call on, as a restarted app would.
    """
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    app_settings.cache_clear()
    try:
        yield app_settings()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        app_settings.cache_clear()
