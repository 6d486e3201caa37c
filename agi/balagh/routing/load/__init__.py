"""Reading the routing table and the prefix table from YAML: the I/O half of routing.

The pure core (balagh.routing) never imports this package; this package builds the
core's values (Table, conditions) from files and checks them, with every problem a
ConfigError naming file, line and key. The table a running app uses is held, with the
rest of the configuration, by balagh.hotline (LiveHotline).
"""

from balagh.routing.load.locations import load_locations
from balagh.routing.load.table import load_table

__all__ = ["load_locations", "load_table"]
