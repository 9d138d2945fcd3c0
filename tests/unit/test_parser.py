"""The sans-IO request parser: bytes in, commands out, Redis's rules and error texts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pikadb.protocol.parser import INLINE_MAX, RequestParser, split_args, string2ll


def enc(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def parse(*chunks: bytes, **kw: int) -> tuple[list[list[bytes]], str | None]:
    p = RequestParser(**kw)
    out: list[list[bytes]] = []
    for ch in chunks:
        out += p.feed(ch)
    return out, p.error.message if p.error else None


def err(detail: str) -> str:
    return f"ERR Protocol error: {detail}"


# -- multibulk --------------------------------------------------------------------------
def test_one_command() -> None:
    assert parse(enc(b"SET", b"k", b"v")) == ([[b"SET", b"k", b"v"]], None)


def test_binary_safe_args() -> None:
    weird = b"\r\n*1\r\n$4\r\nPING\r\n\x00\xff"
    assert parse(enc(b"ECHO", weird, b"")) == ([[b"ECHO", weird, b""]], None)


def test_pipeline_in_one_read() -> None:
    cmds = [[b"INCR", b"n%d" % i] for i in range(1000)]
    assert parse(b"".join(enc(*c) for c in cmds)) == (cmds, None)


def test_empty_multibulk_is_skipped() -> None:
    data = b"*0\r\n*-1\r\n*-5\r\n" + enc(b"PING") + b"*0\r\n"
    assert parse(data) == ([[b"PING"]], None)


def test_big_args_and_many_args() -> None:
    big = bytes(range(256)) * 1000
    many = [b"MSET"] + [b"k%d" % i for i in range(3000)]
    assert parse(enc(b"SET", b"k", big) + enc(*many)) == ([[b"SET", b"k", big], many], None)


def test_lax_crlf_after_a_bulk_like_redis() -> None:
    # Redis skips the two bytes after a bulk body without looking at them.
    assert parse(b"*1\r\n$4\r\nPINGxx" + enc(b"PING")) == ([[b"PING"], [b"PING"]], None)


# -- partial frames ---------------------------------------------------------------------
STREAM_CMDS = [
    [b"SET", b"key", b"v" * 20],
    [b"PING"],
    [b"ECHO", b"*1\r\n$4\r\nPING\r\n"],
    [b"MSET", b"a", b"1", b"b", b""],
    [b"GET", b"x" * 12],
]
STREAM = b"".join(enc(*c) for c in STREAM_CMDS)


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_split_at_every_byte_position(cut: int) -> None:
    p = RequestParser()
    out = p.feed(STREAM[:cut])
    out += p.feed(STREAM[cut:])
    assert p.error is None
    assert out == STREAM_CMDS
    assert p.buffered == 0


def test_one_byte_at_a_time() -> None:
    p = RequestParser()
    out: list[list[bytes]] = []
    for i in range(len(STREAM)):
        out += p.feed(STREAM[i : i + 1])
        if i < len(STREAM) - 1:
            assert p.buffered > 0 or out  # something is held or done
    assert out == STREAM_CMDS
    assert p.error is None


def test_split_right_after_a_complete_element() -> None:
    # The reader has consumed every byte but the frame is not complete: the next read
    # (not starting with '*') continues the frame, it is not an inline command.
    p = RequestParser()
    assert p.feed(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n") == []
    assert p.feed(b"$1\r\nv\r\n") == [[b"SET", b"k", b"v"]]
    p = RequestParser()
    assert p.feed(b"*2\r\n") == []
    assert p.feed(b"$4\r\nECHO\r\n") == []
    assert p.feed(b"$2\r\nhi\r\n") == [[b"ECHO", b"hi"]]
    assert p.error is None


def test_split_inside_crlf_of_a_header() -> None:
    p = RequestParser()
    assert p.feed(b"*1\r") == []
    assert p.feed(b"\n$4\r") == []
    assert p.feed(b"\nPING\r") == []
    assert p.feed(b"\n") == [[b"PING"]]
    assert p.error is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.binary(max_size=30), min_size=1, max_size=6), min_size=1, max_size=12),
    st.randoms(use_true_random=False),
)
def test_random_splits(cmds: list[list[bytes]], rnd: random.Random) -> None:
    data = b"".join(enc(*c) for c in cmds)
    cuts = sorted(rnd.sample(range(len(data) + 1), min(len(data), rnd.randint(0, 12))))
    p = RequestParser()
    out: list[list[bytes]] = []
    for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
        out += p.feed(data[a:b])
    assert p.error is None
    assert out == cmds


def test_big_value_streamed_in_chunks() -> None:
    value = b"x" * 3_000_000
    data = enc(b"SET", b"big", value) + enc(b"GET", b"big")
    p = RequestParser()
    out: list[list[bytes]] = []
    for i in range(0, len(data), 65536):
        out += p.feed(data[i : i + 65536])
        if not out:
            assert 0 < p.buffered <= i + 65536
    assert out == [[b"SET", b"big", value], [b"GET", b"big"]]


# -- inline -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "args"),
    [
        (b"PING", [b"PING"]),
        (b"  set  a   b  ", [b"set", b"a", b"b"]),
        (b"set a\tb", [b"set", b"a", b"b"]),
        (b'set "a b" c', [b"set", b"a b", b"c"]),
        (b'echo "a\\"b"', [b"echo", b'a"b']),
        (b'echo "\\n\\r\\t\\b\\a\\\\"', [b"echo", b"\n\r\t\x08\x07\\"]),
        (b'echo "\\x41\\x7a\\xff"', [b"echo", b"Az\xff"]),
        (b'echo "\\x4g"', [b"echo", b"x4g"]),  # not hex: the backslash just quotes 'x'
        (b"echo 'a\\'b'", [b"echo", b"a'b"]),
        (b"echo 'a\\nb'", [b"echo", b"a\\nb"]),  # no escapes in single quotes
        (b"echo 'a\"b'", [b"echo", b'a"b']),
        (b'echo ""', [b"echo", b""]),
        (b"echo a\vb", [b"echo", b"a\vb"]),  # \v ends no token (only skipped between)
        (b"echo a\x00 ignored", [b"echo", b"a"]),  # C string: a NUL ends the line
        (b"", []),
        (b"   ", []),
    ],
)
def test_split_args(line: bytes, args: list[bytes]) -> None:
    assert split_args(line) == args


@pytest.mark.parametrize(
    "line", [b'set "a', b"set 'a", b'set "a"b', b"set 'a'b", b'echo "a\\"', b'"abc\x00"']
)
def test_split_args_unbalanced(line: bytes) -> None:
    assert split_args(line) is None


def test_inline_commands() -> None:
    assert parse(b"PING\r\nECHO hi\nSET a 'b c'\r\n") == (
        [[b"PING"], [b"ECHO", b"hi"], [b"SET", b"a", b"b c"]],
        None,
    )


def test_empty_inline_lines_are_skipped() -> None:
    assert parse(b"\r\n\n   \r\nPING\r\n\r\n") == ([[b"PING"]], None)


def test_inline_split_across_reads() -> None:
    assert parse(b"EC", b"HO a", b"b\r", b"\nPI", b"NG\n") == ([[b"ECHO", b"ab"], [b"PING"]], None)


def test_inline_and_multibulk_mixed() -> None:
    data = b"PING\r\n" + enc(b"ECHO", b"x") + b"ECHO y\r\n" + b"\r\n" + enc(b"PING") + b"\n"
    want = [[b"PING"], [b"ECHO", b"x"], [b"ECHO", b"y"], [b"PING"]]
    assert parse(data) == (want, None)
    for cut in range(len(data) + 1):
        assert parse(data[:cut], data[cut:]) == (want, None), cut


def test_unbalanced_quotes() -> None:
    assert parse(b'PING\r\nSET a "b\r\nPING\r\n') == (
        [[b"PING"]],
        err("unbalanced quotes in request"),
    )


def test_too_big_inline_request() -> None:
    assert parse(b"a" * (INLINE_MAX + 1)) == ([], err("too big inline request"))
    # split: refused once the line passes the limit, without waiting for its end
    assert parse(b"a" * 40000, b"a" * 40000) == ([], err("too big inline request"))
    # a long line that does end is fine
    assert parse(b"ECHO " + b"a" * (INLINE_MAX + 10) + b"\r\n")[1] is None


# -- malformed multibulk: Redis's exact texts --------------------------------------------
@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"*abc\r\n", "invalid multibulk length"),
        (b"*+1\r\n", "invalid multibulk length"),
        (b"*01\r\n", "invalid multibulk length"),
        (b"*-0\r\n", "invalid multibulk length"),
        (b"*3000000000\r\n", "invalid multibulk length"),  # > INT_MAX
        (b"*1\n$4\r\nPING\r\n", "invalid multibulk length"),
        (b"*1\r\n$x\r\n", "invalid bulk length"),
        (b"*1\r\n$-1\r\n", "invalid bulk length"),
        (b"*1\r\n$05\r\n", "invalid bulk length"),
        (b"*1\r\n$ 5\r\n", "invalid bulk length"),
        (b"*1\r\n$99999999999999999999999\r\n", "invalid bulk length"),
        (b"*1\r\nx\r\n", "expected '$', got 'x'"),
        (b"*1\r\n+PING\r\n", "expected '$', got '+'"),
        (b"*1\r\n:1\r\n", "expected '$', got ':'"),
        (b"*1\r\n_\r\n", "expected '$', got '_'"),
        (b"*1\r\n-ERR x\r\n", "expected '$', got '-'"),
        (b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n", "expected '$', got '*'"),
        (b"*2\r\n$4\r\nECHO\r\n%1\r\n+a\r\n+b\r\n", "expected '$', got '%'"),
        (b"*1\r\n\r\n", "expected '$', got ' '"),
        (b"*" + b"1" * (INLINE_MAX + 1), "too big mbulk count string"),
        (b"*1\r\n$" + b"1" * (INLINE_MAX + 1), "too big bulk count string"),
        (b"*1\r\n" + b"1" * (INLINE_MAX + 1), "too big bulk count string"),
    ],
)
def test_malformed(data: bytes, detail: str) -> None:
    assert parse(data) == ([], err(detail))
    # the same error when the bytes arrive one at a time
    assert parse(*[data[i : i + 1] for i in range(len(data))]) == ([], err(detail))


def test_commands_before_the_bad_frame_are_kept() -> None:
    data = enc(b"SET", b"a", b"1") + enc(b"INCR", b"a") + b"*1\r\n:5\r\n" + enc(b"PING")
    assert parse(data) == ([[b"SET", b"a", b"1"], [b"INCR", b"a"]], err("expected '$', got ':'"))


def test_parser_is_dead_after_an_error() -> None:
    p = RequestParser()
    assert p.feed(b"*x\r\n") == []
    assert p.error is not None
    assert p.feed(enc(b"PING")) == []


def test_huge_bulk_length_refused_without_buffering() -> None:
    p = RequestParser()
    assert p.feed(b"*1\r\n$1000000000000\r\n") == []
    assert p.error is not None
    assert p.error.message == err("invalid bulk length")
    assert p.buffered == 0


def test_max_bulk_len_refused_at_the_header() -> None:
    p = RequestParser(max_bulk_len=1000)
    assert p.feed(b"*2\r\n$3\r\nGET\r\n$1000\r\n") == []
    assert p.error is None  # exactly the limit is fine
    p = RequestParser(max_bulk_len=1000)
    assert p.feed(b"*2\r\n$3\r\nGET\r\n$1001\r\n") == []
    assert p.error is not None and p.error.message == err("invalid bulk length")
    # also in a complete frame, and after the frames before it
    ok = enc(b"ECHO", b"x" * 1000)
    assert parse(ok + enc(b"ECHO", b"x" * 1001), max_bulk_len=1000) == (
        [[b"ECHO", b"x" * 1000]],
        err("invalid bulk length"),
    )


def test_max_bulk_len_can_change_on_a_live_parser() -> None:
    p = RequestParser()
    p.max_bulk_len = 10
    assert p.feed(b"*1\r\n$11\r\n") == []
    assert p.error is not None and p.error.message == err("invalid bulk length")


def test_query_buffer_limit() -> None:
    p = RequestParser(max_query_buffer=100_000)
    assert p.feed(b"*2\r\n$3\r\nGET\r\n$500000\r\n" + b"x" * 60_000) == []
    assert p.error is None
    assert p.feed(b"x" * 60_000) == []
    assert p.error is not None
    assert p.error.message == "ERR client query buffer limit reached"


def test_buffered_counts_the_pending_request() -> None:
    p = RequestParser()
    p.feed(enc(b"PING") + b"*2\r\n$3\r\nGET\r\n$5\r\nab")
    assert p.buffered == len(b"*2\r\n$3\r\nGET\r\n$5\r\nab")
    p.feed(b"cde\r\n")
    assert p.buffered == 0
    p.feed(b"ECHO x")
    assert p.buffered == 6


# -- string2ll ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("s", "v"),
    [
        (b"0", 0),
        (b"-1", -1),
        (b"9223372036854775807", 2**63 - 1),
        (b"-9223372036854775808", -(2**63)),
        (b"9223372036854775808", None),
        (b"", None),
        (b"-", None),
        (b"-0", None),
        (b"01", None),
        (b"+1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"1a", None),
    ],
)
def test_string2ll(s: bytes, v: int | None) -> None:
    assert string2ll(s) == v
