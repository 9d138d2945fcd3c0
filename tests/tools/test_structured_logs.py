"""Structured logs: ``log-format json`` lines parse, carry ts/level/logger/msg and extra
fields; ``slowlog-write-errorlog`` sends slow commands to the log (redacted, truncated);
``logfile``, ``loglevel`` and ``log-format`` apply (the last two live with CONFIG SET)."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

from pikadb import logsetup

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def read_lines(path: Path, want: str, timeout: float = 10.0) -> list[str]:
    """The file's lines once ``want`` appears in it (the server logs asynchronously to us)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        if want in text or time.monotonic() > deadline:
            return text.splitlines()
        time.sleep(0.05)


def test_json_logfile_and_slow_commands(make_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    logfile = tmp_path / "pikadb.log"
    srv = make_server(
        *("--set", f"logfile={logfile}", "--set", "log-format=json"),
        *("--set", "slowlog-write-errorlog=yes", "--set", "slowlog-log-slower-than=0"),
    )
    c = srv.client()
    c.client_setname("logtest")
    c.set("k1", "v" * 300)
    c.execute_command("CONFIG", "SET", "masterauth", "hush-hush")
    lines = read_lines(logfile, "masterauth")
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for rec in records:
        assert TS.match(rec["ts"]), rec
        assert rec["level"] in ("debug", "verbose", "notice", "warning", "error", "critical")
        assert isinstance(rec["logger"], str) and isinstance(rec["msg"], str)
    assert any(r["logger"] == "pikadb.server" and r["level"] == "notice" for r in records)
    slow = {r["command"]: r for r in records if r["logger"] == "pikadb.slowlog"}
    s = slow["set"]
    assert s["level"] == "warning"
    assert s["msg"].startswith("slow command set: ")
    assert isinstance(s["duration_us"], int) and s["duration_us"] >= 0
    assert re.fullmatch(r"127\.0\.0\.1:\d+", s["client"])
    assert s["client_name"] == "logtest" and s["db"] == 0 and s["argc"] == 3
    assert s["argv"] == ["SET", "k1", "v" * 128 + "... (172 more bytes)"]  # SLOWLOG's cut
    assert slow["config|set"]["argv"] == ["CONFIG", "SET", "masterauth", "(redacted)"]
    assert "hush-hush" not in logfile.read_text()
    assert "pikadb." not in srv.log()  # the log lines went to the file, not stderr

    # slowlog-write-errorlog off: SLOWLOG still records, the log does not
    c.config_set("slowlog-write-errorlog", "no")
    c.set("quiet-key", "1")
    assert any(e["command"] == b"SET quiet-key 1" for e in c.slowlog_get(5))
    c.config_set("slowlog-write-errorlog", "yes")

    # log-format text at runtime
    c.config_set("log-format", "text")
    assert c.config_get("log-format") == {"log-format": "text"}
    c.set("text-key", "1")
    lines = read_lines(logfile, "text-key")
    assert not any("quiet-key" in line for line in lines)
    last = next(line for line in lines if "text-key" in line)
    assert re.match(
        r"^\S+Z warning pikadb\.slowlog: slow command set: \d+ us, client 127\.0\.0\.1:\d+, "
        r"db 0 command=set duration_us=\d+ .*argv=\[\"SET\", \"text-key\", \"1\"\]$",
        last,
    ), last

    # loglevel warning hides notice lines; the slow command entries (warning) remain
    c.config_set("loglevel", "warning")
    assert c.config_get("loglevel") == {"loglevel": "warning"}
    srv.stop()
    tail = read_lines(logfile, "")[len(lines) :]
    assert not any(" notice " in line for line in tail), tail


def test_formatters_in_process() -> None:
    rec = logging.LogRecord("pikadb.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    rec.shard = 3
    d = json.loads(logsetup.JsonFormatter().format(rec))
    assert d["level"] == "notice" and d["msg"] == "hello you" and d["shard"] == 3
    assert list(d)[:4] == ["ts", "level", "logger", "msg"]
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        err = logging.LogRecord("pikadb.x", logging.ERROR, __file__, 1, "bad", (), sys.exc_info())
    d = json.loads(logsetup.JsonFormatter().format(err))
    assert d["level"] == "error" and "ValueError: boom" in d["exc"]
    text = logsetup.TextFormatter().format(rec)
    assert re.match(r"^\S+Z notice pikadb\.x: hello you shard=3$", text)
    assert logsetup.LOG_LEVELS["verbose"] == logsetup.VERBOSE
    assert logging.DEBUG < logsetup.VERBOSE < logging.INFO
