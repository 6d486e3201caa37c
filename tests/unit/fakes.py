"""Test doubles for the unit tests: a scripted call port and a recording ARI REST client.

ScriptedCall plays the caller: each get_digit() takes the next item of its script,
a key ("1", pressed once the prompt has started), Ahead("1") (pressed before the
prompt, so it is not played), None (the caller lets the question time out) or HANGUP
(the caller hangs up right there; every later call-port method raises CallGone).
Nothing sleeps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Final

from balagh.ari.rest import Operation, Params
from balagh.ivr.port import CallGone, CallInfo
from balagh.ivr.record import CallStore
from balagh.store import ReportStore


class _Hangup:
    def __repr__(self) -> str:
        return "HANGUP"


HANGUP: Final = _Hangup()


class Ahead(str):
    """A key the caller pressed before its prompt could start (type-ahead)."""


Key = str | None | _Hangup

DEFAULT_INFO = CallInfo(call_id="1700000000.42", channel="PJSIP/trunk-0000002a",
                        caller="+971500000001", hotline="800111")


class ScriptExhausted(AssertionError):
    """The flow asked for more keys than the test scripted."""


class ScriptedCall:
    """A fake CallPort driven by a script of keys; it records everything the IVR did."""

    def __init__(self, script: Iterable[Key], *, info: CallInfo = DEFAULT_INFO,
                 fail: dict[str, BaseException] | None = None) -> None:
        self.info = info
        self.script: deque[Key] = deque(script)
        # Method name -> exception to raise when the flow calls it (simulated bugs).
        self.fail = dict(fail or {})
        self.answered = False
        self.gone = False
        self.continued = False
        self.languages: list[str] = []
        self.played: list[tuple[str, ...]] = []   # one tuple per play() call
        self.interruptible: list[bool] = []
        self.variables: dict[str, str] = {}
        self.channel_vars: dict[str, str] = {}    # what get_variable() reads (e.g. geolocation)
        self.timeouts: list[float] = []           # the timeout of every get_digit()
        self.told: list[tuple[tuple[str, ...], str]] = []  # tell_while_waiting(sounds, language)
        self.log: list[tuple[str, Any]] = []      # every port call, in order

    # -- inspection helpers ------------------------------------------------------

    @property
    def sounds(self) -> list[str]:
        """Every sound played, flattened, in order."""
        return [sound for group in self.played for sound in group]

    # -- the call port ---------------------------------------------------------

    def _enter(self, name: str, arg: Any = None) -> None:
        self.log.append((name, arg))
        if self.gone:
            raise CallGone(self.info.call_id)
        if name in self.fail:
            raise self.fail[name]

    async def answer(self) -> None:
        self._enter("answer")
        self.answered = True

    async def set_language(self, language: str) -> None:
        self._enter("set_language", language)
        self.languages.append(language)

    async def play(self, sounds: Sequence[str], *, interruptible: bool = True) -> None:
        self._enter("play", tuple(sounds))
        if interruptible and self.has_digits():
            return  # like the real port: a waiting key means the prompt is not started
        self.played.append(tuple(sounds))
        self.interruptible.append(interruptible)

    def has_digits(self) -> bool:
        return bool(self.script) and isinstance(self.script[0], Ahead)

    async def wait_for_digit(self, timeout: float) -> bool:
        self._enter("wait_for_digit", timeout)
        return self.has_digits()

    async def get_digit(self, timeout: float) -> str | None:
        self._enter("get_digit", timeout)
        self.timeouts.append(timeout)
        if not self.script:
            raise ScriptExhausted(f"no key scripted for get_digit #{len(self.timeouts)}")
        key = self.script.popleft()
        if isinstance(key, _Hangup):
            self.gone = True
            raise CallGone(self.info.call_id)
        return key

    async def get_variable(self, name: str) -> str | None:
        self._enter("get_variable", name)
        return self.channel_vars.get(name)

    async def set_variables(self, variables: dict[str, str]) -> None:
        self._enter("set_variables", dict(variables))
        self.variables.update(variables)

    async def continue_in_dialplan(self) -> None:
        self._enter("continue_in_dialplan")
        self.continued = True

    async def tell_while_waiting(self, sounds: Sequence[str], language: str) -> None:
        self.log.append(("tell_while_waiting", tuple(sounds)))  # best effort: never raises
        self.told.append((tuple(sounds), language))


class FixedClock:
    """A clock for handle_call(clock=...): a fixed moment, counting how often it is read."""

    def __init__(self, moment: Any) -> None:
        self.moment = moment
        self.reads = 0

    def __call__(self) -> Any:
        self.reads += 1
        return self.moment


# -- ARI ------------------------------------------------------------------------


class RecordingRepo:
    """One ARI resource (channels, playbacks): every method is async and recorded.

    `errors[name]` makes that method raise; `results[name]` is what it returns;
    `hooks[name]` runs after recording (e.g. to feed events back, as Asterisk would)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.errors: dict[str, BaseException] = {}
        self.hooks: dict[str, Any] = {}
        self.results: dict[str, Any] = {}

    def named(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        async def operation(**params: Any) -> Any:
            self.calls.append((method, params))
            if method in self.hooks:
                self.hooks[method](**params)
            if method in self.errors:
                raise self.errors[method]
            return self.results.get(method)

        operation.__name__ = f"{self._name}.{method}"
        return operation


class FakeRest:
    """Stands in for the ARI client (ari/rest.py): `channels`, `playbacks` and `bridges`
    that record calls, and `send`, through which CurrentClient passes its requests."""

    def __init__(self) -> None:
        self.channels = RecordingRepo("channels")
        self.playbacks = RecordingRepo("playbacks")
        self.bridges = RecordingRepo("bridges")

    async def send(self, operation: Operation, params: Params) -> Any:
        # Parameters left out (None) are not sent, as by the HTTP transport.
        given = {name: value for name, value in params.items() if value is not None}
        repository = getattr(self, operation.resource)
        return await getattr(repository, operation.nickname)(**given)


class FakeHttpResponse:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


class FakeHttpError(Exception):
    """Shaped like an httpx.HTTPStatusError: it carries the `response`."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.response = FakeHttpResponse(status_code)


def rest_error(status_code: int) -> Exception:
    """An error as asyncari raises it: a wrapper whose __cause__ is the HTTP error."""
    try:
        try:
            raise FakeHttpError(status_code)
        except FakeHttpError as http:
            raise RuntimeError("ARI request failed") from http
    except RuntimeError as wrapped:
        return wrapped


def channel_event(kind: str, channel_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "channel": {"id": channel_id, "name": f"PJSIP/x-{channel_id}"},
            **extra}


def dtmf(channel_id: str, digit: str) -> dict[str, Any]:
    return channel_event("ChannelDtmfReceived", channel_id, digit=digit, duration_ms=100)


def playback_event(kind: str, playback_id: str, channel_id: str) -> dict[str, Any]:
    return {"type": kind,
            "playback": {"id": playback_id, "target_uri": f"channel:{channel_id}",
                         "state": "done"}}


def call_store(store: ReportStore) -> CallStore:
    """What a call is given of the store (as the composition roots wire it)."""
    return CallStore(store.calls, store.queries)
