"""How many connections the HTTP server holds at once, by the open-files limit: waitress
holds each in one file descriptor (``serve.server``), so the soft limit is raised towards
``WANTED_FDS`` as the daemon starts, and what it leaves past ``FILES_KEPT`` bounds the
connections."""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

CONNECTION_LIMIT = 4096  # connections held at once (waitress's default, 100, is a DoS)
FILES_KEPT = 256  # descriptors left for the rest: the store, the sources, logs, senders
WANTED_FDS = CONNECTION_LIMIT + FILES_KEPT
MIN_CONNECTIONS = 16  # held at once under however low an open-files limit


def connection_limit() -> int:
    """Connections held at once: ``CONNECTION_LIMIT``, or what the open-files limit
    leaves past ``FILES_KEPT`` (at least ``MIN_CONNECTIONS``); past it, new clients wait
    in the listen backlog."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return CONNECTION_LIMIT
    return max(MIN_CONNECTIONS, min(CONNECTION_LIMIT, soft - FILES_KEPT))


def raise_fd_limit(wanted: int = WANTED_FDS) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (at most the hard limit); returns
    the soft limit now in force. A low limit is logged, never fatal."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    except (OSError, ValueError) as exc:
        log.warning("fd_limit_unchanged error=%r", str(exc))
        return -1
    if soft != resource.RLIM_INFINITY and soft < wanted:
        log.warning("fd_limit_low open_files=%d wanted=%d", soft, wanted)
    return int(soft)
