"""One loaded hotline: menu, routing table, number prefixes, handover and supervisors,
loaded and checked against each other once (`load.py`), reloaded together (`live.py`)."""

from .live import APPLIED, REFUSED, UNCHANGED, LiveHotline
from .load import Hotline, HotlineFiles, Routing, load_hotline, load_routing

__all__ = ["APPLIED", "REFUSED", "UNCHANGED", "Hotline", "HotlineFiles", "LiveHotline",
           "Routing", "load_hotline", "load_routing"]
