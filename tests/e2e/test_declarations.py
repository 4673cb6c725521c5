"""A new workflow is one new module, and every declared entity has Durable Functions' generic entity routes."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.helpers.counters import entity_over_http, wait_for_value
from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import ROOT, LocalStack, wait_for_output

APP_PARTS = ("function_app.py", "host.json", "durable_app", "entities", "orchestrations", "local_stack")
"""What a copy of the app needs to run on the local stack."""


@pytest.fixture(scope="module")
def copied_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the app with one more module: ``counter_workflow`` copied as ``tally_workflow``."""
    root = tmp_path_factory.mktemp("app-copy")
    for part in APP_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / part)
    module = (ROOT / "orchestrations" / "counter_workflow.py").read_text()
    tally = module.replace("counter_workflow", "tally_workflow").replace("CounterWorkflowRequest", "TallyRequest")
    (root / "orchestrations" / "tally_workflow.py").write_text(tally)
    (root / "orchestrations" / "greeting_workflow.py").write_text(readme_example())
    return root


def readme_example() -> str:
    """The module the README's "Add your own workflow" section asks the reader to save."""
    readme = (ROOT / "README.md").read_text()
    after = readme.split("Save this as `orchestrations/greeting_workflow.py`:", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def copied_api(copied_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    stack = LocalStack(log_dir=tmp_path_factory.mktemp("copy-logs"), env=dict(INSTANT_WORK), root=copied_app)
    with stack.running(), httpx.Client(base_url=stack.base_url, timeout=30) as http:
        yield http


def test_a_new_module_is_started_over_its_own_route_with_no_other_file_edited(copied_api: httpx.Client) -> None:
    key = f"tally-{uuid.uuid4().hex[:8]}"
    started = copied_api.post("/orchestrators/tally_workflow", json={"entity_key": key})
    assert started.status_code == 202, started.text
    done = wait_for_output(copied_api, started.json()["statusQueryGetUri"])
    assert done["name"] == "tally_workflow"
    assert done["output"] == f"Counter '{key}' final value: 12"


def test_the_readme_example_runs_as_the_readme_says(copied_api: httpx.Client) -> None:
    instance_id = f"hi-{uuid.uuid4().hex[:8]}"
    started = copied_api.post(f"/orchestrators/greeting_workflow/{instance_id}", json={"names": ["Ada", "Linus"]})
    assert started.status_code == 202, started.text
    assert wait_for_output(copied_api, f"/instances/{instance_id}")["output"] == ["Hello, Ada!", "Hello, Linus!"]
    refused = copied_api.post("/orchestrators/greeting_workflow", json={"names": ["Ada", 7]})
    assert refused.json() == {"error": "names[1] must be a string, got 7", "field": "names[1]"}
    batch = copied_api.post(
        "/batch/orchestrators/greeting_workflow", json={"inputs": [{"names": ["a"]}, {"names": ["b"]}]}
    )
    assert (batch.status_code, batch.json()["count"]) == (202, 2)


def test_the_new_module_validates_its_input_and_documents_itself(copied_api: httpx.Client) -> None:
    refused = copied_api.post("/orchestrators/tally_workflow", json={"entity_key": "not a key"})
    assert (refused.status_code, refused.json()["field"]) == (400, "entity_key")
    unknown = copied_api.post("/orchestrators/tally_workflow", json={"entity_key": "k", "colour": "red"})
    assert (unknown.status_code, unknown.json()["field"]) == (400, "colour")
    document = copied_api.get("/openapi.json").json()
    assert "/orchestrators/tally_workflow/{instance_id}" in document["paths"]
    names = document["paths"]["/batch/orchestrators/{name}"]["post"]["parameters"][0]["schema"]["enum"]
    assert "tally_workflow" in names
    batch = copied_api.post("/batch/orchestrators/tally_workflow", json={"inputs": ["a", 5]})
    assert (batch.status_code, batch.json()["field"]) == (400, "inputs[1]")


def test_a_second_declaration_of_a_name_stops_the_app_naming_both_modules(copied_app: Path, tmp_path: Path) -> None:
    twin = copied_app / "orchestrations" / "tally_twin.py"
    twin.write_text((copied_app / "orchestrations" / "tally_workflow.py").read_text())
    try:
        stack = LocalStack(log_dir=tmp_path, env=dict(INSTANT_WORK), root=copied_app)
        with pytest.raises(AssertionError, match="exited"), stack.running():
            pass
        assert "'tally_workflow' is declared twice" in stack.log("host")
    finally:
        twin.unlink()


def test_generic_entity_routes_signal_and_read_a_declared_entity(api: httpx.Client) -> None:
    key = f"generic-{uuid.uuid4().hex[:8]}"
    assert api.get(f"/entities/counter/{key}").status_code == 404
    signalled = api.post(f"/entities/counter/{key}", params={"op": "add"}, json=7)
    assert (signalled.status_code, signalled.json()) == (202, {"name": "counter", "key": key, "operation": "add"})
    assert api.post(f"/entities/Counter/{key}", params={"op": "subtract"}, json=2).status_code == 202
    wait_for_value(partial(entity_over_http, api, "counter", key), 5)
    assert api.get(f"/counters/{key}").json()["value"] == 5


@pytest.mark.parametrize(
    ("path", "params", "body", "status", "field"),
    [
        ("/entities/ledger/{key}", {"op": "add"}, 1, 404, "name"),
        ("/entities/counter/{key}", {}, 1, 400, "op"),
        ("/entities/counter/{key}", {"op": "get"}, None, 400, "op"),
        ("/entities/counter/{key}", {"op": "add"}, "1", 400, "body"),
        ("/entities/counter/{key}", {"op": "add"}, None, 400, "body"),
        ("/entities/counter/{key}", {"op": "reset"}, 3, 400, "body"),
        ("/entities/counter/bad%20key", {"op": "reset"}, None, 400, "key"),
    ],
)
def test_a_refused_signal_names_its_parameter_and_queues_nothing(
    api: httpx.Client, path: str, params: dict[str, str], body: object, status: int, field: str
) -> None:
    key = f"refused-{uuid.uuid4().hex[:8]}"
    path = path.format(key=key)
    response = api.post(path, params=params, json=body) if body is not None else api.post(path, params=params)
    assert (response.status_code, response.json()["field"]) == (status, field), response.text
    assert api.get(f"/entities/counter/{key}").status_code == 404
    # Signals to one key apply in order: once a later signal is applied, a queued refused one would be too.
    assert api.post(f"/entities/counter/{key}", params={"op": "add"}, json=1).status_code == 202
    wait_for_value(partial(entity_over_http, api, "counter", key), 1)


def test_entity_listing_pages_with_the_continuation_header_and_never_repeats(api: httpx.Client) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}"
    keys = [f"{prefix}-{index:02d}" for index in range(7)]
    for key in keys:
        assert api.post(f"/entities/counter/{key}", params={"op": "add"}, json=1).status_code == 202
    for key in keys:
        wait_for_value(partial(entity_over_http, api, "counter", key), 1)
    seen: list[str] = []
    headers: dict[str, str] = {}
    for page_number in range(100):
        response = api.get("/entities/counter", params={"top": 3}, headers=headers)
        assert response.status_code == 200
        page = response.json()
        assert len(page) <= 3
        seen += [entry["entityId"]["key"] for entry in page]
        if page_number == 0:  # an entity created between two pages is neither repeated nor lost
            assert api.post("/entities/counter/zzz-late", params={"op": "add"}, json=1).status_code == 202
            wait_for_value(partial(entity_over_http, api, "counter", "zzz-late"), 1)
        token = response.headers.get("x-ms-continuation-token")
        if token is None:
            break
        headers = {"x-ms-continuation-token": token}
    assert len(seen) == len(set(seen))
    assert set(keys) <= set(seen)
    assert "zzz-late" in seen
    entry = next(entry for entry in api.get("/entities/counter").json() if entry["entityId"]["key"] == keys[0])
    assert entry["state"] == 1 and entry["lastOperationTime"]


@pytest.mark.parametrize(
    ("params", "headers", "field"),
    [
        ({"top": "0"}, {}, "top"),
        ({"top": "x"}, {}, "top"),
        ({}, {"x-ms-continuation-token": "forged"}, "x-ms-continuation-token"),
    ],
)
def test_bad_listing_parameters_are_400s(api: httpx.Client, params: dict, headers: dict, field: str) -> None:
    response = api.get("/entities/counter", params=params, headers=headers)
    assert (response.status_code, response.json()["field"]) == (400, field), response.text
