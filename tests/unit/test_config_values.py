"""pikadb.config.values and yamlfile: Redis parsing rules, rendering, YAML scalars."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pikadb.config.table import CONFIG_TABLE, InvalidValue, lookup
from pikadb.config.values import (
    NOTIFY_ALL,
    NOTIFY_KEYEVENT,
    NOTIFY_KEYSPACE,
    ValueKind,
    format_memory,
    keyspace_event_flags,
    keyspace_events_string,
    memtoull,
    string2ll,
    yesno,
)
from pikadb.config.yamlfile import load_yaml_text, quote_yaml_string


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("512", 512),
        ("512b", 512),
        ("64k", 64_000),
        ("64K", 64_000),
        ("64kb", 64 * 1024),
        ("64KB", 64 * 1024),
        ("1m", 1_000_000),
        ("512mb", 512 * 1024 * 1024),
        ("512Mb", 512 * 1024 * 1024),
        ("1g", 1_000_000_000),
        ("1gb", 1 << 30),
        ("1GB", 1 << 30),
        ("18446744073709551615", 2**64 - 1),
    ],
)
def test_memtoull_accepts_redis_forms(text: str, expected: int) -> None:
    assert memtoull(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "-1", "+1", "1 mb", " 1", "1.5mb", "1t", "1kib", "mb", "18446744073709551616", "9" * 50],
)
def test_memtoull_rejects(text: str) -> None:
    assert memtoull(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("-1", -1), ("10000", 10000), ("9223372036854775807", 2**63 - 1)],
)
def test_string2ll(text: str, expected: int) -> None:
    assert string2ll(text) == expected


@pytest.mark.parametrize(
    "text", ["", "-", "+1", "01", "-0", " 1", "1 ", "1e3", "1.0", "9223372036854775808", "0x10"]
)
def test_string2ll_rejects_like_redis(text: str) -> None:
    assert string2ll(text) is None


def test_yesno() -> None:
    assert yesno("yes") is True and yesno("YES") is True and yesno("true") is True
    assert yesno("no") is False and yesno("False") is False
    assert yesno("1") is None and yesno("on") is None and yesno("") is None


def test_format_memory_like_config_rewrite() -> None:
    assert format_memory(64 << 20) == "64mb"
    assert format_memory(1 << 30) == "1gb"
    assert format_memory(4096) == "4kb"
    assert format_memory(1000) == "1000"
    assert format_memory(0) == "0"


def test_keyspace_events_normalise_like_redis() -> None:
    flags = keyspace_event_flags("KEA")
    assert flags == NOTIFY_ALL | NOTIFY_KEYSPACE | NOTIFY_KEYEVENT
    assert keyspace_events_string(flags) == "AKE"
    assert keyspace_events_string(keyspace_event_flags("KEg$") or 0) == "g$KE"
    assert keyspace_event_flags("Z") is None
    assert keyspace_events_string(0) == ""


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("port", "abc", "argument couldn't be parsed into an integer"),
        ("port", "70000", "argument must be between 0 and 65535 inclusive"),
        ("port", "01", "argument couldn't be parsed into an integer"),
        ("port", True, "argument couldn't be parsed into an integer"),
        ("maxclients", "0", "argument must be between 1 and 4294967295 inclusive"),
        (
            "proto-max-bulk-len",
            "1k",
            "argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        ("proto-max-bulk-len", "lots", "argument must be a memory value"),
        ("protected-mode", "maybe", "argument must be 'yes' or 'no'"),
        (
            "enable-debug-command",
            "always",
            "argument(s) must be one of the following: no, yes, local",
        ),
        ("notify-keyspace-events", "KEZ", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ("save", "3600", "Invalid save parameters"),
        ("save", "0 1", "Invalid save parameters"),
        ("dir", 1.5, "argument must be a string"),
    ],
)
def test_invalid_values_use_redis_wording(name: str, raw: object, message: str) -> None:
    entry = lookup(name)
    assert entry is not None
    with pytest.raises(InvalidValue) as info:
        entry.parse(raw)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("port", 7000, 7000),
        ("port", "7000", 7000),
        ("slowlog-log-slower-than", "-1", -1),
        ("proto-max-bulk-len", "1gb", 1 << 30),
        ("proto-max-bulk-len", 2 << 20, 2 << 20),
        ("maxmemory", "18446744073709551615", 2**64 - 1),
        ("protected-mode", "no", False),
        ("protected-mode", "TRUE", True),
        ("enable-debug-command", "LOCAL", "local"),
        ("hz", "0", 1),  # Redis clamps hz to 1..500
        ("hz", "100000", 500),
        ("notify-keyspace-events", "Ex", "xE"),
        ("save", " 3600 1  300 100 ", "3600 1 300 100"),
        ("requirepass", None, ""),  # "requirepass:" in YAML
        ("dir", 1234, "1234"),
    ],
)
def test_values_parse(name: str, raw: object, expected: object) -> None:
    entry = lookup(name)
    assert entry is not None
    assert entry.parse(raw) == expected


def test_every_default_is_valid_and_renders() -> None:
    for entry in CONFIG_TABLE:
        assert entry.parse(entry.default) == entry.default, entry.name
        text = entry.render(entry.default)
        assert entry.parse(text) == entry.default, entry.name
        if entry.kind is ValueKind.BOOL:
            assert text in ("yes", "no")
        if entry.kind is ValueKind.SIZE:
            assert text.isdigit()  # CONFIG GET shows sizes as plain bytes


def test_yaml_reads_everything_as_strings() -> None:
    data = load_yaml_text("server:\n  a: yes\n  b: 1:30\n  c: 0777\n  d:\n  e: ~\n  f: 1.0\n", "t")
    assert data == {
        "server": {"a": "yes", "b": "1:30", "c": "0777", "d": None, "e": None, "f": "1.0"}
    }


@given(st.text())
def test_yaml_string_quoting_round_trips(text: str) -> None:
    assert load_yaml_text(f"k: {quote_yaml_string(text)}\n", "t") == {"k": text}
