"""Smoke check of a deployed app: the hosted worker is connected, a fan-out completes, a counter takes a signal.

Runs after every `azd deploy` (azure.yaml's postdeploy hook) and as `make smoke URL=... KEY=...` for apps published
another way. Standard library only, so it runs on any Python 3.11+ without the app's dependencies. Each failure is
one line naming what failed and where to look; the exit code is 1 then, 0 when every check passed.

Without --key, the function key is fetched with the Azure CLI from the app azd provisioned
(AZURE_RESOURCE_GROUP, AZURE_FUNCTION_APP_NAME; a container app when DEPLOY_CONTAINER_APP is true); with neither,
the calls go without a key, as to `make run`, which asks for none unless LOCAL_FUNCTION_KEY is set.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

FAN_OUT_COUNT = 5
FAN_OUT_SUM = sum(item * item for item in range(1, FAN_OUT_COUNT + 1))
COUNTER_KEY = "smoke"
TRUTHY = {"1", "true", "yes"}
LOGS = "the app's logs (`az webapp log tail`, or Application Insights traces)"


class SmokeFailure(Exception):
    """One failed check; its message is the single line printed."""


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Api:
    """The deployed API under ``base`` (…/api), every call with the function key in x-functions-key."""

    base: str
    key: str | None
    request_timeout: float = 30.0

    def call(self, method: str, path: str) -> Response:
        url = path if path.startswith(("http://", "https://")) else f"{self.base}/{path}"
        headers = {"Accept": "application/json", "Content-Length": "0"}
        if self.key:
            headers["x-functions-key"] = self.key
        if not url.startswith(("http://", "https://")):
            raise SmokeFailure(f"setup: {url} is not an http(s) URL")
        data = b"" if method == "POST" else None
        request = urllib.request.Request(url, method=method, headers=headers, data=data)  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as reply:  # noqa: S310 - http(s) only
                return Response(reply.status, _json(reply.read()), dict(reply.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, _json(error.read()), dict(error.headers))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")[:200]


def check_health(api: Api, timeout: float) -> dict[str, Any]:
    """Wait for /api/health to report the hosted worker connected; a fresh deploy may still be starting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            health = api.call("GET", "health")
            problem = _health_problem(health)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            problem = f"{api.base}/health cannot be reached ({reason}); check the URL and that the app is running"
        if problem is None:
            return health.body["scheduler"]
        if time.monotonic() >= deadline:
            raise SmokeFailure(f"health: {problem}")
        time.sleep(min(5.0, max(0.5, timeout / 20)))


def _health_problem(health: Response) -> str | None:
    body = health.body if isinstance(health.body, dict) else {}
    worker = body.get("worker") or {}
    if health.status == 200 and worker.get("connected"):
        return None
    if health.status == 200 and worker.get("enabled") is False:
        return "the hosted worker is disabled (DTS_WORKER_ENABLED=false): nothing runs orchestrations on this app"
    if health.status in (200, 503) and worker:
        return (
            f"the hosted worker is not connected to the scheduler (lastError: {worker.get('lastError') or 'none'}); "
            "check the scheduler's allow-list holds DTS_OUTBOUND_IP and the app identity's Durable Task role"
        )
    return f"GET /api/health answered {health.status} {str(health.body)[:120]!r}; is this the app's URL? see {LOGS}"


def _refused(step: str, response: Response) -> SmokeFailure:
    if response.status == 401:
        return SmokeFailure(f"{step}: 401, the API refused the function key (or its absence); pass the app's key")
    return SmokeFailure(f"{step}: {response.status} {str(response.body)[:160]!r}; see {LOGS}")


def check_fan_out(api: Api, timeout: float) -> str:
    """Start a fan-out over 1..5 and wait for its documented result, {"sum": 55, ...}."""
    started = api.call("POST", f"orchestrators/fan_out_fan_in_orchestrator?count={FAN_OUT_COUNT}")
    if started.status != 202:
        raise _refused("fan-out", started)
    instance, status_url = started.body["id"], started.body["statusQueryGetUri"]
    deadline = time.monotonic() + timeout
    status: Response = started
    while time.monotonic() < deadline:
        status = api.call("GET", status_url)
        if status.status != 202:
            break
        time.sleep(0.5)
    body = status.body if isinstance(status.body, dict) else {}
    if status.status == 202:
        raise SmokeFailure(
            f"fan-out: instance {instance} still {body.get('runtimeStatus', 'pending')} after {timeout:.0f} s; "
            "the worker takes no work: open the dashboard and check the app's DTS_* settings"
        )
    if status.status != 200:
        raise _refused("fan-out", status)
    output = body.get("output") or {}
    if body.get("runtimeStatus") != "Completed" or output.get("sum") != FAN_OUT_SUM:
        raise SmokeFailure(
            f"fan-out: instance {instance} ended {body.get('runtimeStatus')} with {output!r}, expected sum "
            f"{FAN_OUT_SUM}; see the instance's history in the dashboard"
        )
    return instance


