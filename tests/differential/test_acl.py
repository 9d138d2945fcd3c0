"""ACL scenarios (Redis's acl.tcl / acl-v2.tcl) run step by step on pikadb and on a real
redis-server 7.0, every reply compared on the wire (RESP2 and RESP3 for the introspection).

Each scenario drives an admin connection ``A`` and user connections ``U`` / ``V`` per server.
Normalised before comparing, because Redis itself doesn't fix them: the order of single
commands in a rule description (Redis walks a hash table), ACL LOG's age and client-info
(only ``user=`` / ``cmd=`` / ``flags=`` / ``multi=`` compared), random GENPASS output.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.differential.harness import Closed, Double, Err, RMap, Side, same
from tests.support.servers import PikaServer, RedisServer

Step = tuple[Any, ...]


def _sha(p: str) -> str:
    return hashlib.sha256(p.encode()).hexdigest()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[int, int, str]]:
    acl_dir = tempfile.mkdtemp(prefix="acl-diff-")
    pfile, rfile = os.path.join(acl_dir, "p.acl"), os.path.join(acl_dir, "r.acl")
    for f in (pfile, rfile):
        open(f, "w").close()
    p = PikaServer(args=["--set", f"aclfile={pfile}"]).start()
    q = RedisServer().start("--aclfile", rfile)
    yield p.port, q.port, acl_dir
    p.cleanup()
    q.cleanup()


class Run:
    """Both servers' connections by label; replies normalised and compared."""

    def __init__(self, pport: int, qport: int, resp: int) -> None:
        self.sides = {"p": pport, "q": qport}
        self.resp = resp
        self.conns: dict[tuple[str, str], Side] = {}
        self.diffs: list[str] = []

    def side(self, server: str, label: str) -> Side:
        key = (server, label)
        if key not in self.conns:
            self.conns[key] = Side(f"{server}{label}", self.sides[server], self.resp)
        return self.conns[key]

    def step(self, label: str, *args: Any) -> tuple[Any, Any]:
        a = self.side("p", label).call(*args)
        b = self.side("q", label).call(*args)
        na, nb = normalise(a, args), normalise(b, args)
        if isinstance(na, Err) and isinstance(nb, Err):  # ACL LOAD errors name the file
            na = Err(re.sub(r"/\S+/[pr]\.acl", "FILE", na))
            nb = Err(re.sub(r"/\S+/[pr]\.acl", "FILE", nb))
        if not same(na, nb):
            self.diffs.append(f"{label} {args!r}\n    pikadb: {a!r}\n    redis:  {b!r}")
        return a, b

    def reset(self) -> None:
        for server in ("p", "q"):
            admin = self.side(server, "A")
            users = admin.call("ACL", "USERS")
            for u in users if isinstance(users, list) else []:
                if u != b"default":
                    admin.call("ACL", "DELUSER", u)
            admin.call("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all")
            admin.call("ACL", "LOG", "RESET")
            admin.call("FLUSHALL")
        for (_, label), side in list(self.conns.items()):
            if label != "A":
                side.close()

    def close(self) -> None:
        for side in self.conns.values():
            side.close()


_CMD_TOKEN = re.compile(rb"^[+-]")


def _norm_rules(text: bytes) -> bytes:
    """Sort the command rules after the leading +@all/-@all in every selector description."""
    parts = text.split(b" (")
    out = []
    for part in parts:
        closing = part.endswith(b")")
        body = part[:-1] if closing else part
        words = body.split(b" ")
        fixed = [w for w in words if not _CMD_TOKEN.match(w) or w in (b"+@all", b"-@all")]
        rules = sorted(w for w in words if _CMD_TOKEN.match(w) and w not in (b"+@all", b"-@all"))
        out.append(b" ".join(fixed + rules) + (b")" if closing else b""))
    return b" (".join(out)


_CINFO_FIELDS = (b"user", b"cmd", b"flags", b"multi", b"db")


def _norm_cinfo(text: bytes) -> bytes:
    fields = dict(f.split(b"=", 1) for f in text.split(b" ") if b"=" in f)
    return b" ".join(k + b"=" + fields.get(k, b"?") for k in _CINFO_FIELDS)


