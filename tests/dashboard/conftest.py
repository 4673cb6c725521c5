"""A local stack with its dashboard, plus work for the dashboard to show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers.stack import LocalStack, wait_for_output

SLOW_WORK = {"WORK_ITEM_DELAY_MIN_SECONDS": "8", "WORK_ITEM_DELAY_MAX_SECONDS": "8"}
"""Long enough to act on a running fan-out from the page; the fixture's own fan-out waits for it once."""


@dataclass(frozen=True)
class Shown:
    """Finished work started through the app's API: what the dashboard must show."""

    fan_out_id: str
    workflow_id: str
    counter_key: str


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(log_dir=Path(tmp_path_factory.mktemp("dashboard-stack")), env=dict(SLOW_WORK))
    try:
        local.start(dashboard=True)
        local.wait_healthy()
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="package")
def shown(stack: LocalStack) -> Shown:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        fan_out = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[1, 2, 3]).json()
        workflow = api.post("/orchestrators/counter_workflow", json={"entity_key": "dash-counter"}).json()
        for started in (fan_out, workflow):
            wait_for_output(api, started["statusQueryGetUri"])
    return Shown(fan_out["id"], workflow["id"], "dash-counter")
