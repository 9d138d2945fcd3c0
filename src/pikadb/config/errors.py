"""Errors raised while loading settings (startup); runtime CONFIG errors are CommandErrors."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting could not be loaded. The message names the setting and where it came from.

    ``setting`` is the dotted name (``server.port``) when one setting is at fault.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.setting = setting
