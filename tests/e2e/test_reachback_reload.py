"""SIGHUP reloads reachback.yaml in a running `balagh run` on the sandbox PBX, with real
Kannel: a changed template is in the next caller's text at fakesmsc; a bad file is
refused (its file:line: key: problem in the log) and the texts go on with the old one.
The app, Kannel and the calls are test_sms.py's."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from balagh.config import Settings
from balagh.pbx.kannel import KannelSandbox

from .conftest import AppProcess, wait_for
from .kannel import call, kannel, texting_app  # noqa: F401  (the fixtures)

NEW = "رقم طلبك {reference}. للاستفسار: {line}"


def rewrite_and_reload(app: AppProcess, text: str, outcome: str) -> dict[str, object]:
    """reachback.yaml rewritten, SIGHUP (as `systemctl reload balagh`), then the app's log
    line that says how it went."""
    app.settings.reachback_file.write_text(text, encoding="utf-8")
    before = len(app.events(outcome))
    assert app.process is not None
    app.process.send_signal(signal.SIGHUP)
    wait_for(lambda: len(app.events(outcome)) > before, timeout=15, what=outcome)
    return app.events(outcome)[-1]


async def text_at_fakesmsc(settings: Settings, kannel: KannelSandbox,  # noqa: F811
                           caller: str, wording: str) -> None:
    reference = await call(settings, caller, "1")
    expected = wording.format(reference=reference, line="800700")
    await asyncio.to_thread(wait_for, lambda: (caller, expected) in kannel.received(),
                            timeout=30, what=f"{expected!r} at fakesmsc")


async def test_sighup_changes_the_next_text_and_refuses_a_bad_file(
        settings: Settings, texting_app: AppProcess, kannel: KannelSandbox,  # noqa: F811
        ) -> None:
    reachback: Path = texting_app.settings.reachback_file
    shipped = await asyncio.to_thread(reachback.read_text, encoding="utf-8")
    old = shipped.split("ar: \"", 1)[1].split("\"", 1)[0]  # registered's Arabic text
    # The file is this module's own copy (test_sms.py's texting_app): nothing to put back.
    await asyncio.to_thread(rewrite_and_reload, texting_app, shipped.replace(old, NEW, 1),
                            "reachback.reloaded")
    await text_at_fakesmsc(settings, kannel, "+971501239001", NEW)

    refused = await asyncio.to_thread(rewrite_and_reload, texting_app,
                                      shipped.replace(old, "{name}", 1),
                                      "reachback.reload_refused")
    assert f"{reachback}:" in str(refused["error"])
    assert "sms.templates.registered.ar: unknown placeholder {name}" in str(refused["error"])
    await text_at_fakesmsc(settings, kannel, "+971501239002", NEW)  # the good one kept
