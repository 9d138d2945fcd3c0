"""The dashboard's JSON API: overview, series, replication, slowlog, INFO, configuration."""

from __future__ import annotations

import time

import pytest
import redis
from tests.web.conftest import WebServer, http, post_json


def test_overview(web_server: WebServer) -> None:
    r = web_server.client()
    r.flushall()
    r.mset({f"o{i}": "v" for i in range(12)})
    r.set("o-ttl", "v", ex=50)
    r.select(2)
    r.set("two", "2")
    r.select(0)
    o = http(web_server.dashboard, "/api/overview").json()
    info = r.info("all")
    assert o["version"] == info["pikadb_version"]
    assert o["redis_version"] == info["redis_version"]
    assert o["port"] == web_server.port
    assert o["role"] == info["role"] == "master"
    assert o["keys_total"] == 14
    by_db = {d["db"]: d for d in o["keyspace"]}
    assert by_db[0] == {"db": 0, "keys": 13, "expires": 1}
    assert by_db[2]["keys"] == 1
    assert len(o["keyspace"]) == 16
    assert o["connected_clients"] == info["connected_clients"]
    assert o["used_memory"] > 0 and o["used_memory_human"].endswith(("K", "M", "G"))
    assert o["total_commands_processed"] >= info["total_commands_processed"]
    assert o["uptime_seconds"] >= 0
    assert o["auth"] is False


def test_series_shows_ops_and_latency(web_server: WebServer) -> None:
    r = web_server.client()
    deadline = time.monotonic() + 6
    busy: list[dict[str, float]] = []
    while time.monotonic() < deadline and not busy:
        pipe = r.pipeline(transaction=False)
        for i in range(200):
            pipe.get(f"o{i}")
        pipe.execute()
        time.sleep(0.4)
        samples = http(web_server.dashboard, "/api/series").json()["samples"]
        busy = [s for s in samples if s["ops"] > 0 and s["p99"] > 0]
    assert busy, "no sample with ops and latency"
    s = busy[-1]
    assert s["p50"] <= s["p99"] <= s["p999"]
    # latencies are bucket bounds: powers of two microseconds
    assert s["p99"] == 2 ** (int(s["p99"]).bit_length() - 1)
    later = http(web_server.dashboard, f"/api/series?since={s['t']}").json()["samples"]
    assert all(x["t"] > s["t"] for x in later)


def test_replication_view(web_server: WebServer) -> None:
    rep = http(web_server.dashboard, "/api/replication").json()
    info = web_server.client().info("replication")
    assert rep["role"] == "master"
    assert rep["connected_slaves"] == 0
    assert rep["replicas"] == []
    assert rep["master_repl_offset"] >= info["master_repl_offset"]


def test_slowlog_view(web_server: WebServer) -> None:
    r = web_server.client()
    r.slowlog_reset()
    r.set("slow-key", "slow-value")
    log = http(web_server.dashboard, "/api/slowlog?count=5").json()
    assert log["slower_than_us"] == 0
    commands = [e["command"] for e in log["entries"]]
    assert "set slow-key slow-value" in [c.lower() for c in commands]
    entry = next(e for e in log["entries"] if e["command"].lower().startswith("set slow-key"))
    assert entry["duration_us"] >= 0 and entry["client"].startswith("127.0.0.1:")
    assert len(log["entries"]) <= 5


def test_info_sections(web_server: WebServer) -> None:
    info = http(web_server.dashboard, "/api/info?section=server&section=keyspace").json()
    assert info["tcp_port"] == str(web_server.port)
    assert "used_memory" not in info


def test_config_view_matches_config_get(web_server: WebServer) -> None:
    r = web_server.client(decode_responses=True)
    settings = {s["name"]: s for s in http(web_server.dashboard, "/api/config").json()["settings"]}
    config = r.config_get("*")
    assert set(settings) == set(config)
    for name in ("slowlog-max-len", "maxclients", "hz", "dashboard-port", "loglevel"):
        assert settings[name]["value"] == config[name], name
    assert settings["dashboard-port"]["value"] == str(web_server.dashboard)
    assert settings["port"]["mutable"] is False
    assert settings["loglevel"]["choices"][:2] == ["debug", "verbose"]
    # secrets are not sent
    assert settings["requirepass"]["sensitive"] is True
    assert settings["requirepass"]["value"] == ""


def test_config_edit_goes_through_config_set(web_server: WebServer) -> None:
    r = web_server.client(decode_responses=True)
    ok = post_json(web_server.dashboard, "/api/config", {"slowlog-max-len": "99", "hz": 12})
    assert ok.status == 200, ok.body
    assert ok.json() == {"ok": True, "applied": {"slowlog-max-len": "99", "hz": "12"}}
    assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "99"}
    assert r.config_get("hz") == {"hz": "12"}
    # sizes are normalised as CONFIG GET shows them
    ok = post_json(web_server.dashboard, "/api/config", {"proto-max-bulk-len": "2mb"})
    assert ok.json()["applied"] == {"proto-max-bulk-len": str(2 * 1024 * 1024)}


@pytest.mark.parametrize(
    "pairs",
    [
        {"slowlog-max-len": "abc"},
        {"maxclients": "-5"},
        {"port": "1234"},
        {"no-such-setting": "1"},
        {"loglevel": "loud"},
        {"hz": "20", "slowlog-max-len": "x"},  # all or nothing
    ],
)
def test_config_edit_errors_are_config_set_errors(
    web_server: WebServer, pairs: dict[str, str]
) -> None:
    r = web_server.client(decode_responses=True)
    before = r.config_get("*")
    reply = post_json(web_server.dashboard, "/api/config", pairs)
    assert reply.status == 400
    flat = [x for kv in pairs.items() for x in kv]
    with pytest.raises(redis.ResponseError) as exc:
        r.execute_command("CONFIG", "SET", *flat)
    # the RESP error text (redis-py drops the "ERR " prefix from its exception)
    assert reply.json()["error"] == f"ERR {exc.value}"
    assert r.config_get("*") == before


def test_config_edit_refuses_cross_site_requests(web_server: WebServer) -> None:
    form = http(
        web_server.dashboard,
        "/api/config",
        "POST",
        b'{"hz": "30"}',
        headers={"Content-Type": "text/plain"},
    )
    assert form.status == 415
    other = post_json(
        web_server.dashboard, "/api/config", {"hz": "30"}, headers={"Origin": "http://evil.test"}
    )
    assert other.status == 403
    bad = http(
        web_server.dashboard,
        "/api/config",
        "POST",
        b"[1, 2]",
        headers={"Content-Type": "application/json"},
    )
    assert bad.status == 400
    assert web_server.client(decode_responses=True).config_get("hz") != {"hz": "30"}


def test_pages_and_static(web_server: WebServer) -> None:
    page = http(web_server.dashboard, "/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert b"/static/dashboard.js" in page.body
    js = http(web_server.dashboard, "/static/dashboard.js")
    assert js.status == 200 and b"/api/overview" in js.body
    assert b"http://" not in js.body and b"https://" not in page.body  # nothing external
    assert http(web_server.dashboard, "/static/nope.js").status == 404
    # no password: /login sends you to the dashboard
    assert http(web_server.dashboard, "/login").status == 302
