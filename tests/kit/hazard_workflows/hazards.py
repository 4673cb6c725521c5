"""``hazardous``: one of each call that differs between replays, and lines silenced on purpose."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import socket
import threading
import time
import uuid
from datetime import datetime
from time import sleep as nap
from typing import Any

import httpx
import requests

from durable_app.workflows.registry import Workflows

hazard_workflows = Workflows(packages=("tests.kit.hazard_workflows",))

EXPECTED = {
    "datetime.datetime.now": "ctx.current_utc_datetime",
    "datetime.datetime.utcnow": "ctx.current_utc_datetime",
    "datetime.date.today": "ctx.current_utc_datetime.date()",
    "time.time": "ctx.current_utc_datetime",
    "time.monotonic": "ctx.current_utc_datetime",
    "time.sleep": "yield ctx.create_timer(...)",
    "random.choice": "ctx.new_uuid()",
    "uuid.uuid1": "ctx.new_uuid()",
    "uuid.uuid4": "ctx.new_uuid()",
    "os.environ": "a setting read in an activity",
    "os.getenv": "a setting read in an activity",
    "builtins.open": "an activity",
    "requests.get": "an activity",
    "httpx.Client": "an activity",
    "socket.create_connection": "an activity",
    "threading.Thread": "task.when_all",
    "asyncio.new_event_loop": "task.when_all",
}
"""Each hazard below -> the start of the alternative the check names."""


@hazard_workflows.orchestrator
def hazardous(ctx: Any, _: Any) -> Any:
    """Every hazard once, in the order of EXPECTED."""
    stamps = [datetime.now(), dt.datetime.utcnow(), dt.date.today(), time.time(), time.monotonic()]
    nap(0)
    picked = random.choice([1, 2]), uuid.uuid1(), uuid.uuid4()
    settings = os.environ["HOME"], os.getenv("HOME")
    with open(__file__, encoding="utf-8") as own:
        own.read()
    requests.get("http://127.0.0.1:1", timeout=1)
    httpx.Client()
    socket.create_connection(("127.0.0.1", 1))
    threading.Thread(target=print).start()
    asyncio.new_event_loop()
    yield ctx.create_timer(ctx.current_utc_datetime)
    return stamps, picked, settings


@hazard_workflows.orchestrator
def silenced(ctx: Any, _: Any) -> Any:
    """Hazards silenced on purpose, and replay-safe look-alikes."""
    region = os.getenv("REGION")  # replay-safe: fixed for the deployment's lifetime
    started = datetime.now()  # replay-safe
    later = ctx.current_utc_datetime + dt.timedelta(hours=1)
    yield ctx.create_timer(later)
    return region, started, ctx.new_uuid()


@hazard_workflows.activity
def allowed_in_activities(ctx: Any, _: Any) -> float:
    """Activities run once per call: the clock is fine here."""
    return time.time()
