"""The stage dataclasses as JSON and back, exactly: what lets one worker hand a claim to another.

A claim coded and scrubbed by one worker may be built by another (the build queue), so the
``Claim`` it hands over must come back equal, field for field: ``Decimal`` as its string (never a
float), ``date``/``time`` in ISO form, tuples as arrays, nested dataclasses as objects. The shape
is read from the dataclasses' own type hints, so a field added to ``models`` travels without a
change here; a value of a type this codec does not know is a ``TypeError`` at encode time rather
than a silent loss. Decoding checks every field's type the same way, so a payload written by an
older or newer release fails loudly (naming the field) instead of building a wrong claim.

The JSON holds patient data when the object does (a claim carries its encounter): it is stored
only where PHI may be (the ledger), and never logged.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


class CodecError(ValueError):
    """A payload that does not decode into the type asked for; names the field path."""


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (dicts, lists, strings, numbers, booleans, None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, time)):  # datetime is a date: kept ISO, with its offset
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"codec: cannot encode a {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact JSON text of ``value``."""
    return json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def loads(cls: type[T], text: str) -> T:
    """The ``cls`` instance ``dumps`` wrote."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodecError(f"not JSON (line {exc.lineno}, column {exc.colno})") from None
    return from_jsonable(cls, data)


def from_jsonable(cls: type[T], data: Any) -> T:
    return typing.cast(T, _decode(cls, data, cls.__name__))


@cache
def _hints(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, has a default) of each init field of dataclass ``cls``."""
    hints = get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints[f.name],
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.init
    )


def _decode(tp: Any, data: Any, path: str) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if data is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, data, path)
            except CodecError as exc:
                errors.append(str(exc))
        raise CodecError(errors[0] if len(errors) == 1 else f"{path}: matches no allowed type")
    if origin is Literal:
        if data not in get_args(tp):
            raise CodecError(f"{path}: not one of the allowed values")
        return data
    if origin is tuple:
        if not isinstance(data, list):
            raise CodecError(f"{path}: expected an array")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise CodecError(f"{path}: expected {len(args)} items")
        return tuple(
            _decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise CodecError(f"{path}: expected an object")
        known = _hints(tp)
        unknown = set(data) - {name for name, _, _ in known}
        if unknown:
            raise CodecError(f"{path}: unknown field {sorted(unknown)[0]}")
        kwargs = {}
        for name, hint, has_default in known:
            if name in data:
                kwargs[name] = _decode(hint, data[name], f"{path}.{name}")
            elif not has_default:
                raise CodecError(f"{path}.{name}: missing")
        return tp(**kwargs)
    return _scalar(tp, data, path)


def _scalar(tp: Any, data: Any, path: str) -> Any:
    if tp is Any:
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise CodecError(f"{path}: expected true or false")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise CodecError(f"{path}: expected an integer")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise CodecError(f"{path}: expected a string")
        return data
    if not isinstance(data, str):
        raise CodecError(f"{path}: expected a string form of {getattr(tp, '__name__', tp)}")
    try:
        if tp is Decimal:
            return Decimal(data)
        if tp is date:
            return date.fromisoformat(data)
        if tp is time:
            return time.fromisoformat(data)
    except (InvalidOperation, ValueError):
        raise CodecError(f"{path}: not a valid {tp.__name__}") from None
    raise CodecError(f"{path}: cannot decode a {getattr(tp, '__name__', tp)}")
