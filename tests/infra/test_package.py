"""The Function App package: what azd's zip would hold, and the Elastic Premium package with its Linux wheels.

azd zips a function service itself (pkg/project/project_utils.go): `.funcignore`'s rules alone decide once the file
exists, so anything it forgets ships, `azd restore`'s `<project folder>_env` virtual environment included.
scripts/app_package.py walks the tree the same way; git's own ignore matcher checks its gitignore rules here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts import app_package
from tests.infra.conftest import INFRA

ROOT = INFRA.parent
APP = {"function_app.py", "host.json", "requirements.txt", "durable_app", "entities", "orchestrations"}
LIST_FUNCTIONS = (
    "import json, function_app;"
    "print(json.dumps(sorted(f.get_function_name() for f in function_app.app.get_functions())))"
)
# What a developer's checkout holds besides the app, each created in the copy below: none may reach the zip.
LOCAL_LEFTOVERS = [
    "project_env/pyvenv.cfg",  # azd restore: python.VenvNameForDir -> "<folder>_env"
    "project_env/lib/python3.11/site-packages/six.py",
    ".venv/pyvenv.cfg",
    ".venv-infra/pyvenv.cfg",
    "node_modules/left-pad/index.js",
    ".pytest_cache/v/cache/lastfailed",
    ".ruff_cache/CACHEDIR.TAG",
    ".mypy_cache/3.11/x.json",
    "durable_app/__pycache__/settings.cpython-311.pyc",
    "entities/__pycache__/counter.cpython-311.pyc",
    ".python_packages/lib/site-packages/six.py",
    "build/lib/function_app.py",
    "durable_functions_dts.egg-info/PKG-INFO",
    ".azure/dev/.env",
    ".local/scheduler.sqlite3",
    ".coverage",
    "local.settings.json",
]


def tracked_copy(destination: Path) -> Path:
    """The repository's tracked files (the working tree's copy of each), as a fresh clone would hold them."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    for relative in filter(None, listed.decode().split("\0")):
        source = ROOT / relative
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    return destination


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout named `project` after `azd restore`, tests, caches and a JavaScript tool have left their files."""
    root = tracked_copy(tmp_path_factory.mktemp("checkout") / "project")
    (root / ".funcignore").write_text((ROOT / ".funcignore").read_text())  # the rules under test, committed or not
    for leftover in LOCAL_LEFTOVERS:
        (root / leftover).parent.mkdir(parents=True, exist_ok=True)
        (root / leftover).write_text("x")
    return root


def top_level(names: list[str]) -> set[str]:
    return {name.split("/", 1)[0] for name in names}


def test_azd_would_ship_only_what_the_app_runs(project: Path) -> None:
    shipped = [name for _, name in app_package.package_files(project)]
    assert top_level(shipped) == APP
    assert not [name for name in shipped if "__pycache__" in name or name.endswith(".pyc")]


def test_the_package_of_this_checkout_is_the_app_alone(tmp_path: Path) -> None:
    """The working tree as it is, symlinked venvs and caches included; its size is printed for the record."""
    package = app_package.build(tmp_path / "app.zip", python_version=None)
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    assert top_level(names) == APP
    size = package.stat().st_size
    print(f"azd package of this checkout: {len(names)} files, {size:,} bytes")
    assert size < 1_000_000


def test_the_rules_match_as_git_matches_them(project: Path, tmp_path: Path) -> None:
    """git's own matcher is the reference for gitignore syntax (azd's go-gitignore follows it): same verdicts."""
    paths = sorted(
        {str(path.relative_to(project)) + ("/" if path.is_dir() else "") for path in project.rglob("*")}
        | {"docs/nested/tests/x.py", "a/b/c_env/", "pkg.egg-info/", "sub/node_modules/", "bench/results/a.tmp"}
    )
    repository = tmp_path / "oracle"
    repository.mkdir()
    subprocess.run(["git", "init", "-q", str(repository)], check=True, timeout=60)
    (repository / ".gitignore").write_text((ROOT / ".funcignore").read_text())
    answer = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", "--stdin"],
        cwd=repository,
        input="\n".join(paths),
        capture_output=True,
        text=True,
        timeout=60,
    )
    verdicts = {}
    for line in answer.stdout.splitlines():
        source, path = line.split("\t", 1)
        verdicts[path] = source != "::" and not source.split(":", 2)[2].startswith("!")
    assert sorted(verdicts) == paths
    rules = app_package.parse_rules((ROOT / ".funcignore").read_text())
    for path, git_ignores in verdicts.items():
        parents = ["/".join(path.split("/")[:end]) + "/" for end in range(1, path.rstrip("/").count("/") + 1)]
        if any(verdicts.get(parent) for parent in parents):
            continue  # git reports the excluded parent's rule; azd never walks into an excluded directory
        assert app_package.ignored(path.rstrip("/"), path.endswith("/"), rules) == git_ignores, path


@pytest.fixture(scope="module")
def elastic_premium_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Elastic Premium package, its wheels downloaded for Linux x86-64 CPython 3.11 (a few seconds from a cache)."""
    return app_package.build(tmp_path_factory.mktemp("release") / "function-app.zip", python_version="3.11")


