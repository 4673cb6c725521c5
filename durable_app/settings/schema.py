"""How an app setting is declared and read: a name, the kind of value it holds, a default and one line of doc.

A kind turns a setting's text into a value or refuses it with a reason; the setting puts its own name in front
of the reason, so every refusal says what to fix. :func:`read_settings` reads many at once and reports every
bad one in a single error, so a deployment with two typos is fixed in one round, not two.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

from durable_app.settings.connection_string import ConnectionString, parse_connection_string, validate_endpoint
from durable_app.values import parse_boolean

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


NO_DEFAULT = "\N{EN DASH}"
"""What the settings table shows for a setting that is off or empty unless set."""


class SettingsError(ValueError):
    """An app setting has a value the app cannot use; the message names the setting."""


class Kind(Protocol[T_co]):
    """What a setting's text may be: ``parse`` refuses anything else with a :class:`ValueError` saying why."""

    @property
    def description(self) -> str:
        """The kind in a few words, for the settings table."""
        ...

    def parse(self, text: str) -> T_co: ...


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One app setting, declared once: everything the app, its startup check and its docs need to know."""

    name: str
    kind: Kind[T]
    default: T
    doc: str
    shown_default: str | None = None
    """How the settings table shows the default where the value itself would not say it (``None``: the value)."""

    def read(self, env: Mapping[str, str]) -> T:
        """The value in ``env``, or the default where the setting is unset or blank."""
        text = env.get(self.name, "").strip()
        if not text:
            return self.default
        try:
            return self.kind.parse(text)
        except ValueError as error:
            raise SettingsError(f"{self.name}: {error}") from None

    @property
    def default_text(self) -> str:
        """The default as the settings table shows it."""
        if self.shown_default is not None:
            return self.shown_default
        if self.default is None:
            return NO_DEFAULT
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


class SettingValues:
    """The values of a set of declared settings, looked up by their declarations."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, setting: Setting[T]) -> T:
        return cast(T, self._values[setting.name])


def read_settings(env: Mapping[str, str], settings: Iterable[Setting[Any]]) -> SettingValues:
    """Read every one of ``settings`` from ``env``; one :class:`SettingsError` names all the bad ones."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for setting in settings:
        try:
            values[setting.name] = setting.read(env)
        except SettingsError as error:
            errors.append(str(error))
    if errors:
        raise SettingsError("; ".join(errors))
    return SettingValues(values)


@dataclass(frozen=True)
class Boolean:
    description: str = "boolean"

    def parse(self, text: str) -> bool:
        return parse_boolean(text)


@dataclass(frozen=True)
class WholeNumber:
    minimum: int
    maximum: int | None = None

    @property
    def description(self) -> str:
        if self.maximum is None:
            return f"whole number ≥ {self.minimum}"
        return f"whole number {self.minimum}-{self.maximum}"

    def parse(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if self.maximum is not None and (value is None or not self.minimum <= value <= self.maximum):
            raise ValueError(f"must be a whole number from {self.minimum} to {self.maximum}, got {text}")
        if value is None:
            raise ValueError(f"'{text}' is not a whole number")
        if value < self.minimum:
            raise ValueError(f"must be at least {self.minimum}, got {text}")
        return value


@dataclass(frozen=True)
class Number:
    """A finite number at least ``minimum`` (above it when ``positive``) and at most ``maximum``."""

    minimum: float = 0.0
    maximum: float | None = None
    positive: bool = False

    @property
    def description(self) -> str:
        if self.maximum is not None:
            return f"number {self.minimum:g}-{self.maximum:g}"
        return "number > 0" if self.positive else f"number ≥ {self.minimum:g}"

    def parse(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None
        if self.maximum is not None and not self.minimum <= value <= self.maximum:
            raise ValueError(f"must be between {self.minimum:g} and {self.maximum:g}, got {text}")
        if not math.isfinite(value) or value < self.minimum:
            raise ValueError(f"must be a non-negative number, got {text}")
        if self.positive and value == 0:
            raise ValueError(f"must be a positive number, got {text}")
        return value


@dataclass(frozen=True)
class NumberSet:
    """Comma-separated numbers; ``3`` and ``3.0`` are the same member."""

    description: str = "comma-separated numbers"

    def parse(self, text: str) -> frozenset[float]:
        try:
            return frozenset(float(token) for token in text.split(",") if token.strip())
        except ValueError:
            raise ValueError(f"'{text}' is not a comma-separated list of numbers") from None


@dataclass(frozen=True)
class LogLevel:
    description: str = "log level"

    def parse(self, text: str) -> int:
        level = logging.getLevelName(text.upper())
        if not isinstance(level, int):
            raise ValueError(f"'{text}' is not a log level (DEBUG, INFO, WARNING, ERROR)")
        return level


@dataclass(frozen=True)
class Text:
    description: str = "text"

    def parse(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class Version:
    """A workflow version: dot-separated whole numbers (``1``, ``2.0``, ``1.4.10``), compared number by number.

    Versions that are not numbers would be compared as text by the SDK, where ``10.0`` comes before ``9.0``.
    """

    description: str = "version (`1.0.0`)"

    def parse(self, text: str) -> str:
        parts = text.split(".")
        if len(text) > 64 or len(parts) > 4 or not all(part.isascii() and part.isdigit() for part in parts):
            raise ValueError(f"'{text[:64]}' is not a version: give up to four dot-separated whole numbers, as 1.0.0")
        return text


@dataclass(frozen=True)
class Choice:
    """One of a few words, in any case."""

    options: tuple[str, ...]

    @property
    def description(self) -> str:
        return ", ".join(f"`{option}`" for option in self.options)

    def parse(self, text: str) -> str:
        word = text.lower()
        if word not in self.options:
            raise ValueError(f"'{text[:64]}' is not one of {', '.join(self.options)}")
        return word


@dataclass(frozen=True)
class Endpoint:
    """A scheduler endpoint: a bare ``http://`` or ``https://`` URL, checked as the connection string's is."""

    description: str = "URL"

    def parse(self, text: str) -> str:
        validate_endpoint(text)
        return text.rstrip("/")


@dataclass(frozen=True)
class DtsConnectionString:
    """``Endpoint=<url>;TaskHub=<hub>;Authentication=<kind>[;ClientID=<id>]``, parsed strictly."""

    description: str = "connection string"

    def parse(self, text: str) -> ConnectionString:
        return parse_connection_string(text)


@dataclass(frozen=True)
class Section:
    """Settings that belong together, with what the settings table says of them before listing them."""

    title: str
    intro: str
    settings: tuple[Setting[Any], ...]
