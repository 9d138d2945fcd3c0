"""The flat Redis-style config table, generated from the pydantic models.

One :class:`ConfigEntry` per model field: ``ServerSettings.slowlog_log_slower_than`` is the
setting ``slowlog-log-slower-than`` in section ``server``, settable from
``PIKA_SERVER_SLOWLOG_LOG_SLOWER_THAN``. CONFIG GET/SET/REWRITE, the loader and the example
file all read this table; nothing else lists the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pikadb.config.models import SectionModel, Settings
from pikadb.config.values import ValueKind, field_choices, field_kind, render_value


class InvalidValue(ValueError):
    """A value was rejected; ``message`` is Redis's wording (``argument must be ...``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One setting: flat name, where it lives in :class:`Settings`, and how it behaves."""

    name: str  # flat Redis-style name, e.g. "slowlog-log-slower-than"
    section: str  # "server" | "storage"
    field: str  # attribute of the section model, e.g. "slowlog_log_slower_than"
    kind: ValueKind
    mutable: bool  # settable with CONFIG SET
    sensitive: bool  # a secret: never log it
    default: Any
    description: str
    choices: tuple[str, ...]  # for ENUM settings, in Redis order

    @property
    def dotted(self) -> str:
        """``server.port``: the name used in error messages and YAML paths."""
        return f"{self.section}.{self.field}"

    @property
    def env_var(self) -> str:
        """``PIKA_SERVER_PORT``."""
        return f"PIKA_{self.section.upper()}_{self.field.upper()}"

    def parse(self, raw: object) -> Any:
        """Validate one raw value (string from a file/env/CONFIG SET, or a Python value).

        Returns the typed value; raises :class:`InvalidValue` with Redis's message.
        """
        model = SECTION_MODELS[self.section]
        probe = model.model_construct()
        try:
            model.__pydantic_validator__.validate_assignment(probe, self.field, raw)
        except ValidationError as exc:
            raise InvalidValue(str(exc.errors()[0]["msg"])) from None
        return getattr(probe, self.field)

    def get(self, settings: Settings) -> Any:
        return getattr(getattr(settings, self.section), self.field)

    def put(self, settings: Settings, value: Any) -> None:
        """Store an already-parsed value (validated again by the model)."""
        setattr(getattr(settings, self.section), self.field, value)

    def render(self, value: Any) -> str:
        """CONFIG GET form: sizes as plain bytes, booleans as ``yes``/``no``."""
        return render_value(self.kind, value)


def _build() -> tuple[dict[str, type[SectionModel]], tuple[ConfigEntry, ...]]:
    sections: dict[str, type[SectionModel]] = {}
    entries: list[ConfigEntry] = []
    for section, sinfo in Settings.model_fields.items():
        model = sinfo.annotation
        if not (isinstance(model, type) and issubclass(model, SectionModel)):
            raise TypeError(f"Settings.{section} must be a SectionModel")
        sections[section] = model
        for field, info in model.model_fields.items():
            extra = info.json_schema_extra
            if not isinstance(extra, dict) or "mutable" not in extra:
                raise TypeError(f"{section}.{field}: declare it with setting()")
            kind = field_kind(info)
            entries.append(
                ConfigEntry(
                    name=field.replace("_", "-"),
                    section=section,
                    field=field,
                    kind=kind,
                    mutable=bool(extra["mutable"]),
                    sensitive=bool(extra.get("sensitive", False)),
                    default=info.default,
                    description=info.description or "",
                    choices=field_choices(info) if kind is ValueKind.ENUM else (),
                )
            )
    seen: dict[str, ConfigEntry] = {}
    for entry in entries:
        if entry.name in seen:
            raise TypeError(
                f"flat name {entry.name!r} used by {entry.dotted} and {seen[entry.name].dotted}"
            )
        seen[entry.name] = entry
    return sections, tuple(entries)


SECTION_MODELS, CONFIG_TABLE = _build()
_BY_NAME: dict[str, ConfigEntry] = {e.name: e for e in CONFIG_TABLE}
_BY_FIELD: dict[tuple[str, str], ConfigEntry] = {(e.section, e.field): e for e in CONFIG_TABLE}


def lookup(name: str) -> ConfigEntry | None:
    """The entry for a Redis-style name, case-insensitively (CONFIG GET/SET rules)."""
    return _BY_NAME.get(name.lower())


def lookup_flat(key: str) -> ConfigEntry | None:
    """Lenient lookup for files and CLI overrides: ``db_path`` and ``DB-Path`` work too."""
    return _BY_NAME.get(key.lower().replace("_", "-"))


def lookup_field(section: str, key: str) -> ConfigEntry | None:
    """The entry for ``key`` (kebab or snake case) inside ``section``."""
    return _BY_FIELD.get((section.lower(), key.lower().replace("-", "_")))


def section_names() -> tuple[str, ...]:
    return tuple(SECTION_MODELS)
