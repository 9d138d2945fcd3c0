"""Reply encoders, RESP2 and RESP3, checked byte for byte and by a real RESP reader."""

from __future__ import annotations

import math

import hiredis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pikadb.protocol import reply as R
from pikadb.protocol.reply import RESP2, RESP3


def read(data: bytes) -> object:
    r = hiredis.Reader()
    r.feed(data)
    value = r.gets()
    assert r.gets() is False  # exactly one reply, nothing left over
    return value


def test_constants() -> None:
    assert R.OK == b"+OK\r\n"
    assert R.PONG == b"+PONG\r\n"
    assert R.QUEUED == b"+QUEUED\r\n"
    assert R.EMPTY_ARRAY == b"*0\r\n"
    assert R.EMPTY_BULK == b"$0\r\n\r\n"
    assert (R.ZERO, R.ONE, R.NEG_ONE, R.NEG_TWO) == (b":0\r\n", b":1\r\n", b":-1\r\n", b":-2\r\n")


@given(st.integers(-(2**63), 2**63 - 1))
def test_integer(n: int) -> None:
    assert R.integer(n) == b":%d\r\n" % n
    assert read(R.integer(n)) == n


@given(st.binary(max_size=200))
def test_bulk(b: bytes) -> None:
    assert R.bulk(b) == b"$%d\r\n%s\r\n" % (len(b), b)
    assert read(R.bulk(b)) == b


def test_simple_and_error() -> None:
    assert R.simple("OK") == b"+OK\r\n"
    assert R.simple(b"RESET") == b"+RESET\r\n"
    assert R.error("ERR bad") == b"-ERR bad\r\n"
    # an error line can never be broken by CR LF inside the message
    assert R.error("ERR a\r\nb") == b"-ERR a  b\r\n"
    assert R.error("ERR ünïcode") == "-ERR ünïcode\r\n".encode()


@given(st.lists(st.binary(max_size=10), max_size=10))
def test_array_of_encoded_items(items: list[bytes]) -> None:
    data = R.array([R.bulk(x) for x in items])
    assert read(data) == items
    assert R.array([]) == b"*0\r\n"
    assert R.array([R.integer(1), R.array([R.bulk(b"x")])]) == b"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n"


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.0, b"0"),
        (1.5, b"1.5"),
        (-2.0, b"-2"),
        (0.1, b"0.10000000000000001"),
        (1e300, b"1.0000000000000001e+300"),
        (math.inf, b"inf"),
        (-math.inf, b"-inf"),
        (math.nan, b"nan"),
    ],
)
def test_format_double(x: float, text: bytes) -> None:
    assert R.format_double(x) == text


def test_nulls() -> None:
    assert RESP2.null == b"$-1\r\n"
    assert RESP2.null_array == b"*-1\r\n"
    assert RESP3.null == RESP3.null_array == b"_\r\n"
    assert RESP2.bulk_or_null(None) == b"$-1\r\n"
    assert RESP3.bulk_or_null(None) == b"_\r\n"
    assert RESP2.bulk_or_null(b"x") == RESP3.bulk_or_null(b"x") == b"$1\r\nx\r\n"


def test_bulks() -> None:
    assert RESP2.bulks([b"a", None, b""]) == b"*3\r\n$1\r\na\r\n$-1\r\n$0\r\n\r\n"
    assert RESP3.bulks([b"a", None]) == b"*2\r\n$1\r\na\r\n_\r\n"
    assert RESP2.bulks([]) == b"*0\r\n"
    assert read(RESP2.bulks([b"a", None, b"b"])) == [b"a", None, b"b"]


def test_map_set_push_headers() -> None:
    pairs = [(R.bulk(b"k1"), R.integer(1)), (R.bulk(b"k2"), R.bulk(b"v"))]
    assert RESP2.map(pairs) == b"*4\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n$1\r\nv\r\n"
    assert RESP3.map(pairs) == b"%2\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n$1\r\nv\r\n"
    assert read(RESP2.map(pairs)) == [b"k1", 1, b"k2", b"v"]
    assert read(RESP3.map(pairs)) == {b"k1": 1, b"k2": b"v"}
    assert RESP2.map([]) == b"*0\r\n"
    assert RESP3.map([]) == b"%0\r\n"
    assert (RESP2.set_header(3), RESP3.set_header(3)) == (b"*3\r\n", b"~3\r\n")
    assert (RESP2.push_header(2), RESP3.push_header(2)) == (b"*2\r\n", b">2\r\n")
    assert (RESP2.map_header(2), RESP3.map_header(2)) == (b"*4\r\n", b"%2\r\n")


def test_double_boolean_verbatim() -> None:
    assert RESP2.double(1.5) == b"$3\r\n1.5\r\n"
    assert RESP3.double(1.5) == b",1.5\r\n"
    assert RESP3.double(math.inf) == b",inf\r\n"
    assert read(RESP3.double(-2.5)) == -2.5
    assert (RESP2.boolean(True), RESP2.boolean(False)) == (b":1\r\n", b":0\r\n")
    assert (RESP3.boolean(True), RESP3.boolean(False)) == (b"#t\r\n", b"#f\r\n")
    assert RESP2.verbatim(b"hello") == b"$5\r\nhello\r\n"
    assert RESP3.verbatim(b"hello") == b"=9\r\ntxt:hello\r\n"
    assert RESP3.verbatim(b"x", b"mkd") == b"=5\r\nmkd:x\r\n"


def test_encode_value() -> None:
    ev = R.encode_value
    assert ev(None) == b"$-1\r\n"
    assert ev(None, RESP3) == b"_\r\n"
    assert ev(True) == b":1\r\n"
    assert ev(True, RESP3) == b"#t\r\n"
    assert ev(7) == b":7\r\n"
    assert ev(1.5) == b"$3\r\n1.5\r\n"
    assert ev(1.5, RESP3) == b",1.5\r\n"
    assert ev(b"x") == ev("x") == b"$1\r\nx\r\n"
    assert ev([1, [b"a"], ()]) == b"*3\r\n:1\r\n*1\r\n$1\r\na\r\n*0\r\n"
    assert ev({"a": 1}) == b"*2\r\n$1\r\na\r\n:1\r\n"
    assert ev({"a": 1}, RESP3) == b"%1\r\n$1\r\na\r\n:1\r\n"
    assert ev({b"m"}, RESP3) == b"~1\r\n$1\r\nm\r\n"
    assert ev(frozenset(), RESP2) == b"*0\r\n"
    with pytest.raises(TypeError):
        ev(object())


nested = st.recursive(
    st.none() | st.integers(-(2**63), 2**63 - 1) | st.binary(max_size=8),
    lambda children: st.lists(children, max_size=4),
    max_leaves=15,
)


@given(nested)
def test_encode_value_round_trips_through_a_resp_reader(value: object) -> None:
    assert read(R.encode_value(value)) == value


@pytest.mark.parametrize(
    "items",
    [[], [b""], [b"x"], [b"a" * 1023, b"b" * 1024, b""], [b"%d" % i for i in range(700)]],
)
def test_bulk_array_matches_the_generic_encoder(items: list[bytes]) -> None:
    assert R.bulk_array(items) == RESP2.bulks(items)
    r = hiredis.Reader()
    r.feed(R.bulk_array(items))
    assert r.gets() == items