def test_the_run_from_package_zip_holds_the_app_and_its_pinned_linux_wheels(elastic_premium_package: Path) -> None:
    with zipfile.ZipFile(elastic_premium_package) as archive:
        names = archive.namelist()
        wheels = [archive.read(name).decode() for name in names if name.endswith(".dist-info/WHEEL")]
    assert top_level(names) == APP | {".python_packages"}
    site = app_package.SITE_PACKAGES + "/"
    distributions = [
        name[len(site) :].split("/", 1)[0].removesuffix(".dist-info").rsplit("-", 1)
        for name in names
        if name.startswith(site) and name.endswith(".dist-info/METADATA")
    ]
    installed = {canonicalize_name(name): version for name, version in distributions}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({"python_version": "3.11"}):
                continue  # a pin for another Python (azure-functions 2.x and its runtime from 3.13)
            assert installed[canonicalize_name(requirement.name)] in requirement.specifier, requirement
    tags = {tag.split(": ", 1)[1] for wheel in wheels for tag in wheel.splitlines() if tag.startswith("Tag: ")}
    platforms = {tag.rsplit("-", 1)[1] for tag in tags}
    assert platforms - {"any"}, "no binary wheel at all: the platform was not applied"
    assert all(platform == "any" or (platform.endswith("_x86_64") and "linux" in platform) for platform in platforms)
    native = [name for name in names if name.endswith(".so")]
    assert native and all("x86_64-linux-gnu" in name or name.endswith(".abi3.so") for name in native)
    assert not [name for name in names if name.endswith((".pyd", ".dylib", ".dll"))]


@pytest.mark.skipif(
    not (sys.platform == "linux" and os.uname().machine == "x86_64" and sys.version_info[:2] == (3, 11)),
    reason="imports the Linux x86-64 CPython 3.11 wheels, so it needs that interpreter",
)
def test_the_app_imports_from_the_package_alone(elastic_premium_package: Path, tmp_path: Path) -> None:
    """Unzipped as the platform mounts it, with only its own site-packages on the path: every trigger is there."""
    with zipfile.ZipFile(elastic_premium_package) as archive:
        archive.extractall(tmp_path / "wwwroot")
    root = tmp_path / "wwwroot"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(root), str(root / app_package.SITE_PACKAGES)]),
        "DTS_WORKER_ENABLED": "false",
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=http://localhost:1;TaskHub=default;Authentication=None",
    }
    listed = subprocess.run(
        [sys.executable, "-S", "-c", LIST_FUNCTIONS], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    expected = subprocess.run(
        [sys.executable, "-c", LIST_FUNCTIONS],
        cwd=ROOT,
        env={**os.environ, "DTS_WORKER_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(listed.stdout) == json.loads(expected.stdout)
