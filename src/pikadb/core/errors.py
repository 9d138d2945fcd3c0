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
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", '
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)


def unknown_command(name: bytes, args: list[bytes]) -> str:
    """processCommand's text: the name as ``%.128s`` and the args as ``'%.*s' `` while the
    list is under 128 bytes (C strings: each stops at a NUL). Raw bytes survive as
    surrogate escapes (see protocol.reply.error)."""
    shown = b""
    for a in args:
        if len(shown) >= 128:
            break
        shown += b"'" + a.split(b"\0", 1)[0][: 128 - len(shown)] + b"' "
    head = name.split(b"\0", 1)[0][:128]
    text = b"ERR unknown command '" + head + b"', with args beginning with: " + shown
    return text.decode("utf-8", "surrogateescape")


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


# --- CONFIG (config.c) -----------------------------------------------------------------
CONFIG_SET_UNKNOWN = "ERR Unknown option or number of arguments for CONFIG SET - '{}'"
CONFIG_SET_FAILED = "ERR CONFIG SET failed (possibly related to argument '{}') - {}"
CONFIG_SET_IMMUTABLE = "can't set immutable config"
CONFIG_SET_DUPLICATE = "duplicate parameter"
CONFIG_REWRITE_NO_FILE = "ERR The server is running without a config file"
CONFIG_REWRITE_FAILED = "ERR Rewriting config file: {}"

# --- keyspace / generic (db.c, expire.c, cluster.c) ------------------------------------
UNSUPPORTED_OPTION = "ERR Unsupported option {}"
EXPIRE_NX_AND_OTHERS = "ERR NX and XX, GT or LT options at the same time are not compatible"
EXPIRE_GT_AND_LT = "ERR GT and LT options at the same time are not compatible"
INVALID_CURSOR = "ERR invalid cursor"
INVALID_TTL = "ERR Invalid TTL value, must be >= 0"
INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"
# pikadb: a type whose storage has no DUMP/RESTORE conversion registered yet.
DUMP_UNSUPPORTED = "ERR DUMP of a '{}' value is not supported yet"
RESTORE_UNSUPPORTED = "ERR RESTORE of a '{}' value is not supported yet"
# Pika (pika_command.h CmdRes): an unknown type argument of SCANX / PKSCANRANGE / ...
PIKA_INVALID_DB_TYPE = "ERR invalid DB for '{}'"
PIKA_INVALID_RANGE = "ERR Invalid argument: error in given range"
INT_RANGE = "ERR value is out of range, value must between {} and {}"

# --- strings (t_string.c) --------------------------------------------------------------
DECR_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "ERR String too long for LCS"
LCS_MEMORY = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"

# --- server / introspection (server.c, networking.c, object.c, debug.c) ---------------
INVALID_FIRST_DB = "ERR invalid first DB index"
INVALID_SECOND_DB = "ERR invalid second DB index"
NO_SHUTDOWN_IN_PROGRESS = "ERR No shutdown in progress."
NO_SUCH_CLIENT = "ERR No such client"
CLIENT_ID_POSITIVE = "ERR client-id should be greater than 0"
INVALID_CLIENT_ID = "ERR Invalid client ID"
CLIENT_NAME_INVALID = "ERR Client names cannot contain spaces, newlines or special characters."
CLIENT_ATTR_INVALID = "ERR {} cannot contain spaces, newlines or special characters."
CLIENT_UNRECOGNIZED_OPTION = "ERR Unrecognized option '{}'"
UNKNOWN_CLIENT_TYPE = "ERR Unknown client type '{}'"
NO_SUCH_USER = "ERR No such user '{}'"
GETKEYS_INVALID_COMMAND = "ERR Invalid command specified"
GETKEYS_NO_KEYS = "ERR The command has no key arguments"
GETKEYS_BAD_ARITY = "ERR Invalid number of arguments specified for command"
GETKEYS_BAD_ARGS = "ERR Invalid arguments specified for command"
LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to "
    "adjust."
)
LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
DEBUG_RELOAD_OPTIONS = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
DEBUG_PROTOCOL_TYPE = (
    "ERR Wrong protocol type name. Please use one of the following: "
    "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
)
RESP2_NOT_SUPPORTED = "ERR RESP2 is not supported by this command"


def subcommand_syntax(sub: str, cmd: str) -> str:
    """addReplySubcommandSyntaxError: an unknown subcommand or a wrong argument count."""
    return (
        f"ERR unknown subcommand or wrong number of arguments for '{sub[:128]}'. "
        f"Try {cmd.upper()} HELP."
    )


