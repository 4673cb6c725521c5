"""Wait for an instance to finish within the request: Durable Functions' ``timeout`` on start and restart.

``POST /orchestrators/...?timeout=<seconds>`` (and ``POST /instances/{id}/restart?timeout=``) answers 200
with the instance's status if it finishes within that time, else the usual 202 check-status response, as
Durable Functions' ``WaitForCompletionOrCreateCheckStatusResponseAsync`` does. The scheduler holds the wait
(``WaitForInstanceCompletion``), so nothing polls; Durable Functions' ``pollingInterval`` is therefore not
needed and is ignored, as Durable Functions ignores it for schedulers that wait without polling.

The batch start route does not take ``timeout``: one request holding many instances open until the slowest
finishes would pin a connection for the whole batch; clients poll each instance's ``statusQueryGetUri``.
"""

from __future__ import annotations

import re
from typing import Any

import azure.functions as func

from durable_app.http.responses import json_response, started_response, status_body
from durable_app.scheduler import finished_state, shared_client
from durable_app.values import RefusedRequest, json_words

MAX_WAIT_SECONDS = 120.0
"""The longest a request waits: well under the 230 s after which Azure's front end drops an HTTP request."""


def completion_timeout(params: Any) -> float | None:
    """``timeout`` in seconds (a decimal number, 0 or more), held to :data:`MAX_WAIT_SECONDS`; ``None`` if absent.

    Call it before starting anything, so a bad value refuses the request with nothing started.
    """
    raw = params.get("timeout")
    if raw is None:
        return None
    if not _SECONDS.fullmatch(raw):
        raise RefusedRequest("timeout", f"timeout must be a number of seconds, 0 or more, got {json_words(raw)}")
    return min(float(raw), MAX_WAIT_SECONDS)


_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?")
"""Seconds as plain ASCII digits: ``float`` alone would also take ``1_0``, ``1e3``, `` 5 ``, ``inf`` or other
scripts' digits."""


async def completion_or_check_status(req: func.HttpRequest, instance_id: str) -> func.HttpResponse:
    """200 with the status once ``instance_id`` has finished within ``?timeout=``, else 202 check-status."""
    seconds = completion_timeout(req.params)
    if not seconds:
        return started_response(req, instance_id)
    try:
        state = await finished_state(shared_client(), instance_id, seconds)
    except TimeoutError:
        return started_response(req, instance_id)
    if state is None:  # purged the moment it finished: its status is gone, its URLs still answer
        return started_response(req, instance_id)
    return json_response(status_body(state))
