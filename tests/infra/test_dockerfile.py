"""The Dockerfile of the ContainerApps plan, built as far as a machine without a Docker engine can.

Its instructions are read, its COPY steps rebuild the image's file tree (through .dockerignore, as the remote
build's upload does), its RUN steps (pip installs only) run in a fresh venv of the base image's Python, and the
app is imported from the script root the image declares: the same function_app.py with every trigger, the same
runtime pins as requirements.txt. The venv is of the base image's Python (PYTHON_VERSION, main.bicep's
pythonVersion default): 3.13 from .venv-3.13. The base image's own layers (Functions host, Python worker) are not
available here; that part of the build stays unverified.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.infra.bicep_eval import parse
from tests.infra.conftest import INFRA
from tests.runtime.python313 import runtime_python, without_runtime

ROOT = INFRA.parent
BASE_IMAGE = "mcr.microsoft.com/azure-functions/python:4-python{}"
APP_MODULES = {"function_app.py", "durable_app", "entities", "orchestrations"}
LIST_FUNCTIONS = (
    "import json, function_app;"
    "print(json.dumps(sorted(f.get_function_name() for f in function_app.app.get_functions())))"
)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, comments dropped and backslash continuations joined."""
    found: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return found


def _matches(relative: str, pattern: str) -> bool:
    """A .dockerignore pattern matches a path when it matches the path or one of its parent directories."""
    pattern = pattern.rstrip("/")
    parts = relative.split("/")
    for end in range(1, len(parts) + 1):
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch("/".join(parts[start:end]), pattern[3:]) for start in range(end)):
                return True
        elif fnmatch.fnmatch("/".join(parts[:end]), pattern):
            return True
    return False


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps a path out of the build context: the last matching pattern decides."""
    result = False
    for pattern in patterns:
        if _matches(relative, pattern.removeprefix("!")):
            result = not pattern.startswith("!")
    return result


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def build_context(target: Path) -> None:
    """The files azd uploads for the remote build: the project minus what .dockerignore excludes."""
    patterns = dockerignore()
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if path.is_file() and not ignored(relative, patterns):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, destination)


def copy_step(arguments: str, context: Path, image: Path) -> None:
    """COPY <src>... <dest>: a directory's contents go under dest; several sources need a dest ending in /."""
    *sources, destination = shlex.split(arguments)
    assert not any(s.startswith("--") for s in sources), f"COPY flags are not rebuilt here: {arguments}"
    target = image / destination.lstrip("/")
    if len(sources) > 1:
        assert destination.endswith("/"), arguments
    for source in sources:
        origin = context / source
        assert origin.exists(), f"COPY {source}: not in the build context (missing, or excluded by .dockerignore)"
        if origin.is_dir():
            shutil.copytree(origin, target, dirs_exist_ok=True)
        elif destination.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(origin, target / origin.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(origin, target)


def interpolate(text: str, build_args: dict[str, str]) -> str:
    """``${NAME}`` and ``$NAME`` replaced by the build arguments' values, as Docker expands them in FROM."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda match: build_args[match[1]], text)


def python_for(version: str) -> Path:
    """An interpreter of the base image's Python version: this one, or the 3.13 environment."""
    if version == f"{sys.version_info.major}.{sys.version_info.minor}":
        return Path(sys.executable)
    if version == "3.13":
        python = runtime_python()
        if python is None:
            without_runtime()
        return python
    pytest.skip(f"no Python {version} here to rebuild the image's RUN steps with")


def run_step(arguments: str, image: Path, python: Path) -> None:
    """RUN pip install ...: run by the venv's pip, image paths mapped into the rebuilt tree.

    ``--no-cache-dir`` keeps the image small; here it is dropped so the machine's warm pip cache serves the wheels.
    """
    words = shlex.split(arguments)
    assert words[:2] == ["pip", "install"], f"only pip install steps are rebuilt here: RUN {arguments}"
    mapped = [str(image / word.lstrip("/")) if word.startswith("/") else word for word in words[2:]]
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *[w for w in mapped if w != "--no-cache-dir"]],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The image's file tree and environment, and a venv holding what its RUN steps installed."""
    work = tmp_path_factory.mktemp("image")
    context, tree, venv = work / "context", work / "root", work / "venv"
    build_context(context)
    python = venv / "bin" / "python"
    base, environment, build_args = None, {}, {}
    for step in instructions((ROOT / "Dockerfile").read_text()):
        if step.keyword == "ARG":
            name, _, default = step.arguments.partition("=")
            build_args[name] = default
        elif step.keyword == "FROM":
            base = interpolate(step.arguments, build_args)
            version = build_args["PYTHON_VERSION"]
            subprocess.run([str(python_for(version)), "-m", "venv", str(venv)], check=True, timeout=120)
        elif step.keyword == "ENV":
            environment.update(dict(pair.split("=", 1) for pair in shlex.split(step.arguments)))
        elif step.keyword == "COPY":
            copy_step(step.arguments, context, tree)
        elif step.keyword == "RUN":
            run_step(step.arguments, tree, python)
        else:
            pytest.fail(f"instruction {step.keyword} is not rebuilt by this test")
    return {"base": base, "env": environment, "tree": tree, "python": python, "context": context, "args": build_args}


