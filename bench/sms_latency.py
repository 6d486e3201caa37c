"""SMS from the routing decision to the delivery report at the fake SMSC, without a PBX:
the app's own parts (report store, the call path's publisher, the sender, the inbound
listener with the delivery-report route) against real Kannel (`balagh pbx sms`'s
KannelSandbox: bearerbox, smsbox, fakesmsc) on loopback.

    .venv/bin/python bench/sms_latency.py [N]

Each of N reports has consent; the clock starts when `publish("routed")` is called (the
call path's moment) and stops when the 'delivered' report is committed."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from balagh.config import InboundSettings
from balagh.inbound import InboundServer
from balagh.pbx.kannel import KannelPorts, KannelSandbox
from balagh.reachback.sms import SmsSender, TextingPublisher
from balagh.reachback.sms_config import SmsConfig
from balagh.reachback.sms_reports import delivery_report_handler, route_path
from balagh.store import ReportStore

AR = "تم تسجيل طلبك برقم {reference}. للاستفسار اتصل على {line}."


class NoOutbox:
    def publish(self, event: str, report: object, *, queue: str | None,
                details: object = None) -> None:
        pass


async def measure(folder: Path, kannel: KannelSandbox, count: int) -> list[float]:
    store = await ReportStore.open(folder / "balagh.sqlite3")
    inbound = InboundServer(InboundSettings(enabled=True, port=0))
    inbound.add_route("GET", route_path(), delivery_report_handler(store.sms))
    listener = asyncio.create_task(inbound.run())
    await inbound.started.wait()
    config = SmsConfig(enabled=True, kannel_url=kannel.sendsms_url, sender="800700",
                       line="800700", smsc="fake", templates={"registered": {"ar": AR}},
                       username="balagh", password=kannel.password())
    sender = SmsSender(store.sms, lambda: config, f"http://127.0.0.1:{inbound.port}")
    publisher = TextingPublisher(NoOutbox(), sender)
    worker = asyncio.create_task(sender.run())
    seconds = []
    try:
        for n in range(count):
            reference, call_id = f"{1000000 + n}", f"bench-{n}"
            now = datetime.now(UTC)
            store.calls.start_report(call_id=call_id, reference=reference, channel="x",
                                     caller=f"+9715099{n:05d}", hotline="800700",
                                     started_at=now)
            store.calls.record_answer(call_id=call_id, question="contact_safe", value="yes",
                                      key="1", attempt=1, at=now)
            await store.writer.flush()
            started = time.monotonic()
            publisher.publish("routed", {"reference": reference, "language": "ar"}, queue="q")
            while True:
                async with store.queries.db.execute(
                        "SELECT status FROM sms_outbox WHERE reference = ?",
                        (reference,)) as cursor:
                    row = await cursor.fetchone()
                if row is not None and row[0] == "delivered":
                    break
                await asyncio.sleep(0.005)
            seconds.append(time.monotonic() - started)
    finally:
        worker.cancel()
        listener.cancel()
        await asyncio.gather(worker, listener, return_exceptions=True)
        await store.close()
    return seconds


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory(prefix="balagh-sms-bench-") as name:
        folder = Path(name)
        # Ports of its own: the sandbox's (13000..) may be in use by `balagh pbx sms`.
        kannel = KannelSandbox(folder / "kannel", KannelPorts(13100, 13101, 13110, 13113))
        kannel.start()
        try:
            seconds = asyncio.run(measure(folder, kannel, count))
        finally:
            kannel.stop()
    print(f"SMS from decision to delivery report at the fake SMSC, {count} texts: "
          f"median {statistics.median(seconds) * 1000:.0f} ms, "
          f"max {max(seconds) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
