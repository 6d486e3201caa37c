"""structlog set-up: one line per event, with the call's context bound per call."""

from __future__ import annotations

import logging
import sys

import structlog


def setup_logging(level: str = "info", *, json: bool = False) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
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
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # Look sys.stderr up at each log call, not once: a stream swapped and closed
        # later (tests capturing output) must not make logging raise in a writer task.
        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
