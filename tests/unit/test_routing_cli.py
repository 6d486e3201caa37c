"""`balagh routes check` and `balagh routes explain`, through their argparse entry."""

from __future__ import annotations

import argparse
import shutil

import pytest

from balagh.cli.routes import register
from balagh.config import Settings

from .shipped import FIXTURES as SHARED_FIXTURES
from .shipped import LOCATIONS_FILE, ROUTING_FILE

FIXTURES = SHARED_FIXTURES / "routing"
SHIPPED = ROUTING_FILE


def run(*argv: str, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="balagh")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["routes", *argv])
    return args.func(settings or Settings(), args)


# --- check ---------------------------------------------------------------------------------------

def test_check_the_shipped_table(capsys):
    assert run("check") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{SHIPPED}: OK, 6 rules, default general",
                   f"{LOCATIONS_FILE}: OK, 6 number prefixes"]


def test_check_a_file_without_locations_next_to_it(capsys):
    path = FIXTURES / "good" / "full-form.yaml"
    assert run("check", str(path)) == 0
    assert capsys.readouterr().out == f"{path}: OK, 7 rules, default general\n"


def test_check_fails_with_the_error_line(capsys):
    path = FIXTURES / "bad" / "bad-time.yaml"
    assert run("check", str(path)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"error: {path}:12: rules[0].when.time.to: not a time of day: '25:00' (write 24-hour "
        "\"HH:MM\", \"00:00\" to \"23:59\")",
        f"{path}: FAILED",
    ]


def test_check_fails_on_a_bad_locations_file(tmp_path, capsys):
    shutil.copy(SHIPPED, tmp_path / "routing.yaml")
    (tmp_path / "locations.yaml").write_text('prefixes:\n  "+9714": dubay\n')
    assert run("check", str(tmp_path / "routing.yaml")) == 1
    assert "locations.yaml:2: prefixes.+9714: unknown emirate 'dubay'" in capsys.readouterr().err


WARNED = """\
queues: [qa, unused, general]
rules:
  - name: r
    when: {age: child}
    queue: qa
default: general
"""


def test_warnings_are_printed_and_fail_only_with_strict(tmp_path, capsys):
    path = tmp_path / "routing.yaml"
    path.write_text(WARNED)
    assert run("check", str(path)) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: OK, 1 rules, default general",
        f"warning: {path}:1: queues[1]: queue 'unused' is listed but no rule, overflow step "
        "or default sends calls to it",
    ]
    assert run("check", "--strict", str(path)) == 1
    assert "1 warning(s), and --strict fails on warnings" in capsys.readouterr().err


def test_check_uses_the_configured_files(tmp_path, capsys):
    path = tmp_path / "rules.yaml"
    path.write_text(WARNED.replace("age: child", "age: toddler"))
    assert run("check", settings=Settings(routing_file=path)) == 1
    assert "'age' has no answer 'toddler'" in capsys.readouterr().err


# --- explain -------------------------------------------------------------------------------------

def test_explain_a_call(capsys):
    assert run("explain", "language=ar", "danger=yes", "age=adult", "gender=female",
               "caller=06 555 1234", "at=2026-12-02T03:00") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"table:    {SHIPPED}\nanswers:  age=adult danger=yes gender=female "
                          "language=ar\ncaller:   +97165551234\nlocation: sharjah (number-prefix)\n"
                          "time:     Wed 2026-12-02 03:00 Asia/Dubai, National Day (uae)\n")
    assert "  MATCH   adult-female" in out
    assert "decision: rule adult-female -> queue women-protection, priority 10" in out


def test_explain_location_and_queue_state(capsys):
    full = str(FIXTURES / "good" / "full-form.yaml")
    assert run("explain", "--file", full, "age=adult", "gender=female", "caller=anonymous",
               "at=2026-12-04T23:30", "geo=25.40,55.51", "queue.women-protection.logged_in=0",
               "queue.general.callers=2") == 0
    out = capsys.readouterr().out
    assert "location: ajman (geolocation)" in out
    assert ("queues:   general: 1 logged in, 1 available, 2 waiting, longest 0 s; "
            "women-protection: 0 logged in, 0 available, 0 waiting, longest 0 s") in out
    assert "  MATCH   women-at-night" in out
    assert "overflow spec: number:+97165555555:30|queue:general" in out


def test_explain_emirate_geo_and_the_answer_first(capsys):
    assert run("explain", "emirate_geo=fujairah", "at=2026-01-05T10:00") == 0
    assert "location: fujairah (geolocation)" in capsys.readouterr().out
    assert run("explain", "emirate=dubai", "emirate_geo=fujairah", "at=2026-01-05T10:00") == 0
    assert "location: dubai (answer)" in capsys.readouterr().out


def test_explain_without_at_uses_the_clock(capsys):
    assert run("explain", "age=child") == 0
    assert "Asia/Dubai" in capsys.readouterr().out.splitlines()[4]


@pytest.mark.parametrize(("argv", "message"), [
    (["agee=child"], "unknown key 'agee' (questions: language, danger, age"),
    (["age=toddler"], "age: no answer 'toddler' (it has: adult, child, elderly)"),
    (["age"], "'age': write key=value"),
    (["at=tomorrow"], "at: not a date and time: 'tomorrow'"),
    (["geo=north"], "geo: write LAT,LON"),
    (["emirate_geo=atlantis"], "emirate_geo: unknown emirate 'atlantis'"),
    (["queue.nowhere.callers=1"], "unknown queue 'nowhere'"),
    (["queue.general.agents=1"], "unknown field 'agents'"),
    (["queue.general.callers=many"], "not a number: 'many'"),
    (["queue.general.callers=-1"], "must not be negative"),
])
def test_explain_usage_errors(capsys, argv, message):
    assert run("explain", *argv) == 2
    assert message in capsys.readouterr().err
