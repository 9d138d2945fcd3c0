"""The ``pikadb`` command line: the composition root (config -> storage -> server)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from pikadb import REDIS_VERSION, __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    prog_name="pikadb",
    message=f"%(prog)s %(version)s (redis {REDIS_VERSION} compatible)",
)
def main() -> None:
    """pikadb: a persistent, Redis-compatible database on RocksDB."""


@main.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), help="TCP port (default 9221; 0 picks a free one)."
)
@click.option("--bind", help="Addresses to listen on, space separated (default 127.0.0.1).")
@click.option(
    "--dir", "data_dir", type=click.Path(file_okay=False), help="Data directory (default ./data)."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="pika.yaml (or set CONFIG_FILE).",
)
@click.option(
    "--set",
    "extra",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any setting by its CONFIG name, e.g. --set requirepass=secret.",
)
def server(
    port: int | None,
    bind: str | None,
    data_dir: str | None,
    config_file: str | None,
    extra: tuple[str, ...],
) -> None:
    """Run a pikadb node."""
    from pikadb.config import ConfigError, load_settings, resolve_config_path

    overrides: dict[str, object] = {}
    for item in extra:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        overrides[name.strip()] = value
    if port is not None:
        overrides["port"] = port
    if bind is not None:
        overrides["bind"] = bind
    if data_dir is not None:
        overrides["dir"] = data_dir
    path = resolve_config_path(config_file, os.environ)
    try:
        settings = load_settings(path, os.environ, overrides)
    except ConfigError as exc:
        click.echo(f"pikadb: {exc}", err=True)
        sys.exit(2)
    from pikadb import logsetup
    from pikadb.config import RuntimeConfig
    from pikadb.server.app import run

    try:
        logsetup.configure_from(settings)
    except OSError as exc:  # an unwritable logfile
        click.echo(f"pikadb: can't open the log file: {exc}", err=True)
        sys.exit(1)
    config = RuntimeConfig(settings, path)
    logsetup.install(config)
    run(settings, config, str(path) if path else None)


@main.command()
@click.option(
    "--dir", "data_dir", default="./data", type=click.Path(file_okay=False), show_default=True
)
@click.option("--from", "start", default=0, type=int, help="First sequence number.")
@click.option("--count", default=50, type=int, show_default=True, help="Records to print (0: all).")
def binlog(data_dir: str, start: int, count: int) -> None:
    """Print binlog records readably (server must be stopped)."""
    from pikadb.storage.binlog import describe
    from pikadb.storage.engine import CF_NAMES
    from pikadb.storage.store import Store

    store = Store(os.path.join(data_dir, "db"))  # the default db-path under --dir
    try:
        for n, (seq, raw) in enumerate(store.binlog_range(start)):
            if count and n >= count:
                break
            for line in describe(seq, raw, CF_NAMES):
                click.echo(line)
    finally:
        store.close()


# --- network tools (src/pikadb/tools): talk to a running server like redis-cli ----------
_TOOL_CONTEXT = {"help_option_names": ["--help"]}  # -h is the host, as in redis-cli


def _connection_options(fn: Any) -> Any:
    for opt in reversed(
        [
            click.option(
                "-h", "--host", default="127.0.0.1", show_default=True, help="Server host."
            ),
            click.option(
                "-p", "--port", default=9221, show_default=True, type=click.IntRange(1, 65535)
            ),
            click.option(
                "-s", "--socket", "unix_socket", help="Unix socket (overrides host/port)."
            ),
            click.option(
                "-a", "--pass", "password", envvar="REDISCLI_AUTH", help="Password (AUTH)."
            ),
            click.option("--user", help="ACL user name (with -a)."),
            click.option(
                "-n",
                "--db",
                default=0,
                show_default=True,
                type=click.IntRange(0),
                help="Database number.",
            ),
        ]
    ):
        fn = opt(fn)
    return fn


def _show_progress(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


@main.command(context_settings=_TOOL_CONTEXT)
@_connection_options
@click.option(
    "--count", default=100, show_default=True, type=click.IntRange(1), help="SCAN COUNT per call."
)
@click.option("--match", "pattern", help="Only keys matching this glob (SCAN MATCH).")
@click.option(
    "-i",
    "--sleep",
    default=0.0,
    type=click.FloatRange(0),
    help="Seconds to sleep every 100 SCAN calls.",
)
@click.option(
    "--memkeys", is_flag=True, help="Also measure MEMORY USAGE of every key (when supported)."
)
@click.option(
    "--top",
    default=5,
    show_default=True,
    type=click.IntRange(1),
    help="Biggest keys kept per type.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: only when stderr is a tty).",
)
def bigkeys(
    host: str,
    port: int,
    unix_socket: str | None,
    password: str | None,
    user: str | None,
    db: int,
    count: int,
    pattern: str | None,
    sleep: float,
    memkeys: bool,
    top: int,
    fmt: str,
    progress: bool | None,
) -> None:
    """Find the biggest keys per type of a live server (like redis-cli --bigkeys)."""
    from pikadb.tools.bigkeys import render_json, render_table, scan
    from pikadb.tools.resp import RespClient

    try:
        client = RespClient(
            host, port, password=password, user=user, db=db, unix_socket=unix_socket
        )
        with client:
            report = scan(
                client,
                db=db,
                count=count,
                match=pattern,
                sleep=sleep,
                memkeys=memkeys,
                top=top,
                progress=_show_progress(progress),
                log=lambda msg: click.echo(f"pikadb bigkeys: {msg}", err=True),
            )
    except Exception as exc:  # network error or an error reply: one line, no traceback
        click.echo(f"pikadb bigkeys: {exc}", err=True)
        sys.exit(1)
    click.echo(render_json(report) if fmt == "json" else render_table(report))


@main.command(context_settings=_TOOL_CONTEXT)
@_connection_options
@click.option(
    "-c", "--clients", default=50, show_default=True, type=click.IntRange(1), help="Connections."
)
@click.option(
    "-P",
    "--pipeline",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Commands per round trip.",
)
@click.option("--requests", type=click.IntRange(1), help="Stop after this many commands.")
@click.option(
    "--duration",
    type=click.FloatRange(0, min_open=True),
    help="Stop after this many seconds (default 10 without --requests).",
)
@click.option(
    "--ratio", default="4:1", show_default=True, help="READS:WRITES (or a read fraction, e.g. 0.8)."
)
@click.option(
    "--mix",
    default="string=4,hash=1,list=1,set=1,zset=1,stream=1",
    show_default=True,
    help="Type weights (or 'all').",
)
@click.option(
    "--keys",
    "nkeys",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Keys per type.",
)
@click.option(
    "--distribution", type=click.Choice(["uniform", "zipf"]), default="uniform", show_default=True
)
@click.option("--zipf-s", default=0.99, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option(
    "--value-size", default="100", show_default=True, help="N, A-B (uniform) or exp:MEAN bytes."
)
@click.option(
    "--fields",
    default=16,
    show_default=True,
    type=click.IntRange(1),
    help="Fields/members per collection.",
)
@click.option("--prefix", default="bench:", show_default=True, help="Key prefix.")
@click.option("--prefill", is_flag=True, help="Write every key once before the run.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: only when stderr is a tty).",
)
def bench(
    host: str,
    port: int,
    unix_socket: str | None,
    password: str | None,
    user: str | None,
    db: int,
    clients: int,
    pipeline: int,
    requests: int | None,
    duration: float | None,
    ratio: str,
    mix: str,
    nkeys: int,
    distribution: str,
    zipf_s: float,
    value_size: str,
    fields: int,
    prefix: str,
    prefill: bool,
    seed: int,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Mixed-workload load generator: ops/s and latency percentiles."""
    import json

    from pikadb.tools import loadgen

    try:
        workload = loadgen.Workload(
            mix=loadgen.parse_mix(mix),
            read_fraction=loadgen.parse_ratio(ratio),
            keys=nkeys,
            distribution=distribution,
            zipf_s=zipf_s,
            value_size=value_size,
            fields=fields,
            prefix=prefix,
            seed=seed,
        )
        loadgen.parse_value_size(value_size)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    target = loadgen.Target(host, port, unix_socket, password, user, db)
    opts = loadgen.Options(clients, pipeline, requests, duration, _show_progress(progress))
    try:
        if prefill:
            n = loadgen.prefill(target, loadgen.Generator(workload))
            if opts.progress:
                click.echo(f"prefilled with {n} commands", err=True)
        result = loadgen.run(target, workload, opts)
    except Exception as exc:  # network error or an error reply: one line, no traceback
        click.echo(f"pikadb bench: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.table())


if __name__ == "__main__":  # pragma: no cover
    main()
