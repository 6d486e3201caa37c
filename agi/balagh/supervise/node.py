"""Which node this app serves, for its monitoring audit.

With `nodes:` in balagh.yaml an app runs beside each Asterisk node (docs/scale.md); a
supervisor's session is carried by the app's own Asterisk, so its node is the entry
whose ARI URL is the app's. Without `nodes:` (one box) there is none: the audit's rows
carry no node, as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog

from balagh.config import Settings

__all__ = ["app_node"]

log = structlog.get_logger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _place(url: str) -> tuple[str, str, int | None, str]:
    """An ARI URL as compared: scheme, host and port as written or implied, the path
    without its trailing slash ("http://a:8088/" is "http://a:8088")."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme),
            parts.path.rstrip("/"))


def app_node(settings: Settings) -> str | None:
    """The name of the node whose ARI this app uses; None on a one-box site, or (logged)
    when no listed node has the app's ARI URL."""
    if not settings.nodes:
        return None
    own = _place(settings.ari.url)
    for node in settings.nodes:
        if _place(node.ari_url) == own:
            return node.name
    log.warning("monitor.node_unknown", ari_url=settings.ari.url,
                nodes=[node.name for node in settings.nodes],
                hint="no entry of `nodes:` has this app's ARI URL: its monitoring audit "
                "names no node")
    return None
