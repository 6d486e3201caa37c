"""The calls the app places, on the wallboard, asked of `balagh run` (the console never
writes the report store): per purpose (callbacks, satisfaction calls), the list of pending
and failed ones, and a supervisor's cancel, over the app's loopback inbound listener with
the token the app keeps in the data folder (reachback/call_routes.py). Bounded: 1 s per
request, 256 KiB per answer; an app that is down, off or slow shows as "unavailable",
never stalls the board."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from balagh.config import Settings
from balagh.reachback.call_routes import TOKEN_HEADER, cancel_path, list_path, read_token
from balagh.store.callbacks import CALLBACK, Purpose

__all__ = ["CallbacksClient"]

log = structlog.get_logger(__name__)

SECONDS = 1.0
MAX_ANSWER = 256 * 1024


class CallbacksClient:
    """One purpose's rows: `CallbacksClient(settings, SURVEY)` asks for the survey's."""

    def __init__(self, settings: Settings, purpose: Purpose = CALLBACK) -> None:
        self.purpose = purpose
        self.data_dir: Path = settings.data_dir
        self.base = f"http://{settings.inbound.host}:{settings.inbound.port}"
        self.enabled = settings.inbound.enabled

    async def _request(self, method: str, path: str,
                       params: dict[str, str] | None = None) -> tuple[int, Any] | None:
        token = read_token(self.data_dir)
        if token is None or not self.enabled:
            return None  # every purpose off: the app made no token
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SECONDS)) \
                    as client, client.request(method, self.base + path, params=params,
                                              headers={TOKEN_HEADER: token}) as answer:
                body = await answer.content.read(MAX_ANSWER)
                return answer.status, json.loads(body.decode() or "null")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("console.callbacks_unreachable", purpose=self.purpose.table,
                        error=f"{type(exc).__name__}: {exc}")
            return None

    async def listing(self) -> list[dict[str, Any]] | None:
        """Pending and failed rows; None: not known now (off, or the app down)."""
        answer = await self._request("GET", list_path(self.purpose))
        if answer is None or answer[0] != 200 or not isinstance(answer[1], dict):
            return None
        rows = answer[1].get(self.purpose.table)
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) \
            else None

    async def cancel(self, id: int, by: str) -> tuple[int, str]:
        """The app's answer (status, what it said); 503 when it cannot be asked."""
        path = cancel_path(self.purpose).replace("{id}", str(int(id)))
        answer = await self._request("POST", path, {"by": by})
        if answer is None:
            return 503, f"the app cannot be asked ({self.purpose.table} off or app down)"
        status, body = answer
        said = body.get("error") or "cancelled" if isinstance(body, dict) else str(body)
        return status, str(said)
