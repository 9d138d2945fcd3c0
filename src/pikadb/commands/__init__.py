"""Command families. Importing a family module registers its commands in the table."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every family module (idempotent)."""
    for mod in pkgutil.iter_modules(__path__):
        if mod.name not in ("table", "context") and not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
