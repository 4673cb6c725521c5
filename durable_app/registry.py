"""The one list of everything the app hosts, built from each workflow's own declaration.

A module under ``orchestrations/`` or ``entities/`` declares what it holds with the decorators of
:data:`workflows`, and nothing else is edited: the hosted worker registers every declaration, every
orchestrator gets ``POST /api/orchestrators/<name>/{instance_id?}``, every entity its signal and read routes,
and request validation and the OpenAPI document come from the declared input types::

    class GreetingRequest(StartRequest):
        name: str

    @workflows.orchestrator(request=GreetingRequest)
    def greeting_workflow(ctx: task.OrchestrationContext, request: GreetingRequest) -> str:
        return f"Hello, {request.name}!"

An orchestrator whose input parameter is annotated with its request model receives the model, validated
again on the worker, so an instance started over gRPC with bad input fails naming the field.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, overload

from pydantic import TypeAdapter

from durable_app.request_models import StartRequest

WORKFLOW_PACKAGES = ("orchestrations", "entities")
"""The packages whose modules declare the app's workflows; each module is imported once, at discovery."""

F = TypeVar("F", bound=Callable[..., Any])


class DeclarationError(ValueError):
    """Two declarations share a name, or a declaration cannot be served."""


@dataclass(frozen=True)
class Orchestrator:
    """A declared orchestrator: what the worker registers and what its start route validates."""

    name: str
    function: Callable[..., Any]
    request: type[StartRequest] | None
    module: str

    @property
    def summary(self) -> str:
        return _summary(self.function)

    def worker_function(self) -> Callable[..., Any]:
        """The function the worker runs: the declared one, handed its model when it asks for one."""
        model = self.request
        if model is None or not _takes_model(self.function, model):
            return self.function
        declared = self.function

        @functools.wraps(declared)
        def orchestrator(ctx: Any, raw_input: Any) -> Any:
            return declared(ctx, model.model_validate({} if raw_input is None else raw_input))

        return orchestrator


@dataclass(frozen=True)
class Activity:
    name: str
    function: Callable[..., Any]
    module: str


@dataclass(frozen=True)
class Entity:
    """A declared entity and the operations clients may signal, each with its input type (``None``: none)."""

    name: str
    function: Any
    operations: Mapping[str, TypeAdapter[Any] | None]
    module: str

    @property
    def summary(self) -> str:
        return _summary(self.function)


class Registrar(Protocol):
    """What a ``durabletask`` worker offers for registration."""

    def add_orchestrator(self, fn: Any) -> str: ...
    def add_activity(self, fn: Any) -> str: ...
    def add_entity(self, fn: Any, name: str | None = None) -> str: ...


class Workflows:
    """The declarations, by name; the workflow packages are imported on first read."""

    def __init__(self, packages: tuple[str, ...] = WORKFLOW_PACKAGES) -> None:
        self._packages = packages
        self._discovered = False
        self._orchestrators: dict[str, Orchestrator] = {}
        self._activities: dict[str, Activity] = {}
        self._entities: dict[str, Entity] = {}

    @overload
    def orchestrator(self, function: F, /) -> F: ...
    @overload
    def orchestrator(self, *, request: type[StartRequest] | None = None) -> Callable[[F], F]: ...

    def orchestrator(self, function: Any = None, /, *, request: type[StartRequest] | None = None) -> Any:
        """Declare an orchestrator; ``request`` is its start route's body model (any JSON when not given)."""

        def declare(fn: F) -> F:
            _add(self._orchestrators, Orchestrator(fn.__name__, fn, request, fn.__module__))
            return fn

        return declare if function is None else declare(function)

    def activity(self, function: F, /) -> F:
        """Declare an activity: the worker hosts it; orchestrators call it by function or name."""
        _add(self._activities, Activity(function.__name__, function, function.__module__))
        return function

    def entity(self, *, operations: Mapping[str, Any]) -> Callable[[F], F]:
        """Declare an entity (function or ``DurableEntity`` class) with its signal operations' input types.

        ``operations`` maps each operation clients may signal to the type of its input (a type pydantic
        reads, such as ``int`` or a model), or ``None`` for an operation that takes none.
        """
        adapters = {name: None if kind is None else TypeAdapter(kind) for name, kind in operations.items()}

        def declare(fn: F) -> F:
            _add(self._entities, Entity(fn.__name__.lower(), fn, adapters, fn.__module__))
            return fn

        return declare

    @property
    def orchestrators(self) -> Mapping[str, Orchestrator]:
        self.discover()
        return self._orchestrators

    @property
    def activities(self) -> Mapping[str, Activity]:
        self.discover()
        return self._activities

    @property
    def entities(self) -> Mapping[str, Entity]:
        self.discover()
        return self._entities

    def discover(self) -> None:
        """Import every module of the workflow packages, so each declares itself; once per process."""
        if self._discovered:
            return
        self._discovered = True
        for module in _package_modules(self._packages):
            importlib.import_module(module)

    def register_all(self, worker: Registrar) -> list[str]:
        """Register every declaration on ``worker``; return the names registered."""
        names = [worker.add_orchestrator(item.worker_function()) for item in self.orchestrators.values()]
        names += [worker.add_activity(item.function) for item in self.activities.values()]
        names += [worker.add_entity(item.function, name=item.name) for item in self.entities.values()]
        return names


workflows = Workflows()
"""The app's declarations: ``@workflows.orchestrator``, ``@workflows.activity``, ``@workflows.entity``."""


def register_all(worker: Registrar) -> list[str]:
    """Register every declared orchestrator, activity and entity on ``worker``."""
    return workflows.register_all(worker)


def _add(declared: dict[str, Any], item: Orchestrator | Activity | Entity) -> None:
    """Add a declaration, keeping the names sorted: whatever order modules are imported in, every process
    registers, routes and documents the same list in the same order."""
    existing = declared.get(item.name)
    if existing is not None and existing.module != item.module:
        raise DeclarationError(f"'{item.name}' is declared twice: in {existing.module} and in {item.module}")
    declared[item.name] = item
    ordered = sorted(declared.items())
    declared.clear()
    declared.update(ordered)


def _package_modules(packages: tuple[str, ...]) -> Iterator[str]:
    for package in packages:
        path = importlib.import_module(package).__path__
        for module in sorted(pkgutil.iter_modules(path), key=lambda found: found.name):
            if not module.name.startswith("_"):
                yield f"{package}.{module.name}"


def _takes_model(function: Callable[..., Any], model: type[StartRequest]) -> bool:
    """Whether the orchestrator's input parameter is annotated with its request model."""
    parameters = list(inspect.signature(function).parameters)
    if len(parameters) < 2:
        return False
    return typing.get_type_hints(function).get(parameters[1]) is model


def _summary(function: Any) -> str:
    return (inspect.getdoc(function) or function.__name__).splitlines()[0]