def venv_version(python: Path) -> str:
    run = [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    return subprocess.run(run, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_the_image_builds_on_the_functions_python_base_image_of_the_templates_python(
    image: dict[str, object],
) -> None:
    """The Dockerfile's default Python is the Bicep templates' default: the Container Apps plan runs the same
    Python as the Function App plans unless both are changed."""
    python_version = parse("main.bicep")["parameters"]["pythonVersion"]["default"]
    assert image["args"]["PYTHON_VERSION"] == python_version
    assert image["base"] == BASE_IMAGE.format(python_version)
    assert venv_version(image["python"]) == python_version
    assert image["env"]["AzureWebJobsScriptRoot"] == "/home/site/wwwroot"


def azd_expand(template: str, env: dict[str, str]) -> str:
    """azd's expansion of an azure.yaml value (drone/envsubst): ``${NAME}``, or ``${NAME=default}`` when unset."""
    return re.sub(r"\$\{(\w+)(?:=([^}]*))?\}", lambda match: env.get(match[1], match[2] or ""), template)


def base_image_for(build_args: list[str]) -> str:
    """The Dockerfile's FROM with these `NAME=value` build arguments over its ARG defaults, as docker resolves it."""
    given = dict(arg.split("=", 1) for arg in build_args)
    values: dict[str, str] = {}
    for step in instructions((ROOT / "Dockerfile").read_text()):
        if step.keyword == "ARG":
            name, _, default = step.arguments.partition("=")
            values[name] = given.get(name, default)
        elif step.keyword == "FROM":
            return interpolate(step.arguments, values)
    raise AssertionError("the Dockerfile has no FROM")


@pytest.mark.parametrize("chosen", [None, "3.11", "3.12", "3.13"])
def test_the_azd_environments_python_picks_the_images_base(chosen: str | None) -> None:
    """`azd env set PYTHON_VERSION 3.11` reaches the image as it reaches the other plans (main.parameters.json):
    azure.yaml's build argument carries it to the Dockerfile's FROM; unset, both fall back to the same default."""
    main = parse("main.bicep")["parameters"]["pythonVersion"]
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    env = {} if chosen is None else {"PYTHON_VERSION": chosen}
    bicep_python = azd_expand(parameters["pythonVersion"]["value"], env)
    service = yaml.safe_load((ROOT / "azure.yaml").read_text())["services"]["api-containerapp"]
    build_args = [azd_expand(arg, env) for arg in service["docker"]["buildArgs"]]
    assert bicep_python == (chosen or main["default"])
    assert base_image_for(build_args) == BASE_IMAGE.format(bicep_python)


def test_the_script_root_holds_the_app_and_nothing_dev_only(image: dict[str, object]) -> None:
    root = image["tree"] / "home/site/wwwroot"
    assert {path.name for path in root.iterdir()} == APP_MODULES | {"host.json"}
    assert json.loads((root / "host.json").read_text()) == json.loads((ROOT / "host.json").read_text())
    assert not list(root.rglob("__pycache__"))


def test_the_build_context_is_only_what_the_image_copies(image: dict[str, object]) -> None:
    """The remote build uploads the context: no venv, tests, local stack or secrets in it."""
    top = {path.name for path in image["context"].iterdir()}
    assert top == APP_MODULES | {"host.json", "requirements.txt"}


def test_the_installed_packages_are_requirements_txt(image: dict[str, object]) -> None:
    listing = subprocess.run(
        [str(image["python"]), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    installed = {canonical(entry["name"]): entry["version"] for entry in json.loads(listing.stdout)}
    environment = {"python_version": venv_version(image["python"])}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            assert installed.get(canonical(requirement.name)) == str(requirement.specifier).removeprefix("=="), line


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares it (durabletask.azuremanaged == durabletask-azuremanaged)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def functions(python: Path, cwd: Path) -> list[str]:
    """The trigger names a Python process finds when it imports function_app from ``cwd``, worker off."""
    env = {
        "PATH": os.environ["PATH"],
        "DTS_WORKER_ENABLED": "false",
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": (
            "Endpoint=https://dts-x.northeurope.durabletask.io;TaskHub=default;"
            "Authentication=ManagedIdentity;ClientID=00000000-0000-0000-0000-000000000001"
        ),
    }
    run = subprocess.run(
        [str(python), "-c", LIST_FUNCTIONS], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_image_serves_every_trigger_of_the_repository(image: dict[str, object]) -> None:
    """Imported with only what the image holds, the app has the same triggers as the repository's."""
    in_image = functions(image["python"], image["tree"] / "home/site/wwwroot")
    assert in_image == functions(Path(sys.executable), ROOT)
    assert len(in_image) > 5
