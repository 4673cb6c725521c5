"""Test a workflow in milliseconds: the app's declared workflows on a real scheduler, with time that skips.

Use it as a pytest plugin (``pytest_plugins = ["durable_app.testing"]``, then the ``workflow_env`` fixture) or,
outside pytest, as a context manager::

    with WorkflowEnv() as env:
        instance_id = env.start("approval_workflow", {"timeout_seconds": 86400})
        assert env.wait(instance_id).output["outcome"] == "timed_out"   # a day, in milliseconds

Each environment runs the local scheduler and a worker hosting every declared orchestrator, activity and
entity (discovered as the app discovers them) in the test's process, on a free loopback port. While
:meth:`WorkflowEnv.wait` waits and no work is queued or under way, the scheduler's clock jumps to the next
durable timer, so a week-long wait takes no longer than the work around it; outside a wait the clock only
moves with the wall clock or :meth:`WorkflowEnv.advance`. Activities can be replaced by fakes and the inputs
each activity received are recorded.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from durabletask import task
from durabletask.azuremanaged.client import DurableTaskSchedulerClient
from durabletask.azuremanaged.worker import DurableTaskSchedulerWorker
from durabletask.client import OrchestrationState
from durabletask.entities import EntityInstanceId
from durabletask.worker import ConcurrencyOptions

from durable_app.http.routes.entities import declared_entity, operation_input
from durable_app.http.routes.orchestrations import REUSE_FINISHED_IDS
from durable_app.replay import replay
from durable_app.scheduler import TERMINAL, status_name
from durable_app.scheduler.history_format import history_of
from durable_app.scheduler.sdk_logging import CleanStopFilter, sdk_logger
from durable_app.settings import app_settings, settings_overridden
from durable_app.settings.catalog import CONNECTION_STRING
from durable_app.settings.reader import CONNECTION_SETTINGS
from durable_app.values import RefusedRequest, identifier
from durable_app.workflows import workflows
from durable_app.workflows.registry import Workflows

if TYPE_CHECKING:
    from local_stack.scheduler import LocalScheduler

__all__ = ["WorkflowEnv", "WorkflowResult", "replay", "workflow_env"]

TASKHUB = "default"
WAIT_POLL_SECONDS = 0.002
"""How often a wait looks for a finished instance or an idle scheduler: far below any work item's duration."""
WORKER_THREADS = 16
"""Activity threads of the environment's worker: room for a test's fan-out without queueing behind a few."""

NOT_RUNNING = "the environment is not running: use it inside `with WorkflowEnv() as env:`"

ActivityFake = Callable[[task.ActivityContext, Any], Any]


@dataclass(frozen=True)
class WorkflowResult:
    """An instance's state when :meth:`WorkflowEnv.wait` returned: status named as the HTTP API names it."""

    instance_id: str
    status: str
    output: Any
    custom_status: Any
    failure: task.FailureDetails | None


