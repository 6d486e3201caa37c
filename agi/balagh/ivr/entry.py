"""The caller IVR's entry in the Stasis router: the default, every channel no other
feature claims is a caller. Also the way back in for a caller taken back after a
restart (the app's orphans) or by the watchdog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from balagh.handover.summary import HandoverSettings
from balagh.ivr.flow import RESUMED_BY_APP, RoutingContext, handle_call, resume_call
from balagh.ivr.menu import Menu
from balagh.ivr.port import CallPort
from balagh.ivr.record import CallStore
from balagh.routing.model import Table


@dataclass(frozen=True)
class CallerSetup:
    """What one call is served by, read once when it starts: a reload during the call
    does not change its menu, its route or its handover."""

    menu: Menu
    table: Table
    handover: HandoverSettings
    context: RoutingContext = field(default_factory=RoutingContext)


@dataclass(frozen=True)
class CallerLine:
    setup: Callable[[], CallerSetup]
    store: CallStore

    async def answer(self, call: CallPort) -> None:
        setup = self.setup()
        await handle_call(call, setup.menu, setup.table, self.store, context=setup.context,
                          handover=setup.handover)

    async def resume(self, call: CallPort, reason: str = RESUMED_BY_APP) -> None:
        setup = self.setup()
        await resume_call(call, setup.menu, setup.table, self.store, context=setup.context,
                          handover=setup.handover, reason=reason)
