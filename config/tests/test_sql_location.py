"""Hand-written SQL lives in each app's `sql.py` (with its reason), nowhere else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `UPDATE t AS x SET` too: the alias hid the rebalance batch UPDATE from the first version.
SQL = re.compile(
    r"\b(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\S+\s+(?:AS\s+\S+\s+)?SET\s|DELETE\s+FROM\s)"
)
SKIP_PARTS = {".venv", "tests", "migrations", "bench", "tests_support", "node_modules", "scripts"}


def modules_with_sql() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIP_PARTS & set(relative.parts) or path.name == "sql.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and SQL.search(text):
                found.add(relative.as_posix())
                break
    return found


def test_sql_text_only_in_sql_modules():
    assert modules_with_sql() == set()


def test_the_scan_finds_sql_text(tmp_path, monkeypatch):
    """Positive control: a module with a statement in a string is found."""
    module = tmp_path / "tickets" / "leak.py"
    module.parent.mkdir()
    module.write_text('Q = "SELECT id FROM tickets_ticket WHERE id = %s"\n')
    aliased = tmp_path / "sla" / "leak.py"
    aliased.parent.mkdir()
    aliased.write_text("Q = f'UPDATE sla_ticketsla AS s SET cycle = {n}'\n")
    allowed = tmp_path / "sla" / "sql.py"
    allowed.write_text('Q = "DELETE FROM sla_slaevent WHERE id = %s"\n')
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert modules_with_sql() == {"tickets/leak.py", "sla/leak.py"}
