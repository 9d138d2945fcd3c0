"""``client-output-buffer-limit``: Redis's ``<class> <hard> <soft> <soft seconds>`` groups.

    +-----------+-----------+----------+--------------+----------------------------------+
    | class     | hard      | soft     | soft seconds | default (Redis 7.0)              |
    +-----------+-----------+----------+--------------+----------------------------------+
    | normal    | bytes     | bytes    | seconds      | 0 0 0 (no limit)                 |
    | slave     | bytes     | bytes    | seconds      | 256mb 64mb 60 ("replica" accepted)|
    | pubsub    | bytes     | bytes    | seconds      | 32mb 8mb 60                      |
    +-----------+-----------+----------+--------------+----------------------------------+

A client whose pending output reaches ``hard`` bytes, or stays at ``soft`` bytes or more for
``soft seconds``, is disconnected (0 disables a limit). CONFIG SET may name only some
classes; the others keep their values (the merge is done by the pub/sub module, which owns
the live limits: see ``commands/pubsub.py``). CONFIG GET shows all three classes in bytes.
"""

from __future__ import annotations

from typing import Annotated

from pikadb.config.values import ConfigStr, Normalize, invalid, memtoull

__all__ = [
    "CLASSES",
    "DEFAULT",
    "ObufLimits",
    "normalize_obuf_limits",
    "parse_obuf_limits",
    "render_obuf_limits",
]

Limits = dict[str, tuple[int, int, int]]

CLASSES = ("normal", "replica", "pubsub")
_NAMES = {"normal": "normal", "slave": "replica", "replica": "replica", "pubsub": "pubsub"}
_SHOWN = {"normal": "normal", "replica": "slave", "pubsub": "pubsub"}
DEFAULT: Limits = {
    "normal": (0, 0, 0),
    "replica": (256 << 20, 64 << 20, 60),
    "pubsub": (32 << 20, 8 << 20, 60),
}
DEFAULT_TEXT = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"

MSG_WRONG_ARGS = "Wrong number of arguments in buffer limit configuration."
MSG_BAD_CLASS = "Invalid client class specified in buffer limit configuration."
MSG_BAD_VALUE = "Error in hard, soft or soft_seconds setting in buffer limit configuration."


def parse_obuf_limits(text: str) -> Limits:
    """The classes ``text`` sets (all checked before any is accepted, as Redis does)."""
    words = text.split()
    if len(words) % 4:
        raise invalid(MSG_WRONG_ARGS)
    out: Limits = {}
    for i in range(0, len(words), 4):
        cls = _NAMES.get(words[i].lower())
        if cls is None:
            raise invalid(MSG_BAD_CLASS)
        hard, soft = memtoull(words[i + 1]), memtoull(words[i + 2])
        secs = _seconds(words[i + 3])
        if hard is None or soft is None or secs is None:
            raise invalid(MSG_BAD_VALUE)
        out[cls] = (hard, soft, secs)
    return out


def _seconds(word: str) -> int | None:
    """``strtoll`` with nothing left over, and not negative."""
    text = word.strip()
    if text[:1] == "+":
        text = text[1:]
    if not text.isdigit() or not text.isascii():
        return None
    n = int(text)
    return n if n < 1 << 63 else None


def render_obuf_limits(limits: Limits) -> str:
    """The classes present in ``limits``, in Redis's order, as CONFIG GET shows them."""
    return " ".join(
        f"{_SHOWN[cls]} {h} {s} {secs}"
        for cls in CLASSES
        if cls in limits
        for h, s, secs in (limits[cls],)
    )


def normalize_obuf_limits(text: str) -> str:
    """Setting normaliser: check ``text`` and spell the classes it names canonically."""
    return render_obuf_limits(parse_obuf_limits(text))


ObufLimits = Annotated[ConfigStr, Normalize(normalize_obuf_limits)]
