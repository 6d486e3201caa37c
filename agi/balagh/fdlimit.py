"""File descriptors: enough for the app's own links, whatever its listeners are sent.

Every socket and file takes one descriptor from RLIMIT_NOFILE (soft limit usually 1024).
A flood of FastAGI connections once took them all, and the app's own outbound sockets
(ARI requests and reconnects, AMI, the outbox, SQLite reopening) failed with EMFILE.
So `balagh run` raises its soft limit toward the hard limit at start (systemd's
LimitNOFILE sets both), and FastAGI sessions are capped at what is left after
RESERVED_FDS for those links.
"""

from __future__ import annotations

import resource

import structlog

log = structlog.get_logger(__name__)

WANTED_FDS = 65536  # soft limit asked for (up to the hard limit); systemd units set it too
# Kept for the app's own links: ARI (websocket + 32 keep-alive requests), AMI, SQLite
# (two connections, WAL, shm, spool and its lock), the outbox's HTTP pool, logs, the
# event loop's own; plus the connections over the cap accepted in one burst (listen
# backlog 100), closed by the FastAGI server an event-loop turn later.
RESERVED_FDS = 256
# Sessions at once, even with descriptors to spare: a route takes well under a second,
# so this is far beyond a real PBX's need, and a flood's cost in memory stays bounded.
MAX_FASTAGI_SESSIONS = 1024


def raise_soft_limit(wanted: int = WANTED_FDS) -> int:
    """Raise RLIMIT_NOFILE's soft limit toward min(wanted, hard); the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # a container may forbid it: go on with less
            log.warning("app.fd_limit_unraised", soft=soft, hard=hard, error=str(exc))
    return soft


def soft_limit() -> int:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return WANTED_FDS if soft == resource.RLIM_INFINITY else soft


def fastagi_session_cap(limit: int | None = None) -> int:
    """FastAGI sessions allowed at once under the descriptor limit `limit` (now's if None)."""
    available = (soft_limit() if limit is None else limit) - RESERVED_FDS
    return max(1, min(MAX_FASTAGI_SESSIONS, available))
