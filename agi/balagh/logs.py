"""structlog set-up: one line per event, with the call's context bound per call.

Everything goes to stderr, one line per event, written and flushed at once (PrintLogger
flushes each line; stderr is line-buffered even when piped), so stdout stays free for a
command's own output (`balagh health --json`). Under systemd both reach the journal. With
--log-json the libraries' own stdlib log lines are JSON objects too, so every line of
`journalctl -u balagh -o cat` parses. Every line, ours or a library's, in either mode, is
scrubbed by the same processors (SCRUB): credentials redacted, callers' numbers masked,
places hidden.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from balagh.privacy import PLACE_HIDDEN, mask_number, mask_numbers_in_text, redact_text

# Keys whose values are callers' numbers: masked unless the site sets
# log_caller_numbers: full (BALAGH_LOG_CALLER_NUMBERS=full).
NUMBER_KEYS = frozenset({"caller", "caller_number", "number"})
# Keys whose values say where a caller is: the journal keeps lines beyond the reach of
# `balagh reports redact`, so a place is hidden as a number is (shown with "full" only).
PLACE_KEYS = frozenset({"emirate", "location"})
CALLER_NUMBER_MODES = ("masked", "full")
_caller_numbers = "masked"


def set_caller_numbers(mode: str) -> None:
    """How log lines show callers' numbers from now on: 'masked' (default) or 'full'."""
    global _caller_numbers
    if mode not in CALLER_NUMBER_MODES:
        raise ValueError(f"log_caller_numbers must be one of {', '.join(CALLER_NUMBER_MODES)}")
    _caller_numbers = mode


def redact_secrets(_logger: object, _name: str,
                   event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Credentials out of every string value (httpx errors quote ARI's api_key URL)."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact_text(value)
    return event


def mask_caller_numbers(_logger: object, _name: str,
                        event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Callers' numbers masked and places hidden: in the keys that hold them, and any
    number-shaped run of digits in any text (a library's message, an exception)."""
    if _caller_numbers == "full":
        return event
    for key, value in event.items():
        if not isinstance(value, str):
            continue
        if key in NUMBER_KEYS and any(ch.isdigit() for ch in value):
            event[key] = mask_number(value)
        elif key in PLACE_KEYS and value:
            event[key] = PLACE_HIDDEN
        else:
            event[key] = mask_numbers_in_text(value)
    return event


# The one scrubbing path: every line, ours (structlog) or a library's (stdlib logging),
# in both modes, goes through these before it is rendered.
SCRUB = (redact_secrets, mask_caller_numbers)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at each line (as structlog's PrintLogger does
    here): a stream swapped and closed later must not make a library's line fail."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        del value


def _stdlib_handler(renderer: Any) -> logging.Handler:
    """stdlib records (aiohttp, asyncswagger11, panoramisk, uvicorn) rendered like structlog's
    lines, after the same scrubbing: a library's message never skips it."""
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=[structlog.stdlib.add_logger_name,
                           structlog.processors.add_log_level,
                           structlog.processors.TimeStamper(fmt="iso", utc=True),
                           structlog.processors.format_exc_info,
                           *SCRUB]))
    return handler


def _renderer(json: bool) -> Any:
    return (structlog.processors.JSONRenderer() if json
            else structlog.dev.ConsoleRenderer(colors=False))


def setup_logging(level: str = "info", *, json: bool = False) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)  # set up again (tests, a command after another): one line each
    root.addHandler(_stdlib_handler(_renderer(json)))
    root.setLevel(numeric)
    # Libraries underneath (asyncswagger11, panoramisk) log via stdlib logging; keep
    # them to errors (asyncari, a test dependency, warns about every event it has no model for),
    # and aiosqlite's debug lines quote every statement with its parameters (answers,
    # places, numbers), which no log should keep.
    for noisy in ("asyncari", "asyncswagger11", "httpx", "httpcore", "panoramisk",
                  "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.ERROR))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            *SCRUB,
            _renderer(json),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # Look sys.stderr up at each log call, not once: a stream swapped and closed
        # later (tests capturing output) must not make logging raise in a writer task.
        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
