"""A short-lived, read-only ARI client for the probes: the app's typed ARI client
(ari/rest.py) over plain HTTP with the app's credentials, every request bounded. No
websocket: opening one would register a Stasis app."""

from __future__ import annotations

from collections.abc import Awaitable
from types import TracebackType
from typing import Any, TypeVar

import aiohttp

from balagh.ari.description import (
    AriDescriptionUnreadable,
    AriOperationsMissing,
    check_offered,
)
from balagh.ari.rest import AriRequestError, AriRest
from balagh.ari.transport import AriTransport, session
from balagh.config import AriSettings

REQUEST_TIMEOUT_SECONDS = 3.0
T = TypeVar("T")


class AriError(RuntimeError):
    """ARI answered with an error, or did not answer (the message says which)."""


class AriHttp:
    def __init__(self, settings: AriSettings, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        self._transport = AriTransport(
            session(settings.username, settings.password, timeout=timeout), settings.url)
        self.base = self._transport.base + "/"
        self.rest = AriRest(self._transport.send)
        self._timeout = timeout

    async def __aenter__(self) -> AriHttp:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._transport.close()

    async def get(self, path: str, **params: str) -> Any:
        """The JSON answer of GET `path` (below /ari/); None for 404."""
        return await self._answer(self._transport.request("GET", self.base + path, params, {}),
                                  path)

    async def info(self) -> dict[str, Any] | None:
        """Asterisk's own description of itself (version, build, ...)."""
        return await self._answer(self.rest.asterisk.getInfo(), "asterisk/info")

    async def missing_operations(self) -> list[str]:
        """What Asterisk lacks of the operations the app sends (ari/description.py): the
        same check as the app's at connect; empty when it offers them all."""
        try:
            await self._answer(check_offered(self._transport, self.rest), "api-docs")
        except AriOperationsMissing as exc:
            return exc.missing
        except AriDescriptionUnreadable as exc:
            return [str(exc)]
        return []

    async def variable(self, name: str) -> str | None:
        """A global variable's value; None when it is not set."""
        found = await self._answer(self.rest.asterisk.getGlobalVar(variable=name),
                                   "asterisk/variable")
        value = found.get("value") if found is not None else None
        return str(value) if value else None

    async def channel_ids(self, app: str) -> list[str] | None:
        """Channels held in the Stasis app; None when Asterisk does not know the app."""
        found = await self._answer(self.rest.applications.get(applicationName=app),
                                   f"applications/{app}")
        if found is None:
            return None
        return [str(channel) for channel in found.get("channel_ids", [])]

    async def _answer(self, request: Awaitable[T], path: str) -> T | None:
        """The request's answer; None for 404 (no such variable, app or channel); any
        other failure an AriError saying what happened."""
        try:
            return await request
        except TimeoutError:
            raise AriError(f"no answer from {self.base} within {self._timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise AriError(f"cannot reach {self.base}: {exc or type(exc).__name__}") from None
        except AriRequestError as exc:
            if exc.status == 404:
                return None
            if exc.status == 401:
                raise AriError(f"{self.base} refused the credentials (401)") from None
            raise AriError(f"{self.base}{path}: HTTP {exc.status or exc}") from None
        except ValueError:
            raise AriError(f"{self.base}{path}: not JSON") from None
