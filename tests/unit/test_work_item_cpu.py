"""The work items' CPU work (``WORK_ITEM_CPU_UNITS``): parsed strictly, a fixed amount of real hashing."""

from __future__ import annotations

import hashlib

import pytest

from durable_app.settings import SettingsError
from orchestrations.fan_out_fan_in import CPU_UNIT_HASHES, burn_cpu, process_work_item, work_item_cpu_units


def test_cpu_work_is_off_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORK_ITEM_CPU_UNITS", raising=False)
    assert work_item_cpu_units() == 0
    monkeypatch.setenv("WORK_ITEM_CPU_UNITS", "25")
    assert work_item_cpu_units() == 25


@pytest.mark.parametrize("raw", ["-5", "2.5", "twenty"])
def test_a_bad_value_fails_the_work_item_naming_the_setting(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("WORK_ITEM_CPU_UNITS", raw)
    with pytest.raises(SettingsError, match="WORK_ITEM_CPU_UNITS"):
        process_work_item(None, 3)  # type: ignore[arg-type]


def test_one_unit_is_a_fixed_chain_of_sha256_digests() -> None:
    digest = bytes(32)
    for _ in range(2 * CPU_UNIT_HASHES):
        digest = hashlib.sha256(digest).digest()
    assert burn_cpu(2) == digest
    assert burn_cpu(0) == bytes(32)


def test_cpu_bound_item_still_returns_its_square(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORK_ITEM_CPU_UNITS", "1")
    monkeypatch.setenv("WORK_ITEM_DELAY_MIN_SECONDS", "0")
    monkeypatch.setenv("WORK_ITEM_DELAY_MAX_SECONDS", "0")
    assert process_work_item(None, 7) == {"item": 7, "result": 49}  # type: ignore[arg-type]
