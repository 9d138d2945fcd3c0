"""RESP fuzzing (short runs; `make fuzz-long` runs a million frames): the parser in-process
with hypothesis, and a real server through sockets with tests/fuzz/resp_fuzz.py.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pikadb.protocol.parser import RequestParser
from tests.fuzz import resp_fuzz
from tests.support.servers import PikaServer

# -- the parser: any bytes, fed whole or cut anywhere, give the same commands and error -------


def _parse(chunks: list[bytes], unauth: bool = False) -> tuple[list[list[bytes]], str | None]:
    p = RequestParser()
    p.unauth = unauth
    out: list[list[bytes]] = []
    for chunk in chunks:
        t = time.perf_counter()
        out += p.feed(chunk)
        while unauth and p.has_rest and p.error is None:
            out += p.resume()
        assert time.perf_counter() - t < 1.0, "a feed took over a second"
    return out, (p.error.message if p.error is not None else None)


_fragment = st.one_of(
    st.builds(resp_fuzz.multibulk, st.lists(st.binary(max_size=20), min_size=1, max_size=5)),
    st.integers(0, 2**32).map(lambda s: resp_fuzz.dirty_frame(random.Random(s))),
    st.integers(0, 2**32).map(lambda s: resp_fuzz.clean_frame(random.Random(s))),
    st.binary(max_size=40),
    st.sampled_from([b"*", b"$", b"\r", b"\n", b"\r\n", b"*1\r\n", b"$3\r\n", b"*2147483647\r\n"]),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(_fragment, max_size=8), st.randoms(use_true_random=False), st.booleans())
def test_parser_split_anywhere(frags: list[bytes], rnd: random.Random, unauth: bool) -> None:
    data = b"".join(frags)
    if b"\n" not in data[:70000] and len(data) > 60000:
        return  # an overlong inline line: Redis's answer depends on its read sizes too
    whole = _parse([data], unauth)
    cuts = sorted(rnd.sample(range(len(data) + 1), min(len(data), rnd.randint(1, 10))))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    assert _parse(pieces, unauth) == whole


def test_nested_huge_array_does_not_stall() -> None:
    """Found by the fuzzer: a nested "*2147483647" inside a frame made hiredis allocate (and
    free) 2^31 slots, stalling the server for ~20 s."""
    data = b"*1000\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n*2147483647\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    for cut in (len(data), 20, 30):
        t = time.perf_counter()
        p = RequestParser()
        p.feed(data[:cut])
        p.feed(data[cut:])
        assert time.perf_counter() - t < 0.5
        assert p.error is not None and "expected '$', got '*'" in p.error.message


# -- a real server --------------------------------------------------------------------------------


@pytest.fixture
def fuzz_server() -> Iterator[PikaServer]:
    srv = PikaServer().start()
    yield srv
    srv.cleanup()


def test_fuzz_short_run(fuzz_server: PikaServer) -> None:
    """~20k frames on 3 parallel connections: no crash, no hang, bounded RSS, data intact."""
    srv = fuzz_server
    assert srv.proc is not None
    sentinels = resp_fuzz.write_sentinels(srv.port)
    rep = resp_fuzz.run(srv.port, srv.proc.pid, frames=20_000, workers=3, seed=20261201)
    assert rep.alive and srv.proc.poll() is None, srv.log()[-3000:]
    assert rep.hangs == []
    assert rep.frames >= 20_000
    assert rep.rss_max_kb - rep.rss_before_kb < 200 * 1024, rep
    assert resp_fuzz.check_sentinels(srv.port, sentinels) == []
    c = redis.Redis(port=srv.port, socket_timeout=10)
    assert c.ping()
    c.close()
    assert "Traceback" not in srv.log()


@pytest.mark.parametrize(
    ("data", "want"),
    [
        # a bulk header with a bare CR ("$6\r*..."): Redis skips the byte after the CR
        (
            b"*2\r\n$4\r\nDECR\r\n$6\r*fz:251\r\nR\r\n",
            [[b"DECR", b"fz:251"], [b"R"]],
        ),
        # "$-1" at top level is an inline request, not a null (hiredis reads it as a reply)
        (b"*1\r\n$4\r\nTIME\r\n$-1\r\n", [[b"TIME"], [b"$-1"]]),
    ],
)
def test_parser_regressions_whole_and_split(data: bytes, want: list[list[bytes]]) -> None:
    assert _parse([data]) == (want, None)
    for cut in range(len(data) + 1):
        assert _parse([data[:cut], data[cut:]]) == (want, None), cut
