"""The local Functions host: the app's own triggers over real HTTP semantics, settings, and function keys."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from types import ModuleType

import azure.functions as func
import httpx
import pytest
from starlette.applications import Starlette

from local_stack.functions_host import create_asgi_app, load_local_settings, route_table


def small_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="echo/{name}", methods=["POST"])
    async def echo(req: func.HttpRequest) -> func.HttpResponse:
        body = {
            "name": req.route_params["name"],
            "query": dict(req.params),
            "header": req.headers.get("x-test"),
            "body": req.get_json(),
        }
        return func.HttpResponse(json.dumps(body), status_code=201, mimetype="application/json")

    @app.route(route="sync", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def sync(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("plain", headers={"x-extra": "1"})

    @app.route(route="boom", methods=["GET"])
    async def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("unhandled")

    return app


class Http:
    """Synchronous calls into an ASGI app in this process, through httpx's ASGI transport."""

    def __init__(self, app: Starlette) -> None:
        self._app = app

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(call())


def test_requests_reach_the_function_with_route_query_headers_and_body() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        response = http.post("/api/echo/alice?x=1", json={"n": 2}, headers={"x-test": "yes"})
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"name": "alice", "query": {"x": "1"}, "header": "yes", "body": {"n": 2}}


def test_sync_functions_and_response_headers() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        response = http.get("/api/sync")
    assert (response.status_code, response.text, response.headers["x-extra"]) == (200, "plain", "1")


def test_unknown_paths_wrong_methods_and_failures_answer_json() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        assert http.get("/api/nothing").status_code == 404
        assert http.get("/elsewhere/sync").status_code == 404
        assert http.get("/api/echo/alice").status_code == 405
        failed = http.get("/api/boom")
    assert failed.status_code == 500
    assert failed.json()["error"].startswith("the function raised")


def test_an_empty_route_prefix_serves_from_the_root() -> None:
    with Http(create_asgi_app(small_app(), "")) as http:
        assert http.get("/sync").status_code == 200


def test_function_keys_are_enforced_when_configured() -> None:
    with Http(create_asgi_app(small_app(), "api", function_key="s3cret")) as http:
        assert http.post("/api/echo/a", json=1).status_code == 401
        assert http.post("/api/echo/a?code=wrong", json=1).status_code == 401
        assert http.post("/api/echo/a?code=s3cret", json=1).status_code == 201
        assert http.post("/api/echo/a", json=1, headers={"x-functions-key": "s3cret"}).status_code == 201
        assert http.get("/api/sync").status_code == 200  # anonymous routes stay open


def test_the_real_app_serves_every_trigger(app_module: ModuleType, endpoint: str) -> None:
    templates = {route.template for route in route_table(app_module.app).routes}
    assert {"health", "counters/{key}", "orchestrators/fan_out_fan_in_orchestrator/{instance_id?}"} <= templates
    with Http(create_asgi_app(app_module.app, "api")) as http:
        health = http.get("/api/health").json()
        assert (health["worker"]["enabled"], health["scheduler"]["endpoint"]) == (True, endpoint)
        assert http.post("/api/counters/host-test/multiply", json=1).json()["field"] == "operation"


def test_local_settings_fill_only_what_the_environment_leaves_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {"HOST_TEST_FROM_FILE": "file", "HOST_TEST_FROM_ENV": "file"}
    (tmp_path / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    monkeypatch.setenv("HOST_TEST_FROM_ENV", "env")
    monkeypatch.delenv("HOST_TEST_FROM_FILE", raising=False)
    assert load_local_settings(tmp_path) == ["HOST_TEST_FROM_FILE"]
    assert (os.environ["HOST_TEST_FROM_FILE"], os.environ["HOST_TEST_FROM_ENV"]) == ("file", "env")
    monkeypatch.delenv("HOST_TEST_FROM_FILE")
