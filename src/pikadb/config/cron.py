"""Pika's automatic-compaction schedules: ``compact-cron`` and ``compact-interval``.

``compact-cron``: ``[week/]start-end/ratio`` — a full compaction once per window, between
hours ``start`` and ``end`` (0..23, inclusive; ``22-02`` wraps past midnight), on weekday
``week`` only when given (1 = Monday .. 7 = Sunday), and only if at least ``ratio`` percent
of the data disk is free. Several windows may be joined with ``;``. Examples::

    03-04/60        every day between 03:00 and 04:59 if >= 60 % of the disk is free
    3/02-04/60      Wednesdays only
    ""              off

``compact-interval``: ``hours/ratio`` — a full compaction every ``hours`` hours (counted from
the server start or the last one) if at least ``ratio`` percent of the disk is free. When set
it wins over ``compact-cron`` (as in Pika).

The parsers raise :class:`ValueError` with the message CONFIG SET shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pikadb.config.values import ConfigStr, Normalize, invalid

__all__ = [
    "CompactCron",
    "CompactInterval",
    "CronWindow",
    "Interval",
    "cron_window_open",
    "parse_compact_cron",
    "parse_compact_interval",
]

CRON_FORMAT = "compact-cron must look like [week/]start-end/ratio, e.g. 3/02-04/60"
INTERVAL_FORMAT = "compact-interval must look like hours/ratio, e.g. 6/60"
_CRON = re.compile(r"(?:(\d{1,2})/)?(\d{1,2})-(\d{1,2})/(\d{1,3})")
_INTERVAL = re.compile(r"(\d{1,6})/(\d{1,3})")


@dataclass(frozen=True, slots=True)
class CronWindow:
    weekday: int | None  # 1 = Monday .. 7 = Sunday; None: every day
    start: int  # hour, 0..23
    end: int  # hour, 0..23, inclusive
    ratio: int  # minimum free disk, percent

    def open_at(self, when: datetime) -> bool:
        if self.weekday is not None and when.isoweekday() != self.weekday:
            return False
        h = when.hour
        if self.start <= self.end:
            return self.start <= h <= self.end
        return h >= self.start or h <= self.end  # wraps past midnight


@dataclass(frozen=True, slots=True)
class Interval:
    hours: int
    ratio: int


def parse_compact_cron(text: str) -> list[CronWindow]:
    windows: list[CronWindow] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        m = _CRON.fullmatch(part)
        if m is None:
            raise ValueError(CRON_FORMAT)
        week = int(m[1]) if m[1] is not None else None
        start, end, ratio = int(m[2]), int(m[3]), int(m[4])
        if (week is not None and not 1 <= week <= 7) or start > 23 or end > 23 or ratio > 100:
            raise ValueError(CRON_FORMAT)
        windows.append(CronWindow(week, start, end, ratio))
    return windows


def parse_compact_interval(text: str) -> Interval | None:
    text = text.strip()
    if not text:
        return None
    m = _INTERVAL.fullmatch(text)
    if m is None or int(m[1]) < 1 or int(m[2]) > 100:
        raise ValueError(INTERVAL_FORMAT)
    return Interval(int(m[1]), int(m[2]))


def cron_window_open(windows: list[CronWindow], when: datetime) -> CronWindow | None:
    """The first window open at ``when`` (local time), if any."""
    for w in windows:
        if w.open_at(when):
            return w
    return None


def _normalize_cron(value: str) -> str:
    try:
        parse_compact_cron(value)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    return value.strip()


def _normalize_interval(value: str) -> str:
    try:
        parse_compact_interval(value)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    return value.strip()


CompactCron = Annotated[ConfigStr, Normalize(_normalize_cron)]
CompactInterval = Annotated[ConfigStr, Normalize(_normalize_interval)]
