"""`balagh sounds ...`: the prompt catalogue from the command line."""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from balagh.cli.common import table_lines
from balagh.config import Settings
from balagh.ivr.menu import load_menu
from balagh.sounds import (
    Catalogue,
    CheckRow,
    ScriptLine,
    catalogue_path,
    check_prompts,
    generate,
    install_prompts,
    load_catalogue,
    prompts_needed,
    script,
)
from balagh.sounds.check import MENU_BUDGET_SECONDS, menu_seconds


def _catalogue(settings: Settings) -> Catalogue:
    return load_catalogue(catalogue_path(settings.sounds_dir))


def _generate(settings: Settings, args: argparse.Namespace) -> int:
    catalogue = _catalogue(settings)
    made = generate(settings.sounds_dir, catalogue, force=args.force)
    for path in made:
        print(f"generated {path}")
    print(f"{len(made)} prompt file(s) generated")
    return 0


# ------------------------------------------------------------------ check


def check_rows(settings: Settings) -> list[CheckRow]:
    """Every prompt ivr.yaml, the call flow and routing.yaml can play, judged."""
    catalogue = _catalogue(settings)
    menu = load_menu(settings.ivr_file)
    table = _routing_table(settings, menu.answer_values())
    needed = prompts_needed(menu, table)
    return check_prompts(settings.sounds_dir, catalogue, needed, menu.languages)


def _routing_table(settings: Settings, answer_values: dict[str, frozenset[str]]) -> object | None:
    from balagh.routing import Table
    from balagh.routing.load import load_table

    # Routing rules play no prompts yet; once Table says which, they are checked too.
    if not hasattr(Table, "prompts_used"):
        return None
    return load_table(settings.routing_file, answer_values)


def _check(settings: Settings, args: argparse.Namespace) -> int:
    rows = check_rows(settings)
    print_check(rows)
    long_menus = print_menu_lengths(menu_seconds(rows, load_menu(settings.ivr_file)))
    bad = [row for row in rows if not row.ok]
    placeholders = sum(row.placeholder for row in rows)
    if not bad:
        print(f"{len(rows)} prompt files ok{placeholder_note(placeholders, args.strict)}")
        return 1 if long_menus or (placeholders and args.strict) else 0
    problems = "; ".join(
        f"{row.lang}/{row.prompt_id} {row.status}" + (f" ({row.detail})" if row.detail else "")
        for row in bad
    )
    print(f"{len(bad)} of {len(rows)} prompt files have problems: {problems}")
    return 1


def placeholder_note(count: int, strict: bool) -> str:
    """", N of them synthetic placeholders (warning)": an error with --strict."""
    if not count:
        return ""
    return f", {count} of them synthetic placeholders ({'error' if strict else 'warning'})"


def print_menu_lengths(totals: dict[str, float], out: TextIO | None = None) -> list[str]:
    """One line per language; returns the languages whose menu is over the budget."""
    over = []
    for lang, seconds in totals.items():
        verdict = "ok" if seconds <= MENU_BUDGET_SECONDS else "TOO LONG"
        if seconds > MENU_BUDGET_SECONDS:
            over.append(lang)
        print(f"{lang}: the whole menu heard to the end takes {seconds:.1f} s "
              f"(budget {MENU_BUDGET_SECONDS:.0f} s): {verdict}", file=out or sys.stdout)
    return over


def print_check(rows: Sequence[CheckRow], out: TextIO | None = None) -> None:
    table = [("id", "lang", "seconds", "RMS dBFS", "peak dBFS", "voice", "status")]
    for row in rows:
        info = row.info
        table.append(
            (
                row.prompt_id,
                row.lang,
                f"{info.duration:.2f}" if info else "-",
                _db(info.rms_dbfs) if info else "-",
                _db(info.peak_dbfs) if info else "-",
                "placeholder" if row.placeholder else ("recorded" if info else "-"),
                row.status,
            )
        )
    for line in table_lines(table, right={2, 3, 4}):
        print(line.rstrip(), file=out or sys.stdout)


def _db(value: float) -> str:
    return "-inf" if math.isinf(value) else f"{value:.1f}"


# ---------------------------------------------------------------- install


def _install(settings: Settings, args: argparse.Namespace) -> int:
    target = Path(args.to)
    try:
        written = install_prompts(settings.sounds_dir, target)
    except OSError as exc:  # no such folder, no permission, a dangling symlink
        print(f"error: {exc}", file=sys.stderr)
        return 1
    folders: dict[Path, int] = {}
    for path in written:
        folders[path.parent] = folders.get(path.parent, 0) + 1
    for folder, count in folders.items():
        print(f"installed {count} prompt file(s) in {folder}")
    print(f"{len(written)} prompt file(s) installed under {target}")
    return 0


# ----------------------------------------------------------------- script


def _script(settings: Settings, args: argparse.Namespace) -> int:
    try:
        lines = script(_catalogue(settings), args.lang)
    except ValueError as exc:  # a language the catalogue does not have
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        # utf-8-sig: a byte order mark, so spreadsheet programs read the Arabic right.
        encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
        with open(args.output, "w", encoding=encoding, newline="") as out:
            _write_script(lines, args.format, args.lang, out)
        print(f"{len(lines)} prompts written to {args.output}")
        return 0
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8")  # Arabic, whatever the locale says
    _write_script(lines, args.format, args.lang, sys.stdout)
    return 0


def _write_script(lines: list[ScriptLine], fmt: str, lang: str, out: TextIO) -> None:
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, what spreadsheets expect
        writer.writerow(["number", "id", "file", "text", "note"])
        for line in lines:
            writer.writerow([line.number, line.prompt_id, line.file, line.text, line.note])
        return
    out.write(f"Balagh prompts to record in '{lang}': {len(lines)} files.\n"
              "Each file: WAV, 8000 Hz, mono, 16-bit; see docs/voice-artists.md.\n")
    for line in lines:
        out.write(f"\n{line.number:>2}. {line.prompt_id}  ->  {line.file}\n")
        out.write(f"    {line.text}\n")
        out.write(f"    Note: {line.note}\n")


# ----------------------------------------------------------------- parser


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sounds = subparsers.add_parser("sounds", help="the prompt catalogue and its audio")
    actions = sounds.add_subparsers(dest="action", required=True)

    gen = actions.add_parser("generate", help="make missing placeholder prompts with espeak-ng")
    gen.add_argument("--force", action="store_true",
                     help="remake our own generated files too (recordings are never touched)")
    gen.set_defaults(func=_generate)

    check = actions.add_parser(
        "check", help="every prompt the hotline plays: present in every language, in "
        "Asterisk's format (8 kHz mono 16-bit WAV), audible, not clipped (exit 1 if not); "
        "how many are still espeak-ng placeholders (a warning)")
    check.add_argument("--strict", action="store_true",
                       help="placeholders are an error (exit 1): for a production hotline")
    check.set_defaults(func=_check)

    install = actions.add_parser(
        "install", help="copy sounds/<lang>/balagh/*.wav into DIR/<lang>/balagh/")
    install.add_argument("--to", required=True, metavar="DIR",
                         help="Asterisk's sounds folder, e.g. /usr/share/asterisk/sounds")
    install.set_defaults(func=_install)

    scr = actions.add_parser("script", help="the numbered recording script for a voice artist")
    scr.add_argument("--lang", required=True, help="a catalogue language, e.g. ar or en")
    scr.add_argument("--format", choices=("text", "csv"), default="text")
    scr.add_argument("--output", "-o", metavar="FILE",
                     help="write to FILE (CSV gets a byte order mark for spreadsheets)")
    scr.set_defaults(func=_script)
