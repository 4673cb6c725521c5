"""An orchestration's history as a JSON document: what ``durable_app.replay record`` writes and replay reads.

The SDK's public history call (``get_orchestration_history``, the same against the local scheduler and DTS in
Azure) returns the SDK's history dataclasses; replaying needs the protocol's ``HistoryEvent`` messages, which is
also the form every DTS SDK shares. A document holds each event in the protocol's JSON mapping::

    {"format": 1, "orchestrator": "approval_workflow", "instance_id": "abc", "events": [{"eventId": -1, ...}]}

:func:`protocol_event` builds the same messages without the JSON round trip, for replays that answer requests.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from durabletask import history
from durabletask.internal import orchestrator_service_pb2 as pb
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

FORMAT = 1
"""The document's version; a reader refuses any other."""

_RENAMED = {"message": "errorMessage"}
"""Dataclass fields whose protocol name is not their camel-case spelling (failure details' message)."""


class HistoryFormatError(ValueError):
    """A file is not a recorded history this version reads."""


def history_of(orchestrator: str, instance_id: str, events: Iterable[history.HistoryEvent]) -> dict[str, Any]:
    """The document for events as the SDK's public history call returns them."""
    return {
        "format": FORMAT,
        "orchestrator": orchestrator,
        "instance_id": instance_id,
        "events": [event_json(event) for event in events],
    }


def event_json(event: history.HistoryEvent) -> dict[str, Any]:
    """One SDK history event in the protocol's JSON mapping."""
    fields = event.to_dict()
    kind = _event_kind(event)
    body = {name: value for name, value in fields.items() if name not in ("event_id", "timestamp")}
    return {
        "eventId": fields["event_id"],
        "timestamp": fields["timestamp"],
        kind: _mapped(body, pb.HistoryEvent.DESCRIPTOR.fields_by_name[kind].message_type),
    }


def protocol_event(event: history.HistoryEvent) -> pb.HistoryEvent:
    """One SDK history event as the protocol's message, field by field: the message of :func:`event_json` parsed,
    built about ten times faster (a 1,000-item fan-out's 2,000 events in 0.03 s instead of 0.4 s)."""
    message = pb.HistoryEvent(eventId=event.event_id)
    message.timestamp.FromDatetime(event.timestamp)
    body = getattr(message, _event_kind(event))
    body.SetInParent()  # a kind without fields (orchestratorStarted) is set all the same
    _fill(body, event)
    return message


def protocol_events(document: Mapping[str, Any]) -> list[pb.HistoryEvent]:
    """The document's events as protocol messages."""
    try:
        return [json_format.ParseDict(event, pb.HistoryEvent()) for event in document["events"]]
    except (json_format.ParseError, KeyError, TypeError) as error:
        raise HistoryFormatError(f"not a recorded history: {error}") from None


def load(path: Path) -> dict[str, Any]:
    """A recorded history from ``path``; :class:`HistoryFormatError` names what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HistoryFormatError(f"{path}: cannot read a history: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise HistoryFormatError(f"{path}: not a recorded history of format {FORMAT}")
    for key in ("orchestrator", "instance_id", "events"):
        if key not in document:
            raise HistoryFormatError(f"{path}: the history has no {key!r}")
    return document


def save(document: Mapping[str, Any], path: Path) -> None:
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _event_kind(event: history.HistoryEvent) -> str:
    """``TaskScheduledEvent`` -> ``taskScheduled``: the protocol's name of the event's kind."""
    name = type(event).__name__
    stem = name if name == "GenericEvent" else name.removesuffix("Event")
    return stem[0].lower() + stem[1:]


def _mapped(values: Mapping[str, Any], message: Descriptor) -> dict[str, Any]:
    """Snake-case dataclass fields as ``message``'s JSON fields, dropping what is unset."""
    by_lower = {field.json_name.lower(): field for field in message.fields}
    mapped: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        camel = _RENAMED.get(name) or _camel(name)
        field = by_lower.get(camel.lower())
        if field is None:
            continue
        mapped[field.json_name] = _mapped_value(value, field)
    return mapped


def _mapped_value(value: Any, field: FieldDescriptor) -> Any:
    is_message = field.type == FieldDescriptor.TYPE_MESSAGE
    if is_message and isinstance(value, dict) and not field.message_type.GetOptions().map_entry:
        return _mapped(value, field.message_type)
    if is_message and isinstance(value, list):
        return [_mapped(item, field.message_type) if isinstance(item, dict) else item for item in value]
    return value


def _fill(message: Message, value: Any) -> None:
    for name, field in _paired_fields(message.DESCRIPTOR, type(value)):
        item = getattr(value, name)
        if item is not None:
            _set(message, field, item)


@functools.cache
def _paired_fields(message: Descriptor, value_type: type) -> tuple[tuple[str, FieldDescriptor], ...]:
    """Each field of the dataclass ``value_type`` with the field of ``message`` it fills, as :func:`_mapped` pairs
    them; fields the protocol lacks are left out."""
    by_lower = {field.json_name.lower(): field for field in message.fields}
    pairs = [
        (item.name, by_lower.get((_RENAMED.get(item.name) or _camel(item.name)).lower()))
        for item in dataclasses.fields(value_type)
    ]
    return tuple((name, field) for name, field in pairs if field is not None)


def _set(message: Message, field: FieldDescriptor, item: Any) -> None:
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        if field.is_repeated:
            getattr(message, field.name).extend(item)
        else:
            setattr(message, field.name, item)
        return
    target = getattr(message, field.name)
    if field.message_type.GetOptions().map_entry:
        json_format.ParseDict({field.json_name: item}, message)  # tags, failure properties: rare, and any JSON value
    elif isinstance(item, datetime):
        target.FromDatetime(item)
    elif dataclasses.is_dataclass(item):
        target.SetInParent()
        _fill(target, item)
    elif isinstance(item, dict):
        json_format.ParseDict(_mapped(item, field.message_type), target)  # a history state, kept as a dict
    else:
        target.value = item  # a wrapper: StringValue, Int32Value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
