"""The callbacks' part of `balagh run`'s composition: config/reachback.yaml's `callbacks:`
loaded and checked, the scheduler beside the outbox in the call path, the dialler on the
shared AMI session, and the console's list and cancel routes on the inbound listener
(call_routes.py, shared with the satisfaction calls). Callbacks off (the default):
nothing registered."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import structlog

from balagh.config import Settings
from balagh.handover.agents import QueueAgents
from balagh.handover.summary import Publisher
from balagh.inbound import InboundServer
from balagh.routing import QueueState
from balagh.store.callbacks import CALLBACK, CallbackRows
from balagh.store.queries import Queries

from .call_routes import (
    TOKEN_FILE,
    TOKEN_HEADER,
    cancel_handler,
    cancel_path,
    list_handler,
    list_path,
    read_token,
    serve_calls,
)
from .callbacks import CallbackDialler, CallbackPublisher, Originator
from .callbacks_config import CallbacksConfig, load_callbacks_config

__all__ = ["CANCEL_PATH", "LIST_PATH", "TOKEN_FILE", "TOKEN_HEADER", "calling_back",
           "cancel_handler", "list_handler", "read_token"]

log = structlog.get_logger(__name__)

CANCEL_PATH = cancel_path(CALLBACK)  # /callbacks/{id}/cancel
LIST_PATH = list_path(CALLBACK)      # /callbacks


def calling_back(settings: Settings, rows: CallbackRows, reports: Queries, outbox: Publisher,
                 ami: Originator, queues: Callable[[], Mapping[str, QueueState]],
                 agents: Callable[[], Mapping[str, QueueAgents]], inbound: InboundServer,
                 config: Callable[[], CallbacksConfig] | None = None,
                 ) -> tuple[Publisher, CallbackDialler | None]:
    """The call path's publisher and the dialler (None: callbacks are off). `config`: the
    section of the moment (reachback/live.py, reloaded on SIGHUP); None: the file read
    once, here. A bad reachback.yaml raises its ConfigError (file:line): `balagh run` does
    not start."""
    if config is None:
        loaded = load_callbacks_config(settings.reachback_file)
        config = lambda: loaded  # noqa: E731
    first = config()
    if not first.enabled:
        return outbox, None
    dialler = CallbackDialler(rows, reports, ami, queues, config, settings.zone,
                              agents=agents, agent_language=settings.agent_language)
    serve_calls(inbound, rows, settings.data_dir)
    if not settings.inbound.enabled:
        log.warning("callback.no_inbound", hint="supervisors cannot cancel a callback from "
                    "the console: enable `inbound:` in balagh.yaml")
    log.info("callback.enabled", delay=first.delay_seconds, attempts=first.attempts)
    return CallbackPublisher(outbox, rows, config, dialler.wake), dialler
