"""Loading settings: defaults < pika.yaml < ``PIKA_<SECTION>_<FIELD>`` < CLI overrides.

>>> settings = load_settings(Path("pika.yaml"), os.environ, {"port": 7000})
>>> settings.server.port, settings.storage.dir

Every value from every source goes through the same Redis parsing rules
(:mod:`pikadb.config.values`), one setting at a time, so an error says which setting,
which source and what is wrong::

    invalid value for 'port' (server.port): argument must be between 0 and 65535 inclusive
    (got '70000' from environment variable PIKA_SERVER_PORT)
    unknown setting 'server.portt' in pika.yaml (did you mean 'port'?)
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import ValidationError

from pikadb.config.errors import ConfigError
from pikadb.config.models import ServerSettings, Settings, StorageSettings
from pikadb.config.table import (
    CONFIG_TABLE,
    SECTION_MODELS,
    ConfigEntry,
    InvalidValue,
    lookup_field,
    lookup_flat,
)
from pikadb.config.yamlfile import read_yaml_file

__all__ = [
    "CONFIG_FILE_ENV",
    "ConfigError",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "load_settings",
    "resolve_config_path",
]

CONFIG_FILE_ENV = "CONFIG_FILE"
ENV_PREFIX = "PIKA_"

# (entry, raw value, human description of where it came from)
_Item = tuple[ConfigEntry, object, str]


def resolve_config_path(
    flag_value: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to load: the CLI flag if given, else ``$CONFIG_FILE``, else None."""
    if flag_value is not None and os.fspath(flag_value) != "":
        return Path(flag_value)
    env = os.environ if environ is None else environ
    value = env.get(CONFIG_FILE_ENV, "")
    return Path(value) if value else None


def load_settings(
    config_file: Path | None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Build :class:`Settings` from defaults, the YAML file, the environment and overrides.

    ``config_file=None``: no file. ``environ=None``: use ``os.environ``. ``overrides`` maps
    flat names (``port``, ``db-path`` or ``db_path``; ``server.port`` also works) to values,
    strings or Python values; ``None`` values are skipped (a CLI flag that was not given).

    Raises :class:`ConfigError` naming the setting on unknown names and invalid values.
    """
    env = os.environ if environ is None else environ
    values: dict[ConfigEntry, object] = {}
    layers: list[Iterator[_Item]] = []
    if config_file is not None:
        layers.append(_file_items(config_file))
    layers.append(_env_items(env))
    layers.append(_override_items(overrides or {}))
    for layer in layers:
        for entry, raw, source in layer:
            values[entry] = _parse(entry, raw, source)
    nested: dict[str, dict[str, object]] = {section: {} for section in SECTION_MODELS}
    for entry, value in values.items():
        nested[entry.section][entry.field] = value
    try:
        return Settings(**nested)  # type: ignore[arg-type]
    except ValidationError as exc:  # pragma: no cover - every value was validated above
        raise ConfigError(f"invalid settings: {exc}") from None


def _parse(entry: ConfigEntry, raw: object, source: str) -> object:
    try:
        return entry.parse(raw)
    except InvalidValue as exc:
        if entry.sensitive:
            shown = "a value"
        else:
            text = str(raw)
            shown = repr(text if len(text) <= 64 else text[:61] + "...")
        raise ConfigError(
            f"invalid value for '{entry.name}' ({entry.dotted}): {exc.message} "
            f"(got {shown} from {source})",
            setting=entry.dotted,
        ) from None


def _unknown_hint(section: str, key: str) -> str:
    """' (did you mean ...?)' for a mistyped setting name, or '' when nothing is close."""
    flat = lookup_flat(key)
    if flat is not None and flat.section != section:
        return f" ('{flat.name}' belongs in section '{flat.section}')"
    names = [e.name for e in CONFIG_TABLE if e.section == section]
    close = difflib.get_close_matches(key.lower().replace("_", "-"), names, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _file_items(path: Path) -> Iterator[_Item]:
    data = read_yaml_file(path)
    if data is None:
        return
    sections = ", ".join(f"'{s}:'" for s in SECTION_MODELS)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected sections ({sections}) at the top level")
    seen_sections: set[str] = set()
    for raw_section, body in data.items():
        section = str(raw_section).lower()
        if section not in SECTION_MODELS:
            flat = lookup_flat(str(raw_section))
            hint = f" (put '{flat.name}' under '{flat.section}:')" if flat else ""
            raise ConfigError(
                f"unknown section '{raw_section}' in {path}; sections are {sections}{hint}"
            )
        if section in seen_sections:
            raise ConfigError(f"section '{section}' appears twice in {path}")
        seen_sections.add(section)
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ConfigError(f"section '{section}' in {path} must hold 'name: value' lines")
        seen: dict[ConfigEntry, str] = {}
        for raw_key, raw in body.items():
            key = str(raw_key)
            entry = lookup_field(section, key)
            if entry is None:
                raise ConfigError(
                    f"unknown setting '{section}.{key}' in {path}{_unknown_hint(section, key)}",
                    setting=f"{section}.{key}",
                )
            if entry in seen:
                raise ConfigError(
                    f"setting '{entry.dotted}' appears twice in {path} "
                    f"(as '{seen[entry]}' and '{key}')",
                    setting=entry.dotted,
                )
            seen[entry] = key
            if isinstance(raw, dict | list):
                raise ConfigError(
                    f"invalid value for '{entry.name}' ({entry.dotted}): expected a single "
                    f"value, not a YAML {'mapping' if isinstance(raw, dict) else 'list'} "
                    f"(in {path})",
                    setting=entry.dotted,
                )
            yield entry, raw, str(path)


def _env_items(environ: Mapping[str, str]) -> Iterator[_Item]:
    seen: dict[ConfigEntry, str] = {}
    for var in sorted(environ):
        upper = var.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        rest = upper[len(ENV_PREFIX) :]
        section = next((s for s in SECTION_MODELS if rest.startswith(s.upper() + "_")), None)
        if section is None:
            flat = lookup_flat(rest)
            if flat is not None:  # PIKA_PORT: close to ours, surely a mistake
                raise ConfigError(
                    f"unknown environment variable {var}: use {flat.env_var} to set '{flat.name}'",
                    setting=flat.dotted,
                )
            continue  # PIKA_HOME and friends are not ours
        key = rest[len(section) + 1 :].lower()
        entry = lookup_field(section, key)
        if entry is None:
            raise ConfigError(
                f"unknown setting '{section}.{key}' in environment variable {var}"
                f"{_unknown_hint(section, key)}",
                setting=f"{section}.{key}",
            )
        if entry in seen:
            raise ConfigError(
                f"'{entry.dotted}' is set by both {seen[entry]} and {var}", setting=entry.dotted
            )
        seen[entry] = var
        yield entry, environ[var], f"environment variable {var}"


def _override_items(overrides: Mapping[str, object]) -> Iterator[_Item]:
    seen: dict[ConfigEntry, str] = {}
    for key, raw in overrides.items():
        if raw is None:
            continue
        if "." in key:
            section, _, field = key.partition(".")
            entry = lookup_field(section, field)
        else:
            entry = lookup_flat(key)
        if entry is None:
            raise ConfigError(f"unknown setting '{key}' in command-line overrides", setting=key)
        if entry in seen:
            raise ConfigError(
                f"'{entry.name}' is given twice in command-line overrides "
                f"(as '{seen[entry]}' and '{key}')",
                setting=entry.dotted,
            )
        seen[entry] = key
        yield entry, raw, f"command-line override '{key}'"
