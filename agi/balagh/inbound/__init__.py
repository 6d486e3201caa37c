"""The app's own HTTP listener for what other systems send it: Kannel's delivery reports and
the units' follow-up. Features register their routes on `InboundServer`; nothing here knows
them."""

from .server import InboundServer, serve_inbound

__all__ = ["InboundServer", "serve_inbound"]
