"""Work-item drills: off by default, around the real activity only when set, each doing what its setting says."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from durable_app.settings import AppSettings
from durable_app.worker.drills import (
    CPU_UNIT_HASHES,
    DrillingRegistrar,
    InjectedFault,
    WorkItemDrills,
    burn_cpu,
    drilled,
    with_drills,
)
from orchestrations.fan_out_fan_in import aggregate_results, process_work_item
from tests.helpers.settings import INSTANT_WORK, app_settings_with


@pytest.fixture(autouse=True)
def instant(instant_work: None) -> None:
    """The wrapped activity's own simulated I/O is skipped."""


def drills_from(**env: str) -> WorkItemDrills:
    return AppSettings.from_env(env).drills


def test_no_drill_unless_set() -> None:
    assert not drills_from().enabled
    assert not drills_from(WORK_ITEM_CPU_UNITS="0").enabled
    assert drills_from(WORK_ITEM_FAIL_ONCE_ITEMS="3").enabled


def test_the_startup_warning_names_the_drills_as_settings() -> None:
    drills = drills_from(WORK_ITEM_CPU_UNITS="2", WORK_ITEM_FAIL_ITEMS="4,2.5")
    assert drills.describe() == "WORK_ITEM_CPU_UNITS=2, WORK_ITEM_FAIL_ITEMS=2.5,4"


def test_one_unit_is_a_fixed_chain_of_sha256_digests() -> None:
    digest = bytes(32)
    for _ in range(2 * CPU_UNIT_HASHES):
        digest = hashlib.sha256(digest).digest()
    assert burn_cpu(2) == digest
    assert burn_cpu(0) == bytes(32)


def test_a_cpu_bound_item_still_returns_its_square() -> None:
    work = drilled(process_work_item, WorkItemDrills(cpu_units=1))
    assert work.__name__ == "process_work_item"
    assert work(None, 7) == {"item": 7, "result": 49}


def test_items_fail_always_or_on_their_first_attempt_in_the_process() -> None:
    work = drilled(process_work_item, drills_from(WORK_ITEM_FAIL_ITEMS="3", WORK_ITEM_FAIL_ONCE_ITEMS="4"))
    for _ in range(2):
        with pytest.raises(InjectedFault, match=r"work item 3 failed \(WORK_ITEM_FAIL_ITEMS\)"):
            work(None, 3)
    with pytest.raises(InjectedFault, match=r"work item 4 failed once \(WORK_ITEM_FAIL_ONCE_ITEMS\)"):
        work(None, 4)
    assert work(None, 4.0) == {"item": 4.0, "result": 16.0}  # 4 and 4.0 are the same item
    assert work(None, 5) == {"item": 5, "result": 25}


def test_what_is_not_a_number_is_left_to_the_activity() -> None:
    work = drilled(process_work_item, WorkItemDrills(fail_items=frozenset({1.0})))
    with pytest.raises(TypeError, match="is not a number"):
        work(None, [1])


class Recorder:
    def __init__(self) -> None:
        self.activities: list[Any] = []

    def add_orchestrator(self, fn: Any) -> str:
        return fn.__name__

    def add_activity(self, fn: Any) -> str:
        self.activities.append(fn)
        return fn.__name__

    def add_entity(self, fn: Any, name: str | None = None) -> str:
        return name or fn.__name__


def test_only_the_work_item_activity_is_wrapped_and_only_when_a_drill_is_on() -> None:
    plain = Recorder()
    assert with_drills(plain, WorkItemDrills()) is plain
    recorder = Recorder()
    registrar = with_drills(recorder, WorkItemDrills(cpu_units=1))
    assert isinstance(registrar, DrillingRegistrar)
    assert registrar.add_activity(process_work_item) == "process_work_item"
    assert registrar.add_activity(aggregate_results) == "aggregate_results"
    wrapped, untouched = recorder.activities
    assert wrapped is not process_work_item and untouched is aggregate_results


def test_the_production_activity_reads_its_delay_from_the_settings_read_at_startup() -> None:
    with app_settings_with(**{**INSTANT_WORK, "WORK_ITEM_CPU_UNITS": "1000000"}):
        assert process_work_item(None, 2) == {"item": 2, "result": 4}  # no drill: the CPU units are not its concern
