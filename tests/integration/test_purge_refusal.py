"""Purging an unfinished orchestration by id is refused with FAILED_PRECONDITION, as DTS refuses it. Both stores."""

from __future__ import annotations

import grpc
import pytest
from durabletask.client import TaskHubGrpcClient


def test_purging_an_unfinished_orchestration_is_refused_and_changes_nothing(store_client: TaskHubGrpcClient) -> None:
    instance_id = store_client.schedule_new_orchestration("never_runs", instance_id="unfinished")
    with pytest.raises(grpc.RpcError) as refused:
        store_client.purge_orchestration(instance_id)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert store_client.get_orchestration_state(instance_id) is not None

    store_client.terminate_orchestration(instance_id)
    assert store_client.purge_orchestration(instance_id).deleted_instance_count == 1
    assert store_client.purge_orchestration(instance_id).deleted_instance_count == 0  # gone: nothing to purge
