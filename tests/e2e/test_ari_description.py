"""The typed ARI client's operations (ari/rest.py OPERATIONS) against the description the
sandbox Asterisk serves: each operation exists under its resource and nickname, with the
same method and path, and takes every query parameter the client may send.

The description is loaded by asyncswagger11's SwaggerClient (asyncari's loader, through
its public interface only), the ari-py-family reading of Asterisk's swagger files."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from asyncswagger11.client import SwaggerClient
from asyncswagger11.http_client import ApiKeyAuthenticator, AsynchronousHttpClient

from balagh.ari.rest import OPERATIONS, Operation
from balagh.config import Settings


def differences(operation: Operation, resources: dict[str, Any]) -> list[str]:
    """What Asterisk describes differently from `operation` (nothing: it agrees)."""
    name = f"{operation.resource}.{operation.nickname}"
    resource = resources.get(operation.resource)
    if resource is None:
        return [f"{name}: Asterisk has no resource {operation.resource}"]
    for api in resource.json["api_declaration"]["apis"]:
        for described in api["operations"]:
            if described["nickname"] != operation.nickname:
                continue
            params = described.get("parameters") or []
            query = {p["name"] for p in params if p["paramType"] == "query"}
            body = {p["name"] for p in params if p["paramType"] == "body"}
            found = []
            if (described["httpMethod"], api["path"]) != (operation.method, operation.url):
                found.append(f"{name}: described as {described['httpMethod']} {api['path']}")
            if operation.query - query:
                found.append(f"{name}: no query parameter {sorted(operation.query - query)}")
            if operation.whole_body and operation.whole_body not in body:
                found.append(f"{name}: no body parameter {operation.whole_body}")
            return found
    return [f"{name}: Asterisk has no operation {operation.nickname}"]


async def test_every_operation_of_the_client_is_as_asterisk_describes_it(
        settings: Settings, pbx) -> None:
    url = settings.ari.url.rstrip("/") + "/ari/api-docs/resources.json"
    credentials = f"{settings.ari.username}:{settings.ari.password}"
    client = SwaggerClient(url, http_client=AsynchronousHttpClient(
        auth=ApiKeyAuthenticator(urlparse(url).hostname, credentials)))
    try:
        await client.init()
        found = [line for operation in OPERATIONS
                 for line in differences(operation, client.resources)]
    finally:
        await client.close()
    assert found == []
    assert len(OPERATIONS) == len({(op.resource, op.nickname) for op in OPERATIONS})
