"""Replication evidence fixtures. Sizes live in tests/support/repl.py (KEYS): small in
``make test``, millions of keys in ``make repl-large`` (PIKADB_REPL_KEYS, pytest -s).
The fault scenarios share one deployment (`cluster`, tests/support/repl_cluster.py);
`node` starts a dedicated server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.repl import NODE_ARGS, Node
from tests.support.repl_cluster import Cluster
from tests.support.servers import PikaServer


@pytest.fixture(scope="package")
def cluster() -> Iterator[Cluster]:
    cl = Cluster()
    yield cl
    cl.cleanup()


@pytest.fixture
def node(make_server: Callable[..., PikaServer]) -> Node:
    """Start a dedicated pikadb node: debug command on, plus ``name=value`` settings passed as
    ``--set`` (e.g. ``node("repl-timeout=2")``)."""

    def factory(*settings: str, start: bool = True) -> PikaServer:
        args: list[str] = list(NODE_ARGS)
        for s in settings:
            args += ["--set", s]
        return make_server(*args, start=start)

    return factory
