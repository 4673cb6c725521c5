"""What the app exports to Application Insights, caught by a loopback stand-in for the ingestion endpoint.

The whole local stack runs as processes, configured as in Azure: a connection string (its
``IngestionEndpoint`` the stand-in, over HTTPS) and ``APPLICATIONINSIGHTS_AUTHENTICATION_STRING`` with
``Authorization=AAD``, the token coming from the stand-in's managed-identity endpoint. A fan-out and a
counter signal are sent over HTTP; the assertions read the real envelopes the Azure Monitor exporter posts.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.settings import INSTANT_WORK
from tests.helpers.stack import LocalStack, wait_for_output
from tests.observability.certificates import loopback_tls
from tests.observability.ingestion import Envelope, IngestionStandIn

pytestmark = pytest.mark.timeout(300)

ITEMS = [1, 2, 3, 4, 5]
FAIL_ONCE = 3
CLIENT_ID = str(uuid.uuid4())
INSTANCE_KEY = str(uuid.uuid4())


@pytest.fixture(scope="module")
def identity() -> Iterator[IngestionStandIn]:
    """The App Service managed-identity endpoint (plain HTTP on loopback, as in App Service)."""
    stand_in = IngestionStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def ingestion(tmp_path_factory: pytest.TempPathFactory, identity: IngestionStandIn) -> Iterator[IngestionStandIn]:
    tls, _ = loopback_tls(tmp_path_factory.mktemp("tls"))
    stand_in = IngestionStandIn(access_token=identity.access_token, tls=tls).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def secrets_in_env() -> dict[str, str]:
    return {
        "AZURE_CLIENT_SECRET": f"client-secret-{secrets.token_hex(16)}",
        "LOCAL_FUNCTION_KEY": f"function-key-{secrets.token_hex(16)}",
    }


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    ingestion: IngestionStandIn,
    identity: IngestionStandIn,
    secrets_in_env: dict[str, str],
) -> Iterator[LocalStack]:
    log_dir = Path(tmp_path_factory.mktemp("stack"))
    env = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": f"InstrumentationKey={INSTANCE_KEY};IngestionEndpoint={ingestion.url}",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": f"ClientId={CLIENT_ID};Authorization=AAD",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "IDENTITY_ENDPOINT": f"{identity.url}msi/token",
        "IDENTITY_HEADER": identity.identity_header,
        "REQUESTS_CA_BUNDLE": str(next(Path(tmp_path_factory.getbasetemp()).glob("tls*/ingestion-cert.pem"))),
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        **INSTANT_WORK,
        "WORK_ITEM_FAIL_ONCE_ITEMS": str(FAIL_ONCE),
        **secrets_in_env,
    }
    with LocalStack(log_dir=log_dir, env=env).running(dashboard=True) as local:
        yield local


@pytest.fixture(scope="module")
def fan_out(stack: LocalStack, secrets_in_env: dict[str, str]) -> dict[str, Any]:
    """One fan-out over HTTP (a function key in the query, as callers send it), run to completion."""
    key = {"code": secrets_in_env["LOCAL_FUNCTION_KEY"]}
    with httpx.Client(base_url=stack.base_url, timeout=30, params=key) as api:
        started = api.post("/orchestrators/fan_out_fan_in_orchestrator", json=ITEMS)
        assert started.status_code == 202, started.text
        status = wait_for_output(api, started.json()["statusQueryGetUri"])
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"total_items": 5, "sum": 55, "average": 11.0}
    return status


@pytest.fixture(scope="module")
def signal(stack: LocalStack, secrets_in_env: dict[str, str]) -> str:
    key = {"code": secrets_in_env["LOCAL_FUNCTION_KEY"]}
    counter_key = f"traced-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=stack.base_url, timeout=30, params=key) as api:
        assert api.post(f"/counters/{counter_key}/add", json=7).status_code == 202
    return counter_key


@pytest.fixture(scope="module")
def batch(stack: LocalStack, secrets_in_env: dict[str, str]) -> list[str]:
    """One batch request signalling three counters, sent concurrently."""
    key = {"code": secrets_in_env["LOCAL_FUNCTION_KEY"]}
    keys = [f"batched-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    signals = [{"key": counter_key, "operation": "add", "amount": 1} for counter_key in keys]
    with httpx.Client(base_url=stack.base_url, timeout=30, params=key) as api:
        assert api.post("/batch/signals", json={"signals": signals}).status_code == 202
    return keys


def kind(envelope: Envelope) -> str:
    return envelope["name"].rsplit(".", 1)[-1]


def base(envelope: Envelope) -> dict[str, Any]:
    return envelope["data"]["baseData"]


def properties(envelope: Envelope) -> dict[str, Any]:
    return base(envelope).get("properties") or {}


def operation_id(envelope: Envelope) -> str | None:
    return envelope.get("tags", {}).get("ai.operation.id")


def of_instance(received: list[Envelope], instance_id: str) -> list[Envelope]:
    """Everything in the trace of the request that started ``instance_id``."""
    starts = [e for e in received if kind(e) == "Request" and base(e)["name"] == "start_fan_out_fan_in_orchestrator"]
    started = [e for e in starts if properties(e).get("durabletask.task.instance_id") == instance_id]
    if not started:
        return []
    trace = operation_id(started[0])
    return [e for e in received if operation_id(e) == trace]


def whole_fan_out(instance_id: str) -> Any:
    """Spans and logs leave in separate batches: wait for the last of each."""

    def complete(received: list[Envelope]) -> bool:
        trace = of_instance(received, instance_id)
        names = [base(e).get("name") for e in trace]
        logs = [base(e).get("message") for e in trace]
        spans_done = "orchestration:fan_out_fan_in_orchestrator" in names and "activity:aggregate_results" in names
        return spans_done and "Aggregating results from 5 items" in logs

    return complete


def test_one_trace_holds_the_request_the_orchestration_every_work_item_and_its_logs(
    ingestion: IngestionStandIn, fan_out: dict[str, Any]
) -> None:
    instance_id = fan_out["instanceId"]
    trace = of_instance(ingestion.wait_for(whole_fan_out(instance_id)), instance_id)

    requests = [e for e in trace if kind(e) == "Request"]
    by_name: dict[str, list[Envelope]] = {}
    for request in requests:
        by_name.setdefault(base(request)["name"], []).append(request)
    assert len(by_name["start_fan_out_fan_in_orchestrator"]) == 1
    orchestration = by_name["orchestration:fan_out_fan_in_orchestrator"]
    assert [properties(e)["durabletask.task.instance_id"] for e in orchestration] == [instance_id]
    assert properties(orchestration[0])["durabletask.task.name"] == "fan_out_fan_in_orchestrator"

    attempts = by_name["activity:process_work_item"]
    assert sorted(int(properties(e)["app.work_item"]) for e in attempts) == sorted([*ITEMS, FAIL_ONCE])
    assert all(properties(e)["durabletask.task.instance_id"] == instance_id for e in attempts)
    assert len(by_name["activity:aggregate_results"]) == 1

    logs = [base(e)["message"] for e in trace if kind(e) == "Message"]
    assert "Starting fan out/fan in orchestration with 5 items" in logs
    assert "All parallel tasks completed, aggregating results" in logs
    assert "Aggregating results from 5 items" in logs
    assert not [line for line in logs if line.startswith("Processing work item")]  # DEBUG: not exported


def test_the_failed_attempt_is_an_exception_on_its_work_items_span(
    ingestion: IngestionStandIn, fan_out: dict[str, Any]
) -> None:
    instance_id = fan_out["instanceId"]
    trace = of_instance(ingestion.wait_for(whole_fan_out(instance_id)), instance_id)
    failed = [
        e
        for e in trace
        if kind(e) == "Request" and properties(e).get("app.work_item") == str(FAIL_ONCE) and not base(e)["success"]
    ]
    assert len(failed) == 1
    span_id = base(failed[0])["id"]
    exceptions = [e for e in trace if kind(e) == "Exception" and e["tags"].get("ai.operation.parentId") == span_id]
    assert exceptions
    messages = [detail["message"] for e in exceptions for detail in base(e)["exceptions"]]
    assert f"work item {FAIL_ONCE} failed once (WORK_ITEM_FAIL_ONCE_ITEMS)" in messages


def test_an_http_signal_is_traced_from_its_request_to_the_entity_operation(
    ingestion: IngestionStandIn, signal: str
) -> None:
    entity_id = f"@counter@{signal}"

    def sent(received: list[Envelope]) -> list[Envelope]:
        return [e for e in received if properties(e).get("app.entity_id") == entity_id]

    def parent_request(received: list[Envelope]) -> list[Envelope]:
        parents = {signal["tags"]["ai.operation.parentId"] for signal in sent(received)}
        return [e for e in received if kind(e) == "Request" and base(e)["id"] in parents]

    received = ingestion.wait_for(lambda items: bool(parent_request(items)))
    (signal_span,) = sent(received)
    assert base(signal_span)["name"] == "signal_entity:add"
    request = parent_request(received)
    assert [base(e)["name"] for e in request] == ["signal_counter"]
    assert operation_id(request[0]) == operation_id(signal_span)
    operations = ingestion.wait_for(
        lambda items: any(properties(e).get("durabletask.task.instance_id") == entity_id for e in items)
    )
    (operation,) = [e for e in operations if properties(e).get("durabletask.task.instance_id") == entity_id]
    assert base(operation)["name"] == "entity:counter:add"
    assert operation_id(operation) == operation_id(request[0])  # one trace from the request to the entity
    assert operation["tags"]["ai.operation.parentId"] == base(signal_span)["id"]


def test_every_signal_of_a_batch_carries_the_requests_trace(ingestion: IngestionStandIn, batch: list[str]) -> None:
    """The signals are sent concurrently; each still gets its span under the one request, and its operation."""
    entity_ids = {f"@counter@{key}" for key in batch}

    def traced(received: list[Envelope]) -> bool:
        spans = [e for e in received if properties(e).get("app.entity_id") in entity_ids]
        operations = [e for e in received if properties(e).get("durabletask.task.instance_id") in entity_ids]
        return len(spans) == len(operations) == len(batch)

    received = ingestion.wait_for(traced)
    spans = [e for e in received if properties(e).get("app.entity_id") in entity_ids]
    (request,) = [e for e in received if kind(e) == "Request" and base(e)["name"] == "signal_counters"]
    assert {e["tags"]["ai.operation.parentId"] for e in spans} == {base(request)["id"]}
    assert {operation_id(e) for e in spans} == {operation_id(request)}
    operations = [e for e in received if properties(e).get("durabletask.task.instance_id") in entity_ids]
    assert {operation_id(e) for e in operations} == {operation_id(request)}
    parents = {e["tags"]["ai.operation.parentId"]: properties(e)["durabletask.task.instance_id"] for e in operations}
    assert {base(span)["id"]: properties(span)["app.entity_id"] for span in spans} == parents


def test_identity_auth_and_no_secret_in_any_exported_item(
    ingestion: IngestionStandIn,
    identity: IngestionStandIn,
    secrets_in_env: dict[str, str],
    fan_out: dict[str, Any],
    signal: str,
) -> None:
    ingestion.wait_for(whole_fan_out(fan_out["instanceId"]))
    assert identity.token_requests, "the exporter never asked the managed identity for a token"
    assert all(request.get("client_id") == [CLIENT_ID] for request in identity.token_requests)
    assert all(request.get("resource") == ["https://monitor.azure.com/"] for request in identity.token_requests)
    assert all(post.headers.get("Authorization") == f"Bearer {identity.access_token}" for post in ingestion.posts)

    forbidden = [identity.access_token, identity.identity_header, *secrets_in_env.values()]
    for envelope in ingestion.envelopes():
        text = json.dumps(envelope)
        assert not [secret for secret in forbidden if secret in text], envelope
        without_routing_key = json.dumps({key: value for key, value in envelope.items() if key != "iKey"})
        assert INSTANCE_KEY not in without_routing_key, envelope


def test_the_dashboard_shows_the_instances_trace_id(
    stack: LocalStack, ingestion: IngestionStandIn, fan_out: dict[str, Any]
) -> None:
    instance_id = fan_out["instanceId"]
    trace = of_instance(ingestion.wait_for(whole_fan_out(instance_id)), instance_id)
    page = httpx.get(f"{stack.dashboard_url}/instances/{instance_id}", timeout=30)
    assert page.status_code == 200
    assert f'<code class="trace-id">{operation_id(trace[0])}</code>' in page.text


def test_only_the_apps_telemetry_is_sent(ingestion: IngestionStandIn, fan_out: dict[str, Any]) -> None:
    """No per-batch resource metric: at the defaults every item is a request, dependency, log or exception."""
    kinds = {kind(e) for e in ingestion.wait_for(whole_fan_out(fan_out["instanceId"]))}
    assert kinds <= {"Request", "RemoteDependency", "Message", "Exception"}
