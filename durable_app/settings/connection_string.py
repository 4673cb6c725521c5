"""Strict parser for the DTS connection string used by every Durable Task Scheduler SDK.

Format: ``Endpoint=<url>;TaskHub=<name>;Authentication=<kind>[;ClientID=<id>]``. Keys are matched
case-insensitively, as the .NET and Java SDKs do; anything unknown, duplicated or malformed is an error that
names the offending part, so a typo fails at startup instead of at the first token request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlparse


class ConnectionStringError(ValueError):
    """The connection string is malformed; the message names the bad part."""


class Authentication(Enum):
    """The ``Authentication`` values the other DTS SDKs accept."""

    DEFAULT_AZURE = "DefaultAzure"
    MANAGED_IDENTITY = "ManagedIdentity"
    WORKLOAD_IDENTITY = "WorkloadIdentity"
    ENVIRONMENT = "Environment"
    AZURE_CLI = "AzureCLI"
    AZURE_POWERSHELL = "AzurePowerShell"
    VISUAL_STUDIO_CODE = "VisualStudioCode"
    INTERACTIVE_BROWSER = "InteractiveBrowser"
    NONE = "None"

    @classmethod
    def parse(cls, value: str) -> Authentication:
        for member in cls:
            if member.value.lower() == value.strip().lower():
                return member
        allowed = ", ".join(member.value for member in cls)
        raise ConnectionStringError(f"Authentication '{value}' is not supported; use one of: {allowed}")


_KNOWN_KEYS = {"endpoint": "Endpoint", "taskhub": "TaskHub", "authentication": "Authentication", "clientid": "ClientID"}


@dataclass(frozen=True)
class ConnectionString:
    """A parsed connection string: where the scheduler is, which hub, and how to authenticate."""

    endpoint: str
    taskhub: str
    authentication: Authentication
    client_id: str | None = None

    @property
    def secure_channel(self) -> bool:
        """``https://`` endpoints use TLS; ``http://`` ones (the emulator) an insecure channel."""
        return self.endpoint.lower().startswith("https://")

    @property
    def host_address(self) -> str:
        """The endpoint in the form the gRPC channel wants (``host:port``), the scheme implied by TLS."""
        parsed = urlparse(self.endpoint)
        port = parsed.port or (443 if self.secure_channel else 80)
        return f"{parsed.hostname}:{port}"

    def redacted(self) -> str:
        """The string safe for logs: the client id is an identifier, not a secret, but is still elided."""
        client = ";ClientID=***" if self.client_id else ""
        return f"Endpoint={self.endpoint};TaskHub={self.taskhub};Authentication={self.authentication.value}{client}"


def parse_connection_string(text: str) -> ConnectionString:
    """Parse ``text``; raise :class:`ConnectionStringError` naming the first bad part."""
    values = _split_pairs(text)
    endpoint = _require(values, "endpoint")
    validate_endpoint(endpoint)
    taskhub = _require(values, "taskhub")
    authentication = Authentication.parse(values.get("authentication", "None"))
    client_id = values.get("clientid")
    if client_id is not None and authentication not in (
        Authentication.MANAGED_IDENTITY,
        Authentication.WORKLOAD_IDENTITY,
        Authentication.DEFAULT_AZURE,
    ):
        raise ConnectionStringError(
            f"ClientID is only meaningful with Authentication=ManagedIdentity, WorkloadIdentity or "
            f"DefaultAzure, not {authentication.value}"
        )
    return ConnectionString(endpoint.rstrip("/"), taskhub, authentication, client_id)


def _split_pairs(text: str) -> dict[str, str]:
    if not text or not text.strip():
        raise ConnectionStringError("the connection string is empty")
    values: dict[str, str] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        canonical = key.strip().lower()
        if not sep:
            raise ConnectionStringError(f"'{key.strip()}' has no '=': expected Key=Value pairs separated by ';'")
        if canonical not in _KNOWN_KEYS:
            allowed = ", ".join(_KNOWN_KEYS.values())
            raise ConnectionStringError(f"unknown key '{key.strip()}'; allowed keys: {allowed}")
        if canonical in values:
            raise ConnectionStringError(f"key '{_KNOWN_KEYS[canonical]}' appears more than once")
        if not value.strip():
            raise ConnectionStringError(f"key '{_KNOWN_KEYS[canonical]}' has an empty value")
        values[canonical] = value.strip()
    return values


def _require(values: dict[str, str], key: str) -> str:
    if key not in values:
        raise ConnectionStringError(f"missing required key '{_KNOWN_KEYS[key]}'")
    return values[key]


def validate_endpoint(endpoint: str) -> None:
    """Refuse anything but a bare ``http://`` or ``https://`` URL; ``ENDPOINT`` is checked the same way."""
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConnectionStringError(
            f"Endpoint '{endpoint}' must be an absolute http:// or https:// URL, e.g. http://localhost:8080"
        )
    try:
        parsed.port  # noqa: B018 - urlparse validates the port lazily
    except ValueError as error:
        raise ConnectionStringError(f"Endpoint '{endpoint}' has an invalid port") from error
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise ConnectionStringError(f"Endpoint '{endpoint}' must not have a path, query or fragment")
