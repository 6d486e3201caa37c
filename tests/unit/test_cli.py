"""The `balagh` command line: its command groups and the helpers they share."""

from __future__ import annotations

import argparse
from dataclasses import replace

import pytest

from balagh.cli import build_parser, command_of, main
from balagh.cli.call import print_result
from balagh.cli.common import print_fields, table_lines
from balagh.config import Settings
from balagh.testcall import CallResult

COMMANDS = ["run", "watchdog", "pbx", "call", "reports", "stats", "report-pack", "sounds", "ivr",
            "routes", "supervisors", "monitor", "outbox", "health", "backup", "console", "users",
            "callers", "config", "db"]


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def test_every_command_group_is_registered_in_order():
    assert _commands(build_parser()) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_alone_registers_just_itself(command):
    # main() imports only the module of the command it runs (the static table's entry).
    assert _commands(build_parser(command)) == [command]


@pytest.mark.parametrize(("argv", "command"), [
    (["stats", "--by", "queue"], "stats"),
    (["--config", "stats", "report-pack"], "report-pack"),
    (["--log-json", "--log-level", "debug", "run"], "run"),
    (["--version"], None),
    (["--", "stats"], None),
    ([], None),
])
def test_command_of_finds_the_command_word(argv, command):
    assert command_of(argv) == command


def test_an_unknown_command_gets_the_whole_parser():
    assert _commands(build_parser("nonsense")) == COMMANDS


@pytest.mark.parametrize(("argv", "func"), [
    (["run"], "_run"),
    (["watchdog", "--grace", "3"], "_watchdog"),
    (["pbx", "status"], "_pbx"),
    (["call", "--digits", "1,2"], "_call"),
    (["reports", "R-1"], "_reports"),
    (["sounds", "check"], "_check"),
    (["ivr", "check"], "_check"),
    (["routes", "check"], "_check"),
    (["routes", "explain", "age=child"], "_explain"),
    (["routes", "reload"], "_reload"),
    (["routes", "history"], "_history"),
    (["supervisors", "list"], "_supervisors"),
    (["monitor", "--audit"], "_monitor"),
    (["outbox"], "_outbox"),
    (["outbox", "retry", "3"], "_outbox"),
])
def test_each_command_sets_its_function(argv, func):
    args = build_parser().parse_args(argv)
    assert args.func.__name__ == func
    assert args.func.__module__ == f"balagh.cli.{argv[0]}"


def test_reload_without_a_running_app(tmp_path, capsys):
    # Settings built here, not loaded: never signal a real `balagh run` on this machine.
    args = build_parser().parse_args(["routes", "reload"])
    assert args.func(replace(Settings(), data_dir=tmp_path), args) == 1
    assert capsys.readouterr().out == (f"balagh run is not running (no locked pid file "
                                       f"{tmp_path / 'balagh.pid'}); the table is read when "
                                       "it starts\n")
    assert not (tmp_path / "reload-request").exists()


def test_history_without_a_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    assert main(["routes", "history"]) == 0
    assert capsys.readouterr().out.startswith("no history yet (")


def test_fields_line_up(capsys):
    print_fields({"a": 1, "longer": "x"})
    assert capsys.readouterr().out == "a       1\nlonger  x\n"


def test_table_columns_left_or_right_aligned():
    rows = [("id", "n", "note"), ("abc", "7", "-"), ("d", "12", "long note")]
    assert table_lines(rows, right={1}) == [
        "id    n  note     ",
        "abc   7  -        ",
        "d    12  long note",
    ]


def test_call_result_shows_a_fallback_only_when_there_was_one(capsys):
    result = CallResult(played=["ask-language"], sent=["1"], queue="general",
                        asterisk_queue="balagh-general", priority=2, reference="R-1")
    print_result(result)
    plain = capsys.readouterr().out
    assert "fallback" not in plain
    assert plain.splitlines()[2] == "queue            general (app_queue balagh-general)"
    result.fallback = "default queue"
    print_result(result)
    assert capsys.readouterr().out.splitlines()[-1] == "fallback         default queue"