def normalise(v: Any, args: tuple[Any, ...]) -> Any:
    if isinstance(v, Closed):
        return Closed("closed")
    words = [a.upper() if isinstance(a, str) else a for a in args[:2]]
    if words == ["ACL", "GENPASS"] and isinstance(v, bytes) and not isinstance(v, Err):
        return len(v)
    return _walk(v)


def _walk(v: Any) -> Any:
    if isinstance(v, RMap):
        out = RMap()
        for k, x in v:
            if k == b"age-seconds":
                x = Double(b"age")
            elif k == b"id":  # HELLO's client id
                x = 0
            elif k == b"client-info":
                x = _norm_cinfo(x)
            elif k == b"commands" and isinstance(x, bytes):
                x = _norm_rules(x)
            out.append((k, _walk(x)))
        return out
    if isinstance(v, list):
        # RESP2 maps arrive as flat lists: normalise by position
        out2 = type(v)()
        for i, x in enumerate(v):
            prev = v[i - 1] if i else None
            if prev == b"age-seconds":
                x = b"age"
            elif prev == b"id" and isinstance(x, int):
                x = 0
            elif prev == b"client-info" and isinstance(x, bytes):
                x = _norm_cinfo(x)
            elif (prev == b"commands" and isinstance(x, bytes)) or (
                isinstance(x, bytes) and x.startswith(b"user ")
            ):
                x = _norm_rules(x)
            out2.append(_walk(x))
        return out2
    return v


