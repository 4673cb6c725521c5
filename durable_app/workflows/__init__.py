"""Everything a workflow module imports: ``from durable_app.workflows import workflows, StartRequest, ...``.

- :data:`workflows` declares orchestrators, activities and entities (``@workflows.orchestrator(request=...)``).
- :class:`StartRequest` and the value types :data:`Number`, :data:`Amount`, :data:`Key` type their inputs;
  :class:`FieldError` refuses an input naming its field.
- :func:`orchestration_logger` logs from an orchestrator once per decision; :func:`annotate` and the ``ATTR_*``
  names add attributes to the current span.
- :func:`utc_iso` writes a timestamp as the API does, with its UTC offset.
- Activities reach the app's settings with :func:`app_settings` and durable state with :func:`shared_sync_client`.
"""

from durable_app.scheduler import shared_sync_client
from durable_app.settings import app_settings
from durable_app.telemetry import ATTR_WORK_ITEM, annotate, orchestration_logger
from durable_app.values import utc_iso
from durable_app.workflows.registry import DeclarationError, workflows
from durable_app.workflows.request_models import Amount, FieldError, Key, Number, StartRequest

__all__ = [
    "ATTR_WORK_ITEM",
    "Amount",
    "DeclarationError",
    "FieldError",
    "Key",
    "Number",
    "StartRequest",
    "annotate",
    "app_settings",
    "orchestration_logger",
    "shared_sync_client",
    "utc_iso",
    "workflows",
]
