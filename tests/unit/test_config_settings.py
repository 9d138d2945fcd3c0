"""pikadb.config.settings: sources, precedence and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pikadb.config import CONFIG_TABLE, ConfigError, Settings, load_settings, resolve_config_path
from pikadb.config.example import example_yaml

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "pika.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings(None, {})
    assert s == Settings()
    assert s.server.port == 9221
    assert s.server.bind == "127.0.0.1"
    assert s.server.databases == 16
    assert s.server.enable_debug_command == "no"
    assert s.server.proto_max_bulk_len == 512 << 20
    assert s.server.client_query_buffer_limit == 1 << 30
    assert s.storage.dir == "./data"
    assert s.storage.write_buffer_size == 64 << 20
    assert s.storage.compression == "snappy"
    assert s.storage.resolved_db_path() == Path("./data/db")


def test_precedence_defaults_file_env_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "server:\n  port: 7001\n  timeout: 5\n  hz: 20\n  maxclients: 50\n"
        "storage:\n  dir: /from/file\n",
    )
    env = {"PIKA_SERVER_TIMEOUT": "6", "PIKA_SERVER_HZ": "30", "PIKA_STORAGE_DIR": "/from/env"}
    s = load_settings(path, env, {"hz": 40, "dir": "/from/cli"})
    assert s.server.port == 7001  # file
    assert s.server.maxclients == 50  # file
    assert s.server.timeout == 6  # env beats file
    assert s.server.hz == 40  # overrides beat env
    assert s.storage.dir == "/from/cli"
    assert s.server.databases == 16  # default


def test_env_alone_and_override_spellings() -> None:
    s = load_settings(None, {"PIKA_SERVER_PORT": "7000", "PIKA_STORAGE_SYNC_WRITES": "yes"})
    assert (s.server.port, s.storage.sync_writes) == (7000, True)
    s = load_settings(
        None, {}, {"db_path": "/a", "max-write-buffer-number": "4", "server.timeout": 9}
    )
    assert (s.storage.db_path, s.storage.max_write_buffer_number, s.server.timeout) == ("/a", 4, 9)
    assert s.storage.resolved_db_path() == Path("/a")
    s = load_settings(None, {}, {"port": None})  # an unset CLI flag
    assert s.server.port == 9221


def test_environ_none_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIKA_SERVER_SLOWLOG_MAX_LEN", "7")
    assert load_settings(None).server.slowlog_max_len == 7


def test_unrelated_pika_variables_are_ignored() -> None:
    assert load_settings(None, {"PIKA_HOME": "/x", "PIKAX_SERVER_PORT": "1"}) == Settings()


def test_yaml_kebab_snake_and_redis_forms(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# comment\nserver:\n  slowlog-log-slower-than: -1\n  Proto_Max_Bulk_Len: 1gb\n"
        "  protected-mode: no\n  requirepass:\n  notify-keyspace-events: KEA\n"
        "storage:\n  write_buffer_size: 128MB\n  target-file-size-base: 100k\n"
        "  disable-auto-compactions: true\n",
    )
    s = load_settings(path, {})
    assert s.server.slowlog_log_slower_than == -1
    assert s.server.proto_max_bulk_len == 1 << 30
    assert s.server.protected_mode is False
    assert s.server.requirepass == ""
    assert s.server.notify_keyspace_events == "AKE"
    assert s.storage.write_buffer_size == 128 << 20
    assert s.storage.target_file_size_base == 100_000
    assert s.storage.disable_auto_compactions is True


def test_empty_file_and_empty_section(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "# nothing\n"), {}) == Settings()
    assert load_settings(write(tmp_path, "server:\nstorage:\n"), {}) == Settings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "server:\n  portt: 1\n",
            "unknown setting 'server.portt' in {path} (did you mean 'port'?)",
        ),
        (
            "server:\n  dir: /x\n",
            "unknown setting 'server.dir' in {path} ('dir' belongs in section 'storage')",
        ),
        ("replicas:\n  x: 1\n", "unknown section 'replicas' in {path}"),
        ("port: 1\n", "(put 'port' under 'server:')"),
        (
            "server:\n  port: 1\n  PORT: 2\n",
            "setting 'server.port' appears twice in {path} (as 'port' and 'PORT')",
        ),
        ("server:\n  port: 1\n  port: 2\n", "found duplicate key 'port'"),
        ("server: 5\n", "section 'server' in {path} must hold 'name: value' lines"),
        (
            "- a\n",
            "expected sections ('server:', 'storage:', 'replication:', 'cache:', 'web:') at the top level",
        ),
        (
            "server:\n  port: [1, 2]\n",
            "invalid value for 'port' (server.port): expected a single value",
        ),
        ("server:\n  port: [1\n", "invalid YAML in {path} (line 3"),
        (
            "server:\n  port: 70000\n",
            "invalid value for 'port' (server.port): argument must be between 0 and 65535 "
            "inclusive (got '70000' from {path})",
        ),
        (
            "server:\n  timeout: 1:30\n",
            "invalid value for 'timeout' (server.timeout): argument couldn't be parsed into an integer",
        ),
        (
            "storage:\n  compression: gzip\n",
            "argument(s) must be one of the following: none, snappy, lz4, zstd",
        ),
        ("storage:\n  write-buffer-size: 64 mb\n", "argument must be a memory value"),
        ("storage:\n  sync-writes: 1\n", "argument must be 'yes' or 'no'"),
    ],
)
def test_bad_files_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert message.format(path=path) in str(info.value)


def test_error_carries_the_dotted_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "server:\n  port: x\n"), {})
    assert info.value.setting == "server.port"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"can't open config file '.*nope\.yaml'"):
        load_settings(tmp_path / "nope.yaml", {})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PIKA_SERVER_PORT": "70000"},
            "invalid value for 'port' (server.port): argument must be between 0 and 65535 "
            "inclusive (got '70000' from environment variable PIKA_SERVER_PORT)",
        ),
        (
            {"PIKA_SERVER_PORTT": "1"},
            "unknown setting 'server.portt' in environment variable PIKA_SERVER_PORTT",
        ),
        ({"PIKA_STORAGE_NOPE": "1"}, "unknown setting 'storage.nope'"),
        (
            {"PIKA_PORT": "1"},
            "unknown environment variable PIKA_PORT: use PIKA_SERVER_PORT to set 'port'",
        ),
        ({"PIKA_SERVER_HZ": "1", "pika_server_hz": "2"}, "'server.hz' is set by both"),
    ],
)
def test_bad_environment(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env)
    assert message in str(info.value)


def test_bad_overrides() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'portt' in command-line overrides"):
        load_settings(None, {}, {"portt": 1})
    with pytest.raises(ConfigError, match=r"invalid value for 'port' \(server.port\): "):
        load_settings(None, {}, {"port": "seven"})
    with pytest.raises(ConfigError, match="given twice"):
        load_settings(None, {}, {"db-path": "/a", "db_path": "/b"})


def test_secrets_are_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, {}, {"requirepass": 1.5})
    assert "1.5" not in str(info.value)


def test_resolve_config_path() -> None:
    assert resolve_config_path("a.yaml", {"CONFIG_FILE": "b.yaml"}) == Path("a.yaml")
    assert resolve_config_path(None, {"CONFIG_FILE": "b.yaml"}) == Path("b.yaml")
    assert resolve_config_path("", {"CONFIG_FILE": ""}) is None
    assert resolve_config_path(None, {}) is None


def test_assignment_is_validated() -> None:
    s = Settings()
    with pytest.raises(ValueError, match="between 0 and 65535"):
        s.server.port = 99999


def test_example_file_is_current_and_loads_to_defaults() -> None:
    path = REPO / "example" / "pika.yaml"
    assert path.read_text(encoding="utf-8") == example_yaml(), (
        "example/pika.yaml is stale: .venv/bin/python -m pikadb.config.example > example/pika.yaml"
    )
    assert load_settings(path, {}) == Settings()
    text = path.read_text(encoding="utf-8")
    for entry in CONFIG_TABLE:
        assert f"\n  {entry.name}: " in text, entry.name
