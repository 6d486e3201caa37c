"""The menu's question ids in order: the give-up columns of the statistics, for the CLI,
the console and the report pack alike."""

from __future__ import annotations

from balagh.config import Settings
from balagh.config.yamlsrc import ConfigError


def menu_questions(settings: Settings) -> list[str]:
    """The menu's question ids in order, for the give-up columns; none if it cannot be read."""
    from balagh.ivr.menu import load_menu

    try:
        return [question.id for question in load_menu(settings.ivr_file).questions]
    except (ConfigError, OSError):
        return []


__all__ = ["menu_questions"]
