"""Pub/Sub against a real pikadb: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBE,
PUBLISH / SPUBLISH, PUBSUB introspection, RESP2 subscribed mode and RESP3 pushes, client
state (CLIENT LIST, INFO, disconnect, RESET) and client-output-buffer-limit for slow
subscribers. Expected bytes are what redis-server 7.0.15 sends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis
from tests.support.raw_resp import RawClient, plain
from tests.support.servers import PikaServer

CONTEXT_ERR = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)


@pytest.fixture
def raw(pika: PikaServer, r: redis.Redis) -> Iterator[Callable[..., RawClient]]:
    made: list[RawClient] = []

    def factory(resp: int = 2) -> RawClient:
        c = RawClient(pika.port)
        if resp == 3:
            c.call("HELLO", 3)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


def sub(c: RawClient, cmd: str, *names: str) -> list[object]:
    """Send a (P|S)SUBSCRIBE and read its confirmations, one per name."""
    c.send(cmd, *names)
    return [plain(c.read()) for _ in names]


def rss_kb(srv: PikaServer) -> int:
    assert srv.proc is not None
    with open(f"/proc/{srv.proc.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


# --- subscribe / unsubscribe replies -------------------------------------------------------
def test_subscribe_replies_on_the_wire(raw: Callable[..., RawClient]) -> None:
    c = raw()
    c.send("SUBSCRIBE", "a", "b", "a")
    data = b"".join(
        [
            b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
            b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
            b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n",  # already subscribed: count stays
        ]
    )
    got = b""
    while len(got) < len(data):
        got += c.sock.recv(4096)
    assert got == data
    assert plain(c.call("PSUBSCRIBE", "p*")) == [b"psubscribe", b"p*", 3]
    assert plain(c.call("UNSUBSCRIBE", "nope")) == [b"unsubscribe", b"nope", 3]
    assert plain(c.call("PUNSUBSCRIBE", "p*")) == [b"punsubscribe", b"p*", 2]
    c.send("UNSUBSCRIBE")
    got_all = [plain(c.read()), plain(c.read())]
    assert got_all == [[b"unsubscribe", b"a", 1], [b"unsubscribe", b"b", 0]]
    # nothing left: one reply with a null channel, for each kind
    assert c.call("UNSUBSCRIBE") == ("*", [("$", b"unsubscribe"), ("$", None), (":", 0)])
    assert c.call("PUNSUBSCRIBE") == ("*", [("$", b"punsubscribe"), ("$", None), (":", 0)])
    assert c.call("SUNSUBSCRIBE") == ("*", [("$", b"sunsubscribe"), ("$", None), (":", 0)])
    assert c.call("GET", "x") == ("$", None)  # out of subscribed mode again


def test_shard_counts_are_separate(raw: Callable[..., RawClient]) -> None:
    c = raw()
    c.send("SSUBSCRIBE", "s1", "s2")
    assert [plain(c.read()), plain(c.read())] == [
        [b"ssubscribe", b"s1", 1],
        [b"ssubscribe", b"s2", 2],
    ]
    assert plain(c.call("SUBSCRIBE", "a")) == [b"subscribe", b"a", 1]
    assert plain(c.call("PSUBSCRIBE", "p*")) == [b"psubscribe", b"p*", 2]
    assert plain(c.call("SUNSUBSCRIBE", "s1")) == [b"sunsubscribe", b"s1", 1]
    assert plain(c.call("SUNSUBSCRIBE")) == [b"sunsubscribe", b"s2", 0]
    assert plain(c.call("UNSUBSCRIBE")) == [b"unsubscribe", b"a", 1]
    assert plain(c.call("PING")) == [b"pong", b""]  # still subscribed to p*
    assert plain(c.call("PUNSUBSCRIBE")) == [b"punsubscribe", b"p*", 0]
    assert plain(c.call("PING")) == b"PONG"


# --- RESP2 subscribed mode -----------------------------------------------------------------
def test_subscribed_mode_allows_only_a_few_commands(raw: Callable[..., RawClient]) -> None:
    c = raw()
    c.call("SUBSCRIBE", "a")
    assert plain(c.call("GET", "x")) == ("ERR", CONTEXT_ERR.format("get"))
    assert plain(c.call("CONFIG", "GET", "maxmemory")) == ("ERR", CONTEXT_ERR.format("config|get"))
    assert plain(c.call("MULTI")) == ("ERR", CONTEXT_ERR.format("multi"))
    assert plain(c.call("PUBLISH", "a", "m")) == ("ERR", CONTEXT_ERR.format("publish"))
    assert plain(c.call("SPUBLISH", "a", "m")) == ("ERR", CONTEXT_ERR.format("spublish"))
    # lookup and arity errors come first, as in Redis
    assert plain(c.call("FOO", "bar")) == (
        "ERR",
        "ERR unknown command 'FOO', with args beginning with: 'bar' ",
    )
    assert plain(c.call("GET")) == ("ERR", "ERR wrong number of arguments for 'get' command")
    assert plain(c.call("SUBSCRIBE")) == (
        "ERR",
        "ERR wrong number of arguments for 'subscribe' command",
    )
    assert plain(c.call("PING")) == [b"pong", b""]
    assert plain(c.call("PING", "hi")) == [b"pong", b"hi"]
    assert plain(c.call("PING", "a", "b")) == (
        "ERR",
        "ERR wrong number of arguments for 'ping' command",
    )
    assert plain(c.call("RESET")) == b"RESET"
    assert plain(c.call("GET", "x")) is None
    c.call("PSUBSCRIBE", "x*")
    assert plain(c.call("QUIT")) == b"OK"
    assert c.closed()


def test_subscribe_inside_multi(raw: Callable[..., RawClient]) -> None:
    """EXEC's array counts commands while SUBSCRIBE a b adds two replies (Redis does the
    same); SSUBSCRIBE is refused inside a transaction; the client ends subscribed."""
    c = raw()
    assert c.call("MULTI") == ("+", b"OK")
    assert c.call("SUBSCRIBE", "a", "b") == ("+", b"QUEUED")
    assert c.call("SSUBSCRIBE", "s") == ("+", b"QUEUED")
    c.send("EXEC")
    expected = (
        b"*2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        b"-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"
    )
    got = b""
    while len(got) < len(expected):
        got += c.sock.recv(4096)
    assert got == expected
    assert plain(c.call("PING")) == [b"pong", b""]
    assert plain(c.call("MULTI")) == ("ERR", CONTEXT_ERR.format("multi"))


def test_error_stats_count_rejected_commands(raw: Callable[..., RawClient], r: redis.Redis) -> None:
    r.config_resetstat()
    c = raw()
    c.call("SUBSCRIBE", "a")
    c.call("GET", "x")
    stats = r.info("errorstats")
    assert stats["errorstat_ERR"]["count"] >= 1
    assert r.info("commandstats")["cmdstat_get"]["rejected_calls"] >= 1


def test_resp3_allows_commands_and_pushes(raw: Callable[..., RawClient], r: redis.Redis) -> None:
    c = raw(3)
    assert c.call("SUBSCRIBE", "a") == (">", [("$", b"subscribe"), ("$", b"a"), (":", 1)])
    r.set("x", "1")
    assert c.call("GET", "x") == ("$", b"1")
    # publishing to itself: the message comes before the PUBLISH reply, as in Redis
    c.send("PUBLISH", "a", "hi")
    assert c.read() == (">", [("$", b"message"), ("$", b"a"), ("$", b"hi")])
    assert c.read() == (":", 1)
    c.call("PSUBSCRIBE", "a*")
    c.send("PUBLISH", "a", "hi2")
    assert [c.read(), c.read(), c.read()] == [
        (">", [("$", b"message"), ("$", b"a"), ("$", b"hi2")]),
        (">", [("$", b"pmessage"), ("$", b"a*"), ("$", b"a"), ("$", b"hi2")]),
        (":", 2),
    ]
    assert c.call("PING") == ("+", b"PONG")
    assert c.call("UNSUBSCRIBE", "zz") == (">", [("$", b"unsubscribe"), ("$", b"zz"), (":", 2)])
    c.call("PUNSUBSCRIBE")
    c.call("UNSUBSCRIBE")
    assert c.call("UNSUBSCRIBE") == (">", [("$", b"unsubscribe"), ("_", None), (":", 0)])


def test_hello_2_in_resp3_subscribed_mode_restricts(raw: Callable[..., RawClient]) -> None:
    c = raw(3)
    c.call("SUBSCRIBE", "a")
    c.call("HELLO", 2)
    assert plain(c.call("GET", "x")) == ("ERR", CONTEXT_ERR.format("get"))
    assert plain(c.call("PING")) == [b"pong", b""]


def test_client_reply_off_still_gets_confirmations(raw: Callable[..., RawClient]) -> None:
    c = raw()
    c.send("CLIENT", "REPLY", "OFF")
    c.send("SUBSCRIBE", "a")
    assert plain(c.read()) == [b"subscribe", b"a", 1]
    c.send("GET", "x")  # its error reply is suppressed
    assert c.drain(0.3) == []


# --- publishing ------------------------------------------------------------------------------
def test_publish_fans_out_in_order(raw: Callable[..., RawClient], r: redis.Redis) -> None:
    subs = [raw() for _ in range(5)]
    for s in subs:
        sub(s, "SUBSCRIBE", "news", "other")
    pat = raw(3)
    sub(pat, "PSUBSCRIBE", "n*", "ne?s", "x*")
    for i in range(50):
        assert r.publish("news", f"m{i}") == 7
    assert r.publish("nothing", "x") == 1  # n* only
    assert r.publish("zzz", "x") == 0
    for s in subs:
        got = [plain(s.read()) for _ in range(50)]
        assert got == [[b"message", b"news", f"m{i}".encode()] for i in range(50)]
        assert s.drain(0.1) == []
    got = [pat.read() for _ in range(101)]
    assert got[0] == (">", [("$", b"pmessage"), ("$", b"n*"), ("$", b"news"), ("$", b"m0")])
    assert got[1] == (">", [("$", b"pmessage"), ("$", b"ne?s"), ("$", b"news"), ("$", b"m0")])
    assert plain(got[100]) == [b"pmessage", b"n*", b"nothing", b"x"]


def test_patterns_use_redis_glob(raw: Callable[..., RawClient], r: redis.Redis) -> None:
    c = raw()
    pats = ["h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h\\*llo", "*"]
    sub(c, "PSUBSCRIBE", *pats)
    cases = {
        "hello": {"h?llo", "h*llo", "h[ae]llo", "*"},
        "hallo": {"h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "*"},
        "heeeello": {"h*llo", "*"},
        "h*llo": {"h?llo", "h*llo", "h[^e]llo", "h\\*llo", "*"},
        "": set(),  # the empty channel never matches, not even '*'
    }
    for channel, expected in cases.items():
        assert r.publish(channel, "m") == len(expected)
        got = {plain(c.read())[1].decode() for _ in expected}
        assert got == expected
    assert c.drain(0.1) == []


def test_spublish_reaches_shard_subscribers_only(
    raw: Callable[..., RawClient], r: redis.Redis
) -> None:
    s = raw()
    s.call("SSUBSCRIBE", "ch")
    p = raw()
    p.call("PSUBSCRIBE", "*")
    n = raw()
    n.call("SUBSCRIBE", "ch")
    assert r.execute_command("SPUBLISH", "ch", "hello") == 1
    assert plain(s.read()) == [b"smessage", b"ch", b"hello"]
    assert p.drain(0.1) == [] and n.drain(0.1) == []
    assert r.publish("ch", "x") == 2  # PUBLISH skips shard subscribers
    assert s.drain(0.1) == []


def test_pubsub_introspection(raw: Callable[..., RawClient], r: redis.Redis) -> None:
    a, b = raw(), raw()
    a.call("SUBSCRIBE", "c1")
    a.call("SUBSCRIBE", "c2")
    b.call("SUBSCRIBE", "c1")
    a.call("PSUBSCRIBE", "p*")
    b.call("PSUBSCRIBE", "p*")
    b.call("PSUBSCRIBE", "q*")
    a.call("SSUBSCRIBE", "s1")
    assert sorted(r.execute_command("PUBSUB", "CHANNELS")) == [b"c1", b"c2"]
    assert r.execute_command("PUBSUB", "CHANNELS", "*2") == [b"c2"]
    assert r.execute_command("PUBSUB", "NUMSUB", "c1", "c2", "c3") == [b"c1", 2, b"c2", 1, b"c3", 0]
    assert r.execute_command("PUBSUB", "NUMSUB") == []
    assert r.execute_command("PUBSUB", "NUMPAT") == 2
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == [b"s1"]
    assert r.execute_command("PUBSUB", "SHARDCHANNELS", "x*") == []
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s1", "c1") == [b"s1", 1, b"c1", 0]
    help_lines = r.execute_command("PUBSUB", "HELP")
    assert help_lines[0] == b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert len(help_lines) == 14 and help_lines[-1] == b"    Prints this help."
    stats = r.info("stats")
    assert (stats["pubsub_channels"], stats["pubsub_patterns"]) == (2, 2)
    assert stats["pubsubshard_channels"] == 1
    errors = [
        (("PUBSUB",), "wrong number of arguments for 'pubsub' command"),
        (("PUBSUB", "FOO"), "unknown subcommand 'FOO'. Try PUBSUB HELP."),
        (
            ("PUBSUB", "CHANNELS", "a", "b"),
            "unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.",
        ),
        (("PUBSUB", "NUMPAT", "x"), "wrong number of arguments for 'pubsub|numpat' command"),
        (("PUBSUB", "HELP", "x"), "wrong number of arguments for 'pubsub|help' command"),
    ]
    for args, message in errors:
        with pytest.raises(redis.ResponseError) as exc:
            r.execute_command(*args)
        assert str(exc.value) == message


def test_client_list_and_type(raw: Callable[..., RawClient], r: redis.Redis) -> None:
    c = raw()
    cid = plain(c.call("CLIENT", "ID"))
    sub(c, "SUBSCRIBE", "a", "b")
    c.call("PSUBSCRIBE", "p*")
    c.call("SSUBSCRIBE", "s")
    line = r.execute_command("CLIENT", "LIST", "ID", cid).decode()
    assert " flags=P " in line
    assert " sub=2 psub=1 ssub=1 " in line
    listed = r.execute_command("CLIENT", "LIST", "TYPE", "pubsub").decode()
    assert f"id={cid} " in listed
    sub(c, "UNSUBSCRIBE", "a", "b")
    c.call("PUNSUBSCRIBE")
    assert " flags=P " in r.execute_command("CLIENT", "LIST", "ID", cid).decode()  # ssub left
    c.call("SUNSUBSCRIBE")
    line = r.execute_command("CLIENT", "LIST", "ID", cid).decode()
    assert " flags=N " in line and " sub=0 psub=0 ssub=0 " in line
    assert f"id={cid} " not in r.execute_command("CLIENT", "LIST", "TYPE", "pubsub").decode()


def test_disconnect_and_reset_drop_subscriptions(
    raw: Callable[..., RawClient], r: redis.Redis
) -> None:
    a, b = raw(), raw()
    a.call("SUBSCRIBE", "x")
    a.call("PSUBSCRIBE", "x*")
    a.call("SSUBSCRIBE", "sx")
    b.call("SUBSCRIBE", "x")
    assert r.execute_command("PUBSUB", "NUMSUB", "x") == [b"x", 2]
    a.close()
    assert wait_for(lambda: r.execute_command("PUBSUB", "NUMSUB", "x") == [b"x", 1])
    assert r.execute_command("PUBSUB", "NUMPAT") == 0
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == []
    assert plain(b.call("RESET")) == b"RESET"
    assert r.execute_command("PUBSUB", "CHANNELS") == []
    assert r.publish("x", "m") == 0
    assert b.drain(0.1) == []


def test_killed_subscriber_leaves(raw: Callable[..., RawClient], r: redis.Redis) -> None:
    c = raw()
    cid = plain(c.call("CLIENT", "ID"))
    c.call("SUBSCRIBE", "k")
    r.execute_command("CLIENT", "KILL", "ID", cid)
    assert wait_for(lambda: r.execute_command("PUBSUB", "NUMSUB", "k") == [b"k", 0])


def test_redis_py_pubsub(r: redis.Redis) -> None:
    """The client library's own pub/sub API works end to end."""
    ps = r.pubsub()
    ps.subscribe("chan")
    ps.psubscribe("ch*")
    assert ps.get_message(timeout=1)["type"] == "subscribe"
    assert ps.get_message(timeout=1)["type"] == "psubscribe"
    assert r.publish("chan", "hello") == 2
    m1 = ps.get_message(timeout=1)
    m2 = ps.get_message(timeout=1)
    assert (m1["type"], m1["data"]) == ("message", b"hello")
    assert (m2["type"], m2["pattern"], m2["data"]) == ("pmessage", b"ch*", b"hello")
    ps.close()


