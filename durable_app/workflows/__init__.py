"""Everything a workflow module imports: ``from durable_app.workflows import workflows, StartRequest, ...``.

- :data:`workflows` declares orchestrators, activities and entities (``@workflows.orchestrator(request=...)``).
- :class:`StartRequest` and the value types :data:`Number`, :data:`Amount`, :data:`Key` type their inputs;
  :class:`FieldError` refuses an input naming its field.
- :func:`orchestration_logger` logs from an orchestrator once per decision; :func:`annotate` and the ``ATTR_*``
  names add attributes to the current span.
- :class:`RetryRule` says which failures of a call to retry (``@workflows.activity(retry=...)`` or per call
  through :func:`call_activity` / :func:`call_sub_orchestrator`); :func:`within` waits for any task until a
  durable deadline and raises :class:`WorkflowTimeoutError` naming it.
- :func:`utc_iso` writes a timestamp as the API does, with its UTC offset.
- Activities reach the app's settings with :func:`app_settings` and durable state with :func:`shared_sync_client`.
"""

from durable_app.scheduler import shared_sync_client
from durable_app.settings import app_settings
from durable_app.telemetry import ATTR_WORK_ITEM, annotate, orchestration_logger
from durable_app.values import utc_iso
from durable_app.workflows.durable_calls import (
    RetryRule,
    WorkflowTimeoutError,
    call_activity,
    call_sub_orchestrator,
    within,
)
from durable_app.workflows.registry import DeclarationError, workflows
from durable_app.workflows.request_models import Amount, FieldError, Key, Number, StartRequest

__all__ = [
    "ATTR_WORK_ITEM",
    "Amount",
    "DeclarationError",
    "FieldError",
    "Key",
    "Number",
    "RetryRule",
    "StartRequest",
    "WorkflowTimeoutError",
    "annotate",
    "app_settings",
    "call_activity",
    "call_sub_orchestrator",
    "orchestration_logger",
    "shared_sync_client",
    "utc_iso",
    "within",
    "workflows",
]
