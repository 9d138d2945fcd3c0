"""The ``pikadb`` command line: the composition root (config -> storage -> server)."""

from __future__ import annotations

import logging
import os
import sys

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
    from pikadb.config import RuntimeConfig
    from pikadb.server.app import LOG_LEVELS, run

    logging.basicConfig(
        level=LOG_LEVELS.get(settings.server.loglevel, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=settings.server.logfile or None,
    )
    run(settings, RuntimeConfig(settings, path), str(path) if path else None)


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


if __name__ == "__main__":  # pragma: no cover
    main()
