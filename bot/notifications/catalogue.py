"""The notification base: its kind, its fields as JSON values for the outbox, and back.

Reading tolerates rows queued by an earlier release: a key it lacks takes the field's
default, a key it no longer knows is ignored. Field names are the payload keys, so a row
written before the catalogue existed reads as it was meant."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints


class UnknownNotification(ValueError):
    """The outbox holds a kind (or a payload) this version cannot render."""


@dataclass(frozen=True, kw_only=True)
class Record:
    """Plain values that travel in an outbox payload: a notification or one of its lines."""

    def to_payload(self) -> dict[str, Any]:
        """The fields as JSON values: datetimes in ISO 8601, tuples as lists."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        """The record a payload describes; raises UnknownNotification when a key without a
        default is missing or a value cannot be read."""
        values: dict[str, Any] = {}
        for field in _fields_of(cls):
            value = payload.get(field.name)
            if value is None:
                if field.required:
                    if field.name not in payload:
                        raise UnknownNotification(f"{cls.__name__} without {field.name!r}")
                    values[field.name] = None
                elif field.nullable and field.name in payload:
                    values[field.name] = None
                # else an old row without the key, or its null where the field now has a
                # default: the default
                continue
            try:
                values[field.name] = field.read(value)
            except (TypeError, ValueError) as error:
                raise UnknownNotification(f"{cls.__name__}.{field.name}: {error}") from error
        return cls(**values)


CATALOGUE: dict[str, type[Notification]] = {}


@dataclass(frozen=True, kw_only=True)
class Notification(Record):
    """One message to one person or chat, queued in the outbox under `kind`."""

    kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is None:
            return  # a family's shared fields, never sent as such
        if kind in CATALOGUE:
            raise TypeError(f"two notifications of kind {kind!r}")
        CATALOGUE[kind] = cls


def load(kind: str, payload: Mapping[str, Any]) -> Notification:
    """The typed notification an outbox row holds."""
    found = CATALOGUE.get(kind)
    if found is None:
        raise UnknownNotification(f"no notification of kind {kind!r}")
    return found.from_payload(payload)


@dataclass(frozen=True)
class _Field:
    """How a payload's value becomes a field's, worked out once per class."""

    name: str
    required: bool  # no default: an old row always had the key
    nullable: bool  # None is a value of the field, not "use the default"
    read: Callable[[Any], Any]


_FIELDS: dict[type[Record], tuple[_Field, ...]] = {}


def _fields_of(cls: type[Record]) -> tuple[_Field, ...]:
    found = _FIELDS.get(cls)
    if found is None:
        hints = get_type_hints(cls)
        found = _FIELDS[cls] = tuple(
            _Field(
                f.name,
                f.default is MISSING and f.default_factory is MISSING,
                _allows_none(hints[f.name]),
                _reader(hints[f.name]),
            )
            for f in fields(cls)
        )
    return found


def _allows_none(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def _reader(hint: Any) -> Callable[[Any], Any]:
    """Turns a JSON value (never None) into a value of type `hint`."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return _reader(next(a for a in get_args(hint) if a is not type(None)))
    if origin is tuple:
        inner = _reader(get_args(hint)[0])
        return lambda value: tuple(None if v is None else inner(v) for v in value)
    if hint is datetime:
        return lambda value: value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if hint is date:
        return lambda value: value if isinstance(value, date) else date.fromisoformat(value)
    if isinstance(hint, type) and is_dataclass(hint) and issubclass(hint, Record):
        return hint.from_payload
    return lambda value: value


def _plain(value: object) -> Any:
    if isinstance(value, Record):
        return value.to_payload()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
