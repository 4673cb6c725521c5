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
from tests.runtime.python313 import MISSING, runtime_python

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


PACKAGE_PYTHONS = ("3.11", "3.13")


@pytest.fixture(scope="module", params=PACKAGE_PYTHONS)
def elastic_premium_package(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """(Python, package): the Elastic Premium package with its wheels for Linux x86-64 CPython 3.11 and 3.13 (the
    oldest and the default Python of main.bicep; 3.13 adds the Functions runtime pin). Seconds each from a cache."""
    output = tmp_path_factory.mktemp("release") / "function-app.zip"
    return request.param, app_package.build(output, python_version=request.param)


def manylinux_glibc(platform: str) -> tuple[int, int] | None:
    """The glibc a Linux x86-64 wheel platform tag needs (PEP 600 and its legacy aliases), None for anything else."""
    legacy = {"manylinux1_x86_64": (2, 5), "manylinux2010_x86_64": (2, 12), "manylinux2014_x86_64": (2, 17)}
    if platform in legacy:
        return legacy[platform]
    parts = platform.split("_")
    if platform.endswith("_x86_64") and parts[0] == "manylinux" and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


def test_the_run_from_package_zip_holds_the_app_and_its_pinned_linux_wheels(
    elastic_premium_package: tuple[str, Path],
) -> None:
    python, package = elastic_premium_package
    with zipfile.ZipFile(package) as archive:
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
    pins = 0
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({"python_version": python}):
                continue  # a pin for another Python (azure-functions 2.x and its runtime from 3.13)
            assert installed[canonicalize_name(requirement.name)] in requirement.specifier, requirement
            pins += 1
    assert ("azure-functions-runtime" in installed) == (python == "3.13")
    tags = {tag.split(": ", 1)[1] for wheel in wheels for tag in wheel.splitlines() if tag.startswith("Tag: ")}
    # Version-specific binary wheels are this Python's own (abi3 wheels of older CPythons load on any later one).
    cpython = f"cp{python.replace('.', '')}"
    assert all(tag.split("-")[1] in {cpython, "abi3", "none"} for tag in tags), tags
    platforms = {tag.rsplit("-", 1)[1] for tag in tags}
    assert platforms - {"any"}, "no binary wheel at all: the platform was not applied"
    glibc = {platform: manylinux_glibc(platform) for platform in platforms - {"any"}}
    assert all(needed is not None and needed <= (2, 28) for needed in glibc.values()), glibc
    native = [name for name in names if name.endswith(".so")]
    assert native and all("x86_64-linux-gnu" in name or name.endswith(".abi3.so") for name in native)
    assert not [name for name in names if name.endswith((".pyd", ".dylib", ".dll"))]


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14"])
def test_the_pins_are_chosen_for_the_target_python_not_the_one_running_pip(python: str) -> None:
    """pip decides markers with its own interpreter whatever --python-version says; the package decides them for
    the site's Python, as packaging's own marker evaluation does."""
    text = (ROOT / "requirements.txt").read_text()
    expected = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"python_version": python}):
                expected.append(line.split(";", 1)[0].strip())
    assert app_package.requirements_for(text, python).splitlines() == expected
    library = "azure-functions==2.3.0" if python in ("3.13", "3.14") else "azure-functions==1.26.0"
    assert library in expected


def test_a_marker_other_than_python_version_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'sys_platform == \"linux\"' is not a python_version comparison"):
        app_package.requirements_for('uvloop==0.21.0; sys_platform == "linux"\n', "3.13")
    assert app_package.requirements_for('a==1; python_version >= "3.11" and python_version < "3.13"\n', "3.12") == (
        "a==1\n"
    )
    assert app_package.requirements_for('a==1; python_version >= "3.11" and python_version < "3.13"\n', "3.13") == (
        "\n"
    )


def probe_wheel(directory: Path, platform: str) -> Path:
    """A one-module wheel built for one platform tag only, as a package with no manylinux2014 wheel ships."""
    name, version = "glibc_probe", "1.0"
    wheel = directory / f"{name}-{version}-py3-none-{platform}.whl"
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": "PLATFORM = " + repr(platform) + "\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-{platform}\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{dist_info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in {**files, f"{dist_info}/RECORD": record}.items():
            archive.writestr(path, text)
    return wheel


@pytest.mark.parametrize("platform", ["manylinux_2_28_x86_64", "manylinux2014_x86_64"])
def test_a_dependency_with_wheels_for_either_manylinux_platform_is_installed(
    platform: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linux wheels built on glibc 2.28 alone (as more packages publish for new CPython versions) are accepted
    beside manylinux2014's; nothing is fetched from an index here, only the local wheel."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    probe_wheel(wheels, platform)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("glibc_probe==1.0\n")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    for python in PACKAGE_PYTHONS:
        target = tmp_path / f"site-{python}"
        app_package.install_dependencies(requirements, target, python)
        assert (target / "glibc_probe.py").read_text() == f"PLATFORM = {platform!r}\n"


def test_a_wheel_for_a_newer_glibc_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound is real: a wheel needing glibc 2.34 is not taken, so the install fails rather than ship it."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    probe_wheel(wheels, "manylinux_2_34_x86_64")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("glibc_probe==1.0\n")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    with pytest.raises(subprocess.CalledProcessError):
        app_package.install_dependencies(requirements, tmp_path / "site", "3.13")


def interpreter_for(python: str) -> Path | None:
    """A CPython of that version to import the package with: this one, or the 3.13 runtime tests' environment."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == python:
        return Path(sys.executable)
    found = runtime_python() if python == "3.13" else None
    return found if found is not None and found.exists() else None


@pytest.mark.skipif(
    not (sys.platform == "linux" and os.uname().machine == "x86_64"),
    reason="imports the Linux x86-64 wheels, so it needs a Linux x86-64 CPython",
)
def test_the_app_imports_from_the_package_alone(elastic_premium_package: tuple[str, Path], tmp_path: Path) -> None:
    """Unzipped as the platform mounts it, with only its own site-packages on the path: every trigger is there."""
    python, package = elastic_premium_package
    interpreter = interpreter_for(python)
    if interpreter is None:
        pytest.skip(f"no CPython {python} here to import the {python} package with ({MISSING})")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "wwwroot")
    root = tmp_path / "wwwroot"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(root), str(root / app_package.SITE_PACKAGES)]),
        "DTS_WORKER_ENABLED": "false",
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=http://localhost:1;TaskHub=default;Authentication=None",
    }
    listed = subprocess.run(
        [str(interpreter), "-S", "-c", LIST_FUNCTIONS], cwd=root, env=env, capture_output=True, text=True, timeout=120
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
