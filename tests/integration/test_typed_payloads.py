"""Models as durable payloads, run for real: entity operations typed with a model, model results, async activities
and aliased request models, on a worker of their own using the converter the hosted worker uses."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from durabletask import task
from durabletask.client import OrchestrationStatus, TaskHubGrpcClient
from durabletask.entities import EntityInstanceId
from durabletask.worker import TaskHubGrpcWorker
from pydantic import BaseModel, Field

from durable_app.scheduler.model_json import MODEL_JSON
from durable_app.workflows import StartRequest, workflows
from durable_app.workflows.registry import Workflows
from entities.loyalty import Redemption
from local_stack.ports import free_port
from local_stack.scheduler import serve
from tests.helpers.polling import wait_until

declared = Workflows(packages=())


class Doubled(BaseModel):
    value: int
    doubled: int


class RewardRequest(StartRequest):
    customer_key: str = Field(alias="customerKey")


@declared.activity
def double(ctx: task.ActivityContext, value: int) -> Doubled:
    return Doubled(value=value, doubled=value * 2)


@declared.activity
async def greet(ctx: task.ActivityContext, name: str) -> str:
    await asyncio.sleep(0)
    return f"Hello, {name}"


@declared.orchestrator(request=RewardRequest)
def reward_workflow(ctx: task.OrchestrationContext, request: RewardRequest) -> Any:
    """Earn by signal, redeem by call with a model input, then an activity with a model result and an async one."""
    account = EntityInstanceId("loyalty", request.customer_key)
    ctx.signal_entity(account, "earn", input=50)
    with (yield ctx.lock_entities([account])):
        balance = yield ctx.call_entity(account, "balance")
        if balance >= 20:
            balance = yield ctx.call_entity(account, "redeem", input=Redemption(points=20, reason="coffee"))
    doubled = yield ctx.call_activity(double, input=balance)
    greeting = yield ctx.call_activity(greet, input=request.customer_key)
    return {
        "balance": balance,
        "doubled": doubled,
        "doubled_is_model": isinstance(doubled, Doubled),
        "greeting": greeting,
    }


@pytest.fixture(scope="module")
def typed_client() -> Iterator[TaskHubGrpcClient]:
    """A worker with these declarations and the ``loyalty`` entity, alone on its own scheduler."""
    scheduler = serve(free_port())
    worker = TaskHubGrpcWorker(host_address=f"localhost:{scheduler.port}", data_converter=MODEL_JSON)
    declared.register_all(worker)
    worker.add_entity(workflows.entities["loyalty"].function, name="loyalty")
    worker.start()
    try:
        with TaskHubGrpcClient(host_address=f"localhost:{scheduler.port}", data_converter=MODEL_JSON) as client:
            yield client
    finally:
        worker.stop()
        scheduler.stop(grace=0)


def test_an_orchestration_signals_and_calls_an_entity_with_a_model_and_gets_model_results(typed_client) -> None:
    key = f"pat-{uuid.uuid4().hex[:8]}"
    request = RewardRequest.model_validate({"customerKey": key})
    instance_id = typed_client.schedule_new_orchestration("reward_workflow", input=request.orchestration_input())
    state = typed_client.wait_for_orchestration_completion(instance_id, timeout=30)
    assert state is not None and state.runtime_status is OrchestrationStatus.COMPLETED, state
    assert state.get_output() == {
        "balance": 30,
        "doubled": {"value": 30, "doubled": 60},
        "doubled_is_model": True,
        "greeting": f"Hello, {key}",
    }
    stored = typed_client.get_entity(EntityInstanceId("loyalty", key))
    assert stored is not None
    assert stored.get_typed_state(dict) == {"points": 30, "last_reason": "coffee"}


def test_a_client_signals_a_model_input_and_a_redemption_beyond_the_balance_changes_nothing(typed_client) -> None:
    key = f"pat-{uuid.uuid4().hex[:8]}"
    account = EntityInstanceId("loyalty", key)
    typed_client.signal_entity(account, "earn", input=10)
    typed_client.signal_entity(account, "redeem", input=Redemption(points=11, reason="too much"))
    typed_client.signal_entity(account, "redeem", input=Redemption(points=4, reason="tea"))
    typed_client.signal_entity(account, "earn", input=1)

    def state() -> Any:
        stored = typed_client.get_entity(account)
        return None if stored is None else stored.get_typed_state(dict)

    wait_until(lambda: state() == {"points": 7, "last_reason": "tea"}, 20, message=lambda: f"state is {state()!r}")


def test_the_aliased_request_is_stored_by_alias_and_read_back_on_the_worker(typed_client) -> None:
    request = RewardRequest.from_request({"customerKey": "ada"}, {})
    assert request.orchestration_input() == {"customerKey": "ada"}
    assert RewardRequest.from_request(None, {"customerKey": "ada"}).customer_key == "ada"
