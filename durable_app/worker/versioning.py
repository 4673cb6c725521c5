"""The hosted worker's version rules, from ``WORKFLOW_VERSION*``, as the SDK's ``VersioningOptions``.

With the default ``current_or_older`` and ``reject``, a worker never runs an instance started by a newer
version of the app: it hands the work item back to the scheduler, which offers it again until a worker of
that version or newer takes it. Older instances run here, where orchestrators read ``ctx.version``.
"""

from __future__ import annotations

from durabletask.worker import VersionFailureStrategy, VersioningOptions, VersionMatchStrategy

from durable_app.settings import WorkflowVersioning

MATCH = {
    "none": VersionMatchStrategy.NONE,
    "strict": VersionMatchStrategy.STRICT,
    "current_or_older": VersionMatchStrategy.CURRENT_OR_OLDER,
}
FAILURE = {"reject": VersionFailureStrategy.REJECT, "fail": VersionFailureStrategy.FAIL}


def versioning_options(versioning: WorkflowVersioning) -> VersioningOptions:
    """The worker's version, the version its sub-orchestrations start under, and its two strategies."""
    return VersioningOptions(
        version=versioning.version,
        default_version=versioning.version,
        match_strategy=MATCH[versioning.match],
        failure_strategy=FAILURE[versioning.failure],
    )
