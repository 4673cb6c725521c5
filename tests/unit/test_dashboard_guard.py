"""The names the dashboard answers to, for each address it may be bound to."""

from __future__ import annotations

import pytest

from durable_app.values import RefusedRequest
from local_stack.dashboard.guard import Guard

EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - the address the guard is told it serves; nothing binds here


@pytest.mark.parametrize(
    ("bound", "host"),
    [
        ("127.0.0.1", "127.0.0.1:8082"),
        ("127.0.0.1", "localhost:8082"),
        ("127.0.0.1", "LOCALHOST:8082"),
        ("127.0.0.1", "[::1]:8082"),
        ("localhost", "127.0.0.1:8082"),
        (EVERY_ADDRESS, "192.168.1.20:8082"),
        (EVERY_ADDRESS, "localhost:8082"),
        ("dev-box", "dev-box:8082"),
    ],
)
def test_the_served_addresses_are_answered(bound: str, host: str) -> None:
    Guard(bound, 8082).check_host(host)


@pytest.mark.parametrize(
    ("bound", "host"),
    [
        ("127.0.0.1", "rebind.example:8082"),
        ("127.0.0.1", "localhost.rebind.example:8082"),
        ("127.0.0.1", "localhost"),
        ("127.0.0.1", "localhost:8083"),
        ("127.0.0.1", "localhost:notaport"),
        ("127.0.0.1", "rebind.example@localhost:8082"),
        ("127.0.0.1", "localhost:8082/x"),
        ("127.0.0.1", ""),
        ("127.0.0.1", "192.168.1.20:8082"),
        (EVERY_ADDRESS, "rebind.example:8082"),
        ("dev-box", "localhost:8082"),
    ],
)
def test_other_names_are_refused(bound: str, host: str) -> None:
    with pytest.raises(RefusedRequest) as refused:
        Guard(bound, 8082).check_host(host)
    assert (refused.value.field, refused.value.status) == ("Host", 403)


def test_each_process_has_its_own_token() -> None:
    first, second = Guard("127.0.0.1", 8082), Guard("127.0.0.1", 8082)
    assert first.token != second.token
    first.check_token(first.token)
    with pytest.raises(RefusedRequest):
        first.check_token(second.token)
