"""WORKFLOW_VERSION and its strategies: read strictly at startup, handed to the worker and the clients."""

from __future__ import annotations

import pytest
from durabletask.worker import VersionFailureStrategy, VersionMatchStrategy

from durable_app.scheduler.client import create_client
from durable_app.settings import AppSettings, SettingsError
from durable_app.worker.versioning import versioning_options


def test_the_defaults_run_current_or_older_and_hand_back_the_rest() -> None:
    options = versioning_options(AppSettings.from_env({}).versioning)
    assert (options.version, options.default_version) == ("1.0.0", "1.0.0")
    assert options.match_strategy is VersionMatchStrategy.CURRENT_OR_OLDER
    assert options.failure_strategy is VersionFailureStrategy.REJECT


def test_every_strategy_is_a_setting_in_any_case() -> None:
    env = {"WORKFLOW_VERSION": "2.10", "WORKFLOW_VERSION_MATCH": "STRICT", "WORKFLOW_VERSION_FAILURE": "Fail"}
    options = versioning_options(AppSettings.from_env(env).versioning)
    assert options.version == "2.10"
    assert options.match_strategy is VersionMatchStrategy.STRICT
    assert options.failure_strategy is VersionFailureStrategy.FAIL


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WORKFLOW_VERSION", "v2"),
        ("WORKFLOW_VERSION", "1..0"),
        ("WORKFLOW_VERSION", "1.0.0.0.0"),
        ("WORKFLOW_VERSION", "1.0-beta"),
        ("WORKFLOW_VERSION", "\N{FULLWIDTH DIGIT ONE}.0"),
        ("WORKFLOW_VERSION", "1" * 65),
        ("WORKFLOW_VERSION_MATCH", "newest"),
        ("WORKFLOW_VERSION_FAILURE", "ignore"),
    ],
)
def test_a_bad_value_stops_the_app_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name}: "):
        AppSettings.from_env({name: value})


def test_the_clients_stamp_the_version_on_what_they_start() -> None:
    client = create_client(AppSettings.from_env({"WORKFLOW_VERSION": "3.1"}))
    assert client.default_version == "3.1"
