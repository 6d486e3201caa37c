"""Reading the routing table and the prefix table from YAML: the I/O half of routing.

The pure core (balagh.routing) never imports this package; this package builds the
core's values (Table, conditions) from files and checks them, with every problem a
ConfigError naming file, line and key. LiveTable holds the table a running app uses.
"""

from balagh.routing.load.live import APPLIED, REFUSED, UNCHANGED, LiveTable
from balagh.routing.load.locations import load_locations
from balagh.routing.load.table import load_table

__all__ = ["APPLIED", "REFUSED", "UNCHANGED", "LiveTable", "load_locations", "load_table"]
