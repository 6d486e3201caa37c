"""The caller's location from an RFC 6442 Geolocation the SIP INVITE carried.

Asterisk's res_pjsip_geolocation turns it into the channel's geolocation profile,
readable with GEOLOC_PROFILE() (the endpoint needs geoloc_incoming_call_profile).
Only GML points are used: a civic address or a by-reference URI names no
coordinates we could place without fetching documents. Best effort: any failure
is "no geolocation", never an error for the caller.
"""

from __future__ import annotations

import re

import structlog

from balagh.ivr.port import CallGone, CallPort
from balagh.routing import emirate_at

log = structlog.get_logger(__name__)

_POS = re.compile(r"pos\s*=\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)")


def point_from_location_info(location_info: str) -> tuple[float, float] | None:
    """'shape=Point,crs=2d,pos=25.35 55.42' -> (25.35, 55.42)."""
    if "point" not in location_info.lower():
        return None
    match = _POS.search(location_info)
    return (float(match.group(1)), float(match.group(2))) if match else None


async def geolocated_emirate(call: CallPort) -> str | None:
    if not call.info.channel.startswith("PJSIP/"):
        return None  # only a SIP INVITE carries one: no REST round trips for other calls
    try:
        if (await call.get_variable("GEOLOC_PROFILE(format)") or "").upper() != "GML":
            return None
        point = point_from_location_info(
            await call.get_variable("GEOLOC_PROFILE(location_info)") or "")
    except CallGone:
        raise
    except Exception as exc:
        log.info("geolocation.unavailable", error=str(exc))
        return None
    if point is None:
        return None
    emirate = emirate_at(*point)
    # The emirate only: coordinates place a caller far more closely than a log needs.
    log.info("geolocation.point", emirate=emirate)
    return emirate
