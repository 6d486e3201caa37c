"""The live reachback.yaml: loaded at start, swapped whole on SIGHUP.

Like the live hotline (hotline/live.py): the new file is loaded and checked, every
section, before it is used; a bad one is refused with its `file:line: key: problem`
logged and the whole previous configuration kept. The swap is one assignment, so a text
or a dial reads either the old sections or the new ones. The senders read their section
through the accessors (`sms`, `callbacks`, `survey`) each time they text or dial, so a
good file takes effect for the next one.

What a section being on starts (the texts' worker, a dialler, their routes) is started
once, at the app's start: a section turned on by a reload is logged as needing a
restart; one turned off stops texting or dialling at once (each sender asks `enabled`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import structlog

from balagh.hotline.live import APPLIED, REFUSED, UNCHANGED, file_sha256

from .callbacks_config import CallbacksConfig
from .reachback_config import ReachbackConfig, load_reachback_config
from .sms_config import SmsConfig
from .survey_config import SurveyConfig

__all__ = ["LiveReachback"]

log = structlog.get_logger(__name__)


class LiveReachback:
    def __init__(self, path: Path, secrets: Mapping[str, str], sounds_dir: Path) -> None:
        self.path = path
        self.secrets = secrets
        self.sounds_dir = sounds_dir
        self.sha256 = file_sha256(path)
        # At start a bad file is fatal, as before: `balagh run` does not start.
        self.current: ReachbackConfig = load_reachback_config(path, secrets, sounds_dir)
        self.started = self.current
        self._reloading = asyncio.Lock()

    def sms(self) -> SmsConfig:
        return self.current.sms

    def callbacks(self) -> CallbacksConfig:
        return self.current.callbacks

    def survey(self) -> SurveyConfig:
        return self.current.survey

    async def reload(self, trigger: str) -> str:
        """Load the file again: APPLIED, REFUSED (the old one kept) or UNCHANGED. Never
        raises. Read and parsed in a worker thread, off the calls' event loop."""
        async with self._reloading:
            found = await asyncio.to_thread(file_sha256, self.path)
            if found == self.sha256:
                log.info("reachback.reload_unchanged", trigger=trigger, file=str(self.path))
                return UNCHANGED
            try:
                loaded = await asyncio.to_thread(load_reachback_config, self.path,
                                                 self.secrets, self.sounds_dir)
            except Exception as exc:  # ConfigError, or a bug in a loader: keep serving
                log.error("reachback.reload_refused", trigger=trigger, file=str(self.path),
                          error=str(exc))
                return REFUSED
            self.current, self.sha256 = loaded, found
            log.info("reachback.reloaded", trigger=trigger, file=str(self.path),
                     sha256=(found or "")[:12])
            off_at_start = [name for name in ("sms", "callbacks", "survey")
                            if getattr(loaded, name).enabled
                            and not getattr(self.started, name).enabled]
            if off_at_start:
                log.warning("reachback.restart_needed", sections=off_at_start,
                            hint="a section turned on takes effect when balagh run restarts")
            return APPLIED