# --- scenarios ---------------------------------------------------------------------------------
PASSWORDS: list[Step] = [
    ("A", "ACL", "SETUSER", "newuser"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("A", "ACL", "USERS"),
    ("A", "ACL", "LIST"),
    ("U", "AUTH", "newuser", "passwd1"),
    ("A", "ACL", "SETUSER", "newuser", "on", ">passwd1"),
    ("U", "AUTH", "newuser", "passwd1"),
    ("U", "ACL", "WHOAMI"),
    ("A", "ACL", "SETUSER", "newuser", ">passwd2", ">passwd2"),
    ("U", "AUTH", "newuser", "passwd2"),
    ("U", "AUTH", "newuser", "passwd3"),
    ("A", "ACL", "SETUSER", "newuser", "<passwd1"),
    ("U", "AUTH", "newuser", "passwd1"),
    ("A", "ACL", "SETUSER", "newuser", "<passwd1"),
    ("A", "ACL", "SETUSER", "newuser", "#" + _sha("passwd4")),
    ("U", "AUTH", "newuser", "passwd4"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("A", "ACL", "SETUSER", "newuser", "!" + _sha("passwd4")),
    ("U", "AUTH", "newuser", "passwd4"),
    ("A", "ACL", "SETUSER", "newuser", "!" + _sha("passwd4")),
    ("A", "ACL", "SETUSER", "newuser", "#abc"),
    ("A", "ACL", "SETUSER", "newuser", "#" + _sha("x").upper()),
    ("A", "ACL", "SETUSER", "newuser", "nopass"),
    ("U", "AUTH", "newuser", "zipzap"),
    ("A", "ACL", "SETUSER", "newuser", "resetpass"),
    ("U", "AUTH", "newuser", "zipzap"),
    ("A", "ACL", "SETUSER", "newuser", "off", "nopass"),
    ("U", "AUTH", "newuser", "zipzap"),
    ("A", "ACL", "SETUSER", "bad user"),
    ("A", "ACL", "SETUSER", "bad\x00user"),
    ("A", "ACL", "LIST"),
    ("A", "ACL", "LOG"),
    ("U", "AUTH", "a", "b", "c"),
    ("U", "AUTH", "onlypass"),
    ("A", "ACL", "SETUSER", "default", "resetpass", ">defpw"),
    ("U", "AUTH", "defpw"),
    ("U", "AUTH", "wrong"),
    ("V", "PING"),
    ("V", "HELLO", "2", "AUTH", "default", "wrong"),
    ("V", "HELLO", "2"),
    ("V", "HELLO", "2", "AUTH", "default", "defpw", "SETNAME", "bad name"),
    ("V", "AUTH", "default", "defpw"),
    ("V", "ACL", "WHOAMI"),
    ("A", "ACL", "LOG", "2"),
]

COMMANDS: list[Step] = [
    ("A", "ACL", "SETUSER", "newuser", "reset", "on", "nopass", "~*", "-@all"),
    ("U", "AUTH", "newuser", "x"),
    ("U", "SET", "foo", "bar"),
    ("A", "ACL", "SETUSER", "newuser", "+set"),
    ("U", "SET", "foo", "bar"),
    ("U", "GET", "foo"),
    ("A", "ACL", "SETUSER", "newuser", "+@all", "-config|set", "-debug", "+debug|digest"),
    ("U", "GET", "foo"),
    ("U", "CONFIG", "SET", "maxmemory", "0"),
    ("U", "CONFIG", "RESETSTAT"),
    ("U", "DEBUG", "SLEEP", "0"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("A", "ACL", "SETUSER", "newuser", "-@all", "+select|0", "+acl|whoami"),
    ("U", "SELECT", "0"),
    ("U", "SELECT", "1"),
    ("U", "ACL", "WHOAMI"),
    ("U", "ACL", "USERS"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("A", "ACL", "SETUSER", "newuser", "+config|get|x"),
    ("A", "ACL", "SETUSER", "newuser", "+select|"),
    ("A", "ACL", "SETUSER", "newuser", "-select|0"),
    ("A", "ACL", "SETUSER", "newuser", "+nosuchcommand"),
    ("A", "ACL", "SETUSER", "newuser", "+@nosuchcategory"),
    ("A", "ACL", "SETUSER", "newuser", "+config|nosuch"),
    ("A", "ACL", "SETUSER", "newuser", "whatever"),
    ("A", "ACL", "SETUSER", "newuser", "+@all", "-get", "+get"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("A", "ACL", "SETUSER", "newuser", "-@all", "+@read", "-get"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("A", "ACL", "SETUSER", "newuser", "nocommands", "+config"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("U", "CONFIG", "RESETSTAT"),
    ("A", "ACL", "SETUSER", "newuser", "-config", "+config|resetstat"),
    ("U", "CONFIG", "RESETSTAT"),
    ("U", "CONFIG", "GET", "x"),
    ("A", "ACL", "SETUSER", "newuser", "allcommands", "-@dangerous"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("U", "FLUSHALL"),
    ("U", "PING"),
    ("A", "ACL", "SETUSER", "newuser", "reset"),
    ("A", "ACL", "GETUSER", "newuser"),
    ("A", "ACL", "LIST"),
    ("A", "ACL", "SETUSER", "newuser", "on", "nopass", "-@all", "+auth", "+hello"),
    ("U", "HELLO", "2", "AUTH", "newuser", "x"),
    ("U", "PING"),
]

KEYS: list[Step] = [
    (
        "A",
        "ACL",
        "SETUSER",
        "ku",
        "on",
        "nopass",
        "+@all",
        "~obj:*",
        "~foo",
        "%R~read*",
        "%W~write*",
    ),
    ("A", "ACL", "SETUSER", "ku", "%R~rw", "%W~rw", "%RW~x"),
    ("A", "ACL", "GETUSER", "ku"),
    ("U", "AUTH", "ku", "x"),
    ("U", "SET", "foo", "1"),
    ("U", "SET", "obj:1", "1"),
    ("U", "SET", "bar", "1"),
    ("U", "MSET", "obj:1", "1", "bar", "2"),
    ("U", "GET", "readme"),
    ("U", "SET", "readme", "1"),
    ("U", "LPUSH", "writelist", "1"),
    ("U", "GET", "writelist"),
    ("U", "COPY", "readme", "writelist"),
    ("U", "COPY", "writelist", "readme"),
    ("U", "GET", "rw"),
    ("A", "ACL", "SETUSER", "ku", "~*", "~more"),
    ("A", "ACL", "SETUSER", "ku", "%Q~x"),
    ("A", "ACL", "SETUSER", "ku", "~has space"),
    ("A", "ACL", "SETUSER", "dr", "+@all", "%R~read*", "%W~write*", "%RW~rw*"),
    ("A", "ACL", "DRYRUN", "dr", "GET", "read"),
    ("A", "ACL", "DRYRUN", "dr", "GET", "write"),
    ("A", "ACL", "DRYRUN", "dr", "SET", "read", "1"),
    ("A", "ACL", "DRYRUN", "dr", "SET", "rw1", "1"),
    ("A", "ACL", "DRYRUN", "nosuch", "GET", "read"),
    ("A", "ACL", "DRYRUN", "dr", "nosuch", "read"),
    ("A", "ACL", "DRYRUN", "dr", "GET"),
    ("A", "ACL", "DRYRUN", "dr", "CONFIG", "nosuch"),
    ("A", "ACL", "DRYRUN", "dr", "SORT", "read", "STORE", "write"),
    ("A", "ACL", "DRYRUN", "dr", "SORT", "read", "STORE", "read"),
    ("A", "ACL", "DRYRUN", "dr", "SORT", "write", "STORE", "write"),
    ("A", "ACL", "DRYRUN", "dr", "EVAL", "", "1", "rw1"),
    ("A", "ACL", "DRYRUN", "dr", "EVAL", "", "1", "read"),
    ("A", "ACL", "DRYRUN", "dr", "EVAL_RO", "", "1", "read"),
    ("A", "ACL", "DRYRUN", "dr", "EVAL", "", "0", "read"),
    ("A", "ACL", "DRYRUN", "dr", "GEORADIUS", "read", "1", "2", "3", "M", "STOREDIST", "write"),
    ("A", "ACL", "DRYRUN", "dr", "GEORADIUS", "read1", "1", "2", "3", "M", "STORE", "read2"),
    ("A", "ACL", "DRYRUN", "dr", "HEXISTS", "read", "foo"),
    ("A", "ACL", "DRYRUN", "dr", "HEXISTS", "write", "foo"),
    ("A", "ACL", "DRYRUN", "dr", "HEXISTS", "nothing", "foo"),
    ("A", "ACL", "DRYRUN", "dr", "SISMEMBER", "write", "foo"),
    ("A", "ACL", "DRYRUN", "dr", "SINTERCARD", "2", "read", "read"),
    ("A", "ACL", "DRYRUN", "dr", "SINTERCARD", "2", "write", "read"),
    ("A", "ACL", "DRYRUN", "dr", "ZCOUNT", "write", "0", "1"),
    ("A", "ACL", "DRYRUN", "dr", "PFCOUNT", "read", "write"),
    ("A", "ACL", "DRYRUN", "dr", "TOUCH", "read"),
    ("A", "ACL", "DRYRUN", "dr", "TOUCH", "write"),
    ("A", "ACL", "DRYRUN", "dr", "EXISTS", "write"),
    ("A", "ACL", "DRYRUN", "dr", "DEL", "read"),
    ("A", "ACL", "DRYRUN", "dr", "DEL", "write"),
    ("A", "ACL", "DRYRUN", "dr", "RENAME", "rw1", "write"),
    ("A", "ACL", "DRYRUN", "dr", "LMOVE", "read", "write", "LEFT", "RIGHT"),
    ("A", "ACL", "DRYRUN", "dr", "LMOVE", "rw", "rw", "LEFT", "RIGHT"),
    ("A", "ACL", "DRYRUN", "dr", "ZUNIONSTORE", "write", "2", "read", "rw"),
    ("A", "ACL", "DRYRUN", "dr", "ZUNIONSTORE", "read", "2", "read", "rw"),
    ("A", "ACL", "DRYRUN", "dr", "XREAD", "STREAMS", "read", "0"),
    ("A", "ACL", "DRYRUN", "dr", "XADD", "read", "*", "a", "b"),
    ("A", "ACL", "DRYRUN", "dr", "BLPOP", "read", "write", "0"),
    ("A", "ACL", "DRYRUN", "dr", "OBJECT", "ENCODING", "write"),
    ("A", "ACL", "DRYRUN", "dr", "PING"),
]

SELECTORS: list[Step] = [
    ("A", "ACL", "SETUSER", "selector-1", "on", "-@all", "resetkeys", "nopass"),
    ("U", "AUTH", "selector-1", "password"),
    ("U", "PING"),
    ("U", "SET", "write::foo", "bar"),
    ("A", "ACL", "SETUSER", "selector-1", "(+@write ~write::*)", "(+@read ~read::*)"),
    ("U", "SET", "write::foo", "bar"),
    ("U", "GET", "read::foo"),
    ("U", "GET", "write::foo"),
    ("U", "SET", "read::foo", "bar"),
    ("A", "ACL", "GETUSER", "selector-1"),
    ("A", "ACL", "SETUSER", "selector-default", "reset", "()"),
    ("A", "ACL", "GETUSER", "selector-default"),
    ("A", "ACL", "SETUSER", "selector-del", "on", "(~added-selector)"),
    ("A", "ACL", "SETUSER", "selector-del", "clearselectors"),
    ("A", "ACL", "GETUSER", "selector-del"),
    ("A", "ACL", "SETUSER", "selector-syntax", "on", "(this-is-invalid)"),
    ("A", "ACL", "SETUSER", "selector-syntax", "on", "(&fail)"),
    ("A", "ACL", "SETUSER", "selector-syntax", "on", "&*", "(&fail)"),
    ("A", "ACL", "GETUSER", "selector-syntax"),
    ("A", "ACL", "SETUSER", "selector-2", "(~key1 +get )", "( ~key2 +get )", "( ~key3 +get)"),
    ("A", "ACL", "SETUSER", "selector-2", "(~key5", "+get", ")", "(", "~key6", "+get", ")"),
    ("A", "ACL", "GETUSER", "selector-2"),
    ("A", "ACL", "SETUSER", "invalid-selector", " () "),
    ("A", "ACL", "SETUSER", "invalid-selector", "("),
    ("A", "ACL", "SETUSER", "invalid-selector", ")"),
    ("A", "ACL", "SETUSER", "invalid-selector", "(+get", "(~x", "+set)"),
    ("A", "ACL", "SETUSER", "rws", "on", "nopass", "(%R~read* +@all)", "(%W~write* +@all)"),
    ("U", "AUTH", "rws", "x"),
    ("U", "LPUSH", "writelist", "10"),
    ("U", "GET", "writestr"),
    ("U", "GET", "readstr"),
    ("U", "SET", "readstr", "bar"),
    ("U", "COPY", "read", "write"),
    ("A", "ACL", "SETUSER", "ls", "on", "nopass", "+mget", "~key", "(+mget ~key ~otherkey)"),
    ("U", "AUTH", "ls", "x"),
    ("A", "ACL", "LOG", "RESET"),
    ("U", "GET", "key"),
    ("U", "MGET", "otherkey", "someotherkey"),
    ("U", "MGET", "key", "otherkey", "someotherkey"),
    ("A", "ACL", "LOG"),
    (
        "A",
        "ACL",
        "SETUSER",
        "info",
        "-@all",
        "+get",
        "resetchannels",
        "&channel1",
        "%R~foo1",
        "%W~bar1",
        "~baz1",
        "(-@all +set resetchannels &channel2 %R~foo2 %W~bar2 ~baz2)",
    ),
    ("A", "ACL", "GETUSER", "info"),
    ("A", "ACL", "LIST"),
]

CHANNELS: list[Step] = [
    (
        "A",
        "ACL",
        "SETUSER",
        "psuser",
        "on",
        "nopass",
        "+@all",
        "~*",
        "resetchannels",
        "&foo:1",
        "&bar:*",
    ),
    ("A", "ACL", "GETUSER", "psuser"),
    ("U", "AUTH", "psuser", "x"),
    ("U", "PUBLISH", "foo:1", "m"),
    ("U", "PUBLISH", "foo:2", "m"),
    ("U", "PUBLISH", "bar:9", "m"),
    ("U", "SPUBLISH", "zap", "m"),
    ("U", "PSUBSCRIBE", "bar:*"),
    ("U", "PUNSUBSCRIBE"),
    ("U", "PSUBSCRIBE", "bar:2"),
    ("U", "SUBSCRIBE", "foo:1", "nope"),
    ("U", "MULTI"),
    ("U", "PUBLISH", "zzz", "m"),
    ("U", "PUBLISH", "foo:1", "m"),
    ("U", "EXEC"),
    ("V", "AUTH", "psuser", "x"),
    ("V", "SUBSCRIBE", "foo:1"),
    ("A", "ACL", "SETUSER", "psuser", "&other"),
    ("V", "PING"),
    ("A", "ACL", "SETUSER", "psuser", "resetchannels", "&bar:*"),
    ("V", "PING"),
    ("A", "ACL", "LOG"),
    ("A", "ACL", "SETUSER", "chall", "allchannels", "&x"),
    ("A", "ACL", "SETUSER", "chall", "&has space"),
]

TRANSACTIONS_AND_SCRIPTS: list[Step] = [
    ("A", "ACL", "SETUSER", "tu", "on", "nopass", "+@all", "-lpush", "~k*", "&ch*"),
    ("U", "AUTH", "tu", "x"),
    ("U", "MULTI"),
    ("U", "SET", "k1", "1"),
    ("U", "LPUSH", "k2", "1"),
    ("U", "EXEC"),
    ("U", "MULTI"),
    ("U", "SET", "k1", "2"),
    ("U", "GET", "zz"),
    ("U", "EXEC"),
    ("U", "MULTI"),
    ("U", "SET", "k1", "3"),
    ("U", "INCR", "k3"),
    ("U", "PUBLISH", "ch1", "m"),
    ("A", "ACL", "SETUSER", "tu", "-set", "resetkeys", "~k1", "resetchannels"),
    ("U", "EXEC"),
    ("A", "ACL", "SETUSER", "tu", "+set", "allkeys", "&ch*"),
    ("U", "EVAL", "return redis.call('lpush', KEYS[1], 'a')", "1", "k1"),
    ("A", "ACL", "SETUSER", "tu", "+lpush", "resetkeys", "~k*"),
    ("U", "EVAL", "return redis.call('get', 'zz')", "0"),
    ("U", "EVAL", "return redis.pcall('get', 'zz')", "0"),
    ("U", "EVAL", "return redis.call('publish', 'other', 'm')", "0"),
    ("U", "EVAL", "return redis.call('get', 'k1')", "0"),
    ("U", "EVAL", "return redis.acl_check_cmd('get', 'k1')", "0"),
    ("A", "ACL", "SETUSER", "tu", "-get"),
    ("U", "EVAL", "return redis.call('get', 'k1')", "0"),
    ("A", "ACL", "LOG"),
    ("A", "ACL", "LOG", "1"),
    ("A", "ACL", "LOG", "-5"),
    ("A", "ACL", "LOG", "x"),
    ("A", "ACL", "LOG", "RESET"),
    ("A", "ACL", "LOG"),
]

CLIENTS_AND_MISC: list[Step] = [
    ("A", "ACL", "SETUSER", "du", "on", "nopass", "+@all", "~*"),
    ("U", "AUTH", "du", "x"),
    ("V", "AUTH", "du", "x"),
    ("U", "ACL", "WHOAMI"),
    ("A", "ACL", "DELUSER", "du", "nosuch"),
    ("U", "PING"),
    ("U", "ACL", "WHOAMI"),
    ("A", "ACL", "SETUSER", "du", "on", "nopass", "+@all", "~*"),
    ("U", "AUTH", "du", "x"),
    ("U", "ACL", "DELUSER", "du"),
    ("U", "PING"),
    ("A", "ACL", "DELUSER", "default"),
    ("A", "ACL", "DELUSER", "default", "x"),
    ("A", "ACL", "DELUSER"),
    ("A", "ACL", "GETUSER"),
    ("A", "ACL", "GETUSER", "a", "b"),
    ("A", "ACL", "WHOAMI", "x"),
    ("A", "ACL", "USERS", "x"),
    ("A", "ACL", "LIST", "x"),
    ("A", "ACL", "CAT"),
    ("A", "ACL", "CAT", "nosuch"),
    ("A", "ACL", "CAT", "a", "b"),
    ("A", "ACL", "GENPASS"),
    ("A", "ACL", "GENPASS", "5"),
    ("A", "ACL", "GENPASS", "4096"),
    ("A", "ACL", "GENPASS", "0"),
    ("A", "ACL", "GENPASS", "4097"),
    ("A", "ACL", "GENPASS", "x"),
    ("A", "ACL", "GENPASS", "-5"),
    ("A", "ACL", "HELP"),
    ("A", "ACL", "HELP", "x"),
    ("A", "ACL", "FOO"),
    ("A", "ACL"),
    ("A", "ACL", "SETUSER"),
    ("A", "ACL", "DRYRUN", "default"),
    ("A", "ACL", "SETUSER", "off1", "off"),
    ("U", "AUTH", "off1", "x"),
    ("A", "ACL", "SETUSER", "adm", "on", ">admpw", "~*", "&*", "+@all"),
    ("B", "AUTH", "adm", "admpw"),
    ("A", "ACL", "SETUSER", "default", "off"),
    ("V", "PING"),
    ("V", "AUTH", "default", "x"),
    ("A", "ACL", "SETUSER", "default", "on", "nopass", "-@all"),
    ("V", "PING"),
    ("V", "HELLO", "2", "AUTH", "default", "x"),
    ("A", "PING"),
    ("B", "ACL", "SETUSER", "default", "+@all"),
    ("V", "PING"),
    ("A", "ACL", "SAVE"),
    ("A", "ACL", "LOAD"),
    ("A", "ACL", "LIST"),
]

SCENARIOS = {
    "passwords": PASSWORDS,
    "commands": COMMANDS,
    "keys": KEYS,
    "selectors": SELECTORS,
    "channels": CHANNELS,
    "exec-and-scripts": TRANSACTIONS_AND_SCRIPTS,
    "clients-and-misc": CLIENTS_AND_MISC,
}


# RESP3 for the scenarios whose replies have maps / sets / doubles (GETUSER, LOG)
CASES = [(name, 2) for name in SCENARIOS] + [
    (name, 3) for name in ("passwords", "selectors", "exec-and-scripts")
]


@pytest.mark.parametrize(("name", "resp"), CASES)
def test_acl_scenario_matches_redis(servers: tuple[int, int, str], name: str, resp: int) -> None:
    pport, qport, _ = servers
    run = Run(pport, qport, resp)
    try:
        run.reset()
        for label, *args in SCENARIOS[name]:
            run.step(label, *args)
        run.reset()
    finally:
        run.close()
    assert not run.diffs, f"{len(run.diffs)} differences:\n" + "\n".join(run.diffs)


def test_acl_file_save_and_load_match_redis(servers: tuple[int, int, str]) -> None:
    """ACL SAVE writes the same file; ACL LOAD reports the same errors for a bad file."""
    pport, qport, acl_dir = servers
    run = Run(pport, qport, 2)
    try:
        run.reset()
        run.step("A", "ACL", "SETUSER", "alice", "on", ">p", "~a*", "&c", "-@all", "+get")
        run.step("A", "ACL", "SETUSER", "bob", "off", "(+set ~b*)")
        run.step("A", "ACL", "SAVE")
        with (
            open(os.path.join(acl_dir, "p.acl"), "rb") as fp,
            open(os.path.join(acl_dir, "r.acl"), "rb") as fq,
        ):
            pf, qf = fp.read(), fq.read()
        assert _norm_rules(pf) == _norm_rules(qf)
        for f in ("p.acl", "r.acl"):
            with open(os.path.join(acl_dir, f), "ab") as fh:
                fh.write(b"user carol on +nosuch\nnotauser x\nuser alice on\n")
        a, _ = run.step("A", "ACL", "LOAD")
        assert isinstance(a, Err) and "ACL errors detected" in a
        run.step("A", "ACL", "LIST")
        for f in ("p.acl", "r.acl"):
            with open(os.path.join(acl_dir, f), "wb") as fh:
                fh.write(b"user default on nopass ~* &* +@all\nuser zed on nopass +ping\n\n")
        run.step("U", "AUTH", "zed", "x")
        run.step("A", "ACL", "LOAD")
        run.step("U", "PING")  # ACL LOAD disconnects the clients of replaced users
        run.step("A", "ACL", "LIST")
        for f in ("p.acl", "r.acl"):
            open(os.path.join(acl_dir, f), "w").close()
        run.reset()
    finally:
        run.close()
    assert not run.diffs, "\n".join(run.diffs)


INFO_NAMES = [
    "auth", "hello", "acl|setuser", "acl|getuser", "acl|deluser", "acl|list", "acl|users",
    "acl|whoami", "acl|cat", "acl|genpass", "acl|log", "acl|dryrun", "acl|save", "acl|load",
    "acl|help", "del", "unlink", "exists", "touch", "type", "rename", "renamenx", "copy",
    "move", "restore",
]  # fmt: skip


@pytest.mark.parametrize("name", INFO_NAMES)
def test_command_info_matches_redis(servers: tuple[int, int, str], name: str) -> None:
    """COMMAND INFO (flags, ACL categories, key specs: what ACL checks use) as Redis."""
    pport, qport, _ = servers
    run = Run(pport, qport, 2)
    try:
        run.step("A", "COMMAND", "INFO", name)
    finally:
        run.close()
    assert not run.diffs, "\n".join(run.diffs)
