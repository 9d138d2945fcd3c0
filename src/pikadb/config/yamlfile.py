"""Reading and writing pika.yaml scalars, and the documented example file.

The file is YAML with two levels: sections (``server:``, ``storage:``) holding
``name: value`` pairs. Values are read as *strings* and parsed by the settings' own Redis
rules, never by YAML 1.1 typing: ``yes`` is not turned into ``True`` behind our back,
``1:30`` is not sexagesimal 90 and ``0777`` is not octal. Only an empty value (or
``null``/``~``) means "empty". Duplicate keys are errors (PyYAML silently keeps the last).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pikadb.config.errors import ConfigError
from pikadb.config.table import ConfigEntry
from pikadb.config.values import ValueKind, format_memory

__all__ = [
    "file_scalar",
    "load_yaml_text",
    "quote_yaml_string",
    "read_yaml_file",
]


class _StringLoader(yaml.SafeLoader):
    """SafeLoader whose only implicit type is null; rejects duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StringLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text with the string-only loader; errors name ``source`` and the line."""
    try:
        return yaml.load(text, Loader=_StringLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"invalid YAML in {source}{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML in {source}: {exc}") from None


def read_yaml_file(path: Path) -> Any:
    """Read and parse a config file; unreadable files raise :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"can't open config file '{path}': {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file '{path}' is not UTF-8: {exc.reason}") from None
    return load_yaml_text(text, str(path))


# --- writing scalars -----------------------------------------------------------------------
_PLAIN = re.compile(r"(?:[A-Za-z0-9_./+]|-(?=[A-Za-z0-9_./+]))[A-Za-z0-9_./+@-]*")


def quote_yaml_string(text: str) -> str:
    """``text`` as a YAML scalar that :func:`load_yaml_text` reads back unchanged.

    Simple words stay plain; anything else is double-quoted with ASCII-only escapes.
    """
    if _PLAIN.fullmatch(text) and text.lower() != "null":
        return text
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def file_scalar(entry: ConfigEntry, value: Any) -> str:
    """How a value is written to pika.yaml (sizes in Redis's ``64mb`` form)."""
    if entry.kind is ValueKind.SIZE:
        return format_memory(int(value))
    return quote_yaml_string(entry.render(value))
