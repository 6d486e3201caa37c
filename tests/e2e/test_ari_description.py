"""The typed ARI client's operations (ari/rest.py OPERATIONS) against what the sandbox
Asterisk offers, by the check the app makes at every connect (ari/description.py): each
operation in the description Asterisk serves (loaded by asyncswagger11's Loader through
our transport) with the same method, path and parameters, and every module it needs
running."""

from __future__ import annotations

import time

from balagh.ari.description import check_offered, load_description
from balagh.ari.rest import OPERATIONS, AriRest
from balagh.ari.transport import AriTransport, session
from balagh.config import Settings


async def test_asterisk_offers_every_operation_of_the_client(settings: Settings, pbx) -> None:
    transport = AriTransport(session(settings.ari.username, settings.ari.password),
                             settings.ari.url)
    try:
        started = time.perf_counter()
        await check_offered(transport, AriRest(transport.send))  # raises, naming what lacks
        print(f"\nthe connect's check took {1000 * (time.perf_counter() - started):.0f} ms")
        resources = await load_description(transport)
    finally:
        await transport.close()
    assert {op.resource for op in OPERATIONS} <= set(resources)
    assert len(OPERATIONS) == len({(op.resource, op.nickname) for op in OPERATIONS})