class WorkflowEnv:
    """A scheduler, a worker with the app's workflows, and a client, in this process; use ``with``."""

    def __init__(self, declarations: Workflows = workflows, *, data_file: Path | None = None) -> None:
        """``declarations``: the workflows to host (the app's); ``data_file``: keep the scheduler's state in
        that SQLite file, so a later environment on the same file resumes its instances and re-arms their timers."""
        self._declarations = declarations
        self._data_file = data_file
        self._fakes: dict[str, ActivityFake] = {}
        self._calls: dict[str, list[Any]] = {}
        self._calls_lock = threading.Lock()
        self._settings = ExitStack()
        self._scheduler: LocalScheduler | None = None
        self._worker: DurableTaskSchedulerWorker | None = None
        self._client: DurableTaskSchedulerClient | None = None
        self._clean_stop = CleanStopFilter()

    def __enter__(self) -> WorkflowEnv:
        from local_stack.ports import free_port  # the local stack is a dev dependency, as this kit is
        from local_stack.scheduler import serve

        if self._scheduler is not None:
            raise RuntimeError("this environment is running already; make another for a second one")
        self._declarations.discover()
        self._scheduler = serve(free_port(), data_file=self._data_file)
        try:
            self._connect(f"127.0.0.1:{self._scheduler.port}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _connect(self, address: str) -> None:
        """Point the app's settings, a client and a worker hosting the declarations at the scheduler."""
        self._point_settings_at(address)
        self._client = DurableTaskSchedulerClient(
            host_address=address,
            taskhub=TASKHUB,
            token_credential=None,
            secure_channel=False,
            logger=sdk_logger("client", logging.WARNING),
        )
        self._worker = self._new_worker(address)
        _start_as_daemon(self._worker)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        worker, client, scheduler = self._worker, self._client, self._scheduler
        self._worker = self._client = self._scheduler = None
        if worker is not None:
            self._stop_in_background(worker)
        if client is not None:
            client.close()
        if scheduler is not None:
            scheduler.stop(grace=0)
        self._settings.close()

    def _stop_in_background(self, worker: DurableTaskSchedulerWorker) -> None:
        """Cancel the worker's stream now and let it finish stopping on a daemon thread.

        The SDK's stop waits up to a second for its idle work queues to notice; nothing of this environment
        outlives the scheduler's stop, so that second need not hold up the test that comes next.
        """
        self._clean_stop.stopping()
        clean_stop = self._clean_stop

        def stop() -> None:
            worker.stop()
            sdk_logger("worker", logging.WARNING).removeFilter(clean_stop)

        threading.Thread(target=stop, name="workflow-env-stop", daemon=True).start()

    # --- driving instances ---

    def start(self, name: str, input: Any = None, *, instance_id: str | None = None, version: str | None = None) -> str:
        """Start orchestrator ``name``; ``input`` is validated by its request model as the start route does.

        ``version`` is what the orchestrator reads as ``ctx.version`` (the app's ``WORKFLOW_VERSION`` when not
        given), so each branch of a changed workflow can be tested.
        """
        declaration = self._declarations.orchestrators.get(name)
        if declaration is None:
            raise RefusedRequest("name", f'no orchestrator named "{name}"; use one of {", ".join(self._names())}')
        if instance_id is not None:
            identifier(instance_id, "instance_id")
        start_input = (
            input if declaration.request is None else declaration.request.from_json(input).orchestration_input()
        )
        try:
            return self._api.schedule_new_orchestration(
                name,
                input=start_input,
                instance_id=instance_id,
                reuse_id_policy=REUSE_FINISHED_IDS,
                version=version or app_settings().versioning.version,
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:  # type: ignore[attr-defined]
                raise
            raise RefusedRequest("instance_id", f"instance '{instance_id}' is still running", status=409) from None

    def wait(self, instance_id: str, timeout: float = 30.0) -> WorkflowResult:
        """The instance's state once finished; durable time skips to each next timer while nothing else runs.

        ``timeout`` is wall-clock seconds; past it, :class:`TimeoutError` says where the instance stands.
        """
        deadline = time.monotonic() + timeout
        while True:
            state = self._state(instance_id)
            if state.runtime_status in TERMINAL:
                return _result(state)
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{instance_id} is still {status_name(state.runtime_status)} after {timeout} s "
                    f"(custom status {state.serialized_custom_status}, durable time {self.now().isoformat()})"
                )
            if not self._running.skip_idle_time():
                time.sleep(WAIT_POLL_SECONDS)

    def advance(self, delta: timedelta) -> None:
        """Move durable time forward by ``delta``: timers it passes fire, in order."""
        self._running.clock.advance(delta)

    @property
    def port(self) -> int:
        """The loopback port of the environment's scheduler (what its connection string names)."""
        return self._running.port

    def now(self) -> datetime:
        """The scheduler's current time (what ``ctx.current_utc_datetime`` reads in a new step)."""
        return self._running.clock.now()

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        """Send event ``name`` to a started instance, as the raiseEvent route does."""
        identifier(name, "name")
        self._state(instance_id)
        self._api.raise_orchestration_event(instance_id, name, data=data)

    def signal(self, entity: str, key: str, operation: str, input: Any = None) -> None:
        """Signal a declared entity; the operation and its input are checked as the signal route checks them."""
        declaration = declared_entity(entity)
        identifier(key, "key")
        value = operation_input(declaration, operation, input, "input")
        self._api.signal_entity(EntityInstanceId(declaration.name, key), operation, input=value)

    def entity_state(self, entity: str, key: str, timeout: float = 30.0) -> Any:
        """The entity's state once the operations queued for it have run, ``None`` while it has none."""
        declaration = declared_entity(entity)
        identifier(key, "key")
        entity_id = EntityInstanceId(declaration.name, key)
        deadline = time.monotonic() + timeout
        while self._running.entity_busy(str(entity_id)):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"operations of {entity_id} still queued or running after {timeout} s")
            time.sleep(WAIT_POLL_SECONDS)
        metadata = self._api.get_entity(entity_id, include_state=True)
        if metadata is None or metadata.get_state() is None:
            return None
        return json.loads(metadata.get_state())

    def history(self, instance_id: str) -> dict[str, Any]:
        """The instance's history, as ``python -m durable_app.replay record`` writes it."""
        state = self._state(instance_id)
        return history_of(state.name, instance_id, self._api.get_orchestration_history(instance_id))

    # --- activities ---

    def fake_activity(self, name: str, fn: ActivityFake) -> None:
        """Run ``fn(ctx, input)`` instead of declared activity ``name`` in this environment; it may raise."""
        self._fakes[self._declared_activity(name)] = fn

    def calls(self, name: str) -> list[Any]:
        """The inputs activity ``name`` received (faked or not), in the order its calls began."""
        with self._calls_lock:
            return list(self._calls.get(self._declared_activity(name), []))

    def _declared_activity(self, name: str) -> str:
        if name not in self._declarations.activities:
            raise KeyError(f'no activity named "{name}"; declared: {", ".join(self._declarations.activities)}')
        return name

    # --- inside ---

    @property
    def _api(self) -> DurableTaskSchedulerClient:
        if self._client is None:
            raise RuntimeError(NOT_RUNNING)
        return self._client

    @property
    def _running(self) -> LocalScheduler:
        """The environment's scheduler (a ``local_stack.scheduler.LocalScheduler``)."""
        if self._scheduler is None:
            raise RuntimeError(NOT_RUNNING)
        return self._scheduler

    def _names(self) -> list[str]:
        return list(self._declarations.orchestrators)

    def _state(self, instance_id: str) -> OrchestrationState:
        state = self._api.get_orchestration_state(instance_id)
        if state is None:
            raise KeyError(f"no instance {instance_id!r}")
        return state

    def _new_worker(self, address: str) -> DurableTaskSchedulerWorker:
        sdk_log = sdk_logger("worker", logging.WARNING)
        sdk_log.addFilter(self._clean_stop)
        worker = DurableTaskSchedulerWorker(
            host_address=address,
            taskhub=TASKHUB,
            token_credential=None,
            secure_channel=False,
            concurrency_options=ConcurrencyOptions(maximum_thread_pool_workers=WORKER_THREADS),
            logger=sdk_log,
        )
        self._declarations.register_all(_RecordingRegistrar(worker, self._run_activity))
        return worker

    def _run_activity(self, name: str, real: ActivityFake, ctx: task.ActivityContext, value: Any) -> Any:
        with self._calls_lock:
            self._calls.setdefault(name, []).append(value)
        return self._fakes.get(name, real)(ctx, value)

    def _point_settings_at(self, address: str) -> None:
        """Activities that read durable state through the app's settings (the monitor) reach this scheduler."""
        values: dict[str, str | None] = {setting.name: None for setting in CONNECTION_SETTINGS}
        values[CONNECTION_STRING.name] = f"Endpoint=http://{address};TaskHub={TASKHUB};Authentication=None"
        self._settings.enter_context(settings_overridden(values))


