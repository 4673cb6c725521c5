import logging

import pytest

from durable_app.connection_string import Authentication
from durable_app.reconnect import channel_options, worker_resiliency
from durable_app.settings import (
    AppSettings,
    SettingsError,
    connection_from_env,
    non_negative_float,
    non_negative_int,
)


def test_defaults_are_the_emulator() -> None:
    settings = AppSettings.from_env({})
    assert settings.connection.endpoint == "http://localhost:8080"
    assert settings.connection.taskhub == "default"
    assert settings.connection.authentication is Authentication.NONE
    assert settings.worker_enabled is True
    assert settings.concurrency.thread_pool_workers == 100
    assert settings.sdk_log_level == logging.WARNING


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
    remote = connection_from_env({"ENDPOINT": "https://s.durabletask.io"})
    assert remote.authentication is Authentication.DEFAULT_AZURE


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=nope;TaskHub=x"}, "CONNECTION_STRING"),
        ({"DTS_MAX_ACTIVITY_THREADS": "many"}, "DTS_MAX_ACTIVITY_THREADS"),
        ({"DTS_MAX_CONCURRENT_ACTIVITIES": "0"}, "DTS_MAX_CONCURRENT_ACTIVITIES"),
        ({"DTS_WORKER_ENABLED": "maybe"}, "DTS_WORKER_ENABLED"),
        ({"DTS_SDK_LOG_LEVEL": "LOUD"}, "DTS_SDK_LOG_LEVEL"),
        ({"DTS_RECONNECT_MAX_SECONDS": "0"}, "DTS_RECONNECT_MAX_SECONDS"),
        ({"DTS_RECONNECT_MAX_SECONDS": "inf"}, "DTS_RECONNECT_MAX_SECONDS"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        AppSettings.from_env(env)


def test_worker_can_be_disabled_and_tuned() -> None:
    settings = AppSettings.from_env({"DTS_WORKER_ENABLED": "false", "DTS_MAX_ACTIVITY_THREADS": "7"})
    assert settings.worker_enabled is False
    assert settings.concurrency.thread_pool_workers == 7


def test_delay_allows_zero_and_rejects_negative() -> None:
    assert non_negative_float({"D": "0"}, "D", 1.0) == 0.0
    assert non_negative_float({}, "D", 1.5) == 1.5
    with pytest.raises(SettingsError, match="D"):
        non_negative_float({"D": "-1"}, "D", 1.0)
    with pytest.raises(SettingsError, match="D"):
        non_negative_float({"D": "nan"}, "D", 1.0)


@pytest.mark.parametrize("raw", ["-1", "1.5", "lots", "1e3"])
def test_whole_number_settings_reject_what_is_not_one(raw: str) -> None:
    with pytest.raises(SettingsError, match="N:"):
        non_negative_int({"N": raw}, "N", 0)


def test_whole_number_settings_allow_zero_and_default() -> None:
    assert non_negative_int({"N": " 0 "}, "N", 3) == 0
    assert non_negative_int({"N": "25"}, "N", 0) == 25
    assert non_negative_int({"N": ""}, "N", 3) == 3


def test_reconnect_backoff_is_capped_for_worker_and_channels() -> None:
    assert AppSettings.from_env({}).reconnect_max_seconds == 5.0
    cap = AppSettings.from_env({"DTS_RECONNECT_MAX_SECONDS": "2"}).reconnect_max_seconds
    resiliency = worker_resiliency(cap)
    assert (resiliency.reconnect_backoff_base_seconds, resiliency.reconnect_backoff_cap_seconds) == (0.5, 2.0)
    assert ("grpc.max_reconnect_backoff_ms", 2000) in channel_options(cap).to_grpc_options()
    tiny = worker_resiliency(0.1)
    assert tiny.reconnect_backoff_base_seconds == tiny.reconnect_backoff_cap_seconds == 0.1
