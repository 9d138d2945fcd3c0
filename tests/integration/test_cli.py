"""The ``pikadb`` command line: server flags, configuration sources and their precedence,
start-up errors that name the setting, and ``pikadb binlog``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from tests.support.servers import REPO, free_port, wait_ping

PY = [sys.executable, "-m", "pikadb"]


class Launched:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=10, decode_responses=True)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator:
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], port: int, env: dict[str, str] | None = None) -> Launched:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PIKA_")}
        full_env.pop("CONFIG_FILE", None)
        full_env.update(env or {})
        proc = subprocess.Popen(
            [*PY, "server", *args],
            cwd=tmp_path,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        wait_ping(port, proc)
        return Launched(proc, port)

    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def fails(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> str:
    """Run a server that must refuse to start; return its stderr."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PIKA_")}
    full_env.pop("CONFIG_FILE", None)
    full_env.update(env or {})
    out = subprocess.run(
        [*PY, "server", "--port", str(free_port()), *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    return out.stderr


def test_flags_port_bind_dir(launch, tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "mydata"
    srv = launch(["--port", str(port), "--bind", "127.0.0.1", "--dir", str(data)], port)
    c = srv.client()
    c.set("k", "v")
    assert c.config_get("port") == {"port": str(port)}
    assert c.config_get("bind") == {"bind": "127.0.0.1"}
    assert c.config_get("dir")["dir"] in (str(data), str(data.resolve()))
    assert (data / "db" / "CURRENT").exists()
    assert not (tmp_path / "data").exists()


def test_default_dir_is_data_in_the_working_directory(launch, tmp_path: Path) -> None:
    port = free_port()
    launch(["--port", str(port)], port).client().set("k", "v")
    assert (tmp_path / "data" / "db" / "CURRENT").exists()


def write_config(tmp_path: Path, port: int, data: str, extra: str = "") -> Path:
    path = tmp_path / "pika.yaml"
    path.write_text(
        f"server:\n  port: {port}\n  maxclients: 111\n{extra}\nstorage:\n  dir: {data}\n"
    )
    return path


def test_config_file_flag(launch, tmp_path: Path) -> None:
    port = free_port()
    cfg = write_config(tmp_path, port, str(tmp_path / "from-file"))
    c = launch(["--config", str(cfg)], port).client()
    assert c.config_get("maxclients") == {"maxclients": "111"}
    c.set("k", "v")
    assert (tmp_path / "from-file" / "db" / "CURRENT").exists()


def test_config_file_from_environment(launch, tmp_path: Path) -> None:
    port = free_port()
    cfg = write_config(tmp_path, port, str(tmp_path / "from-file"))
    c = launch([], port, env={"CONFIG_FILE": str(cfg)}).client()
    assert c.config_get("maxclients") == {"maxclients": "111"}


def test_precedence_file_env_flags(launch, tmp_path: Path) -> None:
    file_port, env_port, flag_port = free_port(), free_port(), free_port()
    cfg = write_config(tmp_path, file_port, str(tmp_path / "file-dir"))
    env = {
        "PIKA_SERVER_PORT": str(env_port),
        "PIKA_SERVER_MAXCLIENTS": "222",
        "PIKA_STORAGE_DIR": str(tmp_path / "env-dir"),
    }
    # env beats the file
    srv = launch(["--config", str(cfg)], env_port, env=env)
    c = srv.client()
    assert c.config_get("maxclients") == {"maxclients": "222"}
    c.set("k", "v")
    assert (tmp_path / "env-dir" / "db" / "CURRENT").exists()
    srv.proc.terminate()
    srv.proc.wait(15)
    # flags beat env (and --set beats env too)
    srv = launch(
        ["--config", str(cfg), "--port", str(flag_port), "--set", "maxclients=333"],
        flag_port,
        env=env,
    )
    assert srv.client().config_get("maxclients") == {"maxclients": "333"}


def test_set_accepts_any_config_name(launch, tmp_path: Path) -> None:
    port = free_port()
    c = launch(
        ["--port", str(port), "--set", "requirepass=s3cret", "--set", "slowlog-max-len=7"], port
    ).client()
    with pytest.raises(redis.AuthenticationError):
        c.ping()
    c = redis.Redis(port=port, password="s3cret", decode_responses=True)
    assert c.config_get("slowlog-max-len") == {"slowlog-max-len": "7"}


def test_invalid_env_value_names_the_setting(tmp_path: Path) -> None:
    err = fails([], tmp_path, env={"PIKA_SERVER_PORT": "abc"})
    assert "PIKA_SERVER_PORT" in err and "port" in err


def test_unknown_env_setting_names_it(tmp_path: Path) -> None:
    err = fails([], tmp_path, env={"PIKA_SERVER_MAXCLIENT": "5"})
    assert "PIKA_SERVER_MAXCLIENT" in err and "maxclients" in err  # with a suggestion


def test_unknown_set_name(tmp_path: Path) -> None:
    assert "no-such-setting" in fails(["--set", "no-such-setting=1"], tmp_path)


def test_invalid_set_value(tmp_path: Path) -> None:
    err = fails(["--set", "maxclients=lots"], tmp_path)
    assert "maxclients" in err and "lots" in err


def test_set_without_equals(tmp_path: Path) -> None:
    assert "NAME=VALUE" in fails(["--set", "maxclients"], tmp_path)


def test_invalid_port_flag(tmp_path: Path) -> None:
    assert "--port" in fails(["--port", "70000"], tmp_path)


def test_unknown_setting_in_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("server:\n  portt: 7000\n")
    err = fails(["--config", str(cfg)], tmp_path)
    assert "server.portt" in err and "port" in err


def test_invalid_value_in_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("server:\n  maxclients: -5\n")
    err = fails(["--config", str(cfg)], tmp_path)
    assert "maxclients" in err and str(cfg) in err


def test_missing_config_file(tmp_path: Path) -> None:
    err = fails(["--config", str(tmp_path / "nope.yaml")], tmp_path)
    assert "nope.yaml" in err


def test_binlog_command_prints_records(launch, tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "d"
    srv = launch(["--port", str(port), "--dir", str(data)], port)
    c = srv.client()
    c.set("alpha", "one")
    c.set("beta", "two", ex=100)
    c.delete("alpha")
    srv.proc.terminate()
    assert srv.proc.wait(15) == 0
    out = subprocess.run(
        [*PY, "binlog", "--dir", str(data), "--count", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    heads = [line for line in text.splitlines() if line.startswith("#")]
    assert len(heads) >= 3
    assert heads[0].startswith("#1 ts=")
    assert "keys+1" in text and "keys-1" in text and "expires+1" in text
    assert "put meta" in text and "alpha" in text and "one" in text
    assert "put ttl" in text and "del meta" in text
    first = subprocess.run(
        [*PY, "binlog", "--dir", str(data), "--from", "2", "--count", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert next(line for line in first.stdout.splitlines() if line.startswith("#")).startswith(
        "#2 "
    )


def test_version_and_help() -> None:
    out = subprocess.run([*PY, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("pikadb ")
    script = Path(sys.executable).parent / "pikadb"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert "server" in out.stdout and "binlog" in out.stdout
    assert REPO.exists()
