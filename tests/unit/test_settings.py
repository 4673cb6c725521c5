"""The app's settings: declared once, read at startup, every bad value refused by name, defaults as documented."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from durable_app.scheduler.reconnect import channel_options, worker_resiliency
from durable_app.settings import AppSettings, Authentication, SettingsError, connection_from_env
from durable_app.settings.catalog import DECLARED
from durable_app.settings.doc import DOC_PATH, settings_markdown
from durable_app.settings.schema import Boolean, Number, NumberSet, WholeNumber

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_emulator() -> None:
    settings = AppSettings.from_env({})
    assert settings.connection.endpoint == "http://localhost:8080"
    assert settings.connection.taskhub == "default"
    assert settings.connection.authentication is Authentication.NONE
    assert settings.worker_enabled is True
    assert settings.concurrency.thread_pool_workers == 100
    assert settings.sdk_log_level == logging.WARNING
    assert settings.work_item_delay == (0.5, 2.0)
    assert not settings.drills.enabled


def test_connection_string_wins_and_taskhub_name_overrides_hub() -> None:
    env = {
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=https://s.durabletask.io;TaskHub=a;"
        "Authentication=ManagedIdentity;ClientID=cid",
        "TASKHUB_NAME": "b",
        "ENDPOINT": "http://ignored:1",
    }
    connection = connection_from_env(env)
    assert (connection.endpoint, connection.taskhub, connection.client_id) == ("https://s.durabletask.io", "b", "cid")


def test_seed_variables_are_honoured() -> None:
    local = connection_from_env({"ENDPOINT": "http://localhost:9090", "TASKHUB": "hub"})
    assert (local.host_address, local.taskhub, local.authentication) == ("localhost:9090", "hub", Authentication.NONE)
    remote = connection_from_env({"ENDPOINT": "https://s.durabletask.io/"})
    assert (remote.endpoint, remote.authentication) == ("https://s.durabletask.io", Authentication.DEFAULT_AZURE)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=nope;TaskHub=x"}, "CONNECTION_STRING"),
        ({"ENDPOINT": "localhost:8080"}, "ENDPOINT"),
        ({"ENDPOINT": "http://localhost:8080/path"}, "ENDPOINT"),
        ({"DTS_MAX_ACTIVITY_THREADS": "many"}, "DTS_MAX_ACTIVITY_THREADS"),
        ({"DTS_MAX_CONCURRENT_ACTIVITIES": "0"}, "DTS_MAX_CONCURRENT_ACTIVITIES"),
        ({"DTS_WORKER_ENABLED": "maybe"}, "DTS_WORKER_ENABLED"),
        ({"DTS_SDK_LOG_LEVEL": "LOUD"}, "DTS_SDK_LOG_LEVEL"),
        ({"DTS_RECONNECT_MAX_SECONDS": "0"}, "DTS_RECONNECT_MAX_SECONDS"),
        ({"DTS_RECONNECT_MAX_SECONDS": "inf"}, "DTS_RECONNECT_MAX_SECONDS"),
        ({"WORK_ITEM_DELAY_MIN_SECONDS": "-1"}, "WORK_ITEM_DELAY_MIN_SECONDS"),
        ({"WORK_ITEM_DELAY_MAX_SECONDS": "nan"}, "WORK_ITEM_DELAY_MAX_SECONDS"),
        ({"WORK_ITEM_CPU_UNITS": "2.5"}, "WORK_ITEM_CPU_UNITS"),
        ({"WORK_ITEM_FAIL_ITEMS": "3,x"}, "WORK_ITEM_FAIL_ITEMS"),
        ({"OTEL_BSP_SCHEDULE_DELAY": "soon"}, "OTEL_BSP_SCHEDULE_DELAY"),
        ({"FUNCTIONS_WORKER_PROCESS_COUNT": "11"}, "FUNCTIONS_WORKER_PROCESS_COUNT"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        AppSettings.from_env(env)


def test_every_bad_setting_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as refused:
        AppSettings.from_env({"DTS_WORKER_ENABLED": "maybe", "WORK_ITEM_CPU_UNITS": "-1"})
    assert "DTS_WORKER_ENABLED: 'maybe' is not a boolean" in str(refused.value)
    assert "WORK_ITEM_CPU_UNITS: must be at least 0, got -1" in str(refused.value)


def test_blank_means_unset() -> None:
    assert AppSettings.from_env({"DTS_MAX_ACTIVITY_THREADS": " ", "WORK_ITEM_FAIL_ITEMS": ""}) == AppSettings.from_env(
        {}
    )


def test_worker_can_be_disabled_and_tuned() -> None:
    settings = AppSettings.from_env({"DTS_WORKER_ENABLED": "false", "DTS_MAX_ACTIVITY_THREADS": "7"})
    assert settings.worker_enabled is False
    assert settings.concurrency.thread_pool_workers == 7


def test_work_item_delay_allows_zero_and_a_maximum_below_the_minimum_is_the_minimum() -> None:
    assert AppSettings.from_env(
        {"WORK_ITEM_DELAY_MIN_SECONDS": "0", "WORK_ITEM_DELAY_MAX_SECONDS": "0"}
    ).work_item_delay == (0, 0)
    assert AppSettings.from_env({"WORK_ITEM_DELAY_MIN_SECONDS": "3"}).work_item_delay == (3.0, 3.0)


@pytest.mark.parametrize("text", ["-1", "1.5", "lots", "1e3"])
def test_whole_numbers_refuse_what_is_not_one(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(text)):
        WholeNumber(0).parse(text)


def test_kinds_read_what_they_should() -> None:
    assert WholeNumber(0).parse("25") == 25
    assert WholeNumber(1, 10).parse("10") == 10
    assert Number().parse("0") == 0.0
    assert NumberSet().parse("3, 4.5,") == frozenset({3.0, 4.5})
    assert [Boolean().parse(text) for text in ("TRUE", "yes", "1", "off", "No", "0")] == [True] * 3 + [False] * 3


def test_reconnect_backoff_is_capped_for_worker_and_channels() -> None:
    assert AppSettings.from_env({}).reconnect_max_seconds == 5.0
    cap = AppSettings.from_env({"DTS_RECONNECT_MAX_SECONDS": "2"}).reconnect_max_seconds
    resiliency = worker_resiliency(cap)
    assert (resiliency.reconnect_backoff_base_seconds, resiliency.reconnect_backoff_cap_seconds) == (0.5, 2.0)
    assert ("grpc.max_reconnect_backoff_ms", 2000) in channel_options(cap).to_grpc_options()
    tiny = worker_resiliency(0.1)
    assert tiny.reconnect_backoff_base_seconds == tiny.reconnect_backoff_cap_seconds == 0.1


def test_each_setting_is_declared_once_with_a_default_its_kind_accepts() -> None:
    names = [setting.name for setting in DECLARED]
    assert len(names) == len(set(names))
    for setting in DECLARED:
        if setting.default_text[:1].isalnum():
            assert setting.read({setting.name: setting.default_text}) == setting.default, setting.name


def test_the_settings_page_is_the_declarations() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == settings_markdown(), (
        "docs/settings.md differs from durable_app/settings/catalog.py: run python -m durable_app.settings.doc --write"
    )


def test_the_settings_page_lists_every_declared_setting() -> None:
    page = settings_markdown()
    assert all(f"| `{setting.name}` |" in page for setting in DECLARED)


ENVIRONMENT_READ = re.compile(r"\bos\.environ\b|\bgetenv\(")


@pytest.mark.parametrize("package", ["orchestrations", "entities"])
def test_workflows_never_read_the_environment(package: str) -> None:
    """Workflows get their settings from ``app_settings()``, read once at startup, never from the environment."""
    readers = [path.name for path in (ROOT / package).glob("*.py") if ENVIRONMENT_READ.search(path.read_text())]
    assert readers == []


def test_the_app_reads_the_environment_only_where_it_reads_its_settings() -> None:
    """``settings/reader.py`` reads them; ``telemetry/setup.py`` only writes one back for the exporter."""
    package = ROOT / "durable_app"
    touching = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if ENVIRONMENT_READ.search(path.read_text())
    }
    assert touching == {"settings/reader.py", "telemetry/setup.py"}


def test_a_bad_setting_stops_the_app_at_import_naming_it() -> None:
    env = {"PATH": "", "DTS_WORKER_ENABLED": "false", "DTS_MAX_CONCURRENT_ENTITIES": "none"}
    started = subprocess.run(
        [sys.executable, "-c", "import function_app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode != 0
    assert "SettingsError: DTS_MAX_CONCURRENT_ENTITIES: 'none' is not a whole number" in started.stderr
