"""/metrics: scraped over HTTP, parsed with prometheus_client's own parser, checked against
INFO on the same server."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families
from tests.web.conftest import WebServer, http

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int, **kw: object) -> Samples:
    reply = http(port, "/metrics", **kw)  # type: ignore[arg-type]
    assert reply.status == 200, reply.body[:200]
    assert reply.headers["Content-Type"].startswith("text/plain; version=")
    out: Samples = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_match_info(web_server: WebServer) -> None:
    r = web_server.client(decode_responses=True)
    r.flushall()
    r.config_resetstat()
    r.mset({f"k{i}": "v" for i in range(30)})
    r.set("ttl1", "x", ex=100)
    r.set("ttl2", "x", px=100_000)
    for i in range(25):
        r.get(f"k{i}")
    r.get("missing")
    r.select(3)
    r.set("in-db3", "1")
    r.select(0)
    try:
        r.execute_command("INCR", "k1")  # value is not an integer: an error reply
    except Exception:
        pass

    info = r.info("all")
    samples = scrape(web_server.metrics)

    # keyspace, per db
    assert value(samples, "pika_keys", db="db0") == info["db0"]["keys"] == 32
    assert value(samples, "pika_expire_keys", db="db0") == info["db0"]["expires"] == 2
    assert value(samples, "pika_keys", db="db3") == info["db3"]["keys"] == 1
    assert value(samples, "pika_keys", db="db7") == 0
    # stats: INFO counts itself once it has run; nothing else ran in between
    assert value(samples, "pika_commands_processed_total") == info["total_commands_processed"] + 1
    assert value(samples, "pika_keyspace_hits_total") == info["keyspace_hits"]
    assert value(samples, "pika_keyspace_misses_total") == info["keyspace_misses"]
    assert value(samples, "pika_error_replies_total") == info["total_error_replies"] >= 1
    assert value(samples, "pika_errorstat_total", error="ERR") == info["errorstat_ERR"]["count"]
    assert value(samples, "pika_connected_clients") == info["connected_clients"]
    assert value(samples, "pika_maxclients") == info["maxclients"]
    # commandstats and the latency histograms
    for cmd in ("get", "mset", "set", "incr"):
        stat = info[f"cmdstat_{cmd}"]
        calls = value(samples, "pika_command_calls_total", cmd=cmd)
        assert calls == stat["calls"], cmd
        assert value(samples, "pika_command_failed_calls_total", cmd=cmd) == stat["failed_calls"]
        assert value(samples, "pika_command_duration_seconds_total", cmd=cmd) == stat["usec"] / 1e6
        assert value(samples, "pika_command_latency_seconds_count", cmd=cmd) == calls
        assert value(samples, "pika_command_latency_seconds_bucket", cmd=cmd, le="+Inf") == calls
    assert info["cmdstat_get"]["calls"] == 26
    assert info["cmdstat_incr"]["failed_calls"] == 1
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in samples.items()
        if name == "pika_command_latency_seconds_bucket" and dict(labels)["cmd"] == "get"
    )
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)  # cumulative
    assert [le for le, _ in buckets][:3] == [1e-6, 2e-6, 4e-6]
    # replication and binlog
    assert value(samples, "pika_role", role="master") == 1
    assert value(samples, "pika_role", role="slave") == 0
    assert value(samples, "pika_connected_slaves") == info["connected_slaves"] == 0
    assert value(samples, "pika_master_repl_offset") == info["master_repl_offset"]
    assert value(samples, "pika_binlog_seq") >= value(samples, "pika_binlog_first_seq") - 1
    # data / rocksdb: INFO's Pika sections, field by field
    assert value(samples, "pika_db_fatal") == info["db_fatal"] == 0
    assert value(samples, "pika_rocksdb_block_cache_capacity") == info["block_cache_capacity"]
    assert value(samples, "pika_rocksdb_num_files_at_level", cf="meta", level="0") >= 0
    assert value(samples, "pika_db_size") > 0
    # server / cpu / cache
    build = [k for k in samples if k[0] == "pika_build_info"]
    assert dict(build[0][1])["redis_version"] == info["redis_version"]
    assert abs(value(samples, "pika_uptime_in_seconds") - info["uptime_in_seconds"]) < 5
    assert value(samples, "pika_used_cpu_user_seconds_total") > 0
    assert value(samples, "pika_cache_status") in (0, 1)
    assert value(samples, "pika_exporter_collect_duration_seconds") >= 0


def test_ops_per_sec_follows_load(web_server: WebServer) -> None:
    r = web_server.client()
    deadline = time.monotonic() + 5
    seen = 0.0
    while time.monotonic() < deadline and seen == 0:
        pipe = r.pipeline(transaction=False)
        for i in range(300):
            pipe.set(f"load{i}", i)
        pipe.execute()
        time.sleep(0.3)
        seen = value(scrape(web_server.metrics), "pika_instantaneous_ops_per_sec")
    assert seen > 0


def test_metrics_port_serves_only_metrics(web_server: WebServer) -> None:
    assert http(web_server.metrics, "/").status == 404
    assert http(web_server.metrics, "/api/overview").status == 404
    # the dashboard port serves /metrics too
    assert scrape(web_server.dashboard)


def test_metrics_need_no_password_on_metrics_port(auth_server: WebServer) -> None:
    samples = scrape(auth_server.metrics)
    assert value(samples, "pika_keys", db="db0") == 0
    # on the dashboard port, /metrics takes Basic auth (Prometheus basic_auth)
    assert http(auth_server.dashboard, "/metrics").status == 401
    from tests.web.conftest import PASSWORD

    assert scrape(auth_server.dashboard, password=PASSWORD)


def test_scrape_time(web_server: WebServer) -> None:
    """Not a timing assertion: prints what a scrape costs (the report quotes it)."""
    r = web_server.client()
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"s{i}", i)
    pipe.execute()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        scrape(web_server.metrics)
        times.append(time.perf_counter() - t0)
    inside = value(scrape(web_server.metrics), "pika_exporter_collect_duration_seconds")
    print(
        f"/metrics scrape: best {min(times) * 1000:.1f} ms over HTTP, {inside * 1000:.1f} ms inside"
    )
