"""The app's ARI requests on a real channel of the sandbox Asterisk (one a sandbox "agent"
answers): several variables set in one request (ARRAY()), values Asterisk's argument
splitting would otherwise cut, and a value too long for a URL (sent in a JSON body), each
read back from the channel."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import replace

from balagh.ami.client import AmiSession
from balagh.ari.app import AriApplication
from balagh.ari.call import AriCall
from balagh.config import Settings
from balagh.pbx.test_user import ami_for_tests

APP = "balagh-e2e-requests"
VARIABLES = {
    "BALAGH_E2E_PLAIN": "general",
    "BALAGH_E2E_COMMAS": "a,b,,c",
    "BALAGH_E2E_QUOTES": 'say "hello", then \\ a backslash',
    "BALAGH_E2E_BRACKETS": "(open [and ) closed] (",
    "BALAGH_E2E_ARABIC": "حماية الطفل؛ المرجع 1234567",
    "__BALAGH_E2E_INHERITED": "to the agent's channel",
    "BALAGH_E2E_LONG": "&".join(["en/balagh/w-report"] * 80),  # 1.5 kB, over 3 kB escaped
}


async def test_variables_set_together_read_back_exactly(settings: Settings, pbx) -> None:
    found: asyncio.Future[dict[str, str | None]] = asyncio.get_running_loop().create_future()

    async def handler(call: AriCall) -> None:
        try:
            await call.set_variables(VARIABLES)
            found.set_result({name: await call.get_variable(name.lstrip("_"))
                              for name in VARIABLES})
        except Exception as exc:
            found.set_exception(exc)
        finally:
            await call.hangup()

    app = AriApplication(replace(settings.ari, app=APP), handler)
    serving = asyncio.create_task(app.run())
    try:
        await asyncio.wait_for(app.connected.wait(), 30)
        async with AmiSession(ami_for_tests(settings)) as ami:
            answer = await ami.originate({
                "Channel": "Local/1999@balagh-agents/n", "Application": "Stasis",
                "Data": APP, "ChannelId": f"e2e-{uuid.uuid4().hex[:12]}",
                "Timeout": "10000"}, timeout=20)
            assert answer.get("Response") == "Success", answer
        assert await asyncio.wait_for(found, 20) == VARIABLES
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
