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

import azure.functions as func

from durable_app.http.responses import json_response, started_response, status_body
from durable_app.scheduler import finished_state, shared_client


async def completion_or_check_status(
    req: func.HttpRequest, instance_id: str, seconds: float | None
) -> func.HttpResponse:
    """200 with the status once ``instance_id`` has finished within ``seconds`` (``?timeout=``, read by
    ``durable_app.http.parameters.TIMEOUT``), else 202 check-status."""
    if not seconds:
        return started_response(req, instance_id)
    try:
        state = await finished_state(shared_client(), instance_id, seconds)
    except TimeoutError:
        return started_response(req, instance_id)
    if state is None:  # purged the moment it finished: its status is gone, its URLs still answer
        return started_response(req, instance_id)
    return json_response(status_body(state))
