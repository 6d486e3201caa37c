"""The wallboard's agents in a real browser against the sandbox PBX: an agent paused with a
reason shows as paused, with the reason and for how long, and a supervisor of another queue
does not see them.
"""

from __future__ import annotations

import time

from balagh.ami.client import AmiSession

from .console_browser import browser_login, http_login
from .legs import GENERAL_AGENT
from .test_console import PASSWORD, browser, console, on_screen  # noqa: F401 (fixtures)

GENERAL = "Sandbox general agent"
REASON = "e2e training"


def agent_row(name: str, condition: str) -> str:
    return (f"(() => {{ const r = document.getElementById('agent-{name}'); "
            f"return !!r && ({condition}); }})()")


async def test_a_paused_agent_shows_with_the_reason_and_only_to_their_supervisors(
        console, browser, ami: AmiSession) -> None:  # noqa: F811 (fixtures)
    browser_login(browser, console.url, "admin", PASSWORD)
    browser.get(f"{console.url}/?lang=en")
    await on_screen(browser, agent_row(GENERAL, "r.dataset.state === 'free'"),
                    "the general agent, free")
    pause = {"Action": "QueuePause", "Queue": "balagh-general", "Interface": GENERAL_AGENT}
    omar, _ = http_login(console.url, "omar", PASSWORD)
    try:
        assert (await ami.action({**pause, "Paused": "true", "Reason": REASON})
                ).get("Response") == "Success"
        paused_at = time.monotonic()
        await on_screen(browser, agent_row(GENERAL, "r.dataset.state === 'paused' && "
                                           f"r.textContent.includes('{REASON}')"),
                        "the general agent, paused with the reason")
        print(f"\npaused agent on the wallboard {time.monotonic() - paused_at:.2f} s after "
              "QueuePause")
        text = browser.find_element("id", f"agent-{GENERAL}").text
        assert "paused" in text and "0:0" in text  # for how long, ticking from 0:0x
        # Omar supervises elderly care: only its agent, never general's.
        agents = omar.get("/api/state").json()["agents"]
        assert [row["agent"] for row in agents] == ["Sandbox elderly-care agent"]
    finally:
        await ami.action({**pause, "Paused": "false"})
        omar.close()
    await on_screen(browser, agent_row(GENERAL, "r.dataset.state === 'free'"),
                    "the general agent, back")
