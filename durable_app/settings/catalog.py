"""Every setting the app reads, declared once: its name, kind, default and one line of doc.

The app reads them all when ``function_app.py`` is imported (:meth:`durable_app.settings.reader.AppSettings.from_env`),
so a bad value stops it at startup with a message naming the setting; the local stack reads its host's settings
through the same declarations, and ``docs/settings.md`` is generated from :data:`SECTIONS`
(``python -m durable_app.settings.doc --write``). A new setting is declared here and nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any

from durable_app.settings.schema import (
    NO_DEFAULT,
    Boolean,
    Choice,
    DtsConnectionString,
    Endpoint,
    LogLevel,
    Number,
    NumberSet,
    Section,
    Setting,
    Text,
    Version,
    WholeNumber,
)

CONNECTION_STRING = Setting(
    "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    DtsConnectionString(),
    None,
    "`Endpoint=<url>;TaskHub=<hub>;Authentication=<kind>[;ClientID=<id>]`, parsed strictly: a bad part is named",
    shown_default="`ENDPOINT`, `TASKHUB`",
)
TASKHUB_NAME = Setting("TASKHUB_NAME", Text(), None, "overrides the task hub of the connection string (or `TASKHUB`)")
ENDPOINT = Setting(
    "ENDPOINT",
    Endpoint(),
    "http://localhost:8080",
    "the seeds' scheduler endpoint, used when no connection string is set; `https://` signs in with "
    "`DefaultAzureCredential`",
)
TASKHUB = Setting("TASKHUB", Text(), "default", "the seeds' task hub, used when no connection string is set")

WORKER_ENABLED = Setting(
    "DTS_WORKER_ENABLED",
    Boolean(),
    True,
    "`false` makes this app a client only (no hosted worker), e.g. beside the public samples' own `worker.py`",
)
MAX_ACTIVITY_THREADS = Setting(
    "DTS_MAX_ACTIVITY_THREADS",
    WholeNumber(1),
    100,
    "most activity threads: the pool starts at the SDK's cpu + 4 and adds one only while work waits and no thread "
    "has started an item for 50 ms, so I/O-bound fan-out grows to this while CPU-bound work stays near cpu + 4",
)
MAX_CONCURRENT_ACTIVITIES = Setting(
    "DTS_MAX_CONCURRENT_ACTIVITIES", WholeNumber(1), 500, "activity work items in flight per process"
)
MAX_CONCURRENT_ORCHESTRATIONS = Setting(
    "DTS_MAX_CONCURRENT_ORCHESTRATIONS", WholeNumber(1), 100, "orchestration work items in flight per process"
)
MAX_CONCURRENT_ENTITIES = Setting(
    "DTS_MAX_CONCURRENT_ENTITIES", WholeNumber(1), 100, "entity batches in flight per process"
)
WORKFLOW_VERSION = Setting(
    "WORKFLOW_VERSION",
    Version(),
    "1.0.0",
    "the version stamped on every orchestration the app starts (start routes, batches, sub-orchestrations) and "
    "the hosted worker's version; orchestrators read it as `ctx.version` (docs/changing-workflows.md)",
)
WORKFLOW_VERSION_MATCH = Setting(
    "WORKFLOW_VERSION_MATCH",
    Choice(("current_or_older", "strict", "none")),
    "current_or_older",
    "which instances the worker runs: `current_or_older` (never one started by a newer version), `strict` "
    "(its own version only), `none` (any)",
)
WORKFLOW_VERSION_FAILURE = Setting(
    "WORKFLOW_VERSION_FAILURE",
    Choice(("reject", "fail")),
    "reject",
    "what the worker does with an instance it may not run: `reject` hands it back to wait for a worker that "
    "may, `fail` fails it",
)
SDK_LOG_LEVEL = Setting(
    "DTS_SDK_LOG_LEVEL",
    LogLevel(),
    logging.WARNING,
    "level of the `durabletask` SDK's own logs (it logs every call at INFO)",
    shown_default="WARNING",
)
RECONNECT_MAX_SECONDS = Setting(
    "DTS_RECONNECT_MAX_SECONDS",
    Number(positive=True),
    5.0,
    "longest wait between reconnect attempts of the worker and the app's clients after the scheduler or the "
    "network drops (the SDK's own default is a random 0-30 s)",
    shown_default="5",
)

DELAY_MIN_SECONDS = Setting(
    "WORK_ITEM_DELAY_MIN_SECONDS",
    Number(),
    0.5,
    "shortest simulated I/O of a work item, as in the seed; `0` with the maximum for instant items",
)
DELAY_MAX_SECONDS = Setting(
    "WORK_ITEM_DELAY_MAX_SECONDS",
    Number(),
    2.0,
    "longest simulated I/O of a work item; each draws uniformly between the two (a maximum below the minimum is "
    "the minimum)",
)

CPU_UNITS = Setting(
    "WORK_ITEM_CPU_UNITS",
    WholeNumber(0),
    0,
    "real CPU work per work item before its simulated I/O, in units of 1,000 chained SHA-256 digests (about 1 ms "
    "of one core; holds the GIL like most Python CPU work), for CPU-bound load tests and the figures of "
    "[capacity per replica](scaling.md#capacity-per-replica)",
)
FAIL_ITEMS = Setting(
    "WORK_ITEM_FAIL_ITEMS",
    NumberSet(),
    frozenset(),
    "work items that fail on every attempt (each is tried 3 times, then the orchestration fails naming it)",
    shown_default=NO_DEFAULT,
)
FAIL_ONCE_ITEMS = Setting(
    "WORK_ITEM_FAIL_ONCE_ITEMS",
    NumberSet(),
    frozenset(),
    "work items whose first attempt in each worker process fails (the retry then succeeds)",
    shown_default=NO_DEFAULT,
)

APPINSIGHTS_CONNECTION_STRING = Setting(
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    Text(),
    None,
    "export traces and logs to this Application Insights resource",
)
APPINSIGHTS_AUTHENTICATION_STRING = Setting(
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    Text(),
    None,
    "`Authorization=AAD[;ClientId=<id>]`: send them with the managed identity (`ClientId`, else `AZURE_CLIENT_ID`)",
)
AZURE_CLIENT_ID = Setting(
    "AZURE_CLIENT_ID",
    Text(),
    None,
    "the user-assigned identity that sends telemetry when the authentication string names none",
)
OTLP_ENDPOINT = Setting(
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    Text(),
    None,
    "also (or instead) export over OTLP http/protobuf to this collector; the other `OTEL_EXPORTER_OTLP_*` apply",
)
SERVICE_NAME = Setting(
    "OTEL_SERVICE_NAME", Text(), "durable-fan-out", "the service (Application Insights' cloud role name)"
)
TELEMETRY_LOG_LEVEL = Setting(
    "TELEMETRY_LOG_LEVEL",
    LogLevel(),
    logging.INFO,
    "lowest level of the app's logs that is exported",
    shown_default="INFO",
)
SAMPLING_PERCENTAGE = Setting(
    "TELEMETRY_SAMPLING_PERCENTAGE",
    Number(maximum=100.0),
    100.0,
    "share of whole traces exported; failed spans and exceptions are exported whatever the share",
    shown_default="100",
)
RESOURCE_METRIC_DISABLED = Setting(
    "APPLICATIONINSIGHTS_OPENTELEMETRY_RESOURCE_METRIC_DISABLED",
    Boolean(),
    True,
    "`false` lets the exporter send its `_OTELRESOURCE_` metric with every export batch",
)
SPAN_QUEUE_SIZE = Setting(
    "OTEL_BSP_MAX_QUEUE_SIZE",
    WholeNumber(1),
    16_384,
    "spans held for export: the largest fan-out (5,000 items, two spans each) fits, where OpenTelemetry's "
    "default of 2,048 would drop most of them",
)
SPAN_EXPORT_DELAY = Setting(
    "OTEL_BSP_SCHEDULE_DELAY",
    WholeNumber(1),
    5000,
    "ms between exports of spans (read by OpenTelemetry's batch processor)",
)
LOG_EXPORT_DELAY = Setting(
    "OTEL_BLRP_SCHEDULE_DELAY",
    WholeNumber(1),
    5000,
    "ms between exports of logs (read by OpenTelemetry's batch processor)",
)

WORKER_PROCESS_COUNT = Setting(
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    WholeNumber(1, 10),
    1,
    "Python worker processes per instance, each hosting its own DTS worker (Azure's host and the local one)",
)
LOCAL_FUNCTION_KEY = Setting(
    "LOCAL_FUNCTION_KEY",
    Text(),
    None,
    "the key the local host asks of non-anonymous routes (`?code=` or `x-functions-key`), as `--function-key` "
    "sets it; none when unset",
)

SECTIONS = (
    Section(
        "Scheduler connection",
        "`Authentication` values: `None`, `DefaultAzure`, `ManagedIdentity` (with `ClientID` for a user-assigned "
        "identity), `WorkloadIdentity`, `Environment`, `AzureCLI`, `AzurePowerShell`, `VisualStudioCode`, "
        "`InteractiveBrowser`, each mapped to its `azure.identity` credential. `http://` endpoints use an insecure "
        "channel, `https://` TLS. No secret ever goes in `local.settings.json`.",
        (CONNECTION_STRING, TASKHUB_NAME, ENDPOINT, TASKHUB),
    ),
    Section(
        "Hosted worker",
        "The DTS worker that `function_app.py` starts in each Python worker process.",
        (
            WORKER_ENABLED,
            MAX_ACTIVITY_THREADS,
            MAX_CONCURRENT_ACTIVITIES,
            MAX_CONCURRENT_ORCHESTRATIONS,
            MAX_CONCURRENT_ENTITIES,
            WORKFLOW_VERSION,
            WORKFLOW_VERSION_MATCH,
            WORKFLOW_VERSION_FAILURE,
            SDK_LOG_LEVEL,
            RECONNECT_MAX_SECONDS,
        ),
    ),
    Section(
        "Work items",
        "`process_work_item` sleeps a random 0.5-2 s per item, as the seed's does, to stand for I/O.",
        (DELAY_MIN_SECONDS, DELAY_MAX_SECONDS),
    ),
    Section(
        "Work-item drills",
        "For benchmarks and fault tests, off unless set. With any of them set, the worker registers "
        "`process_work_item` wrapped in the drills (`durable_app/worker/drills.py`) and says so in a warning "
        "at startup; the activity itself never reads them.",
        (CPU_UNITS, FAIL_ITEMS, FAIL_ONCE_ITEMS),
    ),
    Section(
        "Telemetry",
        "With neither destination set, nothing is installed and nothing leaves the process. OpenTelemetry reads "
        "its other `OTEL_*` settings itself.",
        (
            APPINSIGHTS_CONNECTION_STRING,
            APPINSIGHTS_AUTHENTICATION_STRING,
            AZURE_CLIENT_ID,
            OTLP_ENDPOINT,
            SERVICE_NAME,
            TELEMETRY_LOG_LEVEL,
            SAMPLING_PERCENTAGE,
            RESOURCE_METRIC_DISABLED,
            SPAN_QUEUE_SIZE,
            SPAN_EXPORT_DELAY,
            LOG_EXPORT_DELAY,
        ),
    ),
    Section(
        "Functions host",
        "Settings of the host around the app; the local stack's host reads them as Azure's does.",
        (WORKER_PROCESS_COUNT, LOCAL_FUNCTION_KEY),
    ),
)
"""The settings in the order the settings table lists them."""

DECLARED: tuple[Setting[Any], ...] = tuple(setting for section in SECTIONS for setting in section.settings)
"""Every declared setting, each once."""
