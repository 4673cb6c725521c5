"""Find calls in orchestrators that give a different answer on replay, with the replay-safe way to do each.

An orchestrator is re-run from its history on every step, so anything it reads from the world (the clock,
randomness, the environment, files, the network) or starts beside the worker (threads, event loops) may differ
between runs, and the instance then fails with a history mismatch, days after the code shipped.

    python -m durable_app.lint [PATH...]     # no paths: the app's workflow packages

prints ``file:line:col: what; use <the replay-safe alternative> (in <orchestrator>)`` for each finding and exits
1 when there is one (2 when a path cannot be read). Only orchestrators are read: functions declared with
``@<workflows>.orchestrator`` or taking a ``task.OrchestrationContext``; activities may do all of this. A line
ending in ``# replay-safe`` (a reason may follow) is left alone on purpose. The app logs the findings of its
declared orchestrators as warnings when its worker starts.
"""

from __future__ import annotations

import argparse
import ast
import io
import logging
import sys
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from durable_app.workflows.registry import Workflows

SILENCER = "# replay-safe"
"""A trailing comment that starts with this leaves its line alone."""

ACTIVITY = "an activity (its result is recorded in the history)"

CLOCK = "ctx.current_utc_datetime"
SETTING = f"a setting read in {ACTIVITY}, or passed in the input"
CONCURRENCY = "task.when_all / task.when_any over activities"
EVERYTHING = ""
"""Any name of the module."""

RULES: dict[str, dict[str, str]] = {
    "datetime": {
        "datetime.now": CLOCK,
        "datetime.utcnow": CLOCK,
        "datetime.today": CLOCK,
        "date.today": CLOCK + ".date()",
    },
    "time": {
        "sleep": "yield ctx.create_timer(...)",
        **{name: CLOCK for name in ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter")},
    },
    "random": {EVERYTHING: f"ctx.new_uuid(), or a random value from {ACTIVITY} or the input"},
    "secrets": {EVERYTHING: f"ctx.new_uuid(), or a value from {ACTIVITY}"},
    "uuid": {"uuid1": "ctx.new_uuid()", "uuid4": "ctx.new_uuid()"},
    "os": {"environ": SETTING, "getenv": SETTING, "getenvb": SETTING},
    "builtins": {"open": ACTIVITY},
    "io": {"open": ACTIVITY},
    **{
        module: {EVERYTHING: ACTIVITY} for module in ("requests", "httpx", "urllib", "http.client", "socket", "aiohttp")
    },
    **{module: {EVERYTHING: CONCURRENCY} for module in ("threading", "concurrent.futures", "multiprocessing")},
    "asyncio": {EVERYTHING: CONCURRENCY + " (orchestrators are generators, not coroutines)"},
}
"""Module -> name in it (``EVERYTHING``: any) called or read -> the replay-safe alternative."""

ORCHESTRATION_CONTEXT = "OrchestrationContext"


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    column: int
    name: str
    written: str
    alternative: str
    orchestrator: str

    def __str__(self) -> str:
        called = self.name if self.written == self.name else f"{self.written} ({self.name})"
        return (
            f"{self.path}:{self.line}:{self.column + 1}: {called} differs between replays; "
            f"use {self.alternative} (in {self.orchestrator})"
        )


class LintError(Exception):
    """A path that cannot be read or parsed."""


def lint_paths(paths: Sequence[Path]) -> list[Finding]:
    """The findings in every Python file of ``paths`` (files or folders), in file and line order."""
    findings: list[Finding] = []
    for path in paths:
        if not path.exists():
            raise LintError(f"{path}: no such file or folder")
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            findings += lint_file(file)
    return findings


def lint_file(path: Path) -> list[Finding]:
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        raise LintError(f"{path}: cannot be read as Python: {error}") from None
    except (RecursionError, MemoryError):
        raise LintError(f"{path}: nested too deeply for Python's parser") from None
    silenced = _silenced_lines(source)
    aliases = _aliases(tree)
    findings = [
        Finding(path, node.lineno, node.col_offset, name, ast.unparse(node), alternative, function.name)
        for function in _orchestrators(tree)
        for node, name, alternative in _hazards(function, aliases)
        if node.lineno not in silenced
    ]
    return sorted(set(findings), key=lambda finding: (finding.line, finding.column, finding.name))


def app_findings(declarations: Workflows | None = None) -> list[Finding]:
    """The findings in the modules of the declared orchestrators (the app's unless ``declarations`` is given)."""
    from durable_app.workflows.registry import workflows

    declared = (declarations or workflows).orchestrators.values()
    modules = {sys.modules[declaration.module] for declaration in declared}
    files = sorted({Path(module.__file__) for module in modules if module.__file__})
    return [finding for file in files for finding in lint_file(file)]


def warn_at_startup(logger: logging.Logger, declarations: Workflows | None = None) -> None:
    """Log each finding of the app's orchestrators as a warning: running code that will not replay is a bug.

    A module that cannot be read back (a deployment without sources) is logged and skipped: the check advises,
    it never stops the app.
    """
    try:
        findings = app_findings(declarations)
    except LintError as error:
        logger.warning("Replay hazards not checked: %s", error)
        return
    for finding in findings:
        logger.warning("Replay hazard: %s", finding)


def _orchestrators(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_orchestrator(node):
            yield node


def _is_orchestrator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr == "orchestrator":
            return True
    arguments = function.args.posonlyargs + function.args.args
    annotation = arguments[0].annotation if arguments else None
    return annotation is not None and ast.unparse(annotation).split(".")[-1].strip("'\"") == ORCHESTRATION_CONTEXT


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Each name the module binds by import -> the fully qualified name it stands for."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _hazards(
    function: ast.FunctionDef | ast.AsyncFunctionDef, aliases: dict[str, str]
) -> Iterator[tuple[ast.expr, str, str]]:
    """Each outermost name reference in the function that a rule matches, with that rule's alternative."""
    inner: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute | ast.Name) and id(node) not in inner:
            qualified = _qualified(node, aliases)
            rule = _rule(qualified) if qualified else None
            if rule is not None:
                inner.update(id(child) for child in ast.walk(node))
                yield node, qualified or "", rule


def _qualified(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``dt.now`` -> ``datetime.datetime.now`` when ``dt`` was imported as ``from datetime import datetime as dt``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    if node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    if node.id == "open" and not parts:
        return "builtins.open"
    return None


def _rule(qualified: str) -> str | None:
    for module, names in RULES.items():
        if qualified != module and not qualified.startswith(module + "."):
            continue
        inside = qualified.removeprefix(module).removeprefix(".")
        for name, alternative in names.items():
            if name == EVERYTHING or inside == name or inside.startswith(name + "."):
                return alternative
    return None


def _silenced_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.string.startswith(SILENCER):
            lines.add(token.start[0])
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m durable_app.lint", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the app's workflow packages)")
    arguments = parser.parse_args(argv)
    try:
        findings = lint_paths(arguments.paths) if arguments.paths else app_findings()
    except LintError as error:
        print(error, file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    print(f"{len(findings)} finding(s)" if findings else "no replay hazards found", file=sys.stderr)
    return 1 if findings else 0
