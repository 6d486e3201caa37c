"""The live hotline: loaded at start, swapped whole on SIGHUP or a file change.

A new hotline is loaded and checked (every file, against each other) before it is used;
if any file is bad the reload is refused with the error logged and the whole previous
hotline kept, so handover and supervisors are never checked against queues the table
no longer has. The swap is one assignment: a call reads either the old hotline or the
new one, never half of each, and keeps the one it started with. Every attempt is
recorded (`balagh routes history`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog

from balagh.config.yamlsrc import ConfigError
from balagh.hotline.load import Hotline, HotlineFiles, load_hotline
from balagh.vocabulary import ReloadAttempt

log = structlog.get_logger(__name__)

APPLIED = "applied"
REFUSED = "refused"
UNCHANGED = "unchanged"

Fingerprint = tuple[str | None, ...]  # each file's sha256, None for a missing one


class ReloadRecorder(Protocol):
    """Where every load is recorded (the report store's routing_reloads)."""

    def record_reload(self, attempt: ReloadAttempt) -> None: ...


def file_sha256(path: Path) -> str | None:
    """The file's hash, read in chunks: a huge file costs time in a worker thread, never
    its size in memory (the loader then refuses it past its bound)."""
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def fingerprint(files: HotlineFiles) -> Fingerprint:
    return tuple(file_sha256(path) for path in files.all())


class LiveHotline:
    def __init__(self, files: HotlineFiles, secrets: Mapping[str, str] | None,
                 recorder: ReloadRecorder, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.files = files
        self.secrets = secrets
        self.recorder = recorder
        self.clock = clock
        self.fingerprint = fingerprint(files)
        self._reloading = asyncio.Lock()
        # At start a bad file is fatal: better no app (the dialplan sends callers to the
        # general line) than an app routing by a table nobody checked. A bad supervisors
        # file alone is not (load_hotline's lenient_supervisors).
        try:
            self.current: Hotline = load_hotline(files, secrets, lenient_supervisors=True)
        except ConfigError as exc:
            self._record("startup", REFUSED, None, str(exc))
            raise
        self._record("startup", APPLIED, len(self.current.table.rules), None)

    @property
    def sha256(self) -> str | None:
        """The routing table's own hash, as the history shows it."""
        return self.fingerprint[1]

    async def reload(self, trigger: str) -> str:
        """Load every file again; APPLIED, REFUSED (all kept) or UNCHANGED. Never raises.

        The files are read and parsed in a worker thread: a huge or hostile file must not
        stall the calls being served on the event loop meanwhile."""
        async with self._reloading:  # a SIGHUP during a file-change reload waits its turn
            return await self._reload(trigger)

    async def refresh(self) -> Hotline:
        """The hotline as the files are now: reloaded first if one of them changed
        (a supervisor's call, moments after `balagh supervisors add`)."""
        if await asyncio.to_thread(fingerprint, self.files) != self.fingerprint:
            await self.reload("file-change")
        return self.current

    async def _reload(self, trigger: str) -> str:
        found = await asyncio.to_thread(fingerprint, self.files)
        if found == self.fingerprint:
            log.info("routing.reload_unchanged", trigger=trigger, sha256=(found[1] or "")[:12])
            return UNCHANGED
        try:
            hotline = await asyncio.to_thread(load_hotline, self.files, self.secrets)
        except Exception as exc:  # ConfigError, or a bug in a loader: keep serving
            log.error("routing.reload_refused", trigger=trigger, error=str(exc))
            self._record(trigger, REFUSED, None, str(exc), found[1])
            self.fingerprint = found  # do not retry the same bad files on every poll
            return REFUSED
        self.current = hotline
        self.fingerprint = found
        log.info("routing.reloaded", trigger=trigger, rules=len(hotline.table.rules),
                 supervisors=len(hotline.supervisors.supervisors),
                 sha256=(found[1] or "")[:12])
        self._record(trigger, APPLIED, len(hotline.table.rules), None, found[1])
        return APPLIED

    async def watch(self, interval: float = 2.0) -> None:
        """Reload whenever a file's content changes (checked every `interval` s).

        A change is taken once it has stayed the same for one interval, so an editor
        still writing a file is not caught half way."""
        seen: Fingerprint | None = None
        while True:
            await asyncio.sleep(interval)
            found = await asyncio.to_thread(fingerprint, self.files)
            if found == self.fingerprint:
                seen = None
            elif found == seen:
                await self.reload("file-change")
                seen = None
            else:
                seen = found

    def _record(self, trigger: str, outcome: str, rules: int | None, error: str | None,
                sha256: str | None = None) -> None:
        self.recorder.record_reload(ReloadAttempt(
            str(self.files.routing), sha256 or self.sha256, trigger, outcome, rules, error,
            self.clock()))
