"""Filter values checked against the loaded hotline: a misspelt queue or emirate is an
error that lists the valid names, not an empty table that looks like "no calls"."""

from __future__ import annotations

from collections.abc import Iterable

from balagh.config import Settings
from balagh.hotline.load import HotlineFiles, Routing, load_routing
from balagh.vocabulary import EMIRATE_QUESTION


class UnknownName(ValueError):
    """A filter names a queue, emirate or language the hotline does not have."""


def known_names(routing: Routing) -> dict[str, frozenset[str]]:
    """The names each filter may take: queues of the table, emirates of the menu (and of
    the number prefixes), the menu's languages."""
    emirates = set(routing.answer_values.get(EMIRATE_QUESTION, frozenset()))
    if routing.prefixes:
        emirates.update(routing.prefixes.values())
    return {"queue": frozenset(routing.table.queues), "emirate": frozenset(emirates),
            "language": frozenset(routing.menu.languages)}


def refuse_unknown(settings: Settings, given: dict[str, str | None]) -> None:
    """UnknownName for the first filter in `given` (kind: value) the hotline does not know.

    The hotline is loaded only when a filter is given; ConfigError if it does not load."""
    wanted = {kind: value for kind, value in given.items() if value is not None}
    if not wanted:
        return
    valid = known_names(load_routing(HotlineFiles.of(settings)))
    for kind, value in wanted.items():
        if value not in valid[kind]:
            raise UnknownName(f"unknown {kind} {value!r}; valid: {_listed(valid[kind])}")


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "(none)"


__all__ = ["UnknownName", "known_names", "refuse_unknown"]
