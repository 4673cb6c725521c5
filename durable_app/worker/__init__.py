"""The DTS worker hosted in the Function App's process: started once per process, stopped within a bound.

:func:`start_hosted_worker` registers every declaration (through the work-item drills when a ``WORK_ITEM_*``
setting asks for them) and watches the connection; :func:`hosted_worker_status` is what ``/api/health`` reports.
"""

from durable_app.worker.hosting import HostedWorker, WorkerStatus, hosted_worker_status, start_hosted_worker

__all__ = ["HostedWorker", "WorkerStatus", "hosted_worker_status", "start_hosted_worker"]
