"""Reading the per-command latency histograms the dispatcher keeps (``Command.hist``).

``hist[i]`` counts calls that took ``d`` whole microseconds with ``d.bit_length() == i``:
bucket 0 is ``d == 0``, bucket ``i`` is ``2**(i-1) <= d < 2**i``. So every call in buckets
``0..i`` took less than ``2**i`` us: the cumulative count up to ``i`` is the Prometheus bucket
``le = 2**i`` us. Percentiles are reported as the upper bound of the bucket they fall in
(a factor-of-two resolution, which is what a log2 histogram gives).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pikadb.commands import table
from pikadb.commands.table import COMMANDS, HIST_BUCKETS, Command

# Buckets exported to Prometheus: le = 1 us .. 2**25 us (~33.5 s); slower calls land in +Inf.
EXPORTED = 26


def all_commands() -> Iterator[Command]:
    """Every command and subcommand, renamed ones by their original name as in INFO
    commandstats (the table's containers have no calls of their own)."""
    originals = getattr(table, "original_commands", None)
    for cmd in originals() if callable(originals) else list(COMMANDS.values()):
        yield cmd
        yield from cmd.subcommands.values()


def bound_us(i: int) -> int:
    """Upper bound (exclusive) in microseconds of bucket ``i``."""
    return 1 << i


def cumulative(hist: list[int], buckets: int = EXPORTED) -> tuple[list[int], int]:
    """(cumulative counts for le = 2**0 .. 2**(buckets-1) us, total count)."""
    out: list[int] = []
    acc = 0
    for i in range(buckets):
        acc += hist[i]
        out.append(acc)
    total = acc + sum(hist[buckets:])
    return out, total


def percentile_us(hist: Iterable[int], q: float) -> float:
    """The ``q`` quantile (0..1) of a histogram, as its bucket's upper bound in microseconds
    (0.0 when empty)."""
    counts = list(hist)
    total = sum(counts)
    if total == 0:
        return 0.0
    rank = q * total
    acc = 0
    for i, n in enumerate(counts):
        acc += n
        if acc >= rank and n:
            return float(bound_us(i))
    return float(bound_us(len(counts) - 1))


def merged() -> list[int]:
    """The sum of every command's histogram."""
    total = [0] * HIST_BUCKETS
    for cmd in all_commands():
        if cmd.calls:
            for i, n in enumerate(cmd.hist):
                if n:
                    total[i] += n
    return total
