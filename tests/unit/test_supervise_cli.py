"""`balagh supervisors` and `balagh monitor --audit`, and the report's monitoring section.

Every test points the settings at a temporary supervisors file and data folder:
the shipped config/supervisors.yaml is never written.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.cli.monitor import audit_lines
from balagh.config import load_settings
from balagh.store import ReportStore
from balagh.supervise import load_supervisors, verify_pin

# 8 digits: a 4-digit PIN could turn up in the base64 of a hash by chance.
PIN = "73915284"
NEW_PIN = "40617253"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BALAGH_SUPERVISORS_FILE", str(tmp_path / "etc" / "supervisors.yaml"))
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "data"))
    yield tmp_path / "etc" / "supervisors.yaml"


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def add_amina(monkeypatch: pytest.MonkeyPatch) -> int:
    return run(["supervisors", "add", "Amina", "--phone", "201", "--phone", "PJSIP/sup1",
                "--queues", "child-protection,women-protection", "--pin-stdin"],
               monkeypatch, PIN + "\n")


def test_add_list_passwd_remove(files: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert add_amina(monkeypatch) == 0
    out = capsys.readouterr().out
    assert out == (f"added supervisor Amina (phones 201, PJSIP/sup1; queues child-protection, "
                   f"women-protection); {files} written\n")
    amina = load_supervisors(files).supervisors[0]
    assert verify_pin(PIN, amina.pin_hash)

    assert run(["supervisors", "add", "Omar", "--phone", "202", "--queues", "all",
                "--pin-stdin"], monkeypatch, "2468\n") == 0
    capsys.readouterr()
    assert run(["supervisors", "list"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "name   phones           queues",
        "Amina  201, PJSIP/sup1  child-protection, women-protection",
        "Omar   202              all",
        "lockout: 5 wrong PINs in a row lock a supervisor out for 15 minutes",
    ]
    assert "scrypt" not in out

    assert run(["supervisors", "passwd", "Amina", "--pin-stdin"], monkeypatch,
               NEW_PIN + "\n") == 0
    assert capsys.readouterr().out == f"changed the PIN of Amina; {files} written\n"
    table = load_supervisors(files)
    amina = table.get("Amina")
    assert amina is not None and verify_pin(NEW_PIN, amina.pin_hash)
    assert not verify_pin(PIN, amina.pin_hash)
    assert amina.phones == {"201", "PJSIP/sup1"}  # only the PIN changed

    assert run(["supervisors", "remove", "Omar"], monkeypatch) == 1  # not asked: refused
    assert "add --yes" in capsys.readouterr().err
    assert load_supervisors(files).names == ("Amina", "Omar")
    assert run(["supervisors", "remove", "Omar", "--yes"], monkeypatch) == 0
    assert capsys.readouterr().out == f"removed supervisor Omar; {files} written\n"
    assert load_supervisors(files).names == ("Amina",)


def test_the_pin_is_asked_twice_without_echo(files: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    typed = iter([PIN, PIN])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert run(["supervisors", "add", "Amina", "--phone", "201", "--queues", "all"],
               monkeypatch) == 0
    assert prompts == ["PIN (4 to 8 digits): ", "PIN again: "]
    assert verify_pin(PIN, load_supervisors(files).supervisors[0].pin_hash)

    typed = iter([NEW_PIN, "40617254"])
    assert run(["supervisors", "passwd", "Amina"], monkeypatch) == 1
    assert capsys.readouterr().err == "error: the two PINs differ; nothing changed\n"
    assert verify_pin(PIN, load_supervisors(files).supervisors[0].pin_hash)


@pytest.mark.parametrize(("argv", "stdin", "error"), [
    (["add", "Omar", "--phone", "202", "--queues", "all", "--pin-stdin"], "12\n",
     "a PIN is 4 to 8 digits 0-9; nothing changed"),
    (["add", "Omar", "--phone", "202", "--queues", "all", "--pin-stdin"], "12ab\n",
     "a PIN is 4 to 8 digits 0-9; nothing changed"),
    (["add", "amina", "--phone", "209", "--queues", "all", "--pin-stdin"], PIN,
     "supervisor 'amina' exists already; use `balagh supervisors passwd amina` to change "
     "the PIN, or remove it first"),
    (["add", "Omar", "--phone", "PJSIP/sup1", "--queues", "all", "--pin-stdin"], PIN,
     "--phone: phone 'PJSIP/sup1' is already Amina's"),
    (["add", "Omar", "--phone", "two oh two", "--queues", "all", "--pin-stdin"], PIN,
     "--phone: not a phone: 'two oh two'"),
    (["add", "Omar", "--phone", "202", "--queues", "child-protecton", "--pin-stdin"], PIN,
     "--queues: unknown queue 'child-protecton' (known: child-protection,"),
    (["add", "Omar", "--phone", "202", "--queues", ",", "--pin-stdin"], PIN,
     "--queues: give queue names separated by commas, or all"),
    (["passwd", "Nobody", "--pin-stdin"], PIN, "no supervisor 'Nobody' (known: Amina)"),
    (["remove", "Nobody"], "", "no supervisor 'Nobody' (known: Amina)"),
])
def test_errors_are_one_line(files: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str,
                             error: str) -> None:
    assert add_amina(monkeypatch) == 0
    before = files.read_bytes()
    capsys.readouterr()
    assert run(["supervisors", *argv], monkeypatch, stdin) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {error}") and err.count("\n") == 1
    assert files.read_bytes() == before


def test_a_broken_file_is_a_located_error(files: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    files.parent.mkdir()
    files.write_text("supervisors:\n  - name: Amina\n    pin: '2468'\n")
    assert run(["supervisors", "list"], monkeypatch) == 1
    assert capsys.readouterr().err == f"error: {files}:2: supervisors[0].phones: missing: " \
        "the phones this supervisor calls from, e.g. [\"201\"]\n"


def test_list_without_a_file(files: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["supervisors", "list"], monkeypatch) == 0
    assert capsys.readouterr().out == f"no supervisors in {files}: nobody may monitor calls\n"
    assert not files.exists()


def test_no_file_written_holds_a_pin_in_clear(files: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    assert add_amina(monkeypatch) == 0
    assert run(["supervisors", "passwd", "Amina", "--pin-stdin"], monkeypatch,
               NEW_PIN + "\n") == 0
    assert run(["supervisors", "list"], monkeypatch) == 0
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written == [files]
    for path in written:
        data = path.read_bytes()
        assert PIN.encode() not in data and NEW_PIN.encode() not in data
    streams = capsys.readouterr()
    assert PIN not in streams.out + streams.err and NEW_PIN not in streams.out + streams.err
    assert "scrypt" not in streams.out + streams.err


# --- the audit -------------------------------------------------------------------------------

async def _fill(data: Path) -> str:
    store = await ReportStore.open(load_settings().database)
    try:
        reference = store.calls.new_reference()
        store.calls.start_report(call_id="c1", reference=reference, channel="PJSIP/caller-1",
                                 caller="+971501234567", hotline="800700", started_at=T0)
        store.audit.record_monitor(at=T0 + timedelta(seconds=1), action="refused", phone="PJSIP/x",
                                   detail="unknown-phone", session="s0")
        store.audit.record_monitor(at=T0 + timedelta(seconds=2), action="pin-ok", session="s1",
                                   supervisor="Amina", phone="201")
        store.audit.record_monitor(at=T0 + timedelta(seconds=3), action="start", session="s1",
                                   supervisor="Amina", phone="201", reference=reference,
                                   agent="Layla", mode="listen")
        store.audit.record_monitor(at=T0 + timedelta(seconds=9), action="end", session="s1",
                                   supervisor="Amina", phone="201", reference=reference,
                                   agent="Layla")
        await store.writer.flush()
    finally:
        await store.close()
    return reference


def test_monitor_audit(files: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["monitor", "--audit"]) == 0
    assert capsys.readouterr().out.startswith("no monitoring yet (")
    reference = asyncio.run(_fill(tmp_path / "data"))
    assert main(["monitor", "--audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["at", "supervisor", "phone", "action", "reference", "agent",
                                "mode", "detail"]
    assert [line.split()[3] for line in lines[1:]] == ["end", "start", "pin-ok", "refused"]
    assert lines[2].split() == ["2026-03-01T16:00:03+04:00", "Amina", "201", "start", reference,
                                "Layla", "listen", "-"]
    assert lines[4].split() == ["2026-03-01T16:00:01+04:00", "-", "PJSIP/x", "refused", "-",
                                "-", "-", "unknown-phone"]

    for argv in (["monitor", "--audit", "--reference", reference],
                 ["monitor", reference, "--audit"]):
        assert main(argv) == 0
        assert [line.split()[3] for line in capsys.readouterr().out.splitlines()[1:]] == [
            "end", "start"]
    assert main(["monitor", "--audit", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["monitor", "--audit", "--reference", "999"]) == 0
    assert capsys.readouterr().out == "no monitoring of report 999 recorded\n"
    assert main(["monitor", reference]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_report_shows_its_monitoring_oldest_first(files: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    reference = asyncio.run(_fill(tmp_path / "data"))
    capsys.readouterr()
    assert main(["reports", reference]) == 0
    out = capsys.readouterr().out
    section = out[out.index("monitoring:"):].splitlines()
    assert section == [
        "monitoring:",
        "  2026-03-01T16:00:03+04:00  Amina  start  mode listen  agent Layla  phone 201",
        "  2026-03-01T16:00:09+04:00  Amina  end  agent Layla  phone 201",
    ]


def test_audit_lines_without_events() -> None:
    assert audit_lines([], UTC) == ["at  supervisor  phone  action  reference  agent  mode  detail"]
