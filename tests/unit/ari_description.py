"""ARI's description and module list as a fake Asterisk serves them: built from the
typed client's operations (ari/rest.py OPERATIONS) in Asterisk's swagger 1.1 shape, with
the changes a test asks for (an operation dropped, described otherwise, a module not
loaded)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from balagh.ari.description import modules_needed
from balagh.ari.rest import OPERATIONS, Operation


def _parameters(operation: Operation, required: set[str]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "paramType": "path", "required": True, "dataType": "string"}
        for name in sorted(operation.path)]
    params += [{"name": name, "paramType": "query", "required": name in required,
                "dataType": "string"} for name in sorted(operation.query)]
    if operation.whole_body:
        params.append({"name": operation.whole_body, "paramType": "body",
                       "required": True, "dataType": "object"})
    params += [{"name": name, "paramType": "query", "required": True, "dataType": "string"}
               for name in sorted(required - operation.query)]
    return params


def described(base: str, *, without: Iterable[str] = (), method: dict[str, str] | None = None,
              requires: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Path below the server -> JSON: resources.json and one declaration per resource.
    `without`, `method` and `requires` are keyed by "resource.nickname"."""
    left_out, methods, required = set(without), method or {}, requires or {}
    declarations: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        name = f"{operation.resource}.{operation.nickname}"
        declaration = declarations.setdefault(operation.resource, {
            "apiVersion": "10.0.0", "swaggerVersion": "1.1", "basePath": base,
            "resourcePath": f"/api-docs/{operation.resource}.{{format}}",
            "apis": [], "models": {}})
        if name in left_out:
            continue
        declaration["apis"].append({"path": operation.url, "description": name, "operations": [{
            "httpMethod": methods.get(name, operation.method), "nickname": operation.nickname,
            "summary": name, "responseClass": "void",
            "parameters": _parameters(operation, required.get(name, set()))}]})
    listing = {"apiVersion": "10.0.0", "swaggerVersion": "1.1", "basePath": base,
               "apis": [{"path": f"/api-docs/{resource}.{{format}}", "description": resource}
                        for resource in declarations]}
    docs = {"/ari/api-docs/resources.json": listing}
    docs.update({f"/ari/api-docs/{resource}.json": declaration
                 for resource, declaration in declarations.items()})
    return docs


def running_modules(*, without: Iterable[str] = ()) -> list[dict[str, Any]]:
    """GET /asterisk/modules: every module the operations need, running, but `without`."""
    left_out = set(without)
    names = sorted({module for op in OPERATIONS for module in modules_needed(op)} - left_out)
    return [{"name": f"{name}.so", "description": name, "use_count": 0,
             "status": "Running", "support_level": "core"} for name in names]
