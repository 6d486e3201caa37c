"""CSRF tokens: one random token per session, sent back with every state-changing request.

The token lives in the session row (server side) and in the page; a forged request from
another site carries the session cookie (SameSite aside) but cannot read the token.
"""

from __future__ import annotations

import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing or empty token on either side is refused."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


__all__ = ["new_token", "token_ok"]
