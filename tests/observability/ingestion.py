"""A loopback stand-in for Application Insights' ingestion endpoint.

The Azure Monitor exporter POSTs batches of telemetry envelopes to ``<IngestionEndpoint>/v2.1/track`` as a
JSON array (optionally gzip-compressed, or as JSON lines); this server takes that real wire format, keeps
every envelope with the headers it came with, and answers as ingestion does. It also plays the App Service
managed-identity endpoint (``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``) so identity auth runs for real.
"""

from __future__ import annotations

import gzip
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.polling import wait_until

Envelope = dict[str, Any]


@dataclass
class Received:
    """What one POST to ``/v2.1/track`` carried."""

    headers: dict[str, str]
    envelopes: list[Envelope]
    raw: str


@dataclass
class IngestionStandIn:
    """Runs on 127.0.0.1 on a free port; ``stop()`` shuts it down."""

    identity_header: str = field(default_factory=lambda: secrets.token_hex(16))
    access_token: str = field(default_factory=lambda: f"stand-in-{secrets.token_hex(24)}")
    tls: ssl.SSLContext | None = None
    posts: list[Received] = field(default_factory=list)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> IngestionStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding", "").lower() == "gzip":
                    body = gzip.decompress(body)
                text = body.decode("utf-8")
                envelopes = _envelopes(text)
                with stand_in._lock:
                    stand_in.posts.append(Received(dict(self.headers.items()), envelopes, text))
                answer = {"itemsReceived": len(envelopes), "itemsAccepted": len(envelopes), "errors": []}
                self._send(200, answer)

            def do_GET(self) -> None:
                """The App Service managed-identity endpoint (api-version 2019-08-01)."""
                if self.headers.get("X-IDENTITY-HEADER") != stand_in.identity_header:
                    self._send(401, {"error": "missing identity header"})
                    return
                with stand_in._lock:
                    stand_in.token_requests.append(parse_qs(urlsplit(self.path).query))
                expires = int(time.time()) + 3600
                token = {"access_token": stand_in.access_token, "expires_on": str(expires), "token_type": "Bearer"}
                token["resource"] = "https://monitor.azure.com/"
                self._send(200, token)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ingestion", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def envelopes(self) -> list[Envelope]:
        with self._lock:
            return [envelope for post in self.posts for envelope in post.envelopes]

    def wait_for(self, condition: Callable[[list[Envelope]], bool], timeout: float = 60) -> list[Envelope]:
        """Poll until ``condition`` holds for everything received so far; fail after ``timeout`` seconds."""

        def received() -> list[Envelope] | None:
            envelopes = self.envelopes()
            return envelopes if condition(envelopes) else None

        def message() -> str:
            return f"ingestion never saw what was expected; got {len(self.envelopes())} items"

        return wait_until(received, timeout, 0.2, message)


def _envelopes(text: str) -> list[Envelope]:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return parsed if isinstance(parsed, list) else [parsed]
