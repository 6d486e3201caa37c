"""What many unit tests read: the shipped configuration, the fixtures, the menu's values."""

from __future__ import annotations

from pathlib import Path

from balagh.config import ASTERISK_CONFIG_DIR, CONFIG_DIR
from balagh.ivr.menu import load_menu

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
IVR_FILE = CONFIG_DIR / "ivr.yaml"
ROUTING_FILE = CONFIG_DIR / "routing.yaml"
LOCATIONS_FILE = CONFIG_DIR / "locations.yaml"
QUEUES_CONF = ASTERISK_CONFIG_DIR / "queues.conf"
# The answer values routing tables are validated against (the shipped menu's).
VALUES = load_menu(IVR_FILE).answer_values()
