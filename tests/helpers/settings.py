"""App settings for in-process tests: the app reads its settings once, so a test that changes one re-reads them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from durable_app.settings import AppSettings, settings_overridden

INSTANT_WORK = {"WORK_ITEM_DELAY_MIN_SECONDS": "0", "WORK_ITEM_DELAY_MAX_SECONDS": "0"}
"""Work items without the seed's simulated I/O."""


@contextmanager
def app_settings_with(**values: str) -> Iterator[AppSettings]:
    """The app's settings re-read with ``values`` set over the environment; both restored on leaving.

    Activities running in this process (the session's hosted worker, a test's own worker) see the new values
    from their next call on, as a restarted app would.
    """
    with settings_overridden(values) as settings:
        yield settings
