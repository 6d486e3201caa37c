"""The test caller: a Local-channel call into the hotline through ARI and AMI.

Used by `balagh call`, tests/e2e and bench/run.py: `place_call` presses keys like a
caller would and returns a `CallResult` (what was played, the queue joined, ...).
"""

from __future__ import annotations

from balagh.testcall.caller import KEY_DELAY_SECONDS, place_call
from balagh.testcall.result import CallResult

__all__ = ["KEY_DELAY_SECONDS", "CallResult", "place_call"]
