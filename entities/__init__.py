"""Durable entities hosted by the worker."""

from entities.counter import COUNTER_OPERATIONS, counter

__all__ = ["COUNTER_OPERATIONS", "counter"]
