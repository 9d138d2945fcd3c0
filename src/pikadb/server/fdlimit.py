"""The open-files limit for ``maxclients`` (Redis's adjustOpenFilesLimit).

Each client is a file descriptor, and the server needs some more of its own (RocksDB files,
listeners, logs): ``maxclients + RESERVED_FDS``. At start the soft RLIMIT_NOFILE is raised to
that (and the hard one too when we may); when the OS refuses, the highest limit it accepts
is kept and maxclients is lowered to fit, with Redis's log lines.
"""

from __future__ import annotations

import logging
import resource
from typing import TYPE_CHECKING, Any

from pikadb.core import errors
from pikadb.core.errors import CommandError

if TYPE_CHECKING:
    from pikadb.config.models import ServerSettings

log = logging.getLogger("pikadb.server")

RESERVED_FDS = 32  # CONFIG_MIN_RESERVED_FDS
_STEP = 16


def adjust_open_files_limit(maxclients: int) -> int:
    """Raise RLIMIT_NOFILE for ``maxclients``; return the maxclients that fits (== the
    argument when the limit could be set), or 0 when not even one client fits."""
    wanted = maxclients + RESERVED_FDS
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as exc:
        log.warning(
            "Unable to obtain the current NOFILE limit (%s), assuming 1024 and setting the "
            "max clients configuration accordingly.",
            exc,
        )
        return max(0, min(maxclients, 1024 - RESERVED_FDS))
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return maxclients
    best = wanted
    error: OSError | None = None
    while best > soft:
        new_hard = hard if hard == resource.RLIM_INFINITY or hard >= best else best
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (best, new_hard))
            break
        except (OSError, ValueError) as exc:
            error = exc if isinstance(exc, OSError) else OSError(str(exc))
            best -= _STEP
    if best < soft:
        best = soft
    if best >= wanted:
        log.info(
            "Increased maximum number of open files to %d (it was originally set to %d).",
            best,
            soft,
        )
        return maxclients
    fits = best - RESERVED_FDS
    if fits < 1:
        log.warning(
            "Your current 'ulimit -n' of %d is not enough for the server to start. Please "
            "increase your open file limit to at least %d. Exiting.",
            soft,
            wanted,
        )
        return 0
    log.warning(
        "You requested maxclients of %d requiring at least %d max file descriptors.",
        maxclients,
        wanted,
    )
    log.warning(
        "Server can't set maximum open files to %d because of OS error: %s.",
        wanted,
        error.strerror if error is not None and error.strerror else error,
    )
    log.warning(
        "Current maximum open files is %d. maxclients has been reduced to %d to compensate "
        "for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
        best,
        fits,
    )
    return fits


def apply_at_start(s: ServerSettings) -> None:
    """Raise the limit for ``s.maxclients``; lower maxclients when the OS refuses."""
    fits = adjust_open_files_limit(s.maxclients)
    if fits == 0:
        raise SystemExit(1)
    if fits < s.maxclients:
        s.maxclients = fits


def maxclients_listener(value: Any) -> None:
    """CONFIG SET maxclients: raise the limit first; refuse what the OS cannot hold."""
    fits = adjust_open_files_limit(int(value))
    if fits < int(value):
        raise CommandError(errors.MAXCLIENTS_OS_LIMIT.format(fits))
