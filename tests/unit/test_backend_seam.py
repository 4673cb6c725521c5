"""The local scheduler's one seam to the SDK's in-memory backend: the version it was built on and every
private name it relies on, so an upgrade that moves one fails here; and a package layout without cycles."""

from __future__ import annotations

import ast
import dataclasses
from graphlib import CycleError, TopologicalSorter
from importlib.metadata import version
from pathlib import Path

from local_stack.ports import free_port
from local_stack.scheduler import backend

PACKAGE = Path(__file__).resolve().parents[2] / "local_stack"


def test_durabletask_is_the_release_the_scheduler_was_built_on() -> None:
    """Upgrading durabletask must come with a review of the scheduler; this pin makes that impossible to miss."""
    assert version("durabletask") == backend.BUILT_FOR_DURABLETASK


def test_every_private_name_relied_on_still_exists() -> None:
    instance = backend.InMemoryOrchestrationBackend(port=free_port())
    missing = [name for name in backend.RELIED_ON_FIELDS if not hasattr(instance, name)]
    missing += [name for name in backend.RELIED_ON_METHODS if not callable(getattr(instance, name, None))]
    for record, names in backend.RELIED_ON_RECORD_FIELDS.items():
        fields = {field.name for field in dataclasses.fields(record)}
        missing += [f"{record.__name__}.{name}" for name in names if name not in fields]
    assert missing == []


def test_work_items_are_built_with_fields_in_the_order_relied_on() -> None:
    fields = [field.name for field in dataclasses.fields(backend.ActivityWorkItem)]
    assert fields == list(backend.RELIED_ON_RECORD_FIELDS[backend.ActivityWorkItem])


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The modules ``path`` imports, at any depth of its code; ``from package import module`` names the module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules
            found.update(submodules or {node.module})
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_local_stack_has_no_import_cycles() -> None:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {
        name: {imported for imported in imports_of(path, set(modules)) if imported in modules and imported != name}
        for name, path in modules.items()
    }
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from error


def test_only_the_seam_imports_the_sdk_backend() -> None:
    importers = sorted(
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(name.startswith("durabletask.testing") for name in imports_of(path, set()))
    )
    assert importers == ["local_stack.scheduler.backend"]
