"""Console passwords: only a salted scrypt hash is stored.

The same self-describing scheme as the supervisors' PINs (supervise/pins.py):
hashlib.scrypt is in the standard library (no native dependency to build or patch), is
memory-hard, and its parameters travel in the hash so they can be raised later.
"""

from __future__ import annotations

from balagh.supervise.pins import hash_pin, is_pin_hash, verify_pin

MIN_LENGTH = 10
MAX_LENGTH = 200  # a bound on the work one login request can ask for


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if password != password.strip():
        return "a password may not start or end with spaces"
    return None


def hash_password(password: str) -> str:
    return hash_pin(password)


def verify_password(password: str, hashed: str) -> bool:
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    return verify_pin(password, hashed)


def is_password_hash(text: object) -> bool:
    return is_pin_hash(text)


__all__ = ["hash_password", "is_password_hash", "password_problem", "verify_password"]
