"""Value types of settings: Redis parsing rules, validation messages and rendering.

Every setting is one of five kinds (:class:`ValueKind`). Each kind is an ``Annotated`` type
that parses strings the way Redis 7 ``config.c`` does and reports problems with Redis's own
wording, so the same validation serves the YAML file, ``PIKA_*`` variables, CLI overrides
and ``CONFIG SET``:

=========  ======================================  ==============================================
kind       accepted input                          error text (after ``... - ``)
=========  ======================================  ==============================================
INT        ``string2ll``: ``-12``, no ``+``/``01``  argument couldn't be parsed into an integer
SIZE       ``memtoull``: ``512mb``, ``64k``, bytes  argument must be a memory value
BOOL       ``yes``/``no``/``true``/``false``        argument must be 'yes' or 'no'
ENUM       one of the choices, any case             argument(s) must be one of the following: ...
STRING     any text                                 (per-setting checks)
=========  ======================================  ==============================================

Out-of-range numbers give ``argument must be between LO and HI inclusive``.
Python values (``int``, ``bool``, ``Path``) from CLI overrides are accepted as well.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass
from typing import Annotated, Any, get_args

from pydantic import BeforeValidator, GetCoreSchemaHandler
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, core_schema

INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1
LONG_MAX = LLONG_MAX  # LP64
ULLONG_MAX = 2**64 - 1

# Redis's messages (config.c), as they follow "CONFIG SET failed (...) - ".
MSG_NOT_INTEGER = "argument couldn't be parsed into an integer"
MSG_NOT_MEMORY = "argument must be a memory value"
MSG_NOT_YESNO = "argument must be 'yes' or 'no'"
MSG_NOT_STRING = "argument must be a string"
MSG_BAD_SAVE = "Invalid save parameters"
MSG_BAD_KEYSPACE_EVENTS = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."


def msg_between(lo: int, hi: int) -> str:
    return f"argument must be between {lo} and {hi} inclusive"


def msg_one_of(choices: tuple[str, ...]) -> str:
    return "argument(s) must be one of the following: " + ", ".join(choices)


def invalid(message: str) -> PydanticCustomError:
    """The error a validator raises; ``message`` is shown verbatim."""
    return PydanticCustomError("config_value", message)


class ValueKind(enum.Enum):
    BOOL = "bool"
    INT = "int"
    SIZE = "size"
    ENUM = "enum"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class KindMarker:
    """``Annotated`` marker telling the config table how a field renders."""

    kind: ValueKind


# --- Redis's string parsers ---------------------------------------------------------------
_DIGITS = re.compile(r"-?[1-9][0-9]*|0")


def string2ll(text: str) -> int | None:
    """Redis ``string2ll``: optional ``-``, no ``+``, no leading zeros or spaces, 64-bit."""
    if not _DIGITS.fullmatch(text) or len(text) > 20:
        return None
    value = int(text)
    return value if LLONG_MIN <= value <= LLONG_MAX else None


_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000 * 1000,
    "mb": 1024 * 1024,
    "g": 1000 * 1000 * 1000,
    "gb": 1024 * 1024 * 1024,
}
_MEMORY = re.compile(r"([0-9]+)([a-zA-Z]*)")


def memtoull(text: str) -> int | None:
    """Redis ``memtoull``: digits then an optional unit, case-insensitive.

    ``k``/``m``/``g`` are powers of 1000 and ``kb``/``mb``/``gb`` powers of 1024; ``b`` or no
    unit is bytes. Negative numbers are rejected. Unlike C, a missing number (``"mb"``) and
    values beyond 2**64-1 are errors instead of 0 or a wrapped value.
    """
    m = _MEMORY.fullmatch(text)
    if m is None or len(m.group(1)) > 40:
        return None
    unit = _MEMORY_UNITS.get(m.group(2).lower())
    if unit is None:
        return None
    value = int(m.group(1)) * unit
    return value if value <= ULLONG_MAX else None


def format_memory(value: int) -> str:
    """Redis ``rewriteConfigFormatMemory``: ``64mb`` rather than ``67108864`` in files."""
    for unit, size in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)):
        if value and value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def yesno(text: str) -> bool | None:
    """Redis ``yesnotoi`` plus ``true``/``false``; ``None`` when it is neither."""
    low = text.lower()
    if low in ("yes", "true"):
        return True
    if low in ("no", "false"):
        return False
    return None


# --- keyspace notification classes (notify.c) -------------------------------------------
NOTIFY_KEYSPACE = 1 << 0  # K
NOTIFY_KEYEVENT = 1 << 1  # E
NOTIFY_GENERIC = 1 << 2  # g
NOTIFY_STRING = 1 << 3  # $
NOTIFY_LIST = 1 << 4  # l
NOTIFY_SET = 1 << 5  # s
NOTIFY_HASH = 1 << 6  # h
NOTIFY_ZSET = 1 << 7  # z
NOTIFY_EXPIRED = 1 << 8  # x
NOTIFY_EVICTED = 1 << 9  # e
NOTIFY_STREAM = 1 << 10  # t
NOTIFY_KEY_MISS = 1 << 11  # m
NOTIFY_MODULE = 1 << 13  # d
NOTIFY_NEW = 1 << 14  # n
NOTIFY_ALL = (
    NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET
) | (NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)  # A

_CLASS_FLAGS = {
    "g": NOTIFY_GENERIC,
    "$": NOTIFY_STRING,
    "l": NOTIFY_LIST,
    "s": NOTIFY_SET,
    "h": NOTIFY_HASH,
    "z": NOTIFY_ZSET,
    "x": NOTIFY_EXPIRED,
    "e": NOTIFY_EVICTED,
    "t": NOTIFY_STREAM,
    "d": NOTIFY_MODULE,
    "n": NOTIFY_NEW,
}
_FLAG_CHARS = {"A": NOTIFY_ALL, "K": NOTIFY_KEYSPACE, "E": NOTIFY_KEYEVENT, "m": NOTIFY_KEY_MISS}
_FLAG_CHARS.update(_CLASS_FLAGS)


def keyspace_event_flags(text: str) -> int | None:
    """``keyspaceEventsStringToFlags``: ``"KEA"`` -> bit set; ``None`` on a bad character."""
    flags = 0
    for ch in text:
        bit = _FLAG_CHARS.get(ch)
        if bit is None:
            return None
        flags |= bit
    return flags


def keyspace_events_string(flags: int) -> str:
    """``keyspaceEventsFlagsToString``: the canonical spelling CONFIG GET shows."""
    if flags & NOTIFY_ALL == NOTIFY_ALL:
        out = "A"
    else:
        out = "".join(ch for ch, bit in _CLASS_FLAGS.items() if flags & bit)
    if flags & NOTIFY_KEYSPACE:
        out += "K"
    if flags & NOTIFY_KEYEVENT:
        out += "E"
    if flags & NOTIFY_KEY_MISS:
        out += "m"
    return out


# --- before-validators: raw input -> typed value ----------------------------------------
def _int_input(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        parsed = string2ll(value)
        if parsed is not None:
            return parsed
    raise invalid(MSG_NOT_INTEGER)


def _size_input(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        parsed = memtoull(value)
        if parsed is not None:
            return parsed
    raise invalid(MSG_NOT_MEMORY)


def _bool_input(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        parsed = yesno(value)
        if parsed is not None:
            return parsed
    raise invalid(MSG_NOT_YESNO)


def _str_input(value: object) -> object:
    if value is None:  # YAML "key:" / "key: null"
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise invalid(MSG_NOT_STRING)


class EventsText(str):
    """A notify-keyspace-events value: shown as Redis shows it, but carrying the flags it
    was set with, because the display drops some ("KEAn" shows as "AKE", yet "new" events
    stay on, as in Redis)."""

    flags: int = 0


def _keyspace_events(value: str) -> str:
    flags = keyspace_event_flags(value)
    if flags is None:
        raise invalid(MSG_BAD_KEYSPACE_EVENTS)
    out = EventsText(keyspace_events_string(flags))
    out.flags = flags
    return out


def _save_params(value: str) -> str:
    """Redis ``save``: ``""`` or pairs of ``<seconds >= 1> <changes >= 0>``."""
    words = value.split()
    if len(words) % 2 or not all(re.fullmatch(r"[+-]?[0-9]+", w) for w in words):
        raise invalid(MSG_BAD_SAVE)
    numbers = [int(w) for w in words]
    if any(n < 1 for n in numbers[0::2]) or any(n < 0 for n in numbers[1::2]):
        raise invalid(MSG_BAD_SAVE)
    return " ".join(str(n) for n in numbers)


# --- annotation building blocks -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Bounds:
    """Inclusive range check with Redis's message (``numericBoundaryCheck``)."""

    lo: int
    hi: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def check(value: int) -> int:
            if not self.lo <= value <= self.hi:
                raise invalid(msg_between(self.lo, self.hi))
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))