# pikadb: a type that has not registered its DEBUG DIGEST value walk yet.
DIGEST_UNSUPPORTED = "ERR DEBUG DIGEST of a '{}' value is not supported yet"

# --- sorted sets (t_zset.c) ------------------------------------------------------------
ZSET_NAN = "ERR resulting score is not a number (NaN)"
ZADD_XX_AND_NX = "ERR XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_PAIR = "ERR INCR option supports a single increment-element pair"
ZSET_MIN_MAX_NOT_FLOAT = "ERR min or max is not a float"
ZSET_MIN_MAX_NOT_LEX = "ERR min or max not valid string range item"
ZRANGE_LIMIT_NEEDS_BY = (
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
)
ZRANGE_WITHSCORES_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
ZSET_WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
ZSET_AT_LEAST_ONE_KEY = "ERR at least 1 input key is needed for '{}' command"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
NUMKEYS_POSITIVE = "ERR numkeys should be greater than 0"
COUNT_POSITIVE = "ERR count should be greater than 0"
MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
VALUE_OUT_OF_RANGE = "ERR value is out of range"

# --- lists (t_list.c) ------------------------------------------------------------------
LPOS_RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"

# --- hashes and sets (t_hash.c, t_set.c) -----------------------------------------------
HASH_NOT_INT = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
VALUE_NAN_OR_INF = "ERR value is NaN or Infinity"
NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"

# --- SORT (sort.c) ---------------------------------------------------------------------
SORT_NOT_DOUBLE = "ERR One or more scores can't be converted into double"

# --- geo (geo.c) -----------------------------------------------------------------------
GEO_INVALID_LONLAT = "ERR invalid longitude,latitude pair {},{}"
GEO_UNSUPPORTED_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
GEO_NEED_RADIUS = "ERR need numeric radius"
GEO_RADIUS_NEGATIVE = "ERR radius cannot be negative"
GEO_NEED_WIDTH = "ERR need numeric width"
GEO_NEED_HEIGHT = "ERR need numeric height"
GEO_BOX_NEGATIVE = "ERR height or width cannot be negative"
GEO_MEMBER_NOT_FOUND = "ERR could not decode requested zset member"
GEO_COUNT_POSITIVE = "ERR COUNT must be > 0"
GEO_STORE_WITH = "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
GEO_NEED_FROM = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}"
GEO_NEED_BY = "ERR exactly one of BYRADIUS and BYBOX can be specified for {}"
GEO_ANY_NEEDS_COUNT = "ERR the ANY argument requires COUNT argument"

# --- bitmaps (bitops.c) ----------------------------------------------------------------
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
BIT_ARG = "ERR The bit argument must be 1 or 0."
BITFIELD_TYPE = (
    "ERR Invalid bitfield type. Use something like i16 u8. "
    "Note that u64 is not supported but i64 is."
)
BITFIELD_OVERFLOW = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_GET_ONLY = "ERR BITFIELD_RO only supports the GET subcommand"
BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."

# --- HyperLogLog (hyperloglog.c) -------------------------------------------------------
HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value."
HLL_INVALID = "INVALIDOBJ Corrupted HLL object detected"
HLL_NO_KEY = "ERR The specified key does not exist"
HLL_NOT_SPARSE = "ERR HLL encoding is not sparse"
PFDEBUG_UNKNOWN = "ERR Unknown PFDEBUG subcommand '{}'"
HLL_TESTFAILED = "ERR TESTFAILED {}"

# --- pub/sub (pubsub.c, server.c processCommand) ---------------------------------------
SSUBSCRIBE_DENY_BLOCKING = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"


def subscribed_context(cmd: str) -> str:
    """A RESP2 client in subscribed mode ran something else (``cmd``: Redis's fullname)."""
    return (
        f"ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
        "RESET are allowed in this context"
    )


# --- transactions, MONITOR, SLOWLOG, LATENCY, CLIENT PAUSE (multi.c, server.c, ...) -------
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
MULTI_NESTED = "ERR MULTI calls can not be nested"
WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed"
NOT_IN_TRANSACTION = "ERR Command not allowed inside a transaction"
REPLICA_KEYSPACE = "ERR Replica can't interact with the keyspace"
MONITOR_DENY_BLOCKING = "ERR MONITOR isn't allowed for DENY BLOCKING client"
SLOWLOG_COUNT = "ERR count should be greater than or equal to -1"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
CLIENT_PAUSE_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL"
LATENCY_NO_SAMPLES = "ERR No samples available for event '{}'"

