"""The Function App's deployment package, chosen the way azd chooses it, optionally with Linux wheels inside.

azd zips a `host: function` service's folder itself (pkg/project/project_utils.go, createDeployableZip): it walks
the tree following symlinks, always leaves out `.azure/`, `.funcignore` and `local.settings.json`, and once a
`.funcignore` exists applies only that file's gitignore rules (github.com/denormal/go-gitignore). `package_files`
does the same walk, so a test can see what `azd deploy` would ship.

An Elastic Premium app without an Azure Files share runs from a zip in blob storage, where nothing is built: the
zip must already hold the dependencies, installed for the platform's Linux x86-64 and the site's Python into
`.python_packages/lib/site-packages`, the folder the Python worker adds to its path and the one Core Tools' own
local build fills (eng/tools/python/packapp in azure-functions-core-tools).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE_FILE = ".funcignore"
SITE_PACKAGES = ".python_packages/lib/site-packages"
# The wheel platforms pip may pick from, oldest glibc first: manylinux2014 (glibc 2.17) and manylinux_2_28 (glibc
# 2.28), both older than the Functions Linux images (Debian bookworm, glibc 2.36). Packages that publish Linux wheels
# only for manylinux_2_28 (as more do for new CPython versions) are found too; pure-Python wheels always are.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")


@dataclass(frozen=True)
class Rule:
    """One line of a gitignore file: its pattern as a regex over the root-relative path."""

    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


def _regex(pattern: str) -> re.Pattern[str]:
    """gitignore's wildcards: `*` and `?` stay within a path segment, `**` crosses them, `[...]` is a class."""
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.lstrip("/")
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif char == "*":
            out, i = out + "[^/]*", i + 1
        elif char == "?":
            out, i = out + "[^/]", i + 1
        elif char == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out, i = out + "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]", end + 1
        else:
            out, i = out + re.escape(char), i + 1
    return re.compile(("" if anchored else "(?:.*/)?") + out + "$")


def parse_rules(text: str) -> list[Rule]:
    """The rules of a gitignore file, in order; blank lines and comments dropped, a UTF-8 BOM stripped as azd does."""
    rules = []
    for raw in text.removeprefix("\ufeff").splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line.removeprefix("!")
        rules.append(Rule(_regex(line.rstrip("/")), negated, line.endswith("/")))
    return rules


def ignored(relative: str, is_dir: bool, rules: list[Rule]) -> bool:
    """Whether the last rule matching this path excludes it."""
    verdict = False
    for rule in rules:
        if rule.directory_only and not is_dir:
            continue
        if rule.regex.match(relative):
            verdict = not rule.negated
    return verdict


def package_files(root: Path = ROOT) -> list[tuple[Path, str]]:
    """(file on disk, name in the zip) for every file azd would zip from ``root``."""
    ignore = root / IGNORE_FILE
    rules = parse_rules(ignore.read_text()) if ignore.exists() else None
    found: list[tuple[Path, str]] = []

    def walk(directory: Path, prefix: str, depth: int) -> None:
        for entry in sorted(directory.iterdir()):
            name = f"{prefix}{entry.name}"
            is_dir = entry.is_dir()  # follows symlinks, as azd's zip does
            if (entry.name == ".azure" and is_dir) or (entry.name in (IGNORE_FILE, "local.settings.json")):
                continue
            if rules is not None and ignored(name, is_dir, rules):
                continue
            if rules is None and is_dir and ((entry / "pyvenv.cfg").exists() or entry.name == "__pycache__"):
                continue  # azd's defaults for Python without a .funcignore
            if is_dir:
                if depth < 40:
                    walk(entry.resolve(), f"{name}/", depth + (1 if entry.is_symlink() else 0))
            else:
                found.append((entry, name))

    walk(root, "", 0)
    return found


MARKER = re.compile(r'^python_version\s*(<=|>=|==|!=|<|>)\s*["\'](\d+)\.(\d+)["\']$')
COMPARE = {
    "<": tuple.__lt__, "<=": tuple.__le__, ">": tuple.__gt__, ">=": tuple.__ge__, "==": tuple.__eq__, "!=": tuple.__ne__
}  # fmt: skip


def requirements_for(text: str, python_version: str) -> str:
    """The requirement lines that apply to CPython ``python_version``, their markers evaluated and dropped.

    pip evaluates environment markers against the interpreter running it, never against ``--python-version``: a
    3.11 pip building a 3.13 package would pick the 3.11 pins. So the markers are decided here, for the target.
    Only ``python_version`` comparisons joined by ``and`` are understood; anything else is refused by name.
    """
    target = tuple(int(part) for part in python_version.split(".")[:2])
    kept = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _, marker = (part.strip() for part in line.partition(";"))
        if marker and not all(_holds(clause.strip(), target) for clause in marker.split(" and ")):
            continue
        kept.append(requirement)
    return "\n".join(kept) + "\n"


def _holds(clause: str, target: tuple[int, ...]) -> bool:
    match = MARKER.match(clause)
    if match is None:
        raise ValueError(f"requirements.txt: marker {clause!r} is not a python_version comparison")
    operator, major, minor = match.groups()
    return COMPARE[operator](target, (int(major), int(minor)))


def install_dependencies(requirements: Path, target: Path, python_version: str) -> None:
    """pip installs the requirements for Linux x86-64 CPython ``python_version``, binary wheels only."""
    with tempfile.TemporaryDirectory() as scratch:
        resolved = Path(scratch) / "requirements.txt"
        resolved.write_text(requirements_for(requirements.read_text(), python_version))
        _pip_install(resolved, target, python_version)


def _pip_install(requirements: Path, target: Path, python_version: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        *(argument for platform in PLATFORMS for argument in ("--platform", platform)),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--target",
        str(target),
        "--requirement",
        str(requirements),
    ]
    subprocess.run(command, check=True, env={**os.environ, "PIP_NO_INPUT": "1"})  # noqa: S603 - our own interpreter


def build(output: Path, python_version: str | None, root: Path = ROOT) -> Path:
    """Write the package to ``output``: the app's files as azd picks them, plus site-packages for a Python version."""
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in package_files(root):
            archive.write(path, name)
        if python_version is not None:
            with tempfile.TemporaryDirectory() as scratch:
                target = Path(scratch)
                install_dependencies(root / "requirements.txt", target, python_version)
                for path in sorted(target.rglob("*")):
                    if path.is_file() and "__pycache__" not in path.parts:
                        archive.write(path, f"{SITE_PACKAGES}/{path.relative_to(target).as_posix()}")
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("output", type=Path, help="the zip to write")
    parser.add_argument(
        "--python-version", help="install requirements.txt for this Linux CPython (e.g. 3.11) into the zip"
    )
    args = parser.parse_args()
    build(args.output, args.python_version)
    print(f"{args.output}: {args.output.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
