"""The baseline for HTTP signals: a bare ASGI service doing the app's work with nothing of the app around it.

uvicorn + Starlette with one signal route that calls the async SDK client's ``signal_entity`` and one read
route, and a bare SDK worker hosting the same registry in the same process (so the HTTP handlers share the
GIL with the worker's threads, as the app's triggers do). ``python -m bench.bare_service PORT HOST:PORT``.
"""

from __future__ import annotations

import sys

import uvicorn
from durabletask.azuremanaged.client import AsyncDurableTaskSchedulerClient
from durabletask.azuremanaged.worker import DurableTaskSchedulerWorker
from durabletask.entities import EntityInstanceId
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from durable_app.workflows.registry import register_all


def create_service(scheduler: str) -> Starlette:
    client = AsyncDurableTaskSchedulerClient(
        host_address=scheduler, taskhub="default", token_credential=None, secure_channel=False
    )

    async def signal(request: Request) -> JSONResponse:
        key, amount = request.path_params["key"], await request.json()
        await client.signal_entity(EntityInstanceId("counter", key), "add", input=amount)
        return JSONResponse({"key": key, "operation": "add", "amount": amount}, status_code=202)

    async def read(request: Request) -> JSONResponse:
        metadata = await client.get_entity(EntityInstanceId("counter", request.path_params["key"]))
        if metadata is None:
            return JSONResponse({"error": "no such counter"}, status_code=404)
        return JSONResponse({"value": metadata.get_typed_state(int)})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy"})

    routes = [
        Route("/api/counters/{key}/add", signal, methods=["POST"]),
        Route("/api/counters/{key}", read),
        Route("/api/health", health),
    ]
    return Starlette(routes=routes)


def main(port: int, scheduler: str) -> None:
    worker = DurableTaskSchedulerWorker(
        host_address=scheduler, taskhub="default", token_credential=None, secure_channel=False
    )
    register_all(worker)
    worker.start()
    try:
        uvicorn.run(create_service(scheduler), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        worker.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
