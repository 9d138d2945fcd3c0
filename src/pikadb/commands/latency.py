"""LATENCY LATEST / HISTORY / RESET / DOCTOR / GRAPH / HISTOGRAM / HELP (Redis 7.0 latency.c).

Events are recorded by :func:`add_sample_if_needed` when ``latency-monitor-threshold`` (ms) is
on: the dispatcher reports commands as ``command`` or, for ``fast`` commands,
``fast-command`` (milliseconds = duration_us // 1000, as Redis). Each event keeps Redis's ring
of 160 one-per-second samples (a second sample in the same second only raises that second's
value) and its all-time maximum.

Differences (minimal but Redis-shaped): only the command events exist (no fork/AOF/expire
events); DOCTOR advises on those two only; GRAPH is a plain one-row-per-sample chart rather
than Redis's sparkline; HISTOGRAM replies as Redis does with ``latency-tracking no`` (an empty
map), since per-command latency histograms are not tracked.
"""

from __future__ import annotations

import time
from weakref import WeakKeyDictionary

from pikadb.commands.context import ClientState, ServerState
from pikadb.commands.introspection import help_reply
from pikadb.commands.table import command, container
from pikadb.core import errors
from pikadb.core.errors import CommandError
from pikadb.protocol.reply import array, bulk, integer

G = "server"
P = "latency"
_FLAGS = "admin noscript loading stale"
_TIPS = "nondeterministic_output request_policy:all_nodes response_policy:special"
TS_LEN = 160  # LATENCY_TS_LEN


class Series:
    """One event's samples: [time s, latency ms] oldest first, at most TS_LEN, plus max."""

    __slots__ = ("max", "samples")

    def __init__(self) -> None:
        self.samples: list[list[int]] = []
        self.max = 0


_EVENTS: WeakKeyDictionary[ServerState, dict[str, Series]] = WeakKeyDictionary()


def events(server: ServerState) -> dict[str, Series]:
    ev = _EVENTS.get(server)
    if ev is None:
        ev = _EVENTS[server] = {}
    return ev


def add_sample(server: ServerState, event: str, latency_ms: int) -> None:
    """latencyAddSample."""
    ev = events(server)
    ts = ev.get(event)
    if ts is None:
        ts = ev[event] = Series()
    now = int(time.time())
    samples = ts.samples
    if samples and samples[-1][0] == now:
        if latency_ms > samples[-1][1]:
            samples[-1][1] = latency_ms
        return
    samples.append([now, latency_ms])
    if len(samples) > TS_LEN:
        del samples[0]
    if latency_ms > ts.max:
        ts.max = latency_ms


def add_sample_if_needed(server: ServerState, event: str, latency_ms: int) -> None:
    """latencyAddSampleIfNeeded: only at or above ``latency-monitor-threshold`` (on)."""
    threshold = server.settings.server.latency_monitor_threshold
    if threshold and latency_ms >= threshold:
        add_sample(server, event, latency_ms)


# --- DOCTOR ----------------------------------------------------------------------------------
_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. "
    'You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. '
    "If we weren't in a deep space mission I'd suggest to take a look at "
    "https://redis.io/topics/latency-monitor.\n"
)
_NO_SPIKES = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, not in "
    "the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and "
    "think things over.\n"
)
_SPIKES = (
    "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about "
    "it, do you Dave?\n\n"
)
_NO_FIX = (
    "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use "
    "the Redis community to get some help, providing this report in your help request.\n"
)
_ADVICE_SLOWLOG_ENABLE = (
    "- There are latency issues with potentially slow commands you are using. Try to enable "
    "the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If "
    "the Slow log is disabled Redis is not able to log slow commands execution for you.\n"
)
_ADVICE_SLOWLOG_TUNE = (
    "- Your current Slow Log configuration only logs events that are slower than your "
    "configured latency monitor threshold. Please use "
    "'CONFIG SET slowlog-log-slower-than {}'.\n"
)
_ADVICE_SLOWLOG_INSPECT = (
    "- Check your Slow Log to understand what are the commands you are running which are too "
    "slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"
)
_ADVICE_SCHEDULER = (
    "- The system is slow to execute Redis code paths not containing system calls. This "
    "usually means the system does not provide Redis CPU time to run for long periods. You "
    "should try to:\n"
    "  1) Lower the system load.\n"
    "  2) Use a computer / VM just for Redis if you are running other software in the same "
    "system.\n"
    '  3) Check if you have a "noisy neighbour" problem.\n'
    "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
    "your system.\n"
    "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if "
    "you are using Jemalloc. However this may create fragmentation problems.\n"
)
_ADVICE_LARGE_OBJECTS = (
    "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
    "blocking operation. If you have very large objects that are often deleted, expired, or "
    "evicted, try to fragment those objects into multiple smaller objects.\n"
)


def _analyze(ts: Series, now: int) -> tuple[int, int, int, float]:
    """(samples, avg, mean deviation, period per sample) as analyzeLatencyForEvent."""
    lat = [s[1] for s in ts.samples]
    n = len(lat)
    if not n:
        return 0, 0, 0, 0.0
    avg = sum(lat) // n
    period = now - min(s[0] for s in ts.samples) or 1
    mad = sum(abs(avg - x) for x in lat) // n
    return n, avg, mad, period / n


