"""Starting a local scheduler, in memory or on a SQLite file."""

from __future__ import annotations

from pathlib import Path

from local_stack.scheduler.memory import LocalScheduler
from local_stack.scheduler.persistent import PersistentScheduler


def serve(port: int, host: str = "127.0.0.1", data_file: Path | None = None) -> LocalScheduler:
    """Start a scheduler on ``host:port`` and return it (call ``stop()`` to shut it down).

    With ``data_file`` its state lives in that SQLite file and survives restarts; without, in memory only.
    """
    if data_file is None:
        scheduler = LocalScheduler(port=port, host=host)
    else:
        scheduler = PersistentScheduler(port=port, host=host, data_file=data_file)
    try:
        scheduler.start()
    except BaseException:
        scheduler.stop()
        raise
    return scheduler
