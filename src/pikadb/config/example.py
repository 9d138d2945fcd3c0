"""The documented example config, generated from the settings table.

Regenerate the checked-in copy after adding or changing a setting::

    .venv/bin/python -m pikadb.config.example > example/pika.yaml

(a unit test fails while ``example/pika.yaml`` is out of date).
"""

from __future__ import annotations

from pikadb.config.table import CONFIG_TABLE
from pikadb.config.yamlfile import file_scalar

__all__ = ["example_yaml"]

# --- the example file --------------------------------------------------------------------------
_HEADER = """\
# pika.yaml: pikadb configuration. Every setting is listed with its built-in default.
#
# Precedence, lowest to highest: built-in defaults < this file < environment variables
# PIKA_<SECTION>_<SETTING> (e.g. PIKA_SERVER_PORT=7000, PIKA_STORAGE_DIR=/srv/pika)
# < command-line flags. Give the server this file's path (or set CONFIG_FILE=<path>).
#
# Names may be written kebab-case (slowlog-log-slower-than) or snake_case; the kebab form
# is the name CONFIG GET / CONFIG SET use. Values follow Redis's rules:
#   sizes     512mb, 1gb, 64kb (powers of 1024), 64k, 1m, 1g (powers of 1000), or bytes
#   booleans  yes / no (true / false also accepted)
#   integers  plain decimal: no '+', no leading zeros
# Settings marked [runtime] can be changed live with CONFIG SET; CONFIG REWRITE saves
# them back here, keeping comments. Unknown names are errors.
"""


def example_yaml() -> str:
    """The commented example config: every setting at its default, from the table."""
    lines = [_HEADER]
    section = ""
    for entry in CONFIG_TABLE:
        if entry.section != section:
            section = entry.section
            lines.append(f"\n{section}:\n")
        else:
            lines.append("\n")
        doc = entry.description
        if entry.choices:
            doc += f" One of: {', '.join(entry.choices)}."
        if entry.mutable:
            doc += " [runtime]"
        lines.append(f"  # {doc}\n")
        lines.append(f"  {entry.name}: {file_scalar(entry, entry.default)}\n")
    return "".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(example_yaml(), end="")
