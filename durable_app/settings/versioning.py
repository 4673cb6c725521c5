"""Which workflow version this app starts and which instances its worker runs (``WORKFLOW_VERSION*``)."""

from __future__ import annotations

from dataclasses import dataclass

from durable_app.settings.catalog import WORKFLOW_VERSION, WORKFLOW_VERSION_FAILURE, WORKFLOW_VERSION_MATCH
from durable_app.settings.schema import SettingValues


@dataclass(frozen=True)
class WorkflowVersioning:
    """The version stamped on new instances and the worker's rules for instances of other versions."""

    version: str = WORKFLOW_VERSION.default
    match: str = WORKFLOW_VERSION_MATCH.default
    """``current_or_older``, ``strict`` or ``none``: the SDK's ``VersionMatchStrategy``."""
    failure: str = WORKFLOW_VERSION_FAILURE.default
    """``reject`` or ``fail``: the SDK's ``VersionFailureStrategy``."""

    @classmethod
    def from_values(cls, values: SettingValues) -> WorkflowVersioning:
        return cls(values[WORKFLOW_VERSION], values[WORKFLOW_VERSION_MATCH], values[WORKFLOW_VERSION_FAILURE])
