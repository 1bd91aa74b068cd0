"""Each of the busiest tables has one module owning its writes: an INSERT, UPDATE or DELETE
of a slot, a mission, a person, an application, an outbox row or a conversation is written
there and nowhere else, so a rule about the table (the slots' kept places, an application's
history line, a notification's lease while it is being sent) cannot be skipped by a second
copy of the statement somewhere else. Conversations belong to the database handle, whose
transaction writes the sender's next state at the end of each turn.

Every module of storage, the domain, the edges and the assembly is read with `ast`: storage
writes no owned table but the conversations (what a turn owes the sender's row is handed to
it ready-made by the people store). Migrations (storage/migrations) are not read: they
change rows with the schema of their own day and must not call today's code. The sandbox's
demo seed (renfort/sandbox/demo.py) is read like the rest: it writes through the services,
so it needs no exemption."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "bot", "handlers", "renfort")
MIGRATIONS = ROOT / "storage" / "migrations"
OWNERS = {
    "applications": "bot/services/application_store.py",
    "missions": "bot/services/mission_store.py",
    "people": "bot/services/person_store.py",
    "slots": "bot/services/slot_store.py",
    "outbox": "bot/messaging/outbox.py",
    "conversations": "storage/database.py",
    "document_links": "bot/services/document_links.py",
}
WRITERS = {"insert", "update", "delete", "pg_insert", "sqlite_insert"}
# storage.database's ON CONFLICT DO NOTHING builders: the table is their second argument.
IGNORING_WRITERS = {"insert_ignore", "upsert_ignore"}
# SQL written out as text: what they are given is searched for a write of an owned table.
SQL_RUNNERS = {"text", "exec_driver_sql"}
SQL_WRITE = re.compile(r"\b(?:insert\s+into|update|delete\s+from)\s+\"?(\w+)", re.IGNORECASE)


def _table(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The owned table `node` names: `schema.slots`, or a name bound to one."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "schema"
        and node.attr in OWNERS
    ):
        return node.attr
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    return None


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound to an owned table anywhere in the module (top level or in a function):
    `S = schema.slots`, `A, S = schema.applications, schema.slots`, `S2 = S`, or
    `from storage.schema import slots`."""
    aliases: dict[str, str] = {}
    pairs: list[tuple[ast.expr, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "storage.schema":
            for name in node.names:
                if name.name in OWNERS:
                    aliases[name.asname or name.name] = name.name
        elif isinstance(node, ast.Assign) or (isinstance(node, ast.AnnAssign) and node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            assert node.value is not None
            for target in targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs.extend(zip(target.elts, node.value.elts, strict=False))
                else:
                    pairs.append((target, node.value))
    # An alias of an alias is seen once the first one is known: repeat until nothing new.
    while True:
        found = {
            target.id: table
            for target, value in pairs
            if isinstance(target, ast.Name)
            and target.id not in aliases
            and (table := _table(value, aliases)) is not None
        }
        if not found:
            return aliases
        aliases.update(found)


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def writes(source: str) -> set[tuple[str, int]]:
    """The owned tables the module's source writes, with the line of each write."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _called(node.func)
            targets: list[ast.expr] = []
            if name in WRITERS:
                targets.extend(node.args[:1])  # insert(S), update(S), delete(S)
                if isinstance(node.func, ast.Attribute):
                    targets.append(node.func.value)  # S.insert(), S.update(), S.delete()
            elif name in IGNORING_WRITERS:
                targets.extend(node.args[1:2])
            found.update(
                (table, node.lineno)
                for target in targets
                if (table := _table(target, aliases)) is not None
            )
            if name in SQL_RUNNERS:
                found.update(_sql_writes(node))
    return found


def _sql_writes(call: ast.Call) -> set[tuple[str, int]]:
    """Owned tables written by the SQL text given to text() or exec_driver_sql()."""
    return {
        (match.group(1).lower(), node.lineno)
        for argument in call.args
        for node in ast.walk(argument)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        for match in SQL_WRITE.finditer(node.value)
        if match.group(1).lower() in OWNERS
    }


def modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if not path.is_relative_to(MIGRATIONS)
    )


@pytest.mark.parametrize("table", sorted(OWNERS))
def test_only_the_tables_store_writes_it(table: str) -> None:
    strays = {
        name: sorted(
            line for written, line in writes(path.read_text(encoding="utf-8")) if written == table
        )
        for path in modules()
        if (name := str(path.relative_to(ROOT))) != OWNERS[table]
    }
    assert {name: lines for name, lines in strays.items() if lines} == {}


def test_each_store_is_where_its_writes_are() -> None:
    """The owners exist and write their table: a renamed store fails here, not silently."""
    for table, owner in OWNERS.items():
        assert table in {t for t, _ in writes((ROOT / owner).read_text(encoding="utf-8"))}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("update(schema.slots).values(capacity=1)", {"slots"}),
        ("S = schema.slots\nasync def f(c):\n    await c.execute(insert(S))", {"slots"}),
        (
            "A, S = schema.applications, schema.slots\nupdate(A)\ndelete(S)",
            {"applications", "slots"},
        ),
        ("def f():\n    m = schema.missions\n    return m.update()", {"missions"}),
        ("P = schema.people\nQ = P\nsa.delete(Q)", {"people"}),
        ("from storage.schema import people as folk\nfolk.insert()", {"people"}),
        ("insert_ignore(conn, schema.people)", {"people"}),
        ("text('UPDATE missions SET status = :s')", {"missions"}),
        ("conn.exec_driver_sql('DELETE FROM applications')", {"applications"}),
        ("OUTBOX = schema.outbox\nupdate(OUTBOX).values(status='sent')", {"outbox"}),
        ("def f(c):\n    table = schema.conversations\n    table.delete()", {"conversations"}),
        # Reads, other tables, a dict's update and prose are not writes of an owned table.
        ('"""We update missions here."""\nlog.info("delete from people")', set()),
        ("S = schema.slots\nselect(S).where(S.c.id == 1)", set()),
        ("update(schema.audit_log)\nvalues.update(a=1)\ntext('UPDATE audit_log SET x = 1')", set()),
        ("S = schema.slots\nS.c.taken + 1\nd = {}\nd.update(S=1)", set()),
    ],
)
def test_the_check_sees_a_write(source: str, expected: set[str]) -> None:
    assert {table for table, _ in writes(source)} == expected
