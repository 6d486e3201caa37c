"""The hotline's configuration, loaded in one go and checked against itself.

menu (ivr.yaml) -> its answer values -> the routing table (routing.yaml, every rule's
answers checked against the menu) -> the number prefixes (locations.yaml, emirates
checked against the menu) -> handover (handover.yaml) and supervisors
(supervisors.yaml), every queue they name checked against the table's queues. The
check commands stop after the routing part (`load_routing`); the app and the watchdog
load it all (`load_hotline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import structlog

from balagh.config import Settings
from balagh.handover.load import HandoverConfig, load_handover
from balagh.ivr.menu import Menu, load_menu
from balagh.routing.load import load_locations, load_table
from balagh.routing.location import EMIRATE_QUESTION
from balagh.routing.model import Table
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE
from balagh.supervise.load import load_supervisors
from balagh.supervise.model import SupervisorTable

log = structlog.get_logger(__name__)

LOCATIONS = "locations.yaml"  # next to the routing table it serves


@dataclass(frozen=True)
class HotlineFiles:
    ivr: Path
    routing: Path
    handover: Path
    supervisors: Path
    # The hotline's place (balagh.yaml): routing.yaml must use the same zone, and caller
    # numbers and list entries are read in the country.
    timezone: str | None = None
    country_code: str = DEFAULT_COUNTRY_CODE

    @classmethod
    def of(cls, settings: Settings) -> HotlineFiles:
        return cls(ivr=settings.ivr_file, routing=settings.routing_file,
                   handover=settings.handover_file, supervisors=settings.supervisors_file,
                   timezone=settings.timezone, country_code=settings.country_code)

    def with_files(self, *, ivr: Path | None = None, routing: Path | None = None) -> HotlineFiles:
        """The same hotline with another menu or routing table (the check commands' own)."""
        return replace(self, ivr=ivr or self.ivr, routing=routing or self.routing)

    @property
    def locations(self) -> Path:
        return self.routing.parent / LOCATIONS

    def all(self) -> tuple[Path, ...]:
        return (self.ivr, self.routing, self.locations, self.handover, self.supervisors)


@dataclass(frozen=True)
class Routing:
    """What decides where a caller goes: the menu, the table, the number prefixes."""

    files: HotlineFiles
    menu: Menu
    table: Table
    prefixes: Mapping[str, str] | None  # None: no locations.yaml next to the table

    @property
    def answer_values(self) -> dict[str, frozenset[str]]:
        return self.menu.answer_values()


@dataclass(frozen=True)
class Hotline(Routing):
    """All of it: what decides the route, and who hears about the call afterwards."""

    handover: HandoverConfig
    supervisors: SupervisorTable

    @property
    def queues(self) -> frozenset[str]:
        return frozenset(self.table.queues)


def load_routing(files: HotlineFiles) -> Routing:
    """Menu, table and prefixes, each checked against the menu; ConfigError names the file."""
    menu = load_menu(files.ivr)
    values = menu.answer_values()
    table = load_table(files.routing, values, timezone=files.timezone,
                       country_code=files.country_code)
    if menu.consent is not None:
        menu.consent.check_queues(menu.source, table.queues)
    prefixes = load_locations(files.locations, values.get(EMIRATE_QUESTION),
                              files.country_code) if files.locations.is_file() else None
    return Routing(files, menu, table, prefixes)


def load_hotline(files: HotlineFiles, secrets: Mapping[str, str] | None = None, *,
                 lenient_supervisors: bool = False) -> Hotline:
    """Every file, the queues named in handover and supervisors checked against the table's.

    `lenient_supervisors` (at start): a supervisors file that does not load is logged and
    read as nobody, so that a typo in it never keeps the hotline from answering."""
    routing = load_routing(files)
    queues = frozenset(routing.table.queues)
    handover = load_handover(files.handover, queues, secrets)
    try:
        supervisors = load_supervisors(files.supervisors, known_queues=queues)
    except Exception as exc:
        if not lenient_supervisors:
            raise
        log.error("supervisors.refused", file=str(files.supervisors), error=str(exc))
        supervisors = SupervisorTable(supervisors=(), source=files.supervisors)
    return Hotline(routing.files, routing.menu, routing.table, routing.prefixes,
                   handover=handover, supervisors=supervisors)