# --- streams (t_stream.c, Redis 7.0) ---------------------------------------------------
STREAM_INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
STREAM_INVALID_START = "ERR invalid start ID for the interval"
STREAM_INVALID_END = "ERR invalid end ID for the interval"
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
XADD_ID_TOO_SMALL = (
    "ERR The ID specified in XADD is equal or smaller than the target stream top item"
)
XADD_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
XADD_TOO_LARGE = "ERR Elements are too large to be stored"
XTRIM_MAXLEN_AND_MINID = (
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
)
XTRIM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
XTRIM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
XTRIM_LIMIT_NO_STRATEGY = (
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
)
XTRIM_NO_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
XTRIM_LIMIT_NO_TILDE = "ERR syntax error, LIMIT cannot be used without the special ~ option"
XSETID_ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive"
XSETID_BELOW_MAX_DELETED = (
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
)
XSETID_BELOW_TOP = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_ADDED_BELOW_LENGTH = (
    "ERR The entries_added specified in XSETID is smaller than the target stream length"
)
XREAD_UNBALANCED = (
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
)
XREAD_GROUP_OPTION = (
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
)
XREAD_NOACK_OPTION = (
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
)
XREADGROUP_MISSING_GROUP = "ERR Missing GROUP option for XREADGROUP"
XREAD_GT_ID = (
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
    "<consumer> option."
)
XREADGROUP_DOLLAR_ID = (
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history "
    "of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ "
    "ID would just return an empty result set."
)
XGROUP_NEED_KEY = (
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
    "to use the MKSTREAM option to create an empty stream automatically."
)
XGROUP_ENTRIESREAD = "ERR value for ENTRIESREAD must be positive or -1"
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
NOGROUP_FOR_KEY = "NOGROUP No such consumer group '{}' for key name '{}'"
NOGROUP_KEY_OR_GROUP = "NOGROUP No such key '{}' or consumer group '{}'"
NOGROUP_IN_XREADGROUP = (
    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option"
)
NOGROUP_BLOCKED = "NOGROUP the consumer group this client was blocked on no longer exists"
UNBLOCKED_STREAM_DELETED = "UNBLOCKED the stream key no longer exists"
XCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XCLAIM"
XCLAIM_IDLE = "ERR Invalid IDLE option argument for XCLAIM"
XCLAIM_TIME = "ERR Invalid TIME option argument for XCLAIM"
XCLAIM_RETRYCOUNT = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
XCLAIM_UNKNOWN_OPTION = "ERR Unrecognized XCLAIM option '{}'"
XAUTOCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
XAUTOCLAIM_COUNT = "ERR COUNT must be > 0"


# --- scripting: EVAL / SCRIPT / FUNCTION / FCALL (commands/scripting.py, functions.py) -----
# (errors raised inside scripts -- redis.call, the sandbox, cjson... -- are worded in the Lua
# code of commands/_lua_prelude.py and _lua_libs.py, where they are raised)
NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
NOTBUSY = "NOTBUSY No scripts in execution right now."
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
    "can either wait the script termination or kill the server in a hard way using the "
    "SHUTDOWN NOSAVE command."
)
BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = (
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)
SCRIPT_RO_WITH_WRITE = "ERR Can not execute a script with write flag using *_ro command."
NUMKEYS_GREATER = "ERR Number of keys can't be greater than number of args"
NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative"
FCALL_BAD_NUMKEYS = "ERR Bad number of keys provided"
FUNCTION_NOT_FOUND = "ERR Function not found"
LIBRARY_NOT_FOUND = "ERR Library not found"
LIBRARY_BAD_NAME = (
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
    "least one character long"
)
SCRIPT_FLUSH_OPTION = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
FUNCTION_FLUSH_OPTION = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
FUNCTION_RESTORE_POLICY = (
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
)


# --- CLIENT UNBLOCK ------------------------------------------------------------------------------
UNBLOCK_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"


