"""The console's report page shows the unit's latest status, in the page's language, and
the follow-up steps on its timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from balagh.config import Settings
from balagh.console.accounts import Accounts
from balagh.console.web import create_app
from balagh.store import ReportStore
from balagh.supervise.load import save_supervisors

from .test_console import PASSWORD, TABLE, StillFeed, TestClient, login


async def test_the_report_page_shows_the_units_status(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, supervisors_file=tmp_path / "supervisors.yaml")
    save_supervisors(TABLE, settings.supervisors_file)
    store = await ReportStore.open(settings.database)
    now = datetime.now(UTC).replace(microsecond=0)
    store.calls.start_report(call_id="c1", reference="7000001", channel="PJSIP/x-1",
                             caller="+97165559876", hotline="800700", started_at=now)
    store.calls.record_decision(call_id="c1", rule="child", queue="child-protection",
                                priority=10, at=now)
    assert await store.followups.record(
        unit="CHILD_UNIT_HOOK", id="u-1", reference="7000001", call_id="c1",
        queue="child-protection", status="in_progress", reason="a visit is planned",
        signed_at=now, at=now + timedelta(hours=1))
    await store.close()

    accounts = Accounts(settings.console_database)
    accounts.add("root", PASSWORD, "admin", None)
    client = TestClient(create_app(settings, accounts=accounts, feed=StillFeed(settings)),
                        base_url="https://testserver")
    login(client, "root")
    page = client.get("/reports/7000001").text
    facts = page.split('id="facts"')[1].split("</table>")[0]
    assert "متابعة الجهة" in facts and "قيد المتابعة" in facts
    timeline = page.split('id="timeline"')[1]
    assert "followup" in timeline and "reason=a visit is planned" in timeline
