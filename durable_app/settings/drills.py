"""The work-item drills the settings ask for (``WORK_ITEM_*``); the hosted worker applies them."""

from __future__ import annotations

from dataclasses import dataclass

from durable_app.settings.catalog import CPU_UNITS, FAIL_ITEMS, FAIL_ONCE_ITEMS
from durable_app.settings.schema import SettingValues


@dataclass(frozen=True)
class WorkItemDrills:
    """The drills the settings ask for; none by default."""

    cpu_units: int = CPU_UNITS.default
    fail_items: frozenset[float] = FAIL_ITEMS.default
    fail_once_items: frozenset[float] = FAIL_ONCE_ITEMS.default

    @property
    def enabled(self) -> bool:
        return bool(self.cpu_units or self.fail_items or self.fail_once_items)

    @classmethod
    def from_values(cls, values: SettingValues) -> WorkItemDrills:
        return cls(values[CPU_UNITS], values[FAIL_ITEMS], values[FAIL_ONCE_ITEMS])

    def describe(self) -> str:
        """The drills that are on, as settings, for the startup warning."""
        parts = [f"{CPU_UNITS.name}={self.cpu_units}"] if self.cpu_units else []
        for setting, items in ((FAIL_ITEMS, self.fail_items), (FAIL_ONCE_ITEMS, self.fail_once_items)):
            if items:
                parts.append(f"{setting.name}={','.join(f'{item:g}' for item in sorted(items))}")
        return ", ".join(parts)
