"""Shared fixtures: real pikadb and redis-server processes on free loopback ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from tests.support.servers import PikaServer, RedisServer


@pytest.fixture(scope="session")
def pika() -> Iterator[PikaServer]:
    """One pikadb server shared by the session (tests use `r`, which flushes it)."""
    srv = PikaServer(args=["--set", "enable-debug-command=yes"]).start()
    yield srv
    srv.cleanup()


@pytest.fixture
def r(pika: PikaServer) -> Iterator[redis.Redis]:
    c = pika.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def make_server() -> Iterator[Callable[..., PikaServer]]:
    """Factory for dedicated servers (restart, kill -9, config tests); all cleaned up."""
    made: list[PikaServer] = []

    def factory(
        *args: str,
        data_dir: str | None = None,
        env: dict[str, str] | None = None,
        start: bool = True,
    ) -> PikaServer:
        srv = PikaServer(data_dir=data_dir, args=list(args), env=env)
        made.append(srv)
        return srv.start() if start else srv

    yield factory
    for srv in made:
        srv.cleanup()


@pytest.fixture(scope="session")
def real_redis() -> Iterator[RedisServer]:
    srv = RedisServer().start()
    yield srv
    srv.cleanup()


@pytest.fixture
def rr(real_redis: RedisServer) -> Iterator[redis.Redis]:
    c = real_redis.client()
    c.flushall()
    yield c
    c.close()
