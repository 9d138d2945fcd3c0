"""pikadb.config.runtime: CONFIG GET / SET / REWRITE."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pikadb.config import CONFIG_TABLE, RuntimeConfig, Settings, load_settings
from pikadb.config.rewrite import REWRITE_SIGNATURE, rewrite_text
from pikadb.core.errors import CommandError


def runtime(config_file: Path | None = None, **server: object) -> RuntimeConfig:
    settings = load_settings(config_file, {}, server or None)
    return RuntimeConfig(settings, config_file)


def error_of(rt: RuntimeConfig, pairs: list[tuple[str, str]]) -> str:
    with pytest.raises(CommandError) as info:
        rt.set(pairs)
    return info.value.message


# --- CONFIG GET --------------------------------------------------------------------------
def test_get_exact_name_is_case_insensitive_and_canonical() -> None:
    rt = runtime()
    assert rt.get("port") == [("port", "9221")]
    assert rt.get("PORT") == [("port", "9221")]
    assert rt.get("nope") == []


def test_get_renders_like_redis() -> None:
    rt = runtime()
    assert rt.get("proto-max-bulk-len") == [("proto-max-bulk-len", "536870912")]
    assert rt.get("protected-mode") == [("protected-mode", "yes")]
    assert rt.get("lazyfree-lazy-expire") == [("lazyfree-lazy-expire", "no")]
    assert rt.get("enable-debug-command") == [("enable-debug-command", "no")]
    assert rt.get("requirepass") == [("requirepass", "")]
    assert rt.get("write-buffer-size") == [("write-buffer-size", "67108864")]


def test_get_patterns() -> None:
    rt = runtime()
    assert [n for n, _ in rt.get("slowlog-*")] == [
        "slowlog-log-slower-than",
        "slowlog-max-len",
        "slowlog-write-errorlog",  # Pika's
    ]
    assert sorted(n for n, _ in rt.get("*max*len*")) == [
        "acllog-max-len",
        "proto-max-bulk-len",
        "slowlog-max-len",
    ]
    assert [n for n, _ in rt.get("level0-[fs]*")] == [
        "level0-file-num-compaction-trigger",
        "level0-slowdown-writes-trigger",
        "level0-stop-writes-trigger",
    ]
    assert [n for n, _ in rt.get("level0-s[^l]*")] == ["level0-stop-writes-trigger"]
    assert [n for n, _ in rt.get("?z")] == ["hz"]
    assert [n for n, _ in rt.get("H?")] == ["hz"]
    assert rt.get("po\\rt") == [("port", "9221")]
    assert len(rt.get("*")) == len(CONFIG_TABLE)


def test_get_several_patterns_dedupes() -> None:
    rt = runtime()
    names = [n for n, _ in rt.get("port", "p*", "timeout", b"PORT")]
    assert names == ["port", "protected-mode", "timeout", "pidfile", "proto-max-bulk-len"]


# --- CONFIG SET --------------------------------------------------------------------------
def test_set_updates_settings_in_place() -> None:
    rt = runtime()
    server = rt.settings.server
    rt.set([("timeout", "30"), ("MaxClients", "50"), ("proto-max-bulk-len", "1gb")])
    assert (server.timeout, server.maxclients, server.proto_max_bulk_len) == (30, 50, 1 << 30)
    assert rt.get("proto-max-bulk-len") == [("proto-max-bulk-len", "1073741824")]
    rt.set([("notify-keyspace-events", "KEA"), ("protected-mode", "no")])
    assert rt.get("notify-keyspace-events") == [("notify-keyspace-events", "AKE")]
    assert rt.value("protected-mode") is False
    rt.set([("disable-auto-compactions", "yes")])
    assert rt.settings.storage.disable_auto_compactions is True


def test_set_errors_use_redis_texts() -> None:
    rt = runtime()
    assert error_of(rt, [("portt", "1")]) == (
        "ERR Unknown option or number of arguments for CONFIG SET - 'portt'"
    )
    assert error_of(rt, [("PORT", "1")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'PORT') - can't set immutable config"
    )
    assert error_of(rt, [("timeout", "1"), ("TIMEOUT", "2")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"
    )
    assert error_of(rt, [("Timeout", "x")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - "
        "argument couldn't be parsed into an integer"
    )
    assert error_of(rt, [("maxclients", "0")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
        "argument must be between 1 and 4294967295 inclusive"
    )
    assert error_of(rt, [("loglevel", "loud")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'loglevel') - "
        "argument(s) must be one of the following: debug, verbose, notice, warning"
    )
    assert error_of(rt, [("protected-mode", "1")]).endswith("argument must be 'yes' or 'no'")
    assert error_of(rt, [("write-buffer-size", "big")]).endswith("argument must be a memory value")


def test_first_error_in_argument_order_wins() -> None:
    rt = runtime()
    # Name checks (unknown / immutable / duplicate) come before any value check.
    assert error_of(rt, [("timeout", "x"), ("nope", "1")]).startswith("ERR Unknown option")
    assert "immutable" in error_of(rt, [("port", "1"), ("nope", "1")])
    assert "Unknown option" in error_of(rt, [("nope", "1"), ("port", "1")])


def test_set_is_all_or_nothing() -> None:
    rt = runtime()
    before = rt.settings.model_dump()
    error_of(rt, [("timeout", "30"), ("hz", "20"), ("maxclients", "-5")])
    assert rt.settings.model_dump() == before
    error_of(rt, [("timeout", "30"), ("port", "1")])
    assert rt.settings.model_dump() == before


def test_listeners_get_new_values_once_and_only_on_change() -> None:
    rt = runtime()
    seen: list[tuple[str, object]] = []
    rt.on_change("maxclients", lambda v: seen.append(("maxclients", v)))
    rt.on_change("timeout", lambda v: seen.append(("timeout", v)))
    rt.set([("maxclients", "10"), ("timeout", "0")])  # timeout unchanged
    assert seen == [("maxclients", 10)]
    with pytest.raises(KeyError):
        rt.on_change("nope", print)


def test_listener_sees_all_new_values() -> None:
    rt = runtime()
    observed: list[int] = []
    rt.on_change("timeout", lambda _: observed.append(rt.settings.server.maxclients))
    rt.set([("timeout", "5"), ("maxclients", "77")])
    assert observed == [77]


def test_refusing_listener_rolls_back_everything() -> None:
    rt = runtime()
    applied: list[int] = []
    rt.on_change("timeout", applied.append)

    def refuse(value: object) -> None:
        raise CommandError("ERR The operating system is not able to handle 5 clients")

    rt.on_change("maxclients", refuse)
    message = error_of(rt, [("timeout", "30"), ("maxclients", "5"), ("hz", "50")])
    assert message == (
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
        "The operating system is not able to handle 5 clients"
    )
    assert (rt.value("timeout"), rt.value("maxclients"), rt.value("hz")) == (0, 10000, 10)
    assert applied == [30, 0]  # told the new value, then the restored one


def test_listener_crash_rolls_back_and_propagates() -> None:
    rt = runtime()

    def crash(value: object) -> None:
        raise ZeroDivisionError(value)

    rt.on_change("timeout", crash)
    with pytest.raises(ZeroDivisionError):
        rt.set([("timeout", "3")])
    assert rt.value("timeout") == 0


# --- CONFIG REWRITE ----------------------------------------------------------------------
ORIGINAL = """\
# pika.yaml for the test
server:
  # the port we listen on
  port: 7001    # keep me
  timeout: 5
  Slowlog_Log_Slower_Than: 20   # snake case, odd capitals

  hz: 10

