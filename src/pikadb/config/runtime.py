"""The backend of CONFIG GET / SET / REWRITE, with Redis 7.0 semantics and error texts.

The server creates one :class:`RuntimeConfig` around the loaded :class:`Settings` and
registers listeners for settings it applies live::

    runtime = RuntimeConfig(settings, config_file)
    runtime.on_change("maxclients", lambda n: server.set_maxclients(n))
    runtime.get("slowlog-*")                      # [("slowlog-log-slower-than", "10000"), ...]
    runtime.set([("timeout", "30"), ("hz", "20")])  # all or nothing
    runtime.rewrite()

``set`` mutates ``settings`` in place, so code holding ``settings.server`` sees new values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pikadb.config.models import Settings
from pikadb.config.rewrite import rewrite_config_file
from pikadb.config.table import CONFIG_TABLE, ConfigEntry, InvalidValue, lookup
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.core.glob import stringmatch

__all__ = ["Listener", "RuntimeConfig"]

log = logging.getLogger(__name__)

Listener = Callable[[Any], None]
"""Called with the new typed value after a successful CONFIG SET. Raise
``CommandError("reason")`` to refuse it: every value of that CONFIG SET is rolled back and
the client sees ``ERR CONFIG SET failed (possibly related to argument 'name') - reason``."""


def _set_failed(name: str, reason: str) -> CommandError:
    return CommandError(errors.CONFIG_SET_FAILED.format(name, reason))


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


class RuntimeConfig:
    """Live settings behind the CONFIG command, driven by :data:`CONFIG_TABLE`."""

    def __init__(self, settings: Settings, config_file: Path | None = None) -> None:
        self._settings = settings
        self._config_file = config_file
        self._listeners: dict[ConfigEntry, list[Listener]] = {}

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def config_file(self) -> Path | None:
        """The file the server was started with (target of CONFIG REWRITE), if any."""
        return self._config_file

    @staticmethod
    def entries() -> tuple[ConfigEntry, ...]:
        return CONFIG_TABLE

    def value(self, name: str) -> Any:
        """The typed current value of a setting (``KeyError`` if there is no such setting)."""
        entry = lookup(name)
        if entry is None:
            raise KeyError(name)
        return entry.get(self._settings)

    def render(self, name: str) -> str:
        """The current value as CONFIG GET shows it (``KeyError`` if unknown)."""
        entry = lookup(name)
        if entry is None:
            raise KeyError(name)
        return entry.render(entry.get(self._settings))

    def on_change(self, name: str, callback: Listener) -> None:
        """Call ``callback(new_value)`` whenever CONFIG SET changes ``name``."""
        entry = lookup(name)
        if entry is None:
            raise KeyError(f"unknown setting {name!r}")
        self._listeners.setdefault(entry, []).append(callback)

    # --- CONFIG GET --------------------------------------------------------------------
    def get(self, pattern: str | bytes, *patterns: str | bytes) -> list[tuple[str, str]]:
        """CONFIG GET: ``(name, value)`` for every setting matching any pattern.

        Redis glob patterns, case-insensitive; names are reported in their canonical
        (lower-case) spelling, each at most once, in table order. No match: ``[]``.
        """
        compiled = [_text(p).encode("utf-8", "surrogateescape") for p in (pattern, *patterns)]
        out: list[tuple[str, str]] = []
        for entry in CONFIG_TABLE:
            name = entry.name.encode()
            if any(stringmatch(p, name, nocase=True) for p in compiled):
                out.append((entry.name, entry.render(entry.get(self._settings))))
        return out

    # --- CONFIG SET --------------------------------------------------------------------
    def set(self, pairs: Sequence[tuple[str | bytes, str | bytes]]) -> None:
        """CONFIG SET name value [name value ...]: all values are applied, or none.

        Errors (``CommandError``), checked in argument order, first one wins:
        unknown name, immutable setting, name given twice, then invalid values; finally a
        listener may refuse the change, which rolls everything back.
        """
        chosen: list[tuple[ConfigEntry, str]] = []
        for raw_name, raw_value in pairs:
            name = _text(raw_name)
            entry = lookup(name)
            if entry is None:
                raise CommandError(errors.CONFIG_SET_UNKNOWN.format(name))
            if not entry.mutable:
                raise _set_failed(name, errors.CONFIG_SET_IMMUTABLE)
            if any(entry is e for e, _ in chosen):
                raise _set_failed(name, errors.CONFIG_SET_DUPLICATE)
            chosen.append((entry, _text(raw_value)))

        new_values: list[tuple[ConfigEntry, Any]] = []
        for entry, raw in chosen:
            try:
                new_values.append((entry, entry.parse(raw)))
            except InvalidValue as exc:
                raise _set_failed(entry.name, exc.message) from None

        old = {entry: entry.get(self._settings) for entry, _ in new_values}
        for entry, value in new_values:
            entry.put(self._settings, value)
        notified: list[tuple[ConfigEntry, Listener]] = []
        current: ConfigEntry | None = None
        try:
            for entry, value in new_values:
                if value == old[entry]:
                    continue  # unchanged: Redis skips the apply function too
                current = entry
                for callback in self._listeners.get(entry, ()):
                    notified.append((entry, callback))
                    callback(value)
        except CommandError as exc:
            self._rollback(old, notified)
            reason = exc.message.removeprefix("ERR ")
            raise _set_failed(current.name if current else "", reason) from exc
        except BaseException:
            self._rollback(old, notified)
            raise

    def _rollback(
        self, old: dict[ConfigEntry, Any], notified: list[tuple[ConfigEntry, Listener]]
    ) -> None:
        """Restore ``old`` values and re-notify the listeners that saw the new ones."""
        for entry, value in old.items():
            entry.put(self._settings, value)
        for entry, callback in notified:
            try:
                callback(old[entry])
            except Exception:
                log.warning("failed to restore %s after a refused CONFIG SET", entry.name)

    # --- CONFIG REWRITE ----------------------------------------------------------------
    def rewrite(self) -> None:
        """CONFIG REWRITE: save the live values into the config file, keeping comments."""
        if self._config_file is None:
            raise CommandError(errors.CONFIG_REWRITE_NO_FILE)
        try:
            rewrite_config_file(self._config_file, self._settings)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            log.warning("CONFIG REWRITE failed: %s", reason)
            raise CommandError(errors.CONFIG_REWRITE_FAILED.format(reason)) from exc
