"""Read a stopped server's binlog with ``pikadb binlog`` (one text block per record)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.servers import PikaServer


def binlog_records(srv: PikaServer) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pikadb", "binlog", "--dir", srv.dir, "--count", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    records: list[str] = []
    for line in out.stdout.splitlines():
        if line.startswith("#"):
            records.append("")
        if records:
            records[-1] += line + "\n"
    return records
