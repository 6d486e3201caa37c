"""A short-lived, read-only ARI client for the probes: plain HTTP GETs with the app's
credentials. Never asyncari: connecting its websocket would register a Stasis app."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from balagh.config import AriSettings

REQUEST_TIMEOUT_SECONDS = 3.0


class AriError(RuntimeError):
    """ARI answered with an error, or did not answer (the message says which)."""


class AriHttp:
    def __init__(self, settings: AriSettings, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        self.base = settings.url.rstrip("/") + "/ari/"
        self._client = httpx.AsyncClient(base_url=self.base, timeout=timeout,
                                         auth=(settings.username, settings.password))

    async def __aenter__(self) -> AriHttp:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._client.aclose()

    async def get(self, path: str, **params: str) -> Any:
        """The JSON answer; None for 404 (no such variable, app or channel)."""
        try:
            answer = await self._client.get(path, params=params)
        except httpx.TimeoutException:
            raise AriError(f"no answer from {self.base} within {self._timeout():g} s") from None
        except httpx.HTTPError as exc:
            raise AriError(f"cannot reach {self.base}: {exc or type(exc).__name__}") from None
        if answer.status_code == 404:
            return None
        if answer.status_code == 401:
            raise AriError(f"{self.base} refused the credentials (401)")
        if answer.status_code >= 400:
            raise AriError(f"{self.base}{path}: HTTP {answer.status_code}")
        try:
            return answer.json()
        except ValueError:
            raise AriError(f"{self.base}{path}: not JSON") from None

    async def variable(self, name: str) -> str | None:
        """A global variable's value; None when it is not set."""
        found = await self.get("asterisk/variable", variable=name)
        value = found.get("value") if isinstance(found, dict) else None
        return str(value) if value else None

    async def channel_ids(self, app: str) -> list[str] | None:
        """Channels held in the Stasis app; None when Asterisk does not know the app."""
        found = await self.get(f"applications/{app}")
        if not isinstance(found, dict):
            return None
        return [str(channel) for channel in found.get("channel_ids", [])]

    def _timeout(self) -> float:
        return float(self._client.timeout.read or 0)
