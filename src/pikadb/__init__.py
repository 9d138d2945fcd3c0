"""pikadb: Pika rebuilt in Python — a persistent, Redis-compatible database on RocksDB."""

__version__ = "0.1.0"
# The Redis version whose behaviour we match; clients gate features on it (INFO, HELLO).
REDIS_VERSION = "7.0.15"
