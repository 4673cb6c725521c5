"""A scheduler killed in the middle of batches: each answer says exactly which signals were queued.

The scheduler keeps its state in SQLite, so what it acknowledged survives the kill. Every signal goes to a key
of its own (add 1), so after the restart each key shows whether its one signal was applied: every ``queued``
entry must be, no ``failed`` entry may be, and an ``uncertain`` one (in flight when the connection broke)
may go either way.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.backlog import wait_for_idle
from tests.helpers.limits import MAX_BATCH_SIGNALS
from tests.helpers.polling import wait_until
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack

pytestmark = pytest.mark.timeout(300)

SENDERS = 2
"""Two senders back to back, so that the kill lands inside a batch rather than between two."""

Answer = tuple[list[str], int, dict[str, Any]]


def test_a_scheduler_killed_mid_batch_is_reported_entry_by_entry(tmp_path: Path) -> None:
    arguments = ["--store", "sqlite", "--data-file", str(tmp_path / "scheduler.sqlite3")]
    with LocalStack(log_dir=tmp_path, env=dict(INSTANT_WORK), scheduler_args=arguments).running() as stack:
        run = uuid.uuid4().hex[:8]
        answers: list[Answer] = []
        senders = [
            threading.Thread(target=_send_until_refused, args=(stack.base_url, f"{run}-{number}", answers))
            for number in range(SENDERS)
        ]
        for sender in senders:
            sender.start()
        wait_until(lambda: any(status == 202 for _, status, _ in answers), 60, 0.01, "no batch was ever accepted")
        stack.kill("scheduler")
        for sender in senders:
            sender.join(timeout=120)
        stack.start_scheduler()
        stack.wait_healthy()

        failures = [(keys, body) for keys, status, body in answers if status != 202]
        assert {status for _, status, _ in answers} <= {202, 503}, [status for _, status, _ in answers]
        assert len(failures) == SENDERS
        assert any(body["queued"] and (body["failed"] or body["uncertain"]) for _, body in failures), failures
        must, must_not = _expected_keys(answers)
        wait_for_idle(stack.endpoint.removeprefix("http://"), 120)  # every queued signal applied: no value moves
        values = _counters(stack.base_url, run)
        assert all(values.get(key) == 1 for key in must)
        assert not must_not & set(values), sorted(must_not & set(values))[:5]
        assert set(values.values()) == {1}


def _send_until_refused(base_url: str, prefix: str, answers: list[Answer]) -> None:
    with httpx.Client(timeout=120) as http:
        for batch in range(1000):
            keys = [f"{prefix}-{batch}-{index}" for index in range(MAX_BATCH_SIGNALS)]
            signals = [{"key": key, "operation": "add", "amount": 1} for key in keys]
            response = http.post(f"{base_url}/batch/signals", json={"signals": signals})
            answers.append((keys, response.status_code, response.json()))
            if response.status_code != 202:
                return


def _expected_keys(answers: list[Answer]) -> tuple[set[str], set[str]]:
    """Keys whose signal must have been applied, and keys whose signal must not."""
    must: set[str] = set()
    must_not: set[str] = set()
    for keys, status, body in answers:
        if status == 202:
            must.update(keys)
            continue
        assert sorted(body["queued"] + body["failed"] + body["uncertain"]) == list(range(len(keys)))
        assert body["field"] is None and "UNAVAILABLE" in body["error"]
        must.update(keys[index] for index in body["queued"])
        must_not.update(keys[index] for index in body["failed"])
    return must, must_not


def _counters(base_url: str, run: str) -> dict[str, int]:
    """Every counter of this run, by key."""
    response = httpx.get(f"{base_url}/counters", params={"prefix": run}, timeout=60)
    assert response.status_code == 200, response.text
    return {counter["key"]: counter["value"] for counter in response.json()["counters"]}
