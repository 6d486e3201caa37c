"""The texts' part of `balagh run`'s composition: config/reachback.yaml loaded and checked,
the sender beside the units' outbox in the call path, its delivery-report route on the
inbound listener. Texts off (the default): the outbox alone, nothing registered."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from balagh.config import Settings, secret_values
from balagh.handover.summary import Publisher
from balagh.inbound import InboundServer
from balagh.store.sms import SmsRows

from .followup_api import Resolved, ResolvedListener
from .sms import SmsSender, TextingPublisher
from .sms_config import RESOLVED, SmsConfig, load_sms_config
from .sms_reports import delivery_report_handler, route_path

__all__ = ["text_on_resolved", "texting"]

log = structlog.get_logger(__name__)


def texting(settings: Settings, rows: SmsRows, outbox: Publisher, inbound: InboundServer,
            config: Callable[[], SmsConfig] | None = None,
            ) -> tuple[Publisher, SmsSender | None]:
    """The call path's publisher and the texts' worker (None: texts are off). `config`:
    the section of the moment (reachback/live.py, reloaded on SIGHUP: each text reads its
    templates, Kannel and sender when it is sent); None: the file read once, here. A bad
    reachback.yaml raises its ConfigError (file:line): `balagh run` does not start."""
    if config is None:
        loaded = load_sms_config(settings.reachback_file, secret_values(settings))
        config = lambda: loaded  # noqa: E731
    first = config()
    if not first.enabled:
        return outbox, None
    if not settings.inbound.enabled:
        log.warning("sms.no_inbound", hint="texts are sent but their delivery reports "
                    "cannot arrive: enable `inbound:` in balagh.yaml")
    # The delivery reports' address is the listener's, fixed at start with its route.
    base = first.dlr_url or f"http://{settings.inbound.host}:{settings.inbound.port}"
    sender = SmsSender(rows, config, base)
    inbound.add_route("GET", route_path(), delivery_report_handler(rows))
    log.info("sms.enabled", kannel=first.kannel_url)
    return TextingPublisher(outbox, sender), sender


def text_on_resolved(sender: SmsSender) -> ResolvedListener:
    """A unit's "resolved" queues the caller's text for it (in the report's language; sent
    only with consent, asked when due). One per report: a second "resolved", or the same
    one told twice while the store spools, finds its key taken and adds nothing."""
    def listener(resolved: Resolved) -> None:
        sender.queue(resolved.reference, RESOLVED, None)

    return listener
