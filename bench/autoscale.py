"""A backlog-driven scaler for local Functions host processes: the ``azure-durabletask-scheduler`` rule, simulated.

On Azure Container Apps the ``azure-durabletask-scheduler`` KEDA scale rule reads a task hub's backlog of one
work item type (``workItemType``: Orchestration, Activity or Entity) and sets the replica count with KEDA's
(the Kubernetes HPA's) ``AverageValue`` target: desired replicas = ceil(work items / ``maxConcurrentWorkItemsCount``),
kept within ``minReplicas`` and ``maxReplicas``; with several rules the largest answer wins. See
https://learn.microsoft.com/azure/durable-task/sdks/durable-task-scheduler-auto-scaling (the rule's fields) and
https://keda.sh/docs/latest/concepts/scaling-deployments/ (the HPA formula). The scaler's own source is not
public, so which work items it counts is not verified here: :func:`desired_replicas` counts those not yet
completed, waiting (``pending``) plus held by a replica (``in_flight``), so work a replica is running never
makes the count fall and stop that replica. KEDA's scale-down waits out a cooldown (300 s by default), and so
does :class:`Autoscaler`, with a shorter one that suits a benchmark.

Here a replica is a local Functions host process (``python -m local_stack host``), and the backlog comes from
the local scheduler's backlog query (:func:`local_stack.scheduler.backlog.read_backlog`).
"""

from __future__ import annotations

import math
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local_stack.scheduler.backlog import read_backlog


def desired_replicas(backlog: Mapping[str, Any], targets: Mapping[str, int], minimum: int, maximum: int) -> int:
    """KEDA's answer for one scale rule per kind in ``targets`` (kind -> work items per replica): the largest."""
    wanted = [
        math.ceil((backlog["pending"][kind] + backlog["in_flight"][kind]) / per_replica)
        for kind, per_replica in targets.items()
    ]
    return max(minimum, min(maximum, max(wanted, default=0)))


@dataclass
class Sample:
    """One poll: seconds since the scaler started, the backlog read and the replicas started after it."""

    at: float
    pending: int
    in_flight: int
    replicas: int
    workers: int
    """Replicas connected to the scheduler (started ones still booting are not)."""


@dataclass
class Autoscaler:
    """Polls the scheduler at ``address`` and starts or stops replicas (``start_replica`` spawns one) to match.

    Scale-up is immediate; scale-down only once fewer replicas were wanted for ``cooldown`` seconds straight,
    and it stops the newest replica first, as a stop is what Azure does when it scales in.
    """

    address: str
    start_replica: Callable[[], subprocess.Popen[bytes]]
    stop_replica: Callable[[subprocess.Popen[bytes]], None]
    targets: Mapping[str, int]
    minimum: int = 1
    maximum: int = 8
    interval: float = 0.5
    cooldown: float = 3.0
    replicas: list[subprocess.Popen[bytes]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _below_since: float | None = None
    _started: float = 0.0

    def __enter__(self) -> Autoscaler:
        self._started = time.perf_counter()
        self.scale_to(self.minimum)
        self._thread = threading.Thread(target=self._run, name="autoscaler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.scale_to(0)

    def scale_to(self, count: int) -> None:
        while len(self.replicas) < count:
            self.replicas.append(self.start_replica())
        while len(self.replicas) > count:
            self.stop_replica(self.replicas.pop())

    def poll_once(self) -> None:
        """Read the backlog, apply the formula and the cooldown, and record what it saw."""
        backlog = read_backlog(self.address)
        desired = desired_replicas(backlog, self.targets, self.minimum, self.maximum)
        now = time.perf_counter()
        if desired >= len(self.replicas):
            self._below_since = None
            self.scale_to(desired)
        elif self._below_since is None:
            self._below_since = now
        elif now - self._below_since >= self.cooldown:
            self._below_since = None
            self.scale_to(desired)
        self.samples.append(
            Sample(
                at=now - self._started,
                pending=sum(backlog["pending"][kind] for kind in self.targets),
                in_flight=sum(backlog["in_flight"][kind] for kind in self.targets),
                replicas=len(self.replicas),
                workers=backlog["workers"],
            )
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll_once()
