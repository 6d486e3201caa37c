"""What the console's filters and wallboard offer from the configuration, not from AMI:
the routing table's queues, the menu's emirates and languages. With AMI down the board
still shows a tile per configured queue, and every filter over a stored id is a choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from balagh.config import Settings
from balagh.config.yamlsrc import ConfigError
from balagh.hotline.load import HotlineFiles, load_routing
from balagh.texts import LANGUAGES
from balagh.vocabulary import EMIRATE_QUESTION

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Choices:
    queues: tuple[str, ...] = ()
    emirates: tuple[str, ...] = ()
    languages: tuple[str, ...] = LANGUAGES


def configured_choices(settings: Settings) -> Choices:
    """From the hotline's files; a file that does not load gives no choices (logged): the
    console still starts, its filters offer "any" only."""
    try:
        routing = load_routing(HotlineFiles.of(settings))
    except (ConfigError, OSError) as exc:
        log.warning("console.choices_unavailable", error=str(exc))
        return Choices()
    questions = {question.id: question for question in routing.menu.questions}
    emirate = questions.get(EMIRATE_QUESTION)
    language = questions.get("language")
    return Choices(
        queues=tuple(sorted(routing.table.queues)),
        emirates=tuple(dict.fromkeys(emirate.options.values())) if emirate else (),
        languages=tuple(dict.fromkeys(language.options.values())) if language else LANGUAGES)


__all__ = ["Choices", "configured_choices"]
