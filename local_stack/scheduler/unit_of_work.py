"""A unit of work of the in-memory backend: one outermost hold of its lock, and the state it touched.

The persistent scheduler swaps the backend's lock and dicts for these, so it learns when a unit ends and
which instances and entities it may have changed, without touching the backend's logic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class TouchedDict(dict):
    """A dict that notes every key looked up, stored or removed: the units of state a unit of work touched."""

    def __init__(self, touched: set[Hashable]) -> None:
        super().__init__()
        self.touched = touched

    def __getitem__(self, key: Hashable) -> Any:
        self.touched.add(key)
        return super().__getitem__(key)

    def get(self, key: Hashable, default: Any = None) -> Any:
        self.touched.add(key)
        return super().get(key, default)

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self.touched.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: Hashable) -> None:
        self.touched.add(key)
        super().__delitem__(key)

    def pop(self, key: Hashable, *default: Any) -> Any:
        self.touched.add(key)
        return super().pop(key, *default)

    def clear(self) -> None:
        self.touched.update(self.keys())
        super().clear()


class UnitOfWorkLock:
    """The backend's re-entrant lock; ``on_unit_end`` runs, still holding it, when the outermost hold ends."""

    def __init__(self, on_unit_end: Callable[[], None]) -> None:
        self._lock = threading.RLock()
        self._depth = threading.local()
        self._on_unit_end = on_unit_end

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        acquired = self._lock.acquire(blocking, timeout)
        if acquired:
            self._depth.value = getattr(self._depth, "value", 0) + 1
        return acquired

    def release(self) -> None:
        self._depth.value -= 1
        try:
            if self._depth.value == 0:
                self._on_unit_end()
        finally:
            self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()
