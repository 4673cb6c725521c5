"""Every Bicep file parsed once with pycep-parser, for assertions on the tree rather than on text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[2] / "infra"


@pytest.fixture(scope="session")
def bicep() -> dict[str, dict[str, Any]]:
    """Parsed tree of each ``.bicep`` file, keyed by its path relative to ``infra/``."""
    parser = BicepParser()
    return {str(path.relative_to(INFRA)): parser.parse(file_path=path) for path in sorted(INFRA.rglob("*.bicep"))}


def resource_config(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's body, unwrapping ``if (...)`` conditional resources."""
    config = resource["config"]
    return config["config"] if "condition" in config else config


def variable(tree: dict[str, Any], name: str) -> Any:
    return tree["variables"][name]["value"]
