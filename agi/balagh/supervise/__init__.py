"""Supervisors: who may listen in on, whisper to or barge into bridged calls, and how
that is checked (hashed PINs, lockout) and audited.

- `model.py`   Supervisor, SupervisorTable, phone matching, the audit's words
- `pins.py`    hashing and checking PINs (scrypt)
- `lockout.py` too many wrong PINs: locked until when (pure)
- `load.py`    config/supervisors.yaml: load (file:line: key errors) and save
- `prompts.py` the prompts a supervisor's call can play
"""

from balagh.vocabulary import PinAttempt

from .load import load_supervisors, save_supervisors
from .lockout import locked_until
from .model import (
    ACTIONS,
    MODES,
    REFUSALS,
    Supervisor,
    SupervisorTable,
    phone_keys,
)
from .pins import hash_pin, valid_pin, verify_pin
from .prompts import SUPERVISOR_PROMPTS

__all__ = [
    "ACTIONS",
    "MODES",
    "REFUSALS",
    "SUPERVISOR_PROMPTS",
    "PinAttempt",
    "Supervisor",
    "SupervisorTable",
    "hash_pin",
    "load_supervisors",
    "locked_until",
    "phone_keys",
    "save_supervisors",
    "valid_pin",
    "verify_pin",
]