# --- client-output-buffer-limit ----------------------------------------------------------------
def test_output_buffer_limit_config(r: redis.Redis) -> None:
    default = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    assert r.config_get("client-output-buffer-limit") == {"client-output-buffer-limit": default}
    try:
        r.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 5")
        assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == (
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 5"
        )
        r.config_set("client-output-buffer-limit", "replica 1 2 3 normal 1k 2k 0")
        assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == (
            "normal 1000 2000 0 slave 1 2 3 pubsub 1048576 524288 5"
        )
        bad = {
            "master 1 2 3": "Invalid client class specified in buffer limit configuration.",
            "foo 1 2 3": "Invalid client class specified in buffer limit configuration.",
            "pubsub 1 2": "Wrong number of arguments in buffer limit configuration.",
            "pubsub -1 2 3": "Error in hard, soft or soft_seconds setting in buffer limit "
            "configuration.",
            "pubsub 1 2 x": "Error in hard, soft or soft_seconds setting in buffer limit "
            "configuration.",
        }
        for value, reason in bad.items():
            with pytest.raises(redis.ResponseError) as exc:
                r.config_set("client-output-buffer-limit", value)
            assert str(exc.value) == (
                "CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
                + reason
            )
    finally:
        r.config_set("client-output-buffer-limit", default)


