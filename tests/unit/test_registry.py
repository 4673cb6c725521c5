"""The declarations: names kept in one order whatever the import order, and a name declared twice refused."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from pydantic import Field, create_model

from durable_app.workflows import DeclarationError, StartRequest
from durable_app.workflows.registry import Workflows


def test_declarations_are_listed_by_name_whatever_order_they_arrive_in() -> None:
    declared = Workflows(packages=())

    def zeta(ctx: object, value: object) -> None: ...
    def alpha(ctx: object, value: object) -> None: ...

    declared.orchestrator(zeta)
    declared.orchestrator(alpha)
    assert list(declared.orchestrators) == ["alpha", "zeta"]


def test_a_name_declared_in_two_modules_is_refused_naming_both() -> None:
    declared = Workflows(packages=())

    def twin(ctx: object, value: object) -> None: ...

    declared.activity(twin)
    twin.__module__ = "elsewhere"
    with pytest.raises(
        DeclarationError, match=r"'twin' is declared twice: in tests\.unit\.test_registry and in elsewhere"
    ):
        declared.activity(twin)


@pytest.mark.parametrize(("field", "alias"), [("code", None), ("timeout", None), ("wait", "Timeout")])
def test_a_request_field_named_like_a_query_parameter_the_api_reads_is_refused(field: str, alias: str | None) -> None:
    model = create_model("Clash", __base__=StartRequest, **{field: (int, Field(0, alias=alias))})
    declared = Workflows(packages=())

    def clash(ctx: object, value: object) -> None: ...

    with pytest.raises(DeclarationError, match=rf"field named '{alias or field}': \?{(alias or field).lower()}= is"):
        declared.orchestrator(request=model)(clash)
    assert "clash" not in declared.orchestrators


def test_names_differing_only_in_case_are_refused_naming_both_modules_and_the_rule() -> None:
    declared = Workflows(packages=())

    def shout(ctx: object, value: object) -> None: ...
    def Shout(ctx: object, value: object) -> None: ...

    declared.orchestrator(shout)
    Shout.__module__ = "orchestrations.loud"
    with pytest.raises(DeclarationError) as refused:
        declared.orchestrator(Shout)
    assert str(refused.value) == (
        "'shout' (in tests.unit.test_registry) and 'Shout' (in orchestrations.loud) differ only in case: names must "
        "differ in more than case, because routes and Azure Functions' function names ignore case"
    )


def test_an_orchestrator_whose_start_function_would_take_an_app_function_s_name_is_refused() -> None:
    declared = Workflows(packages=())

    def Orchestrations(ctx: object, value: object) -> None: ...

    with pytest.raises(DeclarationError, match=r"'Orchestrations' \(in tests\.unit\.test_registry\) clashes with"):
        declared.orchestrator(Orchestrations)


def test_an_async_activity_runs_to_its_result_on_the_worker_s_thread() -> None:
    declared = Workflows(packages=())

    @declared.activity
    async def fetch(ctx: object, value: int) -> int:
        await asyncio.sleep(0)
        return value + 1

    runnable = declared.activities["fetch"].worker_function()
    assert not inspect.iscoroutinefunction(runnable)
    assert runnable.__name__ == "fetch"
    assert runnable(None, 41) == 42


def test_an_async_orchestrator_is_refused_with_the_reason() -> None:
    declared = Workflows(packages=())

    async def hurried(ctx: object, value: object) -> None: ...

    with pytest.raises(DeclarationError, match="is async: the worker replays orchestrators as generators"):
        declared.orchestrator(hurried)
