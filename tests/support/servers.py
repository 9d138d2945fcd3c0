"""Start real server processes (pikadb and redis-server) on free loopback ports."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the test process dies, so a killed or
    crashed pytest never leaves servers behind (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ping(
    port: int,
    proc: subprocess.Popen[bytes] | None,
    timeout: float = 15.0,
    password: str | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = redis.Redis(port=port, password=password, socket_timeout=2)
            c.ping()
            c.close()
            return
        except redis.AuthenticationError:
            return
        except Exception as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"server on port {port} did not answer PING: {last}")


class PikaServer:
    """A pikadb server process with its own data directory."""

    def __init__(
        self,
        data_dir: str | None = None,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.own_dir = data_dir is None
        self.dir = data_dir or tempfile.mkdtemp(prefix="pikadb-test-")
        self.args = list(args or [])
        self.env = env or {}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = os.path.join(self.dir, "server.log")

    def start(self, port: int | None = None) -> PikaServer:
        self.port = port or self.port or free_port()
        env = dict(os.environ)
        env.update(self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        cmd = [
            sys.executable,
            "-m",
            "pikadb",
            "server",
            "--port",
            str(self.port),
            "--dir",
            self.dir,
            *self.args,
        ]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.dir,
            preexec_fn=_die_with_parent,
        )
        password = None
        for i, a in enumerate(self.args):
            if a == "--set" and self.args[i + 1].startswith("requirepass="):
                password = self.args[i + 1].split("=", 1)[1]
        wait_ping(self.port, self.proc, password=password)
        return self

    def client(self, **kw: object) -> redis.Redis:
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(port=self.port, **kw)  # type: ignore[arg-type]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self._log.close()
        return rc

    def kill9(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> PikaServer:
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """A real redis-server (Debian package) for differential tests."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (make test installs it)")
        self.exe = exe
        self.dir = tempfile.mkdtemp(prefix="redis-test-")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> RedisServer:
        cmd = [
            self.exe,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            self.dir,
            "--enable-debug-command",
            "yes",
            *extra,
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        wait_ping(self.port, self.proc)
        return self

    def client(self, **kw: object) -> redis.Redis:
        return redis.Redis(port=self.port, **kw)  # type: ignore[arg-type]

    def cleanup(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
