"""The store hands out parts; it forwards nothing (docs/architecture.md, `store/`).

`ReportStore` (store/reports.py) opens and closes the database and hands out the parts
that own its data (calls, queries, audit, outbox, retention, disclosures, writer). A
method that only forwards to a part would grow the facade back, and a new write would
again mean editing the part, the facade and the consumer: read reports.py with ast and
refuse both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import balagh.store.reports

REPORTS = Path(balagh.store.reports.__file__)

# Opening and closing the database: all ReportStore may define besides its parts.
LIFECYCLE = {"__init__", "open", "open_server", "_open_writer", "_open_reader", "_reopen_reader",
             "close"}


def store_class(source: str, name: str = "ReportStore") -> ast.ClassDef:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise AssertionError(f"no class {name}")


def methods(cls: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in cls.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _reaches_into_self(node: ast.expr) -> bool:
    """`self.part.name` or `self.part.name(...)`, awaited or not: a part's member."""
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Call):
        node = node.func
    if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Attribute):
        return False
    owner = node.value.value
    return isinstance(owner, ast.Name) and owner.id in ("self", "cls")


def only_forwards(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Its body (docstring aside) is one statement handing over to a part's member; or it
    passes one of the parts to a function and does nothing else."""
    body = [stmt for stmt in method.body
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return | ast.Expr) \
            or body[0].value is None:
        return False
    value = body[0].value
    if _reaches_into_self(value):
        return True
    call = value.value if isinstance(value, ast.Await) else value
    return isinstance(call, ast.Call) and any(
        isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)
        and arg.value.id == "self" for arg in call.args)


def forwarding_methods(source: str) -> list[str]:
    return [method.name for method in methods(store_class(source)) if only_forwards(method)]


def test_the_store_defines_no_method_that_only_forwards_to_a_part() -> None:
    forwards = forwarding_methods(REPORTS.read_text())
    assert not forwards, f"ReportStore forwards {forwards}: hand the consumer the part " \
                         "(in the composition root) instead"


def test_the_store_only_opens_and_closes_and_hands_out_parts() -> None:
    extra = sorted(method.name for method in methods(store_class(REPORTS.read_text()))
                   if method.name not in LIFECYCLE)
    assert not extra, f"ReportStore defines {extra}: a write or read belongs to its part " \
                      "(store/calls.py, audit.py, outbox.py, queries.py, ...)"


def test_the_rule_sees_a_forward_when_there_is_one() -> None:
    """The reader finds forwards of each shape (else the rules pass vacuously)."""
    source = '''
class ReportStore:
    def __init__(self, writer):
        self.writer = writer

    def start_report(self, *, call_id):
        self.calls.start_report(call_id=call_id)

    async def get_report(self, key):
        """One report."""
        return await self.queries.get_report(key)

    @property
    def write_errors(self):
        return self.writer.write_errors

    def record_numbers_shown(self, **fields):
        record_numbers_shown(self.writer, **fields)

    async def close(self):
        await self.writer.stop()
        await self.writer.close()
'''
    assert forwarding_methods(source) == ["start_report", "get_report", "write_errors",
                                          "record_numbers_shown"]