@dataclass(frozen=True, slots=True)
class Clamp:
    """Accept any in-range value but store it clamped (Redis's ``hz``: 1..500)."""

    lo: int
    hi: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            lambda v: min(max(v, self.lo), self.hi), handler(source)
        )


@dataclass(frozen=True, slots=True)
class OneOf:
    """Marks a ``Literal[...]`` field as a Redis enum: case-insensitive, Redis's message."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        choices = tuple(str(c) for c in get_args(source))

        def pick(value: object) -> object:
            if isinstance(value, str) and value.lower() in choices:
                return value.lower()
            raise invalid(msg_one_of(choices))

        return core_schema.no_info_before_validator_function(pick, handler(source))


@dataclass(frozen=True, slots=True)
class Normalize:
    """Run a ``str -> str`` check/normaliser after the base type (may raise :func:`invalid`)."""

    func: Any

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.func, handler(source))


ConfigInt = Annotated[int, BeforeValidator(_int_input), KindMarker(ValueKind.INT)]
ConfigSize = Annotated[int, BeforeValidator(_size_input), KindMarker(ValueKind.SIZE)]
ConfigBool = Annotated[bool, BeforeValidator(_bool_input), KindMarker(ValueKind.BOOL)]
ConfigStr = Annotated[str, BeforeValidator(_str_input), KindMarker(ValueKind.STRING)]
KeyspaceEvents = Annotated[ConfigStr, Normalize(_keyspace_events)]
SaveParams = Annotated[ConfigStr, Normalize(_save_params)]


def field_kind(info: FieldInfo) -> ValueKind:
    """The :class:`ValueKind` of a model field built from the aliases above."""
    for meta in info.metadata:
        if isinstance(meta, OneOf):
            return ValueKind.ENUM
        if isinstance(meta, KindMarker):
            return meta.kind
    raise TypeError(f"setting field has no config kind: {info!r}")


def field_choices(info: FieldInfo) -> tuple[str, ...]:
    return tuple(str(c) for c in get_args(info.annotation))


def render_value(kind: ValueKind, value: object) -> str:
    """How CONFIG GET shows a value: booleans ``yes``/``no``, sizes as plain bytes."""
    if kind is ValueKind.BOOL:
        return "yes" if value else "no"
    return str(value)
