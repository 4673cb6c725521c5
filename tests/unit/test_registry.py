"""The declarations: names kept in one order whatever the import order, and a name declared twice refused."""

from __future__ import annotations

import pytest

from durable_app.registry import DeclarationError, Workflows


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
