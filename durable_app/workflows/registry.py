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

import asyncio
import functools
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, overload

from durable_app.workflows.durable_calls import RETRY_RULE_ATTRIBUTE, RetryRule
from durable_app.workflows.request_models import StartRequest, forbid_unknown_fields, json_names, type_adapter

WORKFLOW_PACKAGES = ("orchestrations", "entities")
"""The packages whose modules declare the app's workflows; each module is imported once, at discovery."""

F = TypeVar("F", bound=Callable[..., Any])

QUERY_PARAMETERS = {
    "code": "?code= is the function key, which the Functions host reads and the app never stores",
    "timeout": "?timeout= is how long the start route waits for the result",
}
"""The query parameters a start route reads itself: never the name (or alias) of a request model's field."""

RESERVED_NAMES = {"orchestrations": "the function start_orchestrations of POST /api/batch/orchestrators/{name}"}
"""Orchestrator names (any case) whose generated start function would take the name of one of the app's own."""


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
            value = {} if raw_input is None else raw_input
            return declared(ctx, model.model_validate(value, by_alias=True, by_name=True))

        return orchestrator


@dataclass(frozen=True)
class Activity:
    """A declared activity; an ``async def`` one runs to completion on the worker thread that takes it."""

    name: str
    function: Callable[..., Any]
    module: str

    def worker_function(self) -> Callable[..., Any]:
        """The function the worker runs: ``durabletask`` 1.12 calls activities synchronously, so a coroutine
        function is run in an event loop of its own (its thread, from the activity pool, has none)."""
        if not inspect.iscoroutinefunction(self.function):
            return self.function
        declared = self.function

        @functools.wraps(declared)
        def activity(ctx: Any, activity_input: Any) -> Any:
            return asyncio.run(declared(ctx, activity_input))

        return activity


@dataclass(frozen=True)
class Entity:
    """A declared entity and the operations clients may signal, each with its input type (``None``: none)."""

    name: str
    function: Any
    operations: Mapping[str, Any]
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
            if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
                raise DeclarationError(
                    f"orchestrator '{fn.__name__}' (in {fn.__module__}) is async: the worker replays orchestrators "
                    "as generators, so write it as a def that yields tasks (await is yield here)"
                )
            if request is not None:
                _check_request(fn.__name__, request)
                forbid_unknown_fields(request)
            _add(self._orchestrators, Orchestrator(fn.__name__, fn, request, fn.__module__))
            return fn

        return declare if function is None else declare(function)

    @overload
    def activity(self, function: F, /) -> F: ...
    @overload
    def activity(self, *, retry: RetryRule | None = None) -> Callable[[F], F]: ...

    def activity(self, function: Any = None, /, *, retry: RetryRule | None = None) -> Any:
        """Declare an activity: the worker hosts it; orchestrators call it by function or name.

        ``retry`` is the rule every ``call_activity(ctx, fn, ...)`` of it follows unless a call gives its own.
        """

        def declare(fn: F) -> F:
            if retry is not None:
                if not isinstance(retry, RetryRule):
                    raise DeclarationError(f"activity '{fn.__name__}': retry must be a RetryRule, got {retry!r}")
                setattr(fn, RETRY_RULE_ATTRIBUTE, retry)
            _add(self._activities, Activity(fn.__name__, fn, fn.__module__))
            return fn

        return declare if function is None else declare(function)

    def entity(self, *, operations: Mapping[str, Any]) -> Callable[[F], F]:
        """Declare an entity (function or ``DurableEntity`` class) with its signal operations' input types.

        ``operations`` maps each operation clients may signal to the type of its input (a type pydantic
        reads, such as ``int``, a TypedDict or a model), or ``None`` for an operation that takes none. Unknown
        fields are refused at every depth of those types, as in request models.
        """
        for kind in operations.values():
            if kind is not None:
                forbid_unknown_fields(kind)
                type_adapter(kind)  # a type pydantic cannot read stops the app now, not a request later

        def declare(fn: F) -> F:
            _add(self._entities, Entity(fn.__name__.lower(), fn, dict(operations), fn.__module__))
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
        names += [worker.add_activity(item.worker_function()) for item in self.activities.values()]
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
    twin = next((other for other in declared.values() if _same_but_case(other.name, item.name)), None)
    if twin is not None:
        raise DeclarationError(
            f"'{twin.name}' (in {twin.module}) and '{item.name}' (in {item.module}) differ only in case: names "
            "must differ in more than case, because routes and Azure Functions' function names ignore case"
        )
    reserved = RESERVED_NAMES.get(item.name.lower()) if isinstance(item, Orchestrator) else None
    if reserved is not None:
        raise DeclarationError(
            f"orchestrator '{item.name}' (in {item.module}) clashes with {reserved}: an orchestrator's start "
            f"function is named start_<name>, and function names must be unique; rename the orchestrator"
        )
    declared[item.name] = item
    ordered = sorted(declared.items())
    declared.clear()
    declared.update(ordered)


def _same_but_case(one: str, other: str) -> bool:
    return one != other and one.lower() == other.lower()


def _check_request(name: str, request: type[StartRequest]) -> None:
    """A request model's fields may not take the names of the query parameters the start route reads itself."""
    for field in json_names(request):
        if field.lower() in QUERY_PARAMETERS:
            raise DeclarationError(
                f"{request.__module__}.{request.__qualname__}, the request model of '{name}', has a field named "
                f"'{field}': {QUERY_PARAMETERS[field.lower()]}; rename the field (an alias renames it in JSON too)"
            )


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
