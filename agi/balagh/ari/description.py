"""Does this Asterisk offer every operation the typed client sends? Asked at every connect.

Two questions, because Asterisk's ARI description is files on disk (rest-api/*.json): it
says what this Asterisk version offers, not which modules are loaded.
- The description: /ari/api-docs/resources.json and its resource declarations, loaded and
  validated by asyncswagger11's `Loader` (the ari-py family's reader of ARI's swagger
  1.1, through its public interface). Each of rest.OPERATIONS must be there under its
  resource and nickname, with the same method and path; every parameter the client sends
  must be one Asterisk takes, and every parameter Asterisk requires one the client sends.
- The modules: GET /asterisk/modules must list as running every module the operations
  need (res_ari_<resource>, and res_stasis_snoop for a snoop, ...).
The documents are fetched by our own transport (transport.py: answers bounded, the
Loader never follows a URL outside ARI's api-docs), not by asyncswagger11's httpx client
(a 600 s timeout, bodies unbounded).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asyncswagger11.processors import SwaggerError
from asyncswagger11.swagger_model import Loader

from balagh.ari.rest import (
    ANSWER,
    OPERATIONS,
    PLAY,
    SNOOP,
    STOP_PLAYBACK,
    AriRequestError,
    AriRest,
    Operation,
)
from balagh.ari.transport import AriTransport

# Asterisk 22 serves 12 declarations of 20 to 110 kB; a listing past these is not ARI's.
DOCUMENTS_AT_MOST = 64
DOCUMENT_AT_MOST = 2 * 1024 * 1024
# The modules an operation needs beyond its resource's res_ari_<resource>.
STASIS_MODULES = {ANSWER: "res_stasis_answer", PLAY: "res_stasis_playback",
                  STOP_PLAYBACK: "res_stasis_playback", SNOOP: "res_stasis_snoop"}


class AriOperationsMissing(RuntimeError):
    """This Asterisk does not offer operations the client sends (the message names them)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("Asterisk does not offer what Balagh sends: " + "; ".join(missing))
        self.missing = missing


class AriDescriptionUnreadable(RuntimeError):
    """ARI's description could not be loaded (not ARI's, too large, invalid)."""


def modules_needed(operation: Operation) -> tuple[str, ...]:
    """The Asterisk modules `operation` needs loaded."""
    own = f"res_ari_{operation.resource}"
    extra = STASIS_MODULES.get(operation)
    return (own, extra) if extra else (own,)


class _Fetched:
    """What asyncswagger11's Loader reads of an HTTP answer: its JSON."""

    def __init__(self, answer: Any) -> None:
        self._answer = answer

    def json(self) -> Any:
        return self._answer


class _DescriptionReader:
    """The Loader's `http_client` (asyncswagger11's HttpClient interface: `request`),
    fetching through our transport and only below ARI's api-docs."""

    def __init__(self, transport: AriTransport) -> None:
        self._transport = transport
        self.docs = transport.base + "/api-docs/"
        self.fetched = 0

    async def request(self, method: str, url: str, params: object = None,
                      data: object = None) -> _Fetched:
        if method != "GET" or not url.startswith(self.docs):
            raise AriDescriptionUnreadable(f"the description points outside ARI: {url}")
        self.fetched += 1
        if self.fetched > DOCUMENTS_AT_MOST:
            raise AriDescriptionUnreadable(f"more than {DOCUMENTS_AT_MOST} documents")
        answer = await self._transport.request("GET", url, {}, {}, at_most=DOCUMENT_AT_MOST)
        return _Fetched(answer)


async def load_description(transport: AriTransport) -> dict[str, dict[str, Any]]:
    """ARI's description as Asterisk serves it: each resource's declaration by name."""
    reader = _DescriptionReader(transport)
    try:
        listing = await Loader(reader).load_resource_listing(
            reader.docs + "resources.json", base_url=transport.base)
    except (SwaggerError, KeyError, TypeError, AttributeError) as exc:
        raise AriDescriptionUnreadable(f"ARI's description is not valid: {exc!r}") from None
    except AriRequestError as exc:
        raise AriDescriptionUnreadable(f"ARI's description: {exc}") from None
    resources: dict[str, dict[str, Any]] = {}
    for api in listing["apis"]:
        name = str(api["path"]).rsplit("/", 1)[-1].split(".", 1)[0]
        resources[name] = api["api_declaration"]
    return resources


def differences(operation: Operation, resources: dict[str, dict[str, Any]]) -> list[str]:
    """How Asterisk's description differs from what the client sends (nothing: agrees)."""
    name = f"{operation.resource}.{operation.nickname}"
    declaration = resources.get(operation.resource)
    if declaration is None:
        return [f"{name}: no resource {operation.resource} (res_ari_{operation.resource})"]
    for api in declaration.get("apis", []):
        for described in api.get("operations", []):
            if described.get("nickname") == operation.nickname:
                return _compare(name, operation, api["path"], described)
    return [f"{name}: no such operation"]


def _compare(name: str, operation: Operation, path: str, described: dict[str, Any]
             ) -> list[str]:
    params = described.get("parameters") or []
    taken = {p["name"] for p in params if p["paramType"] in ("query", "body")}
    required = {p["name"] for p in params if p.get("required") and p["paramType"] != "path"}
    sent = operation.query | ({operation.whole_body} if operation.whole_body else set())
    found = []
    if (described["httpMethod"], path) != (operation.method, operation.url):
        found.append(f"{name}: described as {described['httpMethod']} {path}")
    if sent - taken:
        found.append(f"{name}: takes no {', '.join(sorted(sent - taken))}")
    if required - sent:
        found.append(f"{name}: requires {', '.join(sorted(required - sent))}")
    return found


def modules_missing(running: Iterable[str], operations: Iterable[Operation]) -> list[str]:
    """The needed modules not running, each with the operations that need it."""
    loaded = {module.removesuffix(".so") for module in running}
    missing: dict[str, list[str]] = {}
    for operation in operations:
        for module in modules_needed(operation):
            if module not in loaded:
                missing.setdefault(module, []).append(
                    f"{operation.resource}.{operation.nickname}")
    return [f"{module} not loaded ({', '.join(ops)})" for module, ops in missing.items()]


async def check_offered(transport: AriTransport, rest: AriRest,
                        operations: Iterable[Operation] = OPERATIONS) -> None:
    """Raise AriOperationsMissing unless Asterisk offers every one of `operations`."""
    operations = tuple(operations)
    resources = await load_description(transport)
    missing = [line for operation in operations for line in differences(operation, resources)]
    missing += modules_missing(await _running_modules(rest), operations)
    if missing:
        raise AriOperationsMissing(missing)


async def _running_modules(rest: AriRest) -> list[str]:
    try:
        modules = await rest.asterisk.listModules()
    except AriRequestError as exc:
        if exc.status == 404:  # /asterisk is res_ari_asterisk's: not loaded
            return []
        raise
    return [str(module.get("name", "")) for module in modules
            if str(module.get("status", "")).lower() == "running"]