class _RecordingRegistrar:
    """Registers the declarations on a worker, each activity behind the environment's recorder and fakes."""

    def __init__(self, worker: DurableTaskSchedulerWorker, run: Callable[..., Any]) -> None:
        self._worker = worker
        self._run = run

    def add_orchestrator(self, fn: Any) -> str:
        return self._worker.add_orchestrator(fn)

    def add_activity(self, fn: Any) -> str:
        run = self._run

        @functools.wraps(fn)
        def activity(ctx: task.ActivityContext, value: Any) -> Any:
            return run(fn.__name__, fn, ctx, value)

        return self._worker.add_activity(activity)

    def add_entity(self, fn: Any, name: str | None = None) -> str:
        return self._worker.add_entity(fn, name=name)


def _start_as_daemon(worker: DurableTaskSchedulerWorker) -> None:
    """Start the worker's run loop as a daemon (threads inherit it from their creator), so exit never waits on it."""
    starter = threading.Thread(target=worker.start, name="workflow-env-start", daemon=True)
    starter.start()
    starter.join()


def _result(state: OrchestrationState) -> WorkflowResult:
    return WorkflowResult(
        instance_id=state.instance_id,
        status=status_name(state.runtime_status),
        output=state.get_output(),
        custom_status=state.get_custom_status(),
        failure=state.failure_details,
    )


@pytest.fixture
def workflow_env() -> Iterator[WorkflowEnv]:
    """A running :class:`WorkflowEnv` for one test."""
    with WorkflowEnv() as env:
        yield env
