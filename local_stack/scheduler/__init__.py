"""The local scheduler: the DTS gRPC protocol on loopback, with redelivery, in memory or on a SQLite file.

``backend``       the one seam to ``durabletask``'s in-memory backend (its private fields, pinned and tested)
``dts_semantics`` the backend answering as DTS where the two differ (termination, entities, purge)
``clock``         the scheduler's own clock and the timers due on it (time a test may skip)
``timers``        durable timers, delayed signals and step times on that clock; skipping the time nothing runs in
``trace_context`` W3C trace context carried between client, scheduler and workers, as DTS carries it
``queries``       newest-first instance queries with keyset paging (``query-order: created-desc``)
``memory``        :class:`LocalScheduler`: that backend served on loopback, with leases, redelivery, flow control
                  and the backlog query (``/localscheduler.Scheduler/Backlog``, see docs/scaling-bench.md)
``backlog``       :func:`read_backlog`: that query from another process
``persistent``    :class:`PersistentScheduler`: the same with every change committed to ``store`` first
``store``         the SQLite file (group commit, refusal of files it did not make)
``server``        :func:`serve`: start either one
"""

from local_stack.scheduler.memory import LocalScheduler
from local_stack.scheduler.persistent import PersistentScheduler
from local_stack.scheduler.server import serve
from local_stack.scheduler.store import DEFAULT_DATA_FILE, StoreError

__all__ = ["DEFAULT_DATA_FILE", "LocalScheduler", "PersistentScheduler", "StoreError", "serve"]
