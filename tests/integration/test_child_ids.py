"""Every id the app creates is reachable through its own API: ``chunked_fan_out`` started with a 100-character
id names its chunks ``<id>-chunk-<n>`` (over 100 characters), and the status and purge routes take them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.stack import LocalStack, wait_for_output
from tests.reliability.conftest import INSTANT_WORK

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]  # starts the stack's processes


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with (
        LocalStack(log_dir=Path(tmp_path_factory.mktemp("child-ids")), env=INSTANT_WORK).running() as local,
        httpx.Client(base_url=local.base_url, timeout=60) as http,
    ):
        yield http


def test_the_chunks_of_a_100_character_id_are_reachable(api: httpx.Client) -> None:
    parent = "p" * 100
    started = api.post(f"/orchestrators/chunked_fan_out/{parent}", json={"items": [1, 2, 3], "chunk_size": 2})
    assert started.status_code == 202, started.text
    finished = wait_for_output(api, started.json()["statusQueryGetUri"])
    assert finished["runtimeStatus"] == "Completed", finished
    assert finished["output"]["sum"] == 14

    listed = api.get("/instances", params={"instanceIdPrefix": parent + "-"})
    children = sorted(status["instanceId"] for status in listed.json())
    assert children == [f"{parent}-chunk-0", f"{parent}-chunk-1"]
    for child in children:
        status = api.get(f"/instances/{child}", params={"showHistory": "true"})
        assert status.status_code == 200, status.text
        assert status.json()["runtimeStatus"] == "Completed"
    assert api.delete(f"/instances/{children[0]}").json() == {"id": children[0], "instancesDeleted": 1}
    assert api.delete(f"/instances/{parent}").json() == {"id": parent, "instancesDeleted": 2}
    too_long = api.get(f"/instances/{'q' * 257}")
    assert too_long.status_code == 400 and too_long.json()["field"] == "instance_id"
