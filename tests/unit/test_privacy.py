"""Issue 14: nothing secret or personal lands where it should not.

An ARI error's message quotes the request URL with `api_key=balagh:PASSWORD`: the report
keeps the error's kind only, `balagh reports` prints nothing more, and anything shaped
like a credential is scrubbed anyway. Callers' numbers and coordinates stay out of logs.
"""

from __future__ import annotations

import asyncio
import io
import json
from contextlib import redirect_stderr
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import structlog

from balagh.cli import main
from balagh.config import load_settings
from balagh.config.yamlsrc import ConfigError
from balagh.ivr.flow import handle_call
from balagh.ivr.geolocation import geolocated_emirate
from balagh.ivr.menu import load_menu
from balagh.logs import set_caller_numbers, setup_logging
from balagh.privacy import error_kind, mask_number, mask_numbers_in_text, redact_text
from balagh.routing.load import load_table
from balagh.status import ReportStatus
from balagh.store.reports import ReportStore

from .fakes import DEFAULT_INFO, FixedClock, ScriptedCall, call_store
from .shipped import IVR_FILE, ROUTING_FILE

PASSWORD = "S3cr3t-ari-pass"
ARI_URL = f"http://127.0.0.1:8088/ari/channels/1.2/variable?api_key=balagh:{PASSWORD}"
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
DIALPLAN = Path(__file__).resolve().parents[2] / "dialplan" / "extensions_balagh.conf"


def ari_error(status: int = 500) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", ARI_URL)
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(f"Server error '{status}' for url '{ARI_URL}'",
                                 request=request, response=response)


async def _failed_call(database: Path) -> str:
    """One call whose set_variables fails with a non-404 ARI error; its reference."""
    menu = load_menu(IVR_FILE)
    table = load_table(ROUTING_FILE, menu.answer_values())
    store = await ReportStore.open(database)
    try:
        call = ScriptedCall(["1", "2", "2", "2", "1", "0", None],
                            fail={"set_variables": ari_error()})
        outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(T0))
        assert outcome.status == ReportStatus.FALLBACK
        await store.writer.flush()
        return outcome.reference
    finally:
        await store.close()


def database_bytes(data_dir: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(data_dir.glob("balagh.sqlite3*")))


def test_an_ari_error_stores_its_kind_and_status_never_the_url(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    with redirect_stderr(io.StringIO()):
        reference = asyncio.run(_failed_call(tmp_path / "balagh.sqlite3"))
    assert PASSWORD.encode() not in database_bytes(tmp_path)
    capsys.readouterr()  # the call's own log lines: tested below, with the app's set-up
    assert main(["reports", reference]) == 0
    out = capsys.readouterr().out
    assert "status_detail  HTTPStatusError 500" in out
    assert PASSWORD not in out and "api_key" not in out
    assert main(["reports", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status_detail"] == "HTTPStatusError 500"


async def _legacy_detail(database: Path, detail: str) -> None:
    store = await ReportStore.open(database)
    try:
        store.calls.start_report(call_id="c1", reference="1000004", channel="PJSIP/t-1",
                                 caller="+971501234567", hotline="800700", started_at=T0)
        store.calls.set_status(call_id="c1", status=ReportStatus.FALLBACK, at=T0, detail=detail)
        await store.writer.flush()
    finally:
        await store.close()


def test_a_detail_quoting_a_credential_is_scrubbed_when_stored(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    asyncio.run(_legacy_detail(tmp_path / "balagh.sqlite3", f"HTTPError: {ARI_URL}"))
    assert PASSWORD.encode() not in database_bytes(tmp_path)
    assert main(["reports", "1000004"]) == 0
    assert PASSWORD not in capsys.readouterr().out


@pytest.mark.parametrize("text", [
    f"GET {ARI_URL} failed",
    "https://unit:hunter2hunter2@hooks.example/x",
    "POST https://hooks.example/x?token=hunter2hunter2&q=1",
    "Authorization: Bearer hunter2hunter2",
    "password=hunter2hunter2",
])
def test_credentials_in_any_text_are_redacted(text):
    scrubbed = redact_text(text)
    assert "hunter2hunter2" not in scrubbed and PASSWORD not in scrubbed
    assert "[redacted]" in scrubbed


def test_error_kind_is_type_and_http_status_only():
    assert error_kind(ari_error(503)) == "HTTPStatusError 503"
    assert error_kind(RuntimeError(ARI_URL)) == "RuntimeError"


# -- logs ---------------------------------------------------------------------------


def logged(action) -> str:
    """What one logging action writes, through the app's structlog set-up."""
    stream = io.StringIO()
    with redirect_stderr(stream):
        setup_logging("info")
        try:
            action()
        finally:
            set_caller_numbers("masked")
    return stream.getvalue()


def test_caller_numbers_in_logs_are_masked_by_default():
    log = structlog.get_logger("test")
    out = logged(lambda: log.info("call.start", caller="+971501234567"))
    assert "+971501234567" not in out and mask_number("+971501234567") in out


def test_a_site_may_log_whole_numbers():
    log = structlog.get_logger("test")

    def full() -> None:
        set_caller_numbers("full")
        log.info("call.start", caller="+971501234567")

    assert "+971501234567" in logged(full)


def test_log_caller_numbers_setting(monkeypatch):
    monkeypatch.setenv("BALAGH_LOG_CALLER_NUMBERS", "full")
    assert load_settings().log_caller_numbers == "full"
    monkeypatch.setenv("BALAGH_LOG_CALLER_NUMBERS", "everything")
    with pytest.raises(ConfigError, match=r"BALAGH_LOG_CALLER_NUMBERS.*masked, full"):
        load_settings()


def test_the_call_start_line_masks_the_caller(tmp_path):
    out = logged(lambda: asyncio.run(_failed_call(tmp_path / "balagh.sqlite3")))
    assert "call.start" in out
    assert DEFAULT_INFO.caller not in out and PASSWORD not in out


class GeoCall(ScriptedCall):
    async def get_variable(self, name: str) -> str | None:
        return "GML" if name.endswith("(format)") else "shape=Point,crs=2d,pos=25.3573 55.4033"


def test_geolocation_logs_neither_the_emirate_nor_the_coordinates():
    out = logged(lambda: asyncio.run(geolocated_emirate(GeoCall([]))))
    assert "geolocation.point" in out and "emirate=[place]" in out and "sharjah" not in out
    assert "25.35" not in out and "55.40" not in out


def test_the_dialplan_logs_no_caller_number():
    assert "CALLERID(num)" not in DIALPLAN.read_text(encoding="utf-8")


def test_numbers_written_in_groups_are_masked_and_dates_are_not():
    text = "call +971 50 123 4567 or +971-50-123-4567 at 2026-12-07 07:52:18, ref 1234567"
    assert mask_numbers_in_text(text) == (
        "call +9715****4567 or +9715****4567 at 2026-12-07 07:52:18, ref 1234567")