# --- replication (commands/replication.py, src/pikadb/replication) -------------------------------
READONLY_REPLICA = "READONLY You can't write against a read only replica."
WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if "
    "a replica is configured to be writable (which is not the default) writes to replicas are "
    "just local and are not propagated."
)
REPLICAOF_FROM_REPLICA = "ERR Command is not valid when client is a replica."
ALREADY_CONNECTED_MASTER = "OK Already connected to specified master"
REPLCONF_UNRECOGNIZED = "ERR Unrecognized REPLCONF option: {}"
PSYNC_NOT_REPLICA_LINK = "ERR Replica can't be a client of a non-master node"
PURGELOGSTO_BAD = "ERR Invalid binlog file name or sequence"
PURGELOGSTO_IN_USE = "ERR The binlog is still needed by a replica or is the last one"

# --- NET: transport and limits (server/connection.py, server/tls.py, protocol/parser.py) ---
PROTO_UNAUTH_MULTIBULK = "unauthenticated multibulk length"
PROTO_UNAUTH_BULK = "unauthenticated bulk length"
TLS_UPDATE_FAILED = "Unable to update TLS configuration. Check server logs."
TLS_PORT_BIND_FAILED = "Unable to listen on this port. Check server logs."
MAXCLIENTS_OS_LIMIT = (
    "The operating system is not able to handle the specified number of clients, try with {}"
)

# --- CACHE: hot-data cache (commands/cache_cmd.py) -------------------------------------------
CACHE_SUBCOMMAND = "ERR Unknown cache subcommand or wrong # of args."

# --- OPS: snapshots, compaction, disk recovery (commands/admin.py) -------------------------
BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
SAVE_FAILED = "ERR snapshot failed: {}"
INVALID_DB_NAME = "ERR invalid DB name '{}'"
DISK_INSUFFICIENT = "ERR The available disk capacity is insufficient"
DISK_RECOVERY_FAILED = "ERR The restore operation failed: {}"
SHUTTING_DOWN = "ERR the server is shutting down"

# --- ACL (commands/acl.py, commands/_acl_*.py; Redis 7.0.15 texts) ---------------------------
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = (
    "NOPERM this user has no permissions to access one of the channels used as arguments"
)
NOPERM_EXEC = (
    "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
    "call. This command is no longer allowed for the following reason: {}"
)
# by denial reason (1 command, 2 key, 4 channel), for EXEC and for scripts' redis.call
NOPERM_EXEC_REASONS = {
    1: "no permission to execute the command or subcommand",
    2: "no permission to touch the specified keys",
    4: "no permission to access one of the channels used as arguments",
}
SCRIPT_NOPERM = {
    1: "ERR The user executing the script can't run this command or subcommand",
    2: "ERR The user executing the script can't access at least one of the keys mentioned in "
    "the command arguments",
    4: "ERR The user executing the script can't publish to the channel mentioned in the command",
}
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
    "protocol version at the same time"
)
ACL_USERNAME_SPACES = "ERR Usernames can't contain spaces or null characters"
ACL_DEFAULT_UNDELETABLE = "ERR The 'default' user cannot be removed"
ACL_GENPASS_BITS = (
    "ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
    "number up to 4096"
)
ACL_NO_FILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration."
)
ACL_SAVE_FAILED = (
    "ERR There was an error trying to save the ACLs. Please check the server logs for more "
    "information"
)
ACL_DUPLICATE_USER = "Duplicate user found. A user can only be defined once in config files"
PROTECTED_MODE = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. If you want to connect from external computers to Redis you may "
    "adopt one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    "the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    "from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    "Alternatively you can just disable the protected mode by editing the Redis "
    "configuration file, and setting the protected mode option to 'no', and then restarting "
    "the server. 3) If you started the server manually just for testing, restart it with the "
    "'--protected-mode no' option. 4) Setup a an authentication password for the default "
    "user. NOTE: You only need to do one of the above things in order for the server to "
    "start accepting connections from the outside."
)


def noperm_command(name: str) -> str:
    return f"NOPERM this user has no permissions to run the '{name}' command"


def acl_setuser_error(op: str, reason: str) -> str:
    return f"ERR Error in ACL SETUSER modifier '{op}': {reason}"


def acl_unmatched_paren(arg: str) -> str:
    return f"ERR Unmatched parenthesis in acl selector starting at '{arg}'."


def acl_unknown_category(name: str) -> str:
    return f"ERR Unknown category '{name[:128]}'"


def acl_user_not_found(name: str) -> str:
    return f"ERR User '{name}' not found"


def acl_command_not_found(name: str) -> str:
    return f"ERR Command '{name}' not found"


INVALID_MASTER_PORT = "ERR Invalid master port"
