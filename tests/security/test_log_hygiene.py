"""The worker and the client never log access tokens or the connection string's identity.

The stack runs with ``Authentication=ManagedIdentity;ClientID=<id>``, and a local stand-in for the App
Service managed-identity endpoint (``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``, the protocol azure-identity
speaks on Azure Functions) hands out a known token, so the worker and the HTTP triggers really fetch and
send it. The token may appear in no log, even with the SDKs at DEBUG; the client id (an identifier, not a
secret, but still elided) in none at the default levels.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import HOST, LocalStack, wait_for_output

CLIENT_ID = str(uuid.uuid4())
TOKEN = f"canary-token-{uuid.uuid4().hex}"
IDENTITY_HEADER = uuid.uuid4().hex


class IdentityEndpoint(BaseHTTPRequestHandler):
    """Answers token requests as App Service's identity endpoint does, recording who asked."""

    requests: list[dict[str, list[str]]] = []  # noqa: RUF012 - shared by the handler instances

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            self.send_error(401)
            return
        IdentityEndpoint.requests.append(query)
        body = {
            "access_token": TOKEN,
            "expires_on": str(int(time.time()) + 3600),
            "resource": query.get("resource", [""])[0],
            "token_type": "Bearer",
        }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads only the stack's logs."""


@pytest.fixture(scope="module")
def identity_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer((HOST, 0), IdentityEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{HOST}:{server.server_address[1]}/msi/token"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module", params=["", "DEBUG"], ids=["default-levels", "sdk-debug"])
def identity_stack(
    identity_endpoint: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    stack = LocalStack(log_dir=Path(tmp_path_factory.mktemp("identity")))
    stack.env = {
        **INSTANT_WORK,
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": (
            f"Endpoint={stack.endpoint};TaskHub=default;Authentication=ManagedIdentity;ClientID={CLIENT_ID}"
        ),
        "IDENTITY_ENDPOINT": identity_endpoint,
        "IDENTITY_HEADER": IDENTITY_HEADER,
        "DTS_SDK_LOG_LEVEL": request.param,
    }
    try:
        stack.start()
        stack.wait_healthy()
        yield stack
    finally:
        stack.stop()


def test_tokens_and_client_ids_stay_out_of_the_logs(identity_stack: LocalStack) -> None:
    IdentityEndpoint.requests.clear()
    with httpx.Client(base_url=identity_stack.base_url, timeout=30) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=[1, 2, 3])
        assert started.status_code == 202, started.text
        assert wait_for_output(api, started.json()["statusQueryGetUri"])["output"]["sum"] == 14
        assert api.post("/counters/hygiene/add", json=1).status_code == 202
    identity_stack.stop()  # flush and close every log

    assert [query.get("client_id") for query in IdentityEndpoint.requests][:1] == [[CLIENT_ID]]  # tokens were used
    logs = {part: identity_stack.log(part) for part in ("host", "scheduler")}
    assert "ClientID=***" in logs["host"]  # the app logged its connection, redacted
    for part, text in logs.items():
        assert TOKEN not in text, part
        if identity_stack.env["DTS_SDK_LOG_LEVEL"] != "DEBUG":
            assert CLIENT_ID not in text, part
