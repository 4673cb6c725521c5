"""The rooms of ``durable_app``: each loads only what its job needs (the import rules are in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LOADED = (
    "import sys, importlib; importlib.import_module(sys.argv[1]); "
    "print('\\n'.join(sorted(m for m in sys.modules if m.startswith(('durable_app', 'azure.functions')))))"
)


def _modules_loaded_by(module: str) -> set[str]:
    run = subprocess.run([sys.executable, "-c", LOADED, module], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(run.stdout.split())


@pytest.mark.parametrize(
    "room",
    [
        "durable_app.values",
        "durable_app.settings",
        "durable_app.telemetry",
        "durable_app.scheduler",
        "durable_app.workflows",
    ],
)
def test_rooms_below_the_http_api_load_neither_it_nor_azure_functions(room: str) -> None:
    loaded = _modules_loaded_by(room)
    assert room in loaded
    assert {m for m in loaded if m.startswith(("durable_app.http", "durable_app.worker", "azure.functions"))} == set()


def test_settings_load_only_the_values_beneath_them() -> None:
    rooms = {".".join(m.split(".")[:2]) for m in _modules_loaded_by("durable_app.settings")}
    assert "durable_app.settings" in rooms
    assert rooms <= {"durable_app", "durable_app.settings", "durable_app.values"}


PACKAGES = (
    "import sys, importlib; importlib.import_module(sys.argv[1]); "
    "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))"
)


def test_settings_load_no_package_beyond_the_standard_library() -> None:
    """Why the settings are not pydantic-settings (docs/settings.md): that would add about 0.1 s to each cold start."""

    def packages(module: str) -> set[str]:
        run = subprocess.run([sys.executable, "-c", PACKAGES, module], cwd=ROOT, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return set(run.stdout.split())

    assert packages("durable_app.settings") - packages("json") == {"durable_app"}


def test_at_most_three_modules_stay_at_the_package_root() -> None:
    modules = sorted(p.name for p in (ROOT / "durable_app").glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= 3, modules
