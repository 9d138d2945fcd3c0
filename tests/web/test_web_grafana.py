"""grafana/pikadb.json: valid JSON, the panels the dashboard needs, and every metric its
queries use is one /metrics publishes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from tests.web.conftest import WebServer, http

DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "pikadb.json"
# Published only on a replica (the test server is a master).
REPLICA_ONLY = {
    "pika_master_link_up",
    "pika_slave_repl_offset",
    "pika_master_last_io_seconds_ago",
}


def test_grafana_dashboard_uses_published_metrics(web_server: WebServer) -> None:
    dash = json.loads(DASHBOARD.read_text())
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    titles = {p["title"] for p in panels}
    for wanted in ("Ops/s", "Memory", "Keys per DB", "Clients", "Replication lag (bytes)"):
        assert wanted in titles
    assert any("p99" in t for t in titles)
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))

    exprs = [t["expr"] for p in panels for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bpika_[a-z0-9_]+", e)}
    body = http(web_server.metrics, "/metrics").body.decode()
    published: set[str] = set()
    for family in text_string_to_metric_families(body):
        published.add(family.name)
        published.update(s.name for s in family.samples)
    missing = used - published - REPLICA_ONLY
    assert not missing, f"dashboard queries metrics /metrics does not publish: {sorted(missing)}"
