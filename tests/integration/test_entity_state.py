"""No value is no value: an entity before its first operation, or after ``delete``, has no state, as in DTS.

The seeds' entities client signals a counter and reads it at once with ``get_entity(...).get_state(int)``;
that read must give "no counter yet" (``None``), never a state of ``''`` that ``int()`` cannot convert.
"""

from __future__ import annotations

from functools import partial

from durabletask.client import EntityQuery, TaskHubGrpcClient
from durabletask.entities import EntityInstanceId
from durabletask.worker import TaskHubGrpcWorker

from durable_app.workflows.registry import register_all
from local_stack.scheduler import LocalScheduler
from tests.helpers.counters import entity_value, wait_for_value
from tests.helpers.workers import Tally


def start_worker(port: int) -> TaskHubGrpcWorker:
    worker = TaskHubGrpcWorker(host_address=f"localhost:{port}")
    register_all(worker)
    worker.add_entity(Tally)
    worker.start()
    return worker


def test_a_signalled_counter_has_no_state_until_its_first_operation_runs(
    store_scheduler: LocalScheduler, store_client: TaskHubGrpcClient
) -> None:
    entity_id = EntityInstanceId("counter", "sample-counter")
    store_client.signal_entity(entity_id, "add", input=100)
    store_client.signal_entity(entity_id, "subtract", input=25)
    assert entity_value(store_client, entity_id) is None  # no worker yet: the operations are still queued
    assert store_client.get_all_entities(EntityQuery(instance_id_starts_with="@counter@", include_state=True)) == []
    transient = store_client.get_all_entities(EntityQuery(include_state=True, include_transient=True))
    assert [(metadata.id, metadata.backlog_queue_size) for metadata in transient] == [(entity_id, 2)]
    worker = start_worker(store_scheduler.port)
    try:
        wait_for_value(partial(entity_value, store_client, entity_id), 75)
        listed = store_client.get_all_entities(EntityQuery(instance_id_starts_with="@counter@", include_state=True))
        assert [(metadata.id, metadata.get_state(int)) for metadata in listed] == [(entity_id, 75)]
        tally = EntityInstanceId("tally", "deleted")
        store_client.signal_entity(tally, "add", input=3)
        wait_for_value(partial(entity_value, store_client, tally), 3)
        store_client.signal_entity(tally, "delete")
        wait_for_value(partial(entity_value, store_client, tally), None)
        assert store_client.get_all_entities(EntityQuery(instance_id_starts_with="@tally@", include_state=True)) == []
    finally:
        worker.stop()


def test_a_queued_entity_with_state_is_listed_with_it(
    store_scheduler: LocalScheduler, store_client: TaskHubGrpcClient
) -> None:
    """An entity with state and operations still queued exists (DTS lists it); only a stateless one is transient."""
    entity_id = EntityInstanceId("counter", "busy")
    worker = start_worker(store_scheduler.port)
    try:
        store_client.signal_entity(entity_id, "add", input=7)
        wait_for_value(partial(entity_value, store_client, entity_id), 7)
    finally:
        worker.stop()
    store_client.signal_entity(entity_id, "add", input=1)
    listed = store_client.get_all_entities(EntityQuery(instance_id_starts_with="@counter@busy", include_state=True))
    assert [(metadata.get_state(int), metadata.backlog_queue_size) for metadata in listed] == [(7, 1)]


def test_an_orchestration_without_input_output_or_custom_status_has_none(store_client: TaskHubGrpcClient) -> None:
    instance_id = store_client.schedule_new_orchestration("counter_workflow")
    state = store_client.get_orchestration_state(instance_id, fetch_payloads=True)
    assert state is not None
    assert (state.serialized_input, state.serialized_output, state.serialized_custom_status) == (None, None, None)
    [listed] = store_client.get_all_orchestration_states()
    assert (listed.serialized_input, listed.serialized_output, listed.serialized_custom_status) == (None, None, None)
