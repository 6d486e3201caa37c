"""The supervisors file as the running app sees it: read again when it changes.

`balagh supervisors add|passwd|remove` edits the file while `balagh run` is up; the next
supervisor's call sees the change. A file that no longer loads keeps the last good table
(logged): a typo neither opens monitoring to anyone nor closes it for everyone.
"""

from __future__ import annotations

from pathlib import Path

import structlog

from balagh.supervise.load import load_supervisors
from balagh.supervise.model import SupervisorTable

log = structlog.get_logger(__name__)


class SupervisorFile:
    def __init__(self, path: Path, known_queues: frozenset[str] | None = None) -> None:
        self.path = path
        self.known_queues = known_queues
        self._stamp: tuple[int, int] | None = None
        self._table = SupervisorTable(supervisors=())
        self.current()

    def current(self) -> SupervisorTable:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            try:
                self._table = load_supervisors(self.path, known_queues=self.known_queues)
                log.info("supervisors.loaded", file=str(self.path),
                         supervisors=len(self._table.supervisors))
            except Exception as exc:
                log.error("supervisors.refused", file=str(self.path), error=str(exc))
            self._stamp = stamp
        return self._table
