"""Every error text a client can see, in one place, worded exactly as Redis 7 words it.

Commands raise :class:`CommandError` (or a subclass); the dispatcher turns it into a
``-<message>\\r\\n`` reply. The message carries its own prefix (``ERR``, ``WRONGTYPE``, ...).
"""

from __future__ import annotations


class CommandError(Exception):
    """An error reply. ``message`` is the full text after the ``-`` (prefix included)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def prefix(self) -> str:
        """The error code Redis counts in INFO errorstats (``ERR``, ``WRONGTYPE``, ...)."""
        return self.message.split(" ", 1)[0]


class ProtocolError(Exception):
    """Malformed RESP: the reply is sent and the connection is closed, as Redis does."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.message = f"ERR Protocol error: {detail}"


# --- generic ---------------------------------------------------------------------------
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
INCR_OVERFLOW = "ERR increment or decrement would overflow"
INCR_NAN_OR_INF = "ERR increment would produce NaN or Infinity"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NO_SUCH_KEY = "ERR no such key"
OUT_OF_RANGE = "ERR index out of range"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range"
SAME_OBJECT = "ERR source and destination objects are the same"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
BUSYKEY = "BUSYKEY Target key name already exists."
DEBUG_DISABLED = (
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)


def unknown_command(name: str, args: list[str]) -> str:
    shown = " ".join(f"'{a[:128]}'" for a in args)
    return f"ERR unknown command '{name[:128]}', with args beginning with: {shown}" + (
        " " if args else ""
    )


def unknown_subcommand(sub: str, cmd: str) -> str:
    return f"ERR unknown subcommand '{sub[:128]}'. Try {cmd.upper()} HELP."


def wrong_arity(name: str) -> str:
    return f"ERR wrong number of arguments for '{name}' command"


def invalid_expire(cmd: str) -> str:
    return INVALID_EXPIRE.format(cmd)


# --- connection / auth -----------------------------------------------------------------
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NO_PASSWORD = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
NOPROTO = "NOPROTO unsupported protocol version"
MAX_CLIENTS = "ERR max number of clients reached"
ONLY_LOCAL_DEBUG = DEBUG_DISABLED

# --- protocol (the text after "Protocol error: ") --------------------------------------
PROTO_INVALID_MULTIBULK = "invalid multibulk length"
PROTO_INVALID_BULK = "invalid bulk length"
PROTO_TOO_BIG_MBULK = "too big mbulk count string"
PROTO_TOO_BIG_BULK = "too big bulk count string"
PROTO_UNBALANCED_QUOTES = "unbalanced quotes in request"
PROTO_TOO_BIG_INLINE = "too big inline request"


def proto_expected_dollar(got: str) -> str:
    return f"expected '$', got '{got}'"
