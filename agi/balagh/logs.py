"""structlog set-up: one line per event, with the call's context bound per call.

Everything goes to stderr, one line per event, written and flushed at once (PrintLogger
flushes each line; stderr is line-buffered even when piped), so stdout stays free for a
command's own output (`balagh health --json`). Under systemd both reach the journal. With
--log-json the libraries' own stdlib log lines are JSON objects too, so every line of
`journalctl -u balagh -o cat` parses.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from balagh.privacy import mask_number, redact_text

# Keys whose values are callers' numbers: masked unless the site sets
# log_caller_numbers: full (BALAGH_LOG_CALLER_NUMBERS=full).
NUMBER_KEYS = frozenset({"caller", "caller_number", "number"})
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
    if _caller_numbers == "full":
        return event
    for key in NUMBER_KEYS & event.keys():
        value = event[key]
        if isinstance(value, str) and any(ch.isdigit() for ch in value):
            event[key] = mask_number(value)
    return event


def _json_handler() -> logging.Handler:
    """stdlib records (asyncari, panoramisk, httpx) rendered as structlog's JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer()],
        foreign_pre_chain=[structlog.stdlib.add_logger_name,
                           structlog.processors.add_log_level,
                           structlog.processors.TimeStamper(fmt="iso", utc=True),
                           structlog.processors.format_exc_info,
                           redact_secrets]))
    return handler


def setup_logging(level: str = "info", *, json: bool = False) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    if json:
        logging.basicConfig(handlers=[_json_handler()], level=numeric)
    else:
        logging.basicConfig(format="%(message)s", stream=sys.stderr, level=numeric)
    # Libraries underneath (asyncari, panoramisk, httpx) log via stdlib logging;
    # keep them to errors: asyncari warns about every event type it has no model for.
    for noisy in ("asyncari", "asyncswagger11", "httpx", "httpcore", "panoramisk"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.ERROR))
    renderer = (structlog.processors.JSONRenderer() if json
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            mask_caller_numbers,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # Look sys.stderr up at each log call, not once: a stream swapped and closed
        # later (tests capturing output) must not make logging raise in a writer task.
        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
