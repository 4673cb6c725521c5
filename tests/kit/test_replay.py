"""Replaying recorded histories: every shipped workflow's history still replays, and changed code is caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from durabletask import task
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.internal import orchestrator_service_pb2_grpc as stubs

from durable_app.replay import ReplayError
from durable_app.scheduler.history_format import HistoryFormatError, load, protocol_events
from durable_app.testing import replay
from durable_app.workflows import workflows

if TYPE_CHECKING:
    from durable_app.testing import WorkflowEnv

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = Path(__file__).with_name("histories")
RECORDED = sorted(HISTORIES.glob("*.json"))


def run_replay_command(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "durable_app.replay", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_shipped_workflow_has_a_recorded_history() -> None:
    assert sorted(load(path)["orchestrator"] for path in RECORDED) == sorted(workflows.orchestrators)


@pytest.mark.parametrize("path", RECORDED, ids=lambda path: path.stem)
def test_the_recorded_history_replays_against_the_current_code(path: Path) -> None:
    replay(load(path))


def test_the_check_command_replays_every_recorded_history() -> None:
    checked = run_replay_command("check", *map(str, RECORDED))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("ok ") == len(RECORDED)


def test_code_that_schedules_other_work_is_named_at_its_step() -> None:
    def activity_first(ctx: task.OrchestrationContext, _: Any) -> Any:
        value = yield ctx.call_activity("read_counter", input="k")
        return value

    with pytest.raises(ReplayError) as mismatch:
        replay(load(HISTORIES / "approval_workflow.json"), activity_first)
    message = str(mismatch.value)
    assert message.startswith("approval_workflow, step 1 of 3: ")
    assert "called create_timer with ID=1" in message and "trying to call call_activity" in message


def test_code_that_finishes_otherwise_says_what_the_history_holds_and_what_it_did() -> None:
    def always_approves(ctx: task.OrchestrationContext, _: Any) -> Any:
        yield ctx.create_timer(timedelta(seconds=1))
        return {"subject": "invoice 42", "outcome": "approved"}

    with pytest.raises(ReplayError) as mismatch:
        replay(load(HISTORIES / "approval_workflow.json"), always_approves)
    message = str(mismatch.value)
    assert message.startswith("approval_workflow, step ")
    assert '"outcome": "timed_out"' in message and '"outcome": "approved"' in message


def test_a_history_changed_by_hand_fails_the_check(tmp_path: Path) -> None:
    document = load(HISTORIES / "fan_out_fan_in_orchestrator.json")
    scheduled = next(event for event in document["events"] if "taskScheduled" in event)
    scheduled["taskScheduled"]["name"] = "some_other_activity"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document), encoding="utf-8")
    not_history = tmp_path / "not-history.json"
    not_history.write_text('{"format": 99}', encoding="utf-8")
    checked = run_replay_command("check", str(tampered), str(not_history), str(HISTORIES / "counter_workflow.json"))
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert lines[0].startswith(f"FAIL {tampered}: fan_out_fan_in_orchestrator, step 1 of ")
    assert "name='some_other_activity'" in lines[0] and "trying to call process_work_item" in lines[0]
    assert lines[1] == f"FAIL {not_history}: {not_history}: not a recorded history of format 1"
    assert lines[2].startswith("ok ")


def test_an_unreadable_or_broken_document_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HistoryFormatError, match="cannot read"):
        load(tmp_path / "missing.json")
    broken = {"format": 1, "orchestrator": "counter_workflow", "instance_id": "x", "events": [{"noSuchEvent": {}}]}
    with pytest.raises(HistoryFormatError, match="not a recorded history"):
        replay(broken)
    with pytest.raises(ReplayError, match="no orchestrator named 'gone_workflow'"):
        replay({**load(HISTORIES / "counter_workflow.json"), "orchestrator": "gone_workflow"})


def test_record_writes_the_history_the_scheduler_holds(workflow_env: WorkflowEnv, tmp_path: Path) -> None:
    instance_id = workflow_env.start("approval_workflow", {"subject": "recorded", "timeout_seconds": 3600})
    workflow_env.raise_event(instance_id, "approval", {"approved": True})
    workflow_env.wait(instance_id)
    output = tmp_path / "approval.json"
    recorded = run_replay_command("record", instance_id, "-o", str(output), env=dict(os.environ))
    assert recorded.returncode == 0, recorded.stderr
    assert load(output) == workflow_env.history(instance_id)
    with grpc.insecure_channel(f"127.0.0.1:{workflow_env.port}") as channel:
        chunks = stubs.TaskHubSidecarServiceStub(channel).StreamInstanceHistory(
            pb.StreamInstanceHistoryRequest(instanceId=instance_id)
        )
        held = [event for chunk in chunks for event in chunk.events]
    assert protocol_events(load(output)) == held
    missing = run_replay_command("record", "no-such-instance", env=dict(os.environ))
    assert (missing.returncode, missing.stderr.strip()) == (1, "no instance 'no-such-instance' on this scheduler")


def test_record_says_why_it_cannot_read_a_history(tmp_path: Path) -> None:
    unreachable = {
        **os.environ,
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=http://127.0.0.1:9;TaskHub=default",
    }
    failed = run_replay_command("record", "any-id", env=unreachable)
    assert failed.returncode == 1
    assert failed.stderr.startswith("cannot read 'any-id': the scheduler answered UNAVAILABLE")
    misconfigured = {**os.environ, "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=http://127.0.0.1:9;Key=1"}
    refused = run_replay_command("record", "any-id", env=misconfigured)
    assert refused.returncode == 1
    assert "DURABLE_TASK_SCHEDULER_CONNECTION_STRING: unknown key 'Key'" in refused.stderr
    assert not (tmp_path / "any-id.json").exists()
