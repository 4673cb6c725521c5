"""The shapes of the API's JSON answers, as types: the handlers build them, and the OpenAPI document describes them.

Every refusal and fault answers :class:`Error`: the message, and the request field at fault (null when no one
field is). Each shape is a TypedDict (a plain dict at run time, so answering costs nothing extra); the document's
component schemas are generated from these with pydantic, named after the classes. Below them, the answers and
rules several routes share.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, WithJsonSchema, with_config
from typing_extensions import TypedDict

from durable_app.http.batch import MAX_IN_FLIGHT
from durable_app.http.declarations import Answer
from durable_app.http.responses import MANAGEMENT_URLS
from durable_app.scheduler import RUNTIME_STATUS

Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
RuntimeStatus = Annotated[str, WithJsonSchema({"type": "string", "enum": list(RUNTIME_STATUS.values())})]
Indexes = list[Annotated[int, Field(ge=0)]]
TaskId = int | str


@with_config(ConfigDict(extra="forbid"))
class Error(TypedDict):
    error: str
    field: str | None


class FailureDetails(TypedDict, total=False):
    errorType: str
    errorMessage: str
    stackTrace: str | None


class HistoryEvent(TypedDict):
    """One history event in Durable Functions' shape: a task's or sub-orchestration's scheduling is folded into the
    event that ended it; replay bookkeeping is left out."""

    EventType: Annotated[str, Field(examples=["ExecutionStarted", "TaskCompleted", "EventRaised"])]
    Timestamp: Timestamp
    FunctionName: NotRequired[Annotated[str, Field(description="The orchestrator, activity or sub-orchestrator.")]]
    ScheduledTime: NotRequired[Annotated[Timestamp, Field(description="When the work that ended here was scheduled.")]]
    Input: NotRequired[Annotated[Any, Field(description="ExecutionStarted's input, unless showInput=false.")]]
    Result: NotRequired[Annotated[Any, Field(description="What completed, with showHistoryOutput=true only.")]]
    OrchestrationStatus: NotRequired[Annotated[str, Field(description="ExecutionCompleted's status, by name.")]]
    Reason: NotRequired[Annotated[str, Field(description="A failure's message, or the reason a caller gave.")]]
    Details: NotRequired[Annotated[str, Field(description="A failure's error type, message and stack trace.")]]
    Name: NotRequired[Annotated[str, Field(description="An event's name (EventRaised, EventSent).")]]
    FireAt: NotRequired[Annotated[Timestamp, Field(description="A timer's due time.")]]


class InstanceStatus(TypedDict):
    name: str
    instanceId: str
    runtimeStatus: RuntimeStatus
    input: NotRequired[Any]
    output: NotRequired[Any]
    customStatus: NotRequired[Any]
    createdTime: Timestamp
    lastUpdatedTime: Timestamp
    version: NotRequired[
        Annotated[str | None, Field(description="The WORKFLOW_VERSION the instance was started under (null: none).")]
    ]
    failureDetails: NotRequired[FailureDetails | None]
    historyEvents: NotRequired[list[HistoryEvent]]


ManagementUrls = TypedDict("ManagementUrls", {"id": str, **dict.fromkeys(MANAGEMENT_URLS, str)})
ManagementUrls.__doc__ = "Each URL carries `code=<key>` when the request sent a function key, and never otherwise."


class InstanceAction(TypedDict):
    id: str
    action: Literal["terminate", "suspend", "resume", "rewind"]


class RaisedEvent(TypedDict):
    id: str
    event: str


class Purged(TypedDict):
    id: str
    instancesDeleted: int


class PurgedMany(TypedDict):
    instancesDeleted: Annotated[int, Field(ge=1)]


class WorkInFlight(TypedDict):
    name: str
    taskId: TaskId
    since: Timestamp
    instanceId: NotRequired[Annotated[str, Field(description="A sub-orchestration's instance id.")]]
    entity: NotRequired[Annotated[str, Field(description="An entity call's entity id.")]]


class PendingTimer(TypedDict):
    taskId: TaskId
    since: Timestamp
    fireAt: Timestamp
    secondsLeft: float


class EntityLocks(TypedDict):
    requested: list[str]
    held: list[str]


class ReceivedEvent(TypedDict):
    name: str
    at: Timestamp


class AwaitedEvent(TypedDict):
    name: str
    since: Timestamp


class InstanceWaiting(TypedDict):
    instanceId: str
    runtimeStatus: RuntimeStatus
    finished: Annotated[bool, Field(description="True once the instance has finished: it waits for nothing.")]
    activities: list[WorkInFlight]
    subOrchestrations: list[WorkInFlight]
    entityCalls: list[WorkInFlight]
    timers: list[PendingTimer]
    entityLocks: EntityLocks
    eventsReceived: list[ReceivedEvent]
    eventsAwaited: Annotated[
        list[AwaitedEvent] | None,
        Field(
            description="The external events the instance awaits, in the order its orchestrator began waiting, each "
            "since the step that began the wait; [] once finished; null when unknown (eventsAwaitedUnknownReason "
            "says why)."
        ),
    ]
    eventsAwaitedUnknownReason: NotRequired[
        Annotated[
            str,
            Field(
                description="Present only when eventsAwaited is null: the orchestrator is not declared in this app, "
                "or its code no longer replays the history."
            ),
        ]
    ]
    waitsForAnEvent: Annotated[
        bool,
        Field(
            description="True when the instance awaits any external event; when their names are unknown, when it is "
            "unfinished with nothing else in flight."
        ),
    ]


class EntitySignal(TypedDict):
    name: str
    key: str
    operation: str


class EntityId(TypedDict):
    name: str
    key: str


class EntityEntry(TypedDict):
    entityId: EntityId
    lastOperationTime: Timestamp
    state: Any


class Signal(TypedDict):
    key: str
    operation: str
    amount: int | None


class Counter(TypedDict):
    key: str
    value: int
    lastModifiedTime: Timestamp


class Counters(TypedDict):
    counters: list[Counter]


class SignalsQueued(TypedDict):
    count: int
    queued: Indexes


class Started(TypedDict):
    id: str
    statusQueryGetUri: str


class StartsQueued(TypedDict):
    count: int
    instances: Annotated[list[Started], Field(description="One per input, in order: the id and status URL.")]


@with_config(ConfigDict(extra="forbid"))
class BatchFailure(TypedDict):
    """The error shape plus every entry's index, in exactly one of the three lists."""

    error: str
    field: str | None
    queued: Indexes
    failed: Indexes
    uncertain: Indexes


