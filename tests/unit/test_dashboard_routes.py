"""The dashboard's routes keep their event loop free while a scheduler call is slow."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from local_stack.dashboard.app import create_app
from local_stack.dashboard.guard import Guard
from local_stack.dashboard.reader import InstanceDetail, InstanceRow, Page

HELD_SECONDS = 30.0
"""How long the held call waits to be released; only a blocked event loop ever waits that long."""


class HeldReader:
    """A reader whose entity listing waits until released, as a call to a slow scheduler does."""

    endpoint = "http://scheduler.test:8080"
    taskhub = "default"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released = False

    def entities(self, **_: Any) -> Page:
        self.entered.set()
        self.released = self.release.wait(HELD_SECONDS)
        return Page([], None)

    def instance(self, instance_id: str, *, with_history: bool = True) -> InstanceDetail:
        row = InstanceRow(instance_id, "fan_out_fan_in_orchestrator", "Completed", None, None)
        return InstanceDetail(row, input="[1, 2, 3]", output=None, custom_status=None, failure=None, steps=[])


async def _a_fast_page_while_a_slow_one_waits(reader: HeldReader) -> tuple[httpx.Response, httpx.Response]:
    transport = httpx.ASGITransport(app=create_app(reader, Guard("127.0.0.1", 8082)))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8082") as client:
        slow = asyncio.create_task(client.get("/entities"))
        await asyncio.to_thread(reader.entered.wait, HELD_SECONDS)  # the slow call has started and waits
        fast = await client.get("/instances/abc/payload/input")
        reader.release.set()
        return fast, await slow


def test_a_slow_scheduler_call_does_not_stall_other_requests() -> None:
    """The fast request is answered while the slow call still waits; on a blocked loop it could only be
    answered after the slow call gave up, and the slow call would report that it was never released."""
    reader = HeldReader()
    fast, slow = asyncio.run(_a_fast_page_while_a_slow_one_waits(reader))
    assert fast.status_code == 200
    assert fast.json() == [1, 2, 3]
    assert slow.status_code == 200
    assert reader.released
