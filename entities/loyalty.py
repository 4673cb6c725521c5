"""``loyalty``: a customer's loyalty points, the class form of an entity, with operation inputs typed by models.

Operations: ``earn(points)``, ``redeem(Redemption)``, ``balance() -> int``. The state is a model,
:class:`LoyaltyAccount`; an operation whose input parameter is annotated with a model receives the model, wherever
the signal came from (the HTTP API, a batch, an orchestration's ``signal_entity``/``call_entity``). A redemption
larger than the balance raises, so the worker rolls the operation back and the points stay as they were.
"""

from __future__ import annotations

from typing import Annotated

from durabletask.entities import DurableEntity
from pydantic import BaseModel, Field

from durable_app.workflows import workflows

Points = Annotated[int, Field(gt=0, le=1_000_000)]
"""A positive whole number of points."""


class Redemption(BaseModel):
    """Points spent on one reward."""

    points: Points
    reason: str = Field(min_length=1, max_length=100, description="What the points were spent on.")


class LoyaltyAccount(BaseModel):
    """The entity's state: the balance and the last reward it paid for."""

    points: int = 0
    last_reason: str | None = None


@workflows.entity(operations={"earn": Points, "redeem": Redemption})
class Loyalty(DurableEntity):
    """A customer's loyalty points."""

    def earn(self, points: int) -> int:
        account = self._account()
        account.points += points
        self.set_state(account)
        return account.points

    def redeem(self, redemption: Redemption) -> int:
        account = self._account()
        if redemption.points > account.points:
            raise ValueError(f"cannot redeem {redemption.points} points: the balance is {account.points}")
        account.points -= redemption.points
        account.last_reason = redemption.reason
        self.set_state(account)
        return account.points

    def balance(self) -> int:
        return self._account().points

    def _account(self) -> LoyaltyAccount:
        return self.get_state(LoyaltyAccount, LoyaltyAccount())