def check_counter(api: Api, timeout: float) -> int:
    """Signal add 1 to the `smoke` counter and wait until its value has grown by at least 1."""
    before = _counter_value(api)
    signalled = api.call("POST", f"counters/{COUNTER_KEY}/add?amount=1")
    if signalled.status != 202:
        raise _refused("counter", signalled)
    deadline = time.monotonic() + timeout
    value = before
    while time.monotonic() < deadline:
        value = _counter_value(api)
        if value >= before + 1:
            return value
        time.sleep(0.5)
    raise SmokeFailure(
        f"counter: '{COUNTER_KEY}' stayed at {value} for {timeout:.0f} s after a signal to add 1; "
        "the worker runs no entity work: check the dashboard's Entities page"
    )


def _counter_value(api: Api) -> int:
    response = api.call("GET", f"counters/{COUNTER_KEY}")
    if response.status == 404:
        return 0
    if response.status != 200:
        raise _refused("counter", response)
    return int(response.body["value"])


def fetch_key(env: dict[str, str]) -> str | None:
    """The default key of the app azd provisioned, read with the Azure CLI; None when no such app is named.

    The two CLIs answer in different shapes, both read here rather than through `--query`:
    `az functionapp keys list` gives {"functionKeys": {"default": ...}, ...}, and `az containerapp function keys list
    --key-type hostKey` gives {"value": {"keys": [{"name": "default", "value": ...}, ...]}} (azure-cli-extensions,
    src/containerapp/.../tests/latest/test_containerapp_function.py, test_containerapp_function_keys).
    """
    group, app = env.get("AZURE_RESOURCE_GROUP"), env.get("AZURE_FUNCTION_APP_NAME")
    if not (group and app):
        return None
    cli = shutil.which("az", path=env.get("PATH"))
    if cli is None:
        raise SmokeFailure("key: no --key given and the Azure CLI (az) is not installed to fetch it")
    on_container_apps = env.get("DEPLOY_CONTAINER_APP", "").lower() in TRUTHY
    if on_container_apps:
        command = ["containerapp", "function", "keys", "list", "--key-type", "hostKey"]
    else:
        command = ["functionapp", "keys", "list"]
    run = subprocess.run(  # noqa: S603 - the Azure CLI with fixed arguments
        [cli, *command, "-g", group, "-n", app, "-o", "json", "--only-show-errors"],
        capture_output=True,
        text=True,
        env=env,
    )
    key = _default_key(_json(run.stdout.encode()), on_container_apps) if run.returncode == 0 else None
    if not key:
        detail = " ".join(run.stderr.split()) or "no default key"
        raise SmokeFailure(f"key: `az {' '.join(command[:3])}` gave no key ({detail}); pass --key instead")
    return key


def _default_key(listed: Any, on_container_apps: bool) -> str | None:
    """The `default` key out of either CLI's answer; None when the answer holds none."""
    if not isinstance(listed, dict):
        return None
    if not on_container_apps:
        keys = listed.get("functionKeys")
        return keys.get("default") if isinstance(keys, dict) else None
    value = listed.get("value")
    entries = value.get("keys") if isinstance(value, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == "default":
            return entry.get("value")
    return None


def run(url: str, key: str | None, dashboard: str | None, timeout: float, env: dict[str, str]) -> None:
    api = Api(url.rstrip("/").removesuffix("/api") + "/api", key)
    scheduler = check_health(api, timeout)
    print(f"smoke: ok   health: worker connected to {scheduler.get('endpoint')} (task hub {scheduler.get('taskHub')})")
    if api.key is None:
        api.key = fetch_key(env)
    instance = check_fan_out(api, timeout)
    print(f"smoke: ok   fan-out: instance {instance} completed with sum {FAN_OUT_SUM}")
    value = check_counter(api, timeout)
    print(f"smoke: ok   counter: '{COUNTER_KEY}' took the signal (now {value})")
    print(f"smoke: dashboard: {dashboard or 'not known (DTS_DASHBOARD_URL is not set)'}")


def parse_args(argv: list[str], env: dict[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default=env.get("AZURE_FUNCTION_APP_URL"), help="the app's base URL")
    parser.add_argument("--key", default=env.get("SMOKE_FUNCTION_KEY") or None, help="a function or host key")
    parser.add_argument("--dashboard-url", default=env.get("DTS_DASHBOARD_URL"), help="printed at the end")
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(env.get("SMOKE_TIMEOUT", "300")),
        help="seconds to wait for each check (default 300: a fresh deploy may still be starting)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    env = dict(os.environ)
    args = parse_args(sys.argv[1:] if argv is None else argv, env)
    if not args.url:
        print("smoke: FAILED setup: no --url and no AZURE_FUNCTION_APP_URL", file=sys.stderr)
        return 1
    try:
        run(args.url, args.key, args.dashboard_url, args.timeout, env)
    except SmokeFailure as failure:
        print(f"smoke: FAILED {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
