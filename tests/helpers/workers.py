"""Workers for tests that hold work back: a bare worker process and a class entity."""

from __future__ import annotations

import os
import subprocess
import sys

from durabletask.entities import DurableEntity

from tests.helpers.stack import ROOT


class Tally(DurableEntity):
    """A class entity: its inherited ``delete`` operation removes its state."""

    def add(self, amount: int) -> None:
        self.set_state(self.get_state(int, 0) + amount)


def start_worker(port: int, delay: float) -> subprocess.Popen[str]:
    """A worker process hosting the registry on the scheduler at ``port``; each work item takes ``delay`` s."""
    env = {**os.environ, "WORK_ITEM_DELAY_MIN_SECONDS": str(delay), "WORK_ITEM_DELAY_MAX_SECONDS": str(delay)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.worker_process", str(port)], cwd=ROOT, env=env, text=True
    )
