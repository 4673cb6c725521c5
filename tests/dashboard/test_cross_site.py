"""Cross-site defences: only the dashboard's own pages, under its own address, change anything."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local_stack.dashboard.pages import ACTIONS
from tests.dashboard.conftest import CHROMIUM, Shown
from tests.helpers.dashboard import form_token
from tests.helpers.stack import LocalStack, wait_for_output

EVIL = "http://evil.example"


@pytest.fixture
def running(stack: LocalStack) -> Iterator[str]:
    """An approval waiting an hour for its decision: running through the whole test, terminated after it."""
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        waiting = {"subject": "cross-site", "timeout_seconds": 3600}
        instance_id = api.post("/orchestrators/approval_workflow", json=waiting).json()["id"]
        yield instance_id
        api.post(f"/instances/{instance_id}/terminate")


@pytest.fixture
def token(stack: LocalStack, shown: Shown) -> str:
    return form_token(httpx.get(f"{stack.dashboard_url}/instances/{shown.fan_out_id}", timeout=30).text)


def status_of(stack: LocalStack, instance_id: str) -> str:
    return httpx.get(f"{stack.base_url}/instances/{instance_id}", timeout=30).json()["runtimeStatus"]


def test_a_cross_site_form_post_changes_nothing(browser, stack: LocalStack, running: str, token: str) -> None:  # type: ignore[no-untyped-def]
    """Another site's page posts the dashboard's own form, even with a leaked token: Chromium says where it
    comes from, and the dashboard refuses."""
    forged = f"""<form id="f" method="post" action="{stack.dashboard_url}/instances/{running}/terminate">
<input type="hidden" name="token" value="{token}"></form><script>document.getElementById("f").submit()</script>"""
    page = browser.new_page()
    page.route(f"{EVIL}/**", lambda route: route.fulfill(body=forged, content_type="text/html"))
    with page.expect_response(lambda response: response.url.endswith("/terminate")) as answer:
        page.goto(f"{EVIL}/")
    assert answer.value.status == 403
    assert "cross-site request cannot act on this dashboard" in page.locator(".banner").inner_text()
    assert status_of(stack, running) in {"Pending", "Running"}
    page.close()


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"Sec-Fetch-Site": "cross-site", "Origin": EVIL}, "Sec-Fetch-Site"),
        ({"Sec-Fetch-Site": "same-site"}, "Sec-Fetch-Site"),
        ({"Origin": EVIL}, "Origin"),
        ({"Origin": "null"}, "Origin"),
        ({"Referer": f"{EVIL}/attack"}, "Referer"),
    ],
)
def test_a_post_from_another_origin_changes_nothing(
    stack: LocalStack, running: str, token: str, headers: dict[str, str], field: str
) -> None:
    for action in ACTIONS:
        refused = httpx.post(
            f"{stack.dashboard_url}/instances/{running}/{action}",
            data={"token": token, "event": "go"},
            headers=headers,
            timeout=30,
        )
        assert (refused.status_code, refused.json()["field"]) == (403, field), action
    assert status_of(stack, running) in {"Pending", "Running"}


@pytest.mark.parametrize("form", [{}, {"token": ""}, {"token": "guessed"}])
def test_a_post_without_the_pages_token_changes_nothing(stack: LocalStack, running: str, form: dict[str, str]) -> None:
    own = {"Origin": stack.dashboard_url, "Sec-Fetch-Site": "same-origin"}
    for action in ACTIONS:
        refused = httpx.post(
            f"{stack.dashboard_url}/instances/{running}/{action}", data={**form, "event": "go"}, headers=own, timeout=30
        )
        assert (refused.status_code, refused.json()["field"]) == (403, "token"), action
    assert status_of(stack, running) in {"Pending", "Running"}


@pytest.mark.parametrize("host", ["rebind.example", "evil.example:80", "localhost.evil.example", "127.0.0.1:1"])
def test_a_foreign_host_is_refused(stack: LocalStack, running: str, token: str, host: str) -> None:
    url = f"{stack.dashboard_url}/instances/{running}"
    read = httpx.get(url, headers={"Host": host}, timeout=30)
    assert (read.status_code, read.json()["field"]) == (403, "Host")
    assert running not in read.text
    acted = httpx.post(f"{url}/terminate", data={"token": token}, headers={"Host": host, "Origin": f"http://{host}"})
    assert (acted.status_code, acted.json()["field"]) == (403, "Host")
    assert status_of(stack, running) in {"Pending", "Running"}


def test_a_dns_rebinding_page_reads_nothing(browser, stack: LocalStack, running: str) -> None:  # type: ignore[no-untyped-def]
    """A browser resolving a foreign name to 127.0.0.1, as a rebinding attack makes it, opens the dashboard."""
    rules = "--host-resolver-rules=MAP rebind.example 127.0.0.1"
    rebinding = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", rules])
    page = rebinding.new_page()
    response = page.goto(f"http://rebind.example:{stack.dashboard_port}/instances/{running}")
    assert response is not None and response.status == 403
    assert "is not an address this dashboard serves" in page.locator("body").inner_text()
    assert running not in page.content()
    rebinding.close()


def test_get_never_changes_state(stack: LocalStack, running: str, token: str) -> None:
    for action in ACTIONS:
        for method in ("GET", "HEAD"):
            url = f"{stack.dashboard_url}/instances/{running}/{action}"
            answer = httpx.request(method, url, params={"token": token, "event": "go"}, timeout=30)
            assert answer.status_code == 405, (method, action)
    assert status_of(stack, running) in {"Pending", "Running"}


def test_no_other_site_may_frame_the_dashboard(stack: LocalStack) -> None:
    headers = httpx.get(stack.dashboard_url, timeout=30).headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == "frame-ancestors 'none'"


def test_the_pages_own_form_post_acts(stack: LocalStack, running: str) -> None:
    """The same post as the refused ones, from the dashboard's own origin with its token, is carried out."""
    with httpx.Client(base_url=stack.dashboard_url, timeout=30) as dashboard:
        token = form_token(dashboard.get(f"/instances/{running}").text)
        own = {"Origin": stack.dashboard_url, "Sec-Fetch-Site": "same-origin"}
        done = dashboard.post(f"/instances/{running}/terminate", data={"token": token}, headers=own)
    assert done.status_code == 303
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        assert wait_for_output(api, f"/instances/{running}")["runtimeStatus"] == "Terminated"
