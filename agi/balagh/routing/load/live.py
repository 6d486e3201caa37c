"""The live routing table: loaded at start, swapped whole on SIGHUP or file change.

A new table is validated before it is used; a bad file is refused with the error
logged and the old table kept. The swap is one assignment, so a call reads either
the old or the new table, never half of each, and a call keeps the table it started
with (handle_call is given `current` once). Every attempt is recorded in SQLite.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import structlog

from balagh.config.yamlsrc import ConfigError
from balagh.routing.load.table import load_table
from balagh.routing.model import Table
from balagh.store.reports import ReportStore

log = structlog.get_logger(__name__)

APPLIED = "applied"
REFUSED = "refused"
UNCHANGED = "unchanged"


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class LiveTable:
    def __init__(self, path: Path, answer_values: Mapping[str, frozenset[str]],
                 store: ReportStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 ) -> None:
        self.path = path
        self.answer_values = answer_values
        self.store = store
        self.clock = clock
        self.sha256 = file_sha256(path)
        self._reloading = asyncio.Lock()
        # At start a bad table is fatal: better no app (the dialplan sends callers to
        # the general line) than an app routing by a table nobody checked.
        try:
            self.current: Table = load_table(path, answer_values)
        except ConfigError as exc:
            self._record("startup", REFUSED, None, str(exc))
            raise
        self._record("startup", APPLIED, len(self.current.rules), None)

    async def reload(self, trigger: str) -> str:
        """Load the file again; APPLIED, REFUSED (old table kept) or UNCHANGED. Never raises.

        The file is read and parsed in a worker thread: a huge or hostile file must not
        stall the calls being served on the event loop meanwhile."""
        async with self._reloading:  # a SIGHUP during a file-change reload waits its turn
            return await self._reload(trigger)

    async def _reload(self, trigger: str) -> str:
        sha256 = await asyncio.to_thread(file_sha256, self.path)
        if sha256 is not None and sha256 == self.sha256:
            log.info("routing.reload_unchanged", trigger=trigger, sha256=sha256[:12])
            return UNCHANGED
        try:
            table = await asyncio.to_thread(load_table, self.path, self.answer_values)
        except Exception as exc:  # ConfigError, or a bug in the loader: keep serving
            log.error("routing.reload_refused", trigger=trigger, file=str(self.path),
                      error=str(exc))
            self._record(trigger, REFUSED, None, str(exc), sha256)
            self.sha256 = sha256  # do not retry the same bad file on every poll
            return REFUSED
        self.current = table
        self.sha256 = sha256
        log.info("routing.reloaded", trigger=trigger, rules=len(table.rules),
                 sha256=(sha256 or "")[:12])
        self._record(trigger, APPLIED, len(table.rules), None, sha256)
        return APPLIED

    async def watch(self, interval: float = 2.0) -> None:
        """Reload whenever the file's content changes (checked every `interval` s).

        A change is taken once it has stayed the same for one interval, so an editor
        still writing the file is not caught half way."""
        seen: str | None = None
        while True:
            await asyncio.sleep(interval)
            sha256 = await asyncio.to_thread(file_sha256, self.path)
            if sha256 is None or sha256 == self.sha256:
                seen = None
            elif sha256 == seen:
                await self.reload("file-change")
                seen = None
            else:
                seen = sha256

    def _record(self, trigger: str, outcome: str, rules: int | None, error: str | None,
                sha256: str | None = None) -> None:
        self.store.record_reload(file=str(self.path), sha256=sha256 or self.sha256,
                                 trigger=trigger, outcome=outcome, rules=rules, error=error,
                                 at=self.clock())