@with_config(ConfigDict(extra="forbid"))
class StartBatchFailure(BatchFailure):
    instances: list[Started]


class HealthWorker(TypedDict):
    enabled: bool
    running: bool
    connected: bool
    since: NotRequired[Timestamp | None]
    lastError: NotRequired[str | None]


class HealthScheduler(TypedDict):
    endpoint: str
    taskHub: str


class Health(TypedDict):
    status: Literal["healthy", "unhealthy"]
    worker: HealthWorker
    scheduler: HealthScheduler


class Document(TypedDict):
    """This OpenAPI document."""

    openapi: str
    paths: dict[str, Any]


# The answers and rules several routes share.

BAD_INPUT = Answer(400, "Bad input; `field` names it.", Error)
STARTED = (
    Answer(200, "Finished within `timeout`: the instance's status.", InstanceStatus),
    Answer(202, "Started; poll the Location URL.", ManagementUrls, ("Location", "Retry-After")),
)
"""What a start (or restart) answers: 202 check-status, or 200 with the status when ``timeout`` sufficed."""

SCHEDULER_ONLY = (401, 502, 503, 504)
"""The shared answers of a route that takes no body."""

BATCH_SHARED = (401, 413)
"""The shared answers of a batch route: a scheduler fault is one of its own answers, with the entries' lists."""

BATCH_RULES = (
    "Every entry is validated before anything is sent: one bad entry is a 400 naming it (`signals[3].amount`) "
    f"and nothing is queued. Entries are then sent concurrently, at most {MAX_IN_FLIGHT} at a time. If the "
    "scheduler refuses or fails part-way, no new entry is sent and the answer lists every entry's index under "
    "`queued` (acknowledged), `failed` (certainly not queued: refused, or not sent) or `uncertain` (the "
    "connection broke while it was in flight: it may have been queued)."
)


def batch_failures(shape: Any, conflict: str | None = None) -> tuple[Answer, ...]:
    """A batch's answers when the scheduler stops it part-way: each lists where every entry ended."""
    failures = [
        Answer(429, "The scheduler refused an entry for load; the lists say which were queued.", shape),
        Answer(502, "The scheduler failed an entry; the lists say which were queued.", shape),
        Answer(503, "The scheduler became unreachable; the lists say which were queued.", shape),
        Answer(504, "The scheduler did not answer in time; the lists say which were queued.", shape),
    ]
    return (*failures, Answer(409, conflict, shape)) if conflict else tuple(failures)
