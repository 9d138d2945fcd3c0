"""Server logging, configured in one place: level, destination and line format.

Settings (``server:`` section, all CONFIG GET-able):

* ``loglevel`` — Redis's names, mapped onto Python levels: ``debug`` (DEBUG), ``verbose``
  (15, named VERBOSE), ``notice`` (INFO), ``warning`` (WARNING). CONFIG SET applies it live.
* ``logfile`` — a file path (reopened when rotated away, WatchedFileHandler) or ``""`` for
  standard error.
* ``log-format`` — ``text``: ``2026-01-01T10:00:00.123Z notice pikadb.server: msg k=v``;
  ``json``: one object per line, ``{"ts", "level", "logger", "msg", ...extra fields}``
  (``extra={...}`` of a logging call becomes top-level fields; an exception adds ``exc``).
  CONFIG SET applies it live.

Level names in both formats are Redis's (``notice``, not ``INFO``). The CLI calls
:func:`configure` before the server starts and :func:`install` to follow CONFIG SET.
This module is outside the layer stack (it imports nothing from pikadb), so any layer may
use it.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from typing import Any

VERBOSE = 15
logging.addLevelName(VERBOSE, "VERBOSE")

LOG_LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "verbose": VERBOSE,
    "notice": logging.INFO,
    "warning": logging.WARNING,
}
_REDIS_NAMES = {
    logging.DEBUG: "debug",
    VERBOSE: "verbose",
    logging.INFO: "notice",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}
# attributes every LogRecord has: anything else on a record came from ``extra=``
_STANDARD = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName"}
)
_HANDLER_NAME = "pikadb"


def level_name(levelno: int) -> str:
    return _REDIS_NAMES.get(levelno) or logging.getLevelName(levelno).lower()


def _timestamp(created: float) -> str:
    ms = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{ms:03d}Z"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": level_name(record.levelno),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in _extras(record).items():
            out.setdefault(k, v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``ts level logger: msg k=v ...`` (extra fields appended as key=value)."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_timestamp(record.created)} {level_name(record.levelno)} "
            f"{record.name}: {record.getMessage()}"
        )
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={_text_value(v)}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


def _text_value(v: Any) -> str:
    if isinstance(v, str) and v and " " not in v and '"' not in v:
        return v
    if isinstance(v, int | float | bool) or v is None:
        return str(v)
    return json.dumps(v, default=str, ensure_ascii=False)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}


def _handler() -> logging.Handler | None:
    for h in logging.getLogger().handlers:
        if h.get_name() == _HANDLER_NAME:
            return h
    return None


def configure(loglevel: str = "notice", logfile: str = "", log_format: str = "text") -> None:
    """Install the one root handler (replacing a previous one of ours) and set the level."""
    root = logging.getLogger()
    old = _handler()
    if old is not None:
        root.removeHandler(old)
        old.close()
    handler: logging.Handler
    if logfile:
        handler = logging.handlers.WatchedFileHandler(logfile, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(FORMATTERS.get(log_format, TextFormatter)())
    root.addHandler(handler)
    set_level(loglevel)


def set_level(loglevel: str) -> None:
    logging.getLogger().setLevel(LOG_LEVELS.get(str(loglevel), logging.WARNING))


def set_format(log_format: str) -> None:
    handler = _handler()
    if handler is not None:
        handler.setFormatter(FORMATTERS.get(str(log_format), TextFormatter)())


def configure_from(settings: Any) -> None:
    """:func:`configure` from a :class:`pikadb.config.Settings` (duck-typed)."""
    s = settings.server
    configure(s.loglevel, s.logfile, getattr(s, "log_format", "text"))


def install(config: Any) -> None:
    """Follow CONFIG SET of loglevel and log-format (``config``: a RuntimeConfig)."""
    config.on_change("loglevel", lambda v: set_level(str(v)))
    try:
        config.on_change("log-format", lambda v: set_format(str(v)))
    except KeyError:  # pragma: no cover - a build without the setting
        pass
