"""Facts for a call the way a live call makes them, for tests that route many calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from balagh.routing import Facts, Table, make_facts


def facts_of(answers: Mapping[str, str], table: Table, **context: Any) -> Facts:
    """make_facts in the table's zone, as the call flow and `routes explain` call it."""
    return make_facts(answers, table.zone, **context)