def report(server: ServerState) -> str:
    """createLatencyReport, for the events this server records."""
    s = server.settings.server
    threshold = s.latency_monitor_threshold
    ev = events(server)
    if not ev and threshold == 0:
        return _DISABLED
    out: list[str] = []
    slowlog_enable = slowlog_tune = slowlog_inspect = scheduler = large_objects = False
    advices = 0
    now = int(time.time())
    for num, (name, ts) in enumerate(ev.items(), 1):
        if num == 1:
            out.append(_SPIKES)
        n, avg, mad, period = _analyze(ts, now)
        out.append(
            f"{num}. {name}: {n} latency spikes (average {avg}ms, mean deviation {mad}ms, "
            f"period {period:.2f} sec). Worst all time event {ts.max}ms."
        )
        if name == "command":
            if s.slowlog_log_slower_than < 0:
                slowlog_enable = True
                advices += 1
            elif s.slowlog_log_slower_than // 1000 > threshold:
                slowlog_tune = True
                advices += 1
            slowlog_inspect = large_objects = True
            advices += 2
        elif name == "fast-command":
            scheduler = True
            advices += 1
        out.append("\n")
    if not ev:
        out.append(_NO_SPIKES)
    elif advices == 0:
        out.append(_NO_FIX)
    else:
        out.append("\nI have a few advices for you:\n\n")
        if slowlog_enable:
            out.append(_ADVICE_SLOWLOG_ENABLE.format(threshold * 1000))
        if slowlog_tune:
            out.append(_ADVICE_SLOWLOG_TUNE.format(threshold * 1000))
        if slowlog_inspect:
            out.append(_ADVICE_SLOWLOG_INSPECT)
        if scheduler:
            out.append(_ADVICE_SCHEDULER)
        if large_objects:
            out.append(_ADVICE_LARGE_OBJECTS)
    return "".join(out)


def _graph(name: str, ts: Series) -> str:
    lat = [s[1] for s in ts.samples]
    hi, lo = max(lat), min(lat)
    lines = [f"{name} - high {hi} ms, low {lo} ms (all time high {ts.max} ms)", "-" * 80]
    now = int(time.time())
    for t, v in ts.samples:
        bar = "#" * (1 + (v * 39 // hi if hi else 0))
        lines.append(f"{_ago(now - t):>5} {bar} {v}")
    return "\n".join(lines) + "\n"


def _ago(elapsed: int) -> str:
    if elapsed < 60:
        return f"{elapsed}s"
    if elapsed < 3600:
        return f"{elapsed // 60}m"
    if elapsed < 86400:
        return f"{elapsed // 3600}h"
    return f"{elapsed // 86400}d"


# --- the command -----------------------------------------------------------------------------
container(
    "latency",
    -2,
    group=G,
    summary="A container for latency diagnostics commands",
    since="2.8.13",
)


@command(
    "latest",
    2,
    _FLAGS,
    group=G,
    parent=P,
    summary="Return the latest latency samples for all events.",
    since="2.8.13",
    complexity="O(1)",
    tips=_TIPS,
)
def latency_latest(c: ClientState, args: list[bytes]) -> bytes:
    items = []
    for name, ts in events(c.server).items():
        t, v = ts.samples[-1]
        items.append(array([bulk(name.encode()), integer(t), integer(v), integer(ts.max)]))
    return array(items)


@command(
    "history",
    3,
    _FLAGS,
    group=G,
    parent=P,
    summary="Return timestamp-latency samples for the event.",
    since="2.8.13",
    complexity="O(1)",
    args="event",
    tips=_TIPS,
)
def latency_history(c: ClientState, args: list[bytes]) -> bytes:
    ts = events(c.server).get(args[2].decode("utf-8", "surrogateescape"))
    if ts is None:
        return array([])
    return array([array([integer(t), integer(v)]) for t, v in ts.samples])


@command(
    "reset",
    -2,
    _FLAGS,
    group=G,
    parent=P,
    summary="Reset latency data for one or more events.",
    since="2.8.13",
    complexity="O(1)",
    args="[event [event ...]]",
    tips="request_policy:all_nodes response_policy:all_succeeded",
)
def latency_reset(c: ClientState, args: list[bytes]) -> bytes:
    ev = events(c.server)
    if len(args) == 2:
        n = len(ev)
        ev.clear()
        return integer(n)
    resets = 0
    for raw in args[2:]:
        wanted = raw.decode("utf-8", "surrogateescape").lower()
        for name in [n for n in ev if n.lower() == wanted]:
            del ev[name]
            resets += 1
    return integer(resets)


@command(
    "doctor",
    2,
    _FLAGS,
    group=G,
    parent=P,
    summary="Return a human readable latency analysis report.",
    since="2.8.13",
    complexity="O(1)",
    tips=_TIPS,
)
def latency_doctor(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.verbatim(report(c.server).encode())


@command(
    "graph",
    3,
    _FLAGS,
    group=G,
    parent=P,
    summary="Return a latency graph for the event.",
    since="2.8.13",
    complexity="O(1)",
    args="event",
    tips=_TIPS,
)
def latency_graph(c: ClientState, args: list[bytes]) -> bytes:
    name = args[2].decode("utf-8", "surrogateescape")
    ts = events(c.server).get(name)
    if ts is None or not ts.samples:
        raise CommandError(errors.LATENCY_NO_SAMPLES.format(name))
    return c.enc.verbatim(_graph(name, ts).encode())


@command(
    "histogram",
    -2,
    _FLAGS,
    group=G,
    parent=P,
    summary="Return the cumulative distribution of latencies of a subset of commands or all.",
    since="7.0.0",
    complexity="O(N) where N is the number of commands with latency information being retrieved.",
    args="[command [command ...]]",
    tips=_TIPS,
)
def latency_histogram(c: ClientState, args: list[bytes]) -> bytes:
    return c.enc.map([])


@command(
    "help",
    2,
    "loading stale",
    group=G,
    parent=P,
    summary="Show helpful text about the different subcommands.",
    since="2.8.13",
    complexity="O(1)",
)
def latency_help(c: ClientState, args: list[bytes]) -> bytes:
    return help_reply(
        b"latency",
        [
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram "
            "for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