# ---- storage ----
storage:
  dir: "{dir}"
  write-buffer-size: 64mb  # human form must survive when unchanged
"""


def test_rewrite_without_file_is_an_error() -> None:
    with pytest.raises(CommandError) as info:
        runtime().rewrite()
    assert info.value.message == "ERR The server is running without a config file"


def test_rewrite_preserves_comments_and_reloads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "pika.yaml"
    path.write_text(ORIGINAL.format(dir=tmp_path), encoding="utf-8")
    rt = RuntimeConfig(load_settings(path, {}, {"databases": 4}), path)
    rt.set([("timeout", "30"), ("slowlog-log-slower-than", "-1"), ("maxclients", "64")])
    rt.set([("requirepass", 'p@ss "word" #1'), ("sync-writes", "yes"), ("hz", "10")])
    rt.rewrite()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# pika.yaml for the test\nserver:\n  # the port we listen on\n")
    assert "  port: 7001    # keep me\n" in text
    assert "  timeout: 30\n" in text
    assert "  Slowlog_Log_Slower_Than: -1   # snake case, odd capitals\n" in text
    assert "  write-buffer-size: 64mb  # human form must survive when unchanged\n" in text
    assert "\n# ---- storage ----\nstorage:\n" in text
    assert text.count(REWRITE_SIGNATURE) == 2  # once per section that got new lines
    assert "  databases: 4\n" in text  # non-default values from the command line persist
    assert "lazyfree" not in text  # defaults are not appended
    reloaded = load_settings(path, {})
    assert reloaded == rt.settings
    # A second rewrite with nothing changed leaves the file byte for byte as it was.
    rt.rewrite()
    assert path.read_text(encoding="utf-8") == text


def test_rewrite_appends_in_the_section(tmp_path: Path) -> None:
    path = tmp_path / "pika.yaml"
    path.write_text("server:\n    port: 7001\n\n# trailing comment\n", encoding="utf-8")
    rt = runtime(path)
    rt.set([("maxclients", "9")])
    rt.rewrite()
    assert path.read_text(encoding="utf-8") == (
        f"server:\n    port: 7001\n    {REWRITE_SIGNATURE}\n    maxclients: 9\n\n# trailing comment\n"
    )


def test_rewrite_creates_missing_file_and_sections(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    rt = RuntimeConfig(Settings(), path)
    rt.set([("write-buffer-size", "128mb"), ("timeout", "7")])
    rt.rewrite()
    assert path.read_text(encoding="utf-8") == (
        f"server:\n  {REWRITE_SIGNATURE}\n  timeout: 7\n\n"
        f"storage:\n  {REWRITE_SIGNATURE}\n  write-buffer-size: 128mb\n"
    )
    assert load_settings(path, {}) == rt.settings


def test_rewrite_value_edge_cases() -> None:
    settings = Settings()
    settings.server.timeout = 3
    old = "server:\n  timeout:\n  requirepass: # secret\n  port: 9221\r\n"
    settings.server.requirepass = "s3cret"
    new = rewrite_text(old, settings)
    assert new == "server:\n  timeout: 3\n  requirepass: s3cret # secret\n  port: 9221\r\n"


def test_rewrite_leaves_unknown_lines_alone() -> None:
    settings = Settings()
    settings.server.timeout = 3
    old = "extra: [1, 2]\nserver:\n  timeout: 1\n  future-setting: x\n"
    assert (
        rewrite_text(old, settings) == "extra: [1, 2]\nserver:\n  timeout: 3\n  future-setting: x\n"
    )


def test_rewrite_drops_duplicate_lines() -> None:
    settings = Settings()
    settings.server.timeout = 3
    new = rewrite_text("server:\n  timeout: 1\n  timeout: 2\n", settings)
    assert new == "server:\n  timeout: 3\n"


def test_rewrite_falls_back_when_it_cannot_edit(tmp_path: Path) -> None:
    path = tmp_path / "pika.yaml"
    path.write_text("server: {port: 7001, timeout: 5}\n", encoding="utf-8")
    rt = runtime(path)
    rt.set([("timeout", "6")])
    rt.rewrite()
    assert load_settings(path, {}) == rt.settings
    assert path.read_text(encoding="utf-8").startswith(REWRITE_SIGNATURE)


def test_rewrite_keeps_mode_and_symlink_and_leaves_no_temp_files(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("server:\n  timeout: 1\n", encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "pika.yaml"
    link.symlink_to(real)
    rt = runtime(link)
    rt.set([("timeout", "2")])
    rt.rewrite()
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "server:\n  timeout: 2\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pika.yaml", "real.yaml"]


def test_rewrite_io_error_is_reported_for_missing_directory(tmp_path: Path) -> None:
    rt = RuntimeConfig(Settings(), tmp_path / "gone" / "pika.yaml")
    with pytest.raises(
        CommandError, match=r"^ERR Rewriting config file: No such file or directory"
    ):
        rt.rewrite()
