"""`balagh sounds check`: every prompt a call can play, judged in every language.

Present, in the catalogue, in Asterisk's format, audible, not clipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from balagh.ivr.menu import Menu
from balagh.say import DIGIT_PROMPTS, FLOW_PROMPTS
from balagh.sounds.catalogue import Catalogue
from balagh.sounds.files import audio_path
from balagh.sounds.synth import file_hash, placeholder_hashes
from balagh.sounds.wav import (
    BAD_FORMAT,
    CLIPPED,
    SILENT,
    TOO_LONG,
    TOO_SHORT,
    AudioError,
    WavInfo,
    inspect_wav,
)
from balagh.sounds.wav import problems as audio_problems
from balagh.supervise.prompts import SUPERVISOR_PROMPTS

MISSING = "MISSING"
NOT_IN_CATALOGUE = "NOT IN CATALOGUE"


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One prompt in one language, as `balagh sounds check` judges it."""

    prompt_id: str
    lang: str
    path: Path
    problems: tuple[str, ...]
    info: WavInfo | None = None  # None when the file is missing or unreadable
    detail: str = ""  # what exactly is wrong, for the summary line
    placeholder: bool = False  # espeak-ng's output, not yet replaced by a recording

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        return ", ".join(self.problems) or "ok"


def prompts_needed(menu: Menu, table: object | None = None) -> list[str]:
    """Every prompt id a call can play, in the order a caller meets them.

    The menu's questions and its invalid prompt, the flow's own prompts and the
    digits, the supervisor's (a supervisor's call has the language of the phone),
    and whatever the routing table announces: a Table that offers
    `prompts_used` (a method or an attribute) is asked; one that does not, is not.
    """
    ids = [question.prompt for question in menu.questions]
    ids += [menu.invalid_prompt, *FLOW_PROMPTS, *DIGIT_PROMPTS, *SUPERVISOR_PROMPTS]
    used = getattr(table, "prompts_used", None)
    if used is not None:
        ids += list(used() if callable(used) else used)
    return list(dict.fromkeys(ids))


# The whole menu heard to the end (every question's prompt, no key pressed early) within
# this, so that even a first-time caller's report reaches the unit within a minute.
MENU_BUDGET_SECONDS = 45.0


def menu_seconds(rows: Iterable[CheckRow], menu: Menu) -> dict[str, float]:
    """Per language: seconds of every question's prompt, one after the other."""
    questions = {question.prompt for question in menu.questions}
    totals = dict.fromkeys(menu.languages, 0.0)
    for row in rows:
        if row.prompt_id in questions and row.info is not None and row.lang in totals:
            totals[row.lang] += row.info.duration
    return totals


def check_prompts(
    sounds_dir: str | Path,
    catalogue: Catalogue,
    needed: Iterable[str] = (),
    languages: Iterable[str] = (),
) -> list[CheckRow]:
    """Judge every catalogue prompt and every `needed` one, in every language.

    The languages are the catalogue's plus `languages` (the menu's): a caller
    may pick any of those, so each needs text in the catalogue and a good file.
    """
    synthetic = placeholder_hashes(sounds_dir)
    return [
        _check_one(Path(sounds_dir), catalogue, prompt_id, lang, synthetic)
        for prompt_id, lang in prompt_keys(catalogue, needed, languages)
    ]


def prompt_keys(catalogue: Catalogue, needed: Iterable[str] = (),
                languages: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(prompt id, language) of every file a caller may hear: the catalogue's prompts and
    the `needed` ones, in the catalogue's languages and the menu's."""
    ids = list(dict.fromkeys([*catalogue.ids, *needed]))
    langs = list(dict.fromkeys([*catalogue.languages, *languages]))
    return [(prompt_id, lang) for prompt_id in ids for lang in langs]


def _check_one(sounds_dir: Path, catalogue: Catalogue, prompt_id: str, lang: str,
               synthetic: frozenset[str] = frozenset()) -> CheckRow:
    path = audio_path(sounds_dir, lang, prompt_id)
    found: list[str] = []
    details: list[str] = []
    prompt = catalogue.prompts.get(prompt_id)
    if prompt is None or lang not in prompt.text:
        found.append(NOT_IN_CATALOGUE)
        details.append(f"no {lang} text in {catalogue.path.name}")
    if not path.is_file():
        return CheckRow(prompt_id, lang, path, (*found, MISSING), None, "; ".join(details))
    try:
        info = inspect_wav(path)
    except AudioError as exc:
        details.append(str(exc).removeprefix(f"{path}: "))
        return CheckRow(prompt_id, lang, path, (*found, BAD_FORMAT), None, "; ".join(details))
    wrong = audio_problems(info)
    if BAD_FORMAT in wrong:
        details.append(f"{info.format_text}, Asterisk wants 8000 Hz, 1 ch, 16-bit")
    if TOO_SHORT in wrong or TOO_LONG in wrong:
        details.append(f"{info.duration:.2f} s")
    if SILENT in wrong:
        details.append(f"RMS {info.rms_dbfs:.1f} dBFS")
    if CLIPPED in wrong:
        details.append(f"{100 * info.clipped_ratio:.2f}% of samples at full scale")
    placeholder = file_hash(path) in synthetic
    return CheckRow(prompt_id, lang, path, (*found, *wrong), info, "; ".join(details),
                    placeholder)


__all__ = ["MENU_BUDGET_SECONDS", "MISSING", "NOT_IN_CATALOGUE", "CheckRow", "check_prompts",
           "menu_seconds", "prompt_keys", "prompts_needed"]
