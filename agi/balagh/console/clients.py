"""Who a request comes from: the direct peer, or, only when that peer is a trusted proxy
(console.trusted_proxies), the address it forwarded in X-Forwarded-For.

A client that talks to the console directly cannot put another address into the audit or
the login throttle by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (10.0.0.0/8); ValueError names a bad entry."""
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {entry!r}") from None
    return tuple(found)


def _within(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: tuple[Network, ...]) -> str | None:
    """The client's address: the peer unless the peer is a trusted proxy, then the last
    hop of X-Forwarded-For that is not itself a trusted proxy (earlier hops are whatever
    the client wrote). A hop that is not an address leaves the peer."""
    if peer is None or not forwarded_for or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not _within(hop, trusted):
            return hop
    return hops[0]


def throttle_key(address: str | None) -> str:
    """The part of an address the login throttle counts by: the address, or for IPv6 its
    /64 (one subscriber usually holds a whole /64)."""
    if address is None:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


__all__ = ["Network", "client_address", "networks", "throttle_key"]
