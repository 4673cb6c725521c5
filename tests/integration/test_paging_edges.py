"""Odd input at the edges of listing and waiting: ids no header can carry at a page boundary, continuation
tokens the API did not issue, creation times outside UTC's years, and ``timeout`` spellings ``float`` accepts."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durable_app.http.paging import api_token, scheduler_token
from durable_app.http.requests import CONTINUATION_HEADER
from tests.helpers.stack import LocalStack

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]  # starts the stack's processes


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    env = {"DTS_WORKER_ENABLED": "false"}  # instances stay pending: listing is all these tests need
    with LocalStack(log_dir=Path(tmp_path_factory.mktemp("paging")), env=env).running() as local:
        yield local


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=60) as http:
        yield http


def _pages(api: httpx.Client, prefix: str) -> tuple[list[str], list[str]]:
    """Every id under ``prefix``, one per page, and the tokens that led there."""
    seen: list[str] = []
    tokens: list[str] = []
    headers: dict[str, str] = {}
    while True:
        page = api.get("/instances", params={"instanceIdPrefix": prefix, "top": 1}, headers=headers)
        assert page.status_code == 200, page.text
        seen += [status["instanceId"] for status in page.json()]
        token = page.headers.get(CONTINUATION_HEADER)
        if token is None:
            return seen, tokens
        tokens.append(token)
        headers = {CONTINUATION_HEADER: token}


def test_ids_no_header_can_carry_page_safely(stack: LocalStack, api: httpx.Client) -> None:
    prefix = f"edge-{uuid.uuid4().hex[:6]}-"
    odd = [f"{prefix}line\nbreak", f"{prefix}caf\u00e9-\u65e5\u672c", f"{prefix}plain"]
    with stack.direct_client() as client:
        for instance_id in odd:
            client.schedule_new_orchestration("never_runs", instance_id=instance_id)

    seen, tokens = _pages(api, prefix)

    assert sorted(seen) == sorted(odd)
    assert len(tokens) == 2 and all(token.isascii() and token.isprintable() for token in tokens)


def test_a_token_the_api_did_not_issue_is_a_400(stack: LocalStack, api: httpx.Client) -> None:
    prefix = f"forged-{uuid.uuid4().hex[:6]}-"
    with stack.direct_client() as client:
        for number in range(2):
            client.schedule_new_orchestration("never_runs", instance_id=f"{prefix}{number}")
    issued = api.get("/instances", params={"instanceIdPrefix": prefix, "top": 1}).headers[CONTINUATION_HEADER]
    inner = scheduler_token(issued, "instances")
    encoded, check = issued.rsplit(".", 1)
    forged = [
        inner,  # the scheduler's own, well-formed token
        api_token(inner, "entities:@counter@"),  # issued for another listing
        f"{encoded}.{check[::-1]}",  # altered check
        f"{base64.urlsafe_b64encode(inner.replace(prefix, 'other-').encode()).decode()}.{check}",  # altered token
        "%%%.0123456789abcdef",  # not base64url
    ]
    for token in forged:
        refused = api.get(
            "/instances", params={"instanceIdPrefix": prefix, "top": 1}, headers={CONTINUATION_HEADER: token}
        )
        assert refused.status_code == 400, (token, refused.text)
        assert refused.json()["field"] == CONTINUATION_HEADER
    follows = api.get(
        "/instances", params={"instanceIdPrefix": prefix, "top": 1}, headers={CONTINUATION_HEADER: issued}
    )
    assert follows.status_code == 200 and [s["instanceId"] for s in follows.json()] == [f"{prefix}0"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("createdTimeFrom", "0001-01-01T00:00:00+01:00"), ("createdTimeTo", "9999-12-31T23:30:00-01:00")],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_creation_times_outside_utc_years_are_a_400(api: httpx.Client, method: str, name: str, value: str) -> None:
    refused = api.request(method, "/instances", params={name: value})
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == name


@pytest.mark.parametrize("value", ["1_0", "1e1", " 5", "inf", "nan", "\u0661\u0660", "+3", "-0"])
def test_timeout_takes_plain_decimal_seconds_only(stack: LocalStack, api: httpx.Client, value: str) -> None:
    instance_id = f"timeout-{uuid.uuid4().hex[:8]}"
    refused = api.post(f"/orchestrators/fan_out_fan_in_orchestrator/{instance_id}", params={"timeout": value}, json=[1])
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == "timeout"
    assert api.get(f"/instances/{instance_id}").status_code == 404  # refused before anything started