def test_slow_subscriber_is_disconnected_at_hard_limit(
    make_server: Callable[..., PikaServer],
) -> None:
    srv = make_server("--set", "client-output-buffer-limit=pubsub 256kb 0 0")
    r = srv.client()
    slow = RawClient(srv.port, rcvbuf=4096)  # subscribes, then never reads
    slow.call("SUBSCRIBE", "flood")
    ok = RawClient(srv.port)  # keeps reading: stays connected
    ok.call("SUBSCRIBE", "flood")
    payload = b"x" * 4096
    rss_before = rss_kb(srv)
    sent = 0
    while sent < 20_000:  # 80 MB if nothing stopped it
        pipe = r.pipeline(transaction=False)
        for _ in range(20):  # 80 KB per event-loop tick, under the limit for a reader
            pipe.publish("flood", payload)
        pipe.execute()
        sent += 20
        ok.discard()
        if r.execute_command("PUBSUB", "NUMSUB", "flood") != [b"flood", 2]:
            break
    assert r.execute_command("PUBSUB", "NUMSUB", "flood") == [b"flood", 1]
    assert sent < 5_000  # cut off after a few MB (the limit plus kernel socket buffers)
    assert rss_kb(srv) - rss_before < 40_000  # the server did not keep the flood in memory
    assert "output buffer limits" in srv.log()
    assert slow.closed()
    assert r.publish("flood", "still here") == 1
    slow.close()
    ok.close()


def test_slow_subscriber_is_disconnected_after_soft_limit_seconds(
    make_server: Callable[..., PikaServer],
) -> None:
    srv = make_server("--set", "client-output-buffer-limit=pubsub 0 64kb 1")
    r = srv.client()
    slow = RawClient(srv.port, rcvbuf=4096)
    slow.call("SUBSCRIBE", "flood")
    payload = b"y" * 8192
    for _ in range(16):  # 6.4 MB: past the kernel's socket buffers, over the soft limit...
        pipe = r.pipeline(transaction=False)
        for _ in range(50):
            pipe.publish("flood", payload)
        pipe.execute()
    # ... but not for a second yet: still connected
    assert r.execute_command("PUBSUB", "NUMSUB", "flood") == [b"flood", 1]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r.publish("flood", payload)
        if r.execute_command("PUBSUB", "NUMSUB", "flood") == [b"flood", 0]:
            break
        time.sleep(0.05)
    assert r.execute_command("PUBSUB", "NUMSUB", "flood") == [b"flood", 0]
    assert slow.closed()
    slow.close()
