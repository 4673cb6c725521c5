"""The local Functions host: the app's own triggers over real HTTP semantics, settings, and function keys."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
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
            "body": json.loads(req.get_body() or b"null"),
        }
        return func.HttpResponse(json.dumps(body), status_code=201, mimetype="application/json")

    @app.route(route="sync", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def sync(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("plain", headers={"x-extra": "1"})

    @app.route(route="boom", methods=["GET"])
    async def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("unhandled")

    return app


async def chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    """A request body sent chunked (no Content-Length)."""
    for part in parts:
        yield part


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


def test_unknown_paths_and_failures_answer_json() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        unknown = http.get("/api/nothing")
        assert http.get("/elsewhere/sync").status_code == 404
        failed = http.get("/api/boom")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no function's route accepts GET /api/nothing", "field": None}
    assert failed.status_code == 500
    assert failed.json()["error"].startswith("the function raised")


def test_a_method_no_route_accepts_is_404_as_in_azure() -> None:
    """The Functions host finds no route for the method, so 404, never 405."""
    with Http(create_asgi_app(small_app(), "api")) as http:
        wrong_method = http.get("/api/echo/alice")
    assert wrong_method.status_code == 404
    assert wrong_method.json()["error"] == "no function's route accepts GET /api/echo/alice"


def test_empty_query_values_are_dropped_as_in_azure() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        response = http.post("/api/echo/a?count=&x=1&blank", json=None)
    assert response.json()["query"] == {"x": "1"}


def test_repeated_query_keys_are_joined_with_a_comma_as_in_azure() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        response = http.post("/api/echo/a?count=2&count=3&Tag=a&tag=&tag=c", json=None)
    assert response.json()["query"] == {"count": "2,3", "Tag": "a,,c"}


def test_an_encoded_slash_stays_encoded_in_a_route_parameter_as_in_azure() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        slash = http.post("/api/echo/a%2Fb", json=None)
        lower = http.post("/api/echo/a%2fb", json=None)
        space = http.post("/api/echo/a%20b", json=None)
    assert (slash.status_code, slash.json()["name"]) == (201, "a%2Fb")
    assert lower.json()["name"] == "a%2fb"
    assert space.json()["name"] == "a b"


def test_a_chunked_body_reaches_the_function_empty_as_in_azure() -> None:
    with Http(create_asgi_app(small_app(), "api")) as http:
        chunked = http.post("/api/echo/a", content=chunks([b'{"n": ', b"2}"]))
        sized = http.post("/api/echo/a", content=b'{"n": 2}')
    assert chunked.json()["body"] is None
    assert sized.json()["body"] == {"n": 2}


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


def test_the_key_header_takes_precedence_over_code_as_in_the_functions_host() -> None:
    """The Functions host reads ``x-functions-key`` when present (even empty), else the first ``code``, any case."""
    with Http(create_asgi_app(small_app(), "api", function_key="s3cret")) as http:
        assert http.post("/api/echo/a?code=s3cret", json=1, headers={"x-functions-key": "wrong"}).status_code == 401
        assert http.post("/api/echo/a?code=s3cret", json=1, headers={"x-functions-key": ""}).status_code == 401
        assert http.post("/api/echo/a?code=wrong", json=1, headers={"x-functions-key": "s3cret"}).status_code == 201
        assert http.post("/api/echo/a?CODE=s3cret", json=1).status_code == 201
        assert http.post("/api/echo/a?code=s3cret&code=wrong", json=1).status_code == 201
        assert http.post("/api/echo/a?code=wrong&code=s3cret", json=1).status_code == 401


def test_the_real_app_serves_every_trigger(app_module: ModuleType, endpoint: str) -> None:
    templates = {route.template for route in route_table(app_module.app).routes}
    assert {"health", "counters/{key}", "orchestrators/fan_out_fan_in_orchestrator/{instance_id?}"} <= templates
    with Http(create_asgi_app(app_module.app, "api")) as http:
        health = http.get("/api/health").json()
        assert (health["worker"]["enabled"], health["scheduler"]["endpoint"]) == (True, endpoint)
        assert http.post("/api/counters/host-test/multiply", json=1).json()["field"] == "operation"
        chunked = http.post("/api/orchestrators/fan_out_fan_in_orchestrator", content=chunks([b"[1, 2]"]))
    assert chunked.status_code == 400
    assert chunked.json()["field"] == "body"
    assert "Content-Length" in chunked.json()["error"]


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
