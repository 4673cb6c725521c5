"""The DTS worker hosted inside the Functions Python worker process.

Importing ``function_app.py`` is the only startup hook Functions offers, and it runs once per Python worker
process, so :func:`start_hosted_worker` is idempotent and per process. Functions has no shutdown hook and
``TaskHubGrpcWorker.stop()`` can block on unfinished work, so stopping is bounded and runs at interpreter
exit: unfinished work items are redelivered by the scheduler to the next worker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from durabletask.azuremanaged.worker import DurableTaskSchedulerWorker
from durabletask.worker import ConcurrencyOptions

from durable_app.scheduler import sync_credential
from durable_app.scheduler.model_json import MODEL_JSON
from durable_app.scheduler.reconnect import channel_options, worker_resiliency
from durable_app.scheduler.sdk_logging import CleanStopFilter, sdk_logger
from durable_app.settings import AppSettings
from durable_app.worker.activity_pool import use_elastic_pool
from durable_app.worker.connection_monitor import ConnectionMonitor, ConnectionState
from durable_app.worker.drills import with_drills
from durable_app.worker.versioning import versioning_options
from durable_app.workflows.determinism import warn_at_startup
from durable_app.workflows.registry import register_all

logger = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class WorkerStatus:
    """What the health endpoint reports about the hosted worker."""

    enabled: bool
    running: bool
    connection: ConnectionState | None

    @property
    def healthy(self) -> bool:
        """A disabled worker (client-only deployment) is not a fault; a disconnected one is."""
        if not self.enabled:
            return True
        return self.running and self.connection is not None and self.connection.connected


class HostedWorker:
    """One ``DurableTaskSchedulerWorker`` with a bounded, repeat-safe stop."""

    def __init__(self, settings: AppSettings) -> None:
        self.monitor = ConnectionMonitor()
        concurrency = settings.concurrency
        sdk_log = sdk_logger("worker", settings.sdk_log_level)  # before the credential, which logs as it is made
        self._clean_stop = CleanStopFilter()
        sdk_log.addFilter(self._clean_stop)
        self._sdk_log = sdk_log
        self._worker = DurableTaskSchedulerWorker(
            host_address=settings.connection.host_address,
            taskhub=settings.connection.taskhub,
            token_credential=sync_credential(settings.connection),
            secure_channel=settings.connection.secure_channel,
            interceptors=[self.monitor],
            concurrency_options=ConcurrencyOptions(
                maximum_concurrent_activity_work_items=concurrency.concurrent_activities,
                maximum_concurrent_orchestration_work_items=concurrency.concurrent_orchestrations,
                maximum_concurrent_entity_work_items=concurrency.concurrent_entities,
                maximum_thread_pool_workers=concurrency.thread_pool_workers,
            ),
            channel_options=channel_options(settings.reconnect_max_seconds),
            resiliency_options=worker_resiliency(settings.reconnect_max_seconds),
            logger=sdk_log,
            data_converter=MODEL_JSON,
        )
        self._worker.use_versioning(versioning_options(settings.versioning))
        use_elastic_pool(self._worker, concurrency.thread_pool_workers)
        self.registered = register_all(with_drills(self._worker, settings.drills))
        if settings.drills.enabled:
            logger.warning("Work-item drills on (benchmarks and fault tests only): %s", settings.drills.describe())
        self._running = False
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start the worker's run loop as a daemon thread.

        ``TaskHubGrpcWorker.start()`` creates a non-daemon thread, which would make the interpreter wait
        for it before running ``atexit`` handlers, i.e. forever. Threads inherit daemon status from their
        creator, so starting it from a short-lived daemon thread makes the run loop a daemon too.
        """
        with self._lock:
            if self._running:
                return
            starter = threading.Thread(target=self._worker.start, name="dts-worker-start", daemon=True)
            starter.start()
            starter.join()
            self._running = True

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
        """Stop within ``timeout`` seconds; return whether the worker finished stopping in time."""
        with self._lock:
            if not self._running:
                return True
            self._running = False
        self._clean_stop.stopping()
        stopper = threading.Thread(target=self._worker.stop, name="dts-worker-stop", daemon=True)
        stopper.start()
        stopper.join(timeout)
        if stopper.is_alive():
            logger.warning("DTS worker did not stop within %.0fs; unfinished work will be redelivered", timeout)
            return False
        self._sdk_log.removeFilter(self._clean_stop)
        return True

    def status(self) -> WorkerStatus:
        return WorkerStatus(enabled=True, running=self._running, connection=self.monitor.state)


_hosted: HostedWorker | None = None
_hosted_lock = threading.Lock()


def start_hosted_worker(settings: AppSettings) -> HostedWorker | None:
    """Start this process's worker once; ``None`` when ``DTS_WORKER_ENABLED`` is off."""
    global _hosted
    if not settings.worker_enabled:
        logger.info("DTS worker disabled by DTS_WORKER_ENABLED; this process is a client only")
        return None
    with _hosted_lock:
        if _hosted is None:
            _hosted = HostedWorker(settings)
            _hosted.start()
            _stop_at_exit(_hosted)
            warn_at_startup(logger)
            logger.info(
                "DTS worker started for %s hosting %s",
                settings.connection.redacted(),
                ", ".join(_hosted.registered),
            )
        return _hosted


def _stop_at_exit(worker: HostedWorker) -> None:
    """Stop the worker before the interpreter waits for thread pools, not after.

    The SDK parks one of its executor threads in a blocking queue read that only ``stop()`` releases, and at
    exit the interpreter joins executor threads *before* running ``atexit`` handlers: an ``atexit`` stop would
    never run. ``threading._register_atexit`` hooks run first, in reverse order of registration, which is what
    ``concurrent.futures`` itself relies on.
    """
    threading._register_atexit(worker.stop)


def hosted_worker_status() -> WorkerStatus:
    """The status of this process's worker, or a disabled status where none was started."""
    worker = _hosted
    if worker is None:
        return WorkerStatus(enabled=False, running=False, connection=None)
    return worker.status()
