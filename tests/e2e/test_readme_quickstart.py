"""The README's quickstart, run as written: every shown output appears, in either order, on every rerun.

The commands and their shown outputs are read from the README itself, so the walkthrough cannot drift from
what the stack does. ``<id>`` and ``<n>`` stand for generated ids and numbers, ``...`` for any text (or, alone
on a line of a client's output, any lines).
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import running_stack
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import ROOT, LocalStack

README_URL = "http://localhost:7071"
PLACEHOLDERS = {"<id>": "[0-9a-f]{32}", "<n>": "[0-9]+"}


@dataclass(frozen=True)
class Step:
    """One shell command from the quickstart and what the README shows it printing."""

    command: str
    shown: list[str]
    reads: bool = False
    """A read (no ``-X``): polled until the output appears, as work finishes and signals apply after their 202."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running_stack("sqlite", INSTANT_WORK, tmp_path_factory)


def quickstart() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Quickstart")
    return readme[start : readme.index("\n## ", start + 1)]


def client_steps() -> list[Step]:
    """Each ``clients`` command with the output block that follows it."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", quickstart(), re.S)
    steps = []
    for (language, command), (_, output) in itertools.pairwise(blocks):
        if language == "bash" and "-m clients." in command:
            steps.append(Step(command.strip(), output.strip().splitlines()))
    assert len(steps) == 2
    return steps


def curl_steps() -> list[Step]:
    """The curl block: each command, its trailing ``# comment`` and the ``# ...`` lines under it."""
    [block] = [b for b in re.findall(r"```bash\n(.*?)```", quickstart(), re.S) if b.startswith("curl")]
    steps: list[Step] = []
    for line in block.strip().splitlines():
        if line.startswith("curl"):
            command, _, comment = line.partition("# ")
            shown = [] if not comment or comment.endswith(":") else [comment.strip()]
            steps.append(Step(command.strip(), shown, reads="-X" not in command))
        else:
            steps[-1].shown.append(line.removeprefix("# ").strip())
    assert len(steps) == 6
    return steps


def pattern(shown: str) -> str:
    text = re.escape(shown).replace(re.escape("..."), ".*?")
    for placeholder, regex in PLACEHOLDERS.items():
        text = text.replace(re.escape(placeholder), regex)
    return text


def shell(command: str, stack: LocalStack) -> str:
    local = command.replace(README_URL, stack.base_url.removesuffix("/api")).replace(".venv/bin/python", sys.executable)
    completed = subprocess.run(["bash", "-c", local], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def check_client(step: Step, stack: LocalStack) -> None:
    """The output line by line: placeholders match, a ``...`` line stands for any number of lines."""
    shown = "\n".join(".*?" if line == "..." else pattern(line) for line in step.shown)
    output = shell(step.command, stack)
    assert re.fullmatch(shown, output.strip(), re.S), f"{step.command}\nprinted:\n{output}"


def check_curl(steps: list[Step], stack: LocalStack) -> None:
    instance_id = ""
    for step in steps:
        command = step.command.replace("curl ", "curl -s -w '\\n%{http_code}' ", 1).replace("<id>", instance_id)
        deadline = time.monotonic() + (30 if step.reads else 0)
        while True:
            output = shell(command, stack).replace(stack.base_url.removesuffix("/api"), README_URL)
            missing = [line for line in step.shown if not re.search(pattern(line), output)]
            if not missing or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        assert not missing, f"{step.command}\nprinted:\n{output}"
        found = re.search(r'"id": "([0-9a-f]{32})"', output)
        instance_id = found[1] if found and not instance_id else instance_id


def test_the_quickstart_shows_what_it_prints_in_any_order_and_on_rerun(stack: LocalStack) -> None:
    fan_out, entities = client_steps()
    for order in ("clients first", "curl first", "again"):
        if order == "curl first":
            check_curl(curl_steps(), stack)
        check_client(fan_out, stack)
        check_client(entities, stack)
        if order != "curl first":
            check_curl(curl_steps(), stack)
        time.sleep(1.1)  # a reader's rerun comes seconds later: "demo-$(date +%s)" names a fresh counter
