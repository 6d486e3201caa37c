"""The console's account calls (sqlite3 on console.sqlite3, scrypt) on threads of their
own, never on the event loop: a locked database or a slow hash delays only the requests
that need them, not static files, the event stream or other clients.

A pool of its own rather than the loop's default executor, so that requests waiting on a
locked file cannot take the threads other work (statistics) needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, ParamSpec, TypeVar

from .accounts import Accounts, Session

P = ParamSpec("P")
T = TypeVar("T")
THREADS = 4


class AccountsOffLoop:
    def __init__(self, accounts: Accounts, threads: int = THREADS) -> None:
        self.accounts = accounts
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="console-db")

    async def _run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, partial(call, *args, **kwargs))

    async def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        return await self._run(self.accounts.session, token)

    async def login(self, name: str, password: str,
                    remote: str | None) -> tuple[str, Session] | str:
        return await self._run(self.accounts.login, name, password, remote)

    async def logout(self, token: str) -> None:
        await self._run(self.accounts.logout, token)

    async def audit(self, user: str | None, action: str, detail: dict[str, Any] | None = None,
                    remote: str | None = None) -> None:
        await self._run(self.accounts.audit, user, action, detail, remote)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["AccountsOffLoop"]
