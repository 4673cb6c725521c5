"""Instances' states with the version they were started under, which the SDK's ``OrchestrationState`` drops.

The scheduler returns each instance's version (``OrchestrationState.version`` in the protocol); the SDK's
parsed state has no field for it. These reads make the same calls as the SDK's client and keep it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import grpc
from durabletask.client import AsyncTaskHubGrpcClient, OrchestrationState, parse_orchestration_state
from durabletask.internal import orchestrator_service_pb2 as pb


@dataclass
class VersionedState(OrchestrationState):
    """An instance's state and the version it was started under (``None``: started without one)."""

    version: str | None = None


def versioned_state(state: pb.OrchestrationState) -> VersionedState:
    """The SDK's parse of ``state``, with its version."""
    parsed = parse_orchestration_state(state)
    values = {field.name: getattr(parsed, field.name) for field in dataclasses.fields(parsed)}
    return VersionedState(**values, version=state.version.value if state.HasField("version") else None)


async def instance_state(
    client: AsyncTaskHubGrpcClient, instance_id: str, *, fetch_payloads: bool = True
) -> VersionedState | None:
    """The instance's state, as ``get_orchestration_state`` reads it; ``None`` when there is no such instance."""
    request = pb.GetInstanceRequest(instanceId=instance_id, getInputsAndOutputs=fetch_payloads)
    return _found(instance_id, await client._get_stub().GetInstance(request))


async def finished_state(client: AsyncTaskHubGrpcClient, instance_id: str, seconds: float) -> VersionedState | None:
    """The instance's state once finished, as ``wait_for_orchestration_completion`` waits; ``TimeoutError``
    when it is still running after ``seconds`` (the scheduler holds the wait, as a gRPC deadline)."""
    request = pb.GetInstanceRequest(instanceId=instance_id, getInputsAndOutputs=True)
    try:
        response = await client._get_stub().WaitForInstanceCompletion(request, timeout=seconds)
    except grpc.aio.AioRpcError as error:
        if error.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
            raise TimeoutError(f"instance '{instance_id}' still running after {seconds} s") from None
        raise
    return _found(instance_id, response)


def _found(instance_id: str, response: pb.GetInstanceResponse) -> VersionedState | None:
    if not response.exists:
        return None
    state = versioned_state(response.orchestrationState)
    state.instance_id = instance_id
    return state
