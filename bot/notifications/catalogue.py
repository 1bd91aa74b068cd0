"""The notification base: its kind, its fields as JSON values for the outbox, and back.

Reading tolerates rows queued by an earlier release: a key it lacks takes the field's
default, a key it no longer knows is ignored. Field names are the payload keys, so a row
written before the catalogue existed reads as it was meant."""

from __future__ import annotations

import types
from collections.abc import Mapping
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
        for name, (hint, required) in _fields_of(cls).items():
            if payload.get(name) is None and not required and not _allows_none(hint):
                continue  # an old row's null where the field now has a default
            if name in payload:
                try:
                    values[name] = _typed(hint, payload[name])
                except (TypeError, ValueError) as error:
                    raise UnknownNotification(f"{cls.__name__}.{name}: {error}") from error
            elif required:
                raise UnknownNotification(f"{cls.__name__} without {name!r}")
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


_FIELDS: dict[type[Record], dict[str, tuple[Any, bool]]] = {}


def _fields_of(cls: type[Record]) -> dict[str, tuple[Any, bool]]:
    """Each field's type and whether a payload must hold it (resolved once per class)."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = get_type_hints(cls)
        found = _FIELDS[cls] = {
            f.name: (hints[f.name], f.default is MISSING and f.default_factory is MISSING)
            for f in fields(cls)
        }
    return found


def _allows_none(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def _plain(value: object) -> Any:
    if isinstance(value, Record):
        return value.to_payload()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        return _typed(options[0], value)
    if origin is tuple:
        inner = get_args(hint)[0]
        return tuple(_typed(inner, v) for v in value)
    if hint is datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if hint is date:
        return value if isinstance(value, date) else date.fromisoformat(value)
    if isinstance(hint, type) and is_dataclass(hint) and issubclass(hint, Record):
        return hint.from_payload(value)
    return value
