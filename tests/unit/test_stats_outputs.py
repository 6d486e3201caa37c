"""`balagh stats --followup | --survey | --dispositions | --by agent`: what each prints, to
the byte, and its exit code, pinned in the hotline's zone (Asia/Dubai) for figures, empty
periods, bad periods and missing databases. Written against cli/stats.py before its four
commands shared one skeleton, so the refactor is proven to change nothing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.console.dispositions import Disposition, DispositionBook

from . import test_agent_figures as agents_data
from . import test_followup_stats as followup_data
from . import test_survey_store as survey_data


@dataclass(frozen=True)
class Paths:
    data_dir: Path    # the settings' data directory: the console's dispositions are there
    followup: Path
    survey: Path
    agents: Path
    old: Path         # a file from before follow-ups, agents' activity and the survey


def _dispositions(path: Path) -> None:
    book = DispositionBook(path, ("genuine", "silent", "prank", "testing"), 40)
    saved = [("c1", "child-protection", "genuine", "2026-11-03T09:00:00.000Z"),
             ("c2", "child-protection", "genuine", "2026-11-04T09:00:00.000Z"),
             ("c3", "child-protection", "silent", "2026-11-05T09:00:00.000Z"),
             ("w1", "women-protection", "prank", "2026-11-06T09:00:00.000Z"),
             ("g1", "general", "testing", "2026-11-07T09:00:00.000Z"),
             ("old", "general", "genuine", "2026-10-07T09:00:00.000Z")]
    for call_id, queue, word, at in saved:
        book.save(Disposition(call_id, None, queue, "PJSIP/agent", "agent", word, None, at))


async def _agents(path: Path) -> None:
    from balagh.ami.agent_events import AgentEvents
    from balagh.store import ReportStore

    store = await ReportStore.open(path)
    now = agents_data.DAY
    follower = AgentEvents(object(), store.agents, 30,  # type: ignore[arg-type]
                           clock=lambda: now)
    for seconds, event in agents_data.SCRIPT:
        now = agents_data.DAY + timedelta(seconds=seconds)
        follower.take(event)
    await store.close()


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    root = tmp_path_factory.mktemp("outputs")
    made = Paths(root / "data", root / "followup.db", root / "survey.db", root / "agents.db",
                 root / "old.db")
    made.data_dir.mkdir()
    with contextlib.closing(sqlite3.connect(made.old)) as db:
        db.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY)")
        db.execute("PRAGMA user_version = 8")  # the oldest the statistics read
    asyncio.run(followup_data.make(made.followup))
    asyncio.run(survey_data.make(made.survey))
    asyncio.run(_agents(made.agents))
    _dispositions(made.data_dir / "console.sqlite3")
    return made


NOVEMBER = ("--month", "2026-11")
QUIET = ("--month", "2026-09")  # nothing happened then
BAD = ("--month", "2026-13")

# (what to print, which database) -> the arguments after `balagh stats`
CASES: dict[str, tuple[str, ...]] = {
    "followup-table": (*NOVEMBER, "--followup", "--database", "{followup}"),
    "followup-csv": (*NOVEMBER, "--followup", "--format", "csv", "--database", "{followup}"),
    "followup-json": (*NOVEMBER, "--followup", "--format", "json", "--database", "{followup}"),
    "followup-empty-table": (*QUIET, "--followup", "--database", "{followup}"),
    "followup-empty-csv": (*QUIET, "--followup", "--format", "csv", "--database", "{followup}"),
    "followup-bad-period": (*BAD, "--followup", "--database", "{followup}"),
    "followup-no-database": (*NOVEMBER, "--followup", "--database", "{missing}"),
    "followup-old-database": (*NOVEMBER, "--followup", "--database", "{old}"),
    "survey-table": (*NOVEMBER, "--survey", "--database", "{survey}"),
    "survey-csv": (*NOVEMBER, "--survey", "--format", "csv", "--database", "{survey}"),
    "survey-json": (*NOVEMBER, "--survey", "--format", "json", "--database", "{survey}"),
    "survey-empty-table": (*QUIET, "--survey", "--database", "{survey}"),
    "survey-empty-csv": (*QUIET, "--survey", "--format", "csv", "--database", "{survey}"),
    "survey-empty-json": (*QUIET, "--survey", "--format", "json", "--database", "{survey}"),
    "survey-bad-period": (*BAD, "--survey", "--database", "{survey}"),
    "survey-no-database": (*NOVEMBER, "--survey", "--database", "{missing}"),
    "survey-old-database": (*NOVEMBER, "--survey", "--format", "json", "--database", "{old}"),
    "dispositions-table": (*NOVEMBER, "--dispositions"),
    "dispositions-csv": (*NOVEMBER, "--dispositions", "--format", "csv"),
    "dispositions-json": (*NOVEMBER, "--dispositions", "--format", "json"),
    "dispositions-empty-table": (*QUIET, "--dispositions"),
    "dispositions-empty-json": (*QUIET, "--dispositions", "--format", "json"),
    "dispositions-bad-period": (*BAD, "--dispositions"),
    "agents-table": (*NOVEMBER, "--by", "agent", "--database", "{agents}"),
    "agents-csv": (*NOVEMBER, "--by", "agent", "--format", "csv", "--database", "{agents}"),
    "agents-json": (*NOVEMBER, "--by", "agent", "--format", "json", "--database", "{agents}"),
    "agents-one-queue": (*NOVEMBER, "--by", "agent", "--queue", "general",
                         "--database", "{agents}"),
    "agents-empty-table": (*QUIET, "--by", "agent", "--database", "{agents}"),
    "agents-empty-csv": (*QUIET, "--by", "agent", "--format", "csv", "--database", "{agents}"),
    "agents-bad-period": (*BAD, "--by", "agent", "--database", "{agents}"),
    "agents-no-database": (*NOVEMBER, "--by", "agent", "--database", "{missing}"),
    "agents-old-database": (*NOVEMBER, "--by", "agent", "--database", "{old}"),
    "agents-plot": (*NOVEMBER, "--by", "agent", "--plot", "{missing}"),
}


def run(case: str, paths: Paths, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """`balagh stats` with the case's arguments: exit code, stdout, stderr (the folder of
    the databases written as {root})."""
    monkeypatch.setenv("BALAGH_DATA_DIR", str(paths.data_dir))
    monkeypatch.setenv("BALAGH_TIMEZONE", "Asia/Dubai")
    monkeypatch.delenv("BALAGH_DATABASE_URL", raising=False)
    names = {"followup": paths.followup, "survey": paths.survey, "agents": paths.agents,
             "old": paths.old, "missing": paths.data_dir.parent / "missing.db"}
    capsys.readouterr()
    status = main(["stats", *(arg.format(**names) for arg in CASES[case])])
    out, err = capsys.readouterr()
    root = str(paths.data_dir.parent)
    return status, out.replace(root, "{root}"), err.replace(root, "{root}")


# Printed by cli/stats.py before the refactor (the databases' folder as {root}).
EXPECTED: dict[str, tuple[int, str, str]] = {
 'agents-bad-period': (2, '', "error: not a month (YYYY-MM): '2026-13'\n"),
 'agents-csv': (0,
                'agent,offered,answered,missed,talk_seconds,pause_seconds,wrapup_seconds\n'
                'A,3,2,0,80,760,60\n'
                'B,2,0,1,0,120,0\n'
                'total,5,2,1,80,880,60\n',
                ''),
 'agents-empty-csv': (0,
                      'agent,offered,answered,missed,talk_seconds,pause_seconds,wrapup_seconds\n'
                      'total,0,0,0,0,0,0\n',
                      'no agent activity in 2026-09 (2026-09-01 – 2026-09-30, Asia/Dubai)\n'),
 'agents-empty-table': (0,
                        '',
                        'no agent activity in 2026-09 (2026-09-01 – 2026-09-30, '
                        'Asia/Dubai)\n'),
 'agents-json': (0,
                 '{\n'
                 '  "period": "2026-11",\n'
                 '  "from": "2026-10-31T20:00:00+00:00",\n'
                 '  "until": "2026-11-30T20:00:00+00:00",\n'
                 '  "by": "agent",\n'
                 '  "rows": [\n'
                 '    {\n'
                 '      "agent": "A",\n'
                 '      "offered": 3,\n'
                 '      "answered": 2,\n'
                 '      "missed": 0,\n'
                 '      "talk_seconds": 80,\n'
                 '      "pause_seconds": 760,\n'
                 '      "wrapup_seconds": 60\n'
                 '    },\n'
                 '    {\n'
                 '      "agent": "B",\n'
                 '      "offered": 2,\n'
                 '      "answered": 0,\n'
                 '      "missed": 1,\n'
                 '      "talk_seconds": 0,\n'
                 '      "pause_seconds": 120,\n'
                 '      "wrapup_seconds": 0\n'
                 '    }\n'
                 '  ],\n'
                 '  "total": {\n'
                 '    "agent": "total",\n'
                 '    "offered": 5,\n'
                 '    "answered": 2,\n'
                 '    "missed": 1,\n'
                 '    "talk_seconds": 80,\n'
                 '    "pause_seconds": 880,\n'
                 '    "wrapup_seconds": 60\n'
                 '  }\n'
                 '}\n',
                 ''),
 'agents-no-database': (2, '', 'error: no report database at {root}/missing.db\n'),
 'agents-old-database': (2,
                         '',
                         "error: {root}/old.db has no agents' activity yet (start `balagh "
                         'run` once to migrate it)\n'),
 'agents-one-queue': (0,
                      '2026-11 (2026-11-01 – 2026-11-30, Asia/Dubai), by agent; times in '
                      'seconds\n'
                      '\n'
                      'agent  offered  answered  missed  talk s  pause s  wrap-up s\n'
                      'A            2         1       0      20      760         30\n'
                      'B            2         0       1       0      120          0\n'
                      'total        4         1       1      20      880         30\n',
                      ''),
 'agents-plot': (2,
                 '',
                 'error: --plot draws calls, not agents: leave it out with --by agent\n'),
 'agents-table': (0,
                  '2026-11 (2026-11-01 – 2026-11-30, Asia/Dubai), by agent; times in seconds\n'
                  '\n'
                  'agent  offered  answered  missed  talk s  pause s  wrap-up s\n'
                  'A            3         2       0      80      760         60\n'
                  'B            2         0       1       0      120          0\n'
                  'total        5         2       1      80      880         60\n',
                  ''),
 'dispositions-bad-period': (2, '', "error: not a month (YYYY-MM): '2026-13'\n"),
 'dispositions-csv': (0,
                      'queue,genuine,silent,prank,testing,abusive,wrong-number,information,calls\n'
                      'child-protection,2,1,0,0,0,0,0,3\n'
                      'general,0,0,0,1,0,0,0,1\n'
                      'women-protection,0,0,1,0,0,0,0,1\n'
                      'total,2,1,1,1,0,0,0,5\n',
                      ''),
 'dispositions-empty-json': (0,
                             '{\n'
                             '  "total": {\n'
                             '    "genuine": 0,\n'
                             '    "silent": 0,\n'
                             '    "prank": 0,\n'
                             '    "testing": 0,\n'
                             '    "abusive": 0,\n'
                             '    "wrong-number": 0,\n'
                             '    "information": 0\n'
                             '  }\n'
                             '}\n',
                             'no dispositions in 2026-09 (2026-09-01 – 2026-09-30, '
                             'Asia/Dubai)\n'),
 'dispositions-empty-table': (0,
                              'queue  genuine  silent  prank  testing  abusive  wrong-number  '
                              'information  calls\n'
                              'total        0       0      0        0        0             '
                              '0            0      0\n',
                              'no dispositions in 2026-09 (2026-09-01 – 2026-09-30, '
                              'Asia/Dubai)\n'),
 'dispositions-json': (0,
                       '{\n'
                       '  "child-protection": {\n'
                       '    "genuine": 2,\n'
                       '    "silent": 1,\n'
                       '    "prank": 0,\n'
                       '    "testing": 0,\n'
                       '    "abusive": 0,\n'
                       '    "wrong-number": 0,\n'
                       '    "information": 0\n'
                       '  },\n'
                       '  "general": {\n'
                       '    "genuine": 0,\n'
                       '    "silent": 0,\n'
                       '    "prank": 0,\n'
                       '    "testing": 1,\n'
                       '    "abusive": 0,\n'
                       '    "wrong-number": 0,\n'
                       '    "information": 0\n'
                       '  },\n'
                       '  "women-protection": {\n'
                       '    "genuine": 0,\n'
                       '    "silent": 0,\n'
                       '    "prank": 1,\n'
                       '    "testing": 0,\n'
                       '    "abusive": 0,\n'
                       '    "wrong-number": 0,\n'
                       '    "information": 0\n'
                       '  },\n'
                       '  "total": {\n'
                       '    "genuine": 2,\n'
                       '    "silent": 1,\n'
                       '    "prank": 1,\n'
                       '    "testing": 1,\n'
                       '    "abusive": 0,\n'
                       '    "wrong-number": 0,\n'
                       '    "information": 0\n'
                       '  }\n'
                       '}\n',
                       ''),
 'dispositions-table': (0,
                        'queue             genuine  silent  prank  testing  abusive  '
                        'wrong-number  information  calls\n'
                        'child-protection        2       1      0        0        '
                        '0             0            0      3\n'
                        'general                 0       0      0        1        '
                        '0             0            0      1\n'
                        'women-protection        0       0      1        0        '
                        '0             0            0      1\n'
                        'total                   2       1      1        1        '
                        '0             0            0      5\n',
                        ''),
 'followup-bad-period': (2, '', "error: not a month (YYYY-MM): '2026-13'\n"),
 'followup-csv': (0,
                  'queue,unit,resolved,median_seconds,p90_seconds\n'
                  'child-protection,CHILD,10,18000,32400\n',
                  ''),
 'followup-empty-csv': (0,
                        'queue,unit,resolved,median_seconds,p90_seconds\n',
                        'no routed calls in 2026-09 (2026-09-01 – 2026-09-30, Asia/Dubai)\n'),
 'followup-empty-table': (0,
                          'status  reports\n'
                          '\n'
                          'time from the call to resolved (seconds):\n'
                          'no report resolved yet\n',
                          'no routed calls in 2026-09 (2026-09-01 – 2026-09-30, '
                          'Asia/Dubai)\n'),
 'followup-json': (0,
                   '{\n'
                   ' "by_status": {\n'
                   '  "in_progress": 1,\n'
                   '  "none": 1,\n'
                   '  "resolved": 10\n'
                   ' },\n'
                   ' "resolution": [\n'
                   '  {\n'
                   '   "queue": "child-protection",\n'
                   '   "unit": "CHILD",\n'
                   '   "resolved": 10,\n'
                   '   "median_seconds": 18000.0,\n'
                   '   "p90_seconds": 32400.0\n'
                   '  }\n'
                   ' ]\n'
                   '}\n',
                   ''),
 'followup-no-database': (2, '', 'error: no report database at {root}/missing.db\n'),
 'followup-old-database': (0,
                           'status  reports\n'
                           '\n'
                           'time from the call to resolved (seconds):\n'
                           'no report resolved yet\n',
                           'no routed calls in 2026-11 (2026-11-01 – 2026-11-30, '
                           'Asia/Dubai)\n'),
 'followup-table': (0,
                    'status       reports\n'
                    'in_progress        1\n'
                    'none               1\n'
                    'resolved          10\n'
                    '\n'
                    'time from the call to resolved (seconds):\n'
                    'queue             unit   resolved  median_seconds  p90_seconds\n'
                    'child-protection  CHILD        10           18000        32400\n',
                    ''),
 'survey-bad-period': (2, '', "error: not a month (YYYY-MM): '2026-13'\n"),
 'survey-csv': (0,
                'month,unit,question,answer,calls\n'
                '2026-11,CHILD,survey-again,yes,1\n'
                '2026-11,CHILD,survey-again,unanswered,2\n'
                '2026-11,CHILD,survey-satisfied,5,2\n'
                '2026-11,CHILD,survey-satisfied,unanswered,1\n'
                '2026-11,WOMEN,survey-again,no,1\n'
                '2026-11,WOMEN,survey-satisfied,3,1\n',
                ''),
 'survey-empty-csv': (0,
                      'month,unit,question,answer,calls\n',
                      'no satisfaction calls in 2026-09 (2026-09-01 – 2026-09-30, '
                      'Asia/Dubai)\n'),
 'survey-empty-json': (0,
                       '{\n "survey": []\n}\n',
                       'no satisfaction calls in 2026-09 (2026-09-01 – 2026-09-30, '
                       'Asia/Dubai)\n'),
 'survey-empty-table': (0,
                        '',
                        'no satisfaction calls in 2026-09 (2026-09-01 – 2026-09-30, '
                        'Asia/Dubai)\n'),
 'survey-json': (0,
                 '{\n'
                 ' "survey": [\n'
                 '  {\n'
                 '   "month": "2026-11",\n'
                 '   "unit": "CHILD",\n'
                 '   "question": "survey-again",\n'
                 '   "answer": "yes",\n'
                 '   "calls": 1\n'
                 '  },\n'
                 '  {\n'
                 '   "month": "2026-11",\n'
                 '   "unit": "CHILD",\n'
                 '   "question": "survey-again",\n'
                 '   "answer": "unanswered",\n'
                 '   "calls": 2\n'
                 '  },\n'
                 '  {\n'
                 '   "month": "2026-11",\n'
                 '   "unit": "CHILD",\n'
                 '   "question": "survey-satisfied",\n'
                 '   "answer": "5",\n'
                 '   "calls": 2\n'
                 '  },\n'
                 '  {\n'
                 '   "month": "2026-11",\n'
                 '   "unit": "CHILD",\n'
                 '   "question": "survey-satisfied",\n'
                 '   "answer": "unanswered",\n'
                 '   "calls": 1\n'
                 '  },\n'
                 '  {\n'
                 '   "month": "2026-11",\n'
                 '   "unit": "WOMEN",\n'
                 '   "question": "survey-again",\n'
                 '   "answer": "no",\n'
                 '   "calls": 1\n'
                 '  },\n'
                 '  {\n'
                 '   "month": "2026-11",\n'
                 '   "unit": "WOMEN",\n'
                 '   "question": "survey-satisfied",\n'
                 '   "answer": "3",\n'
                 '   "calls": 1\n'
                 '  }\n'
                 ' ]\n'
                 '}\n',
                 ''),
 'survey-no-database': (2, '', 'error: no report database at {root}/missing.db\n'),
 'survey-old-database': (0,
                         '{\n "survey": []\n}\n',
                         'no satisfaction calls in 2026-11 (2026-11-01 – 2026-11-30, '
                         'Asia/Dubai)\n'),
 'survey-table': (0,
                  'month    unit   question          answer      calls\n'
                  '2026-11  CHILD  survey-again      yes             1\n'
                  '2026-11  CHILD  survey-again      unanswered      2\n'
                  '2026-11  CHILD  survey-satisfied  5               2\n'
                  '2026-11  CHILD  survey-satisfied  unanswered      1\n'
                  '2026-11  WOMEN  survey-again      no              1\n'
                  '2026-11  WOMEN  survey-satisfied  3               1\n',
                  '')}


@pytest.mark.parametrize("case", sorted(CASES))
def test_stats_prints_what_it_printed(case: str, paths: Paths,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(case, paths, capsys, monkeypatch) == EXPECTED[case]
