"""Configuration: typed settings, their sources, and the runtime CONFIG backend.

* :func:`load_settings` - defaults < pika.yaml < ``PIKA_<SECTION>_<FIELD>`` < overrides.
* :class:`Settings` - ``settings.server.port``, ``settings.storage.dir``, ...
* :class:`RuntimeConfig` - CONFIG GET / SET / REWRITE with Redis 7 semantics.
* :data:`CONFIG_TABLE` - one :class:`ConfigEntry` per flat Redis-style name.

Layering: imports only :mod:`pikadb.core`.
"""

from pikadb.config.errors import ConfigError
from pikadb.config.models import ServerSettings, Settings, StorageSettings
from pikadb.config.runtime import Listener, RuntimeConfig
from pikadb.config.settings import load_settings, resolve_config_path
from pikadb.config.table import CONFIG_TABLE, ConfigEntry, lookup
from pikadb.config.values import ValueKind

__all__ = [
    "CONFIG_TABLE",
    "ConfigEntry",
    "ConfigError",
    "Listener",
    "RuntimeConfig",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "ValueKind",
    "load_settings",
    "lookup",
    "resolve_config_path",
]
