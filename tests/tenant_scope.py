"""Which tenant tables a SQL statement reads or writes without a `tenant_id` condition: the
query side of distributing by tenant (DESIGN §11) and of tenant isolation (DESIGN §8).

A table counts as scoped in a SELECT, UPDATE or DELETE when a conjunct of its own query's WHERE
or of a JOIN's ON compares its `tenant_id` (`=`, `IN`, `= ANY`); under an OR it does not. An
INSERT (and a COPY) is scoped when it writes the `tenant_id` column. Reference tables
(tests/store/test_distribution.py) are never asked.
"""

from __future__ import annotations

import re
from typing import Any

import sqlglot
from sqlglot import exp

_COPY = re.compile(r"^\s*COPY\s+(\w+)\s*\(([^)]*)\)", re.IGNORECASE)
_QUERIES = (exp.Select, exp.Update, exp.Delete, exp.Insert)


def unscoped_tables(sql: str, dialect: str, tenant_tables: set[str]) -> list[str]:
    """The tenant tables `sql` touches without a tenant_id condition, in order of appearance.
    A statement sqlglot cannot parse is reported as `<unparsed>`, never passed."""
    copy = _COPY.match(sql)
    if copy:
        table, columns = copy.group(1), {c.strip().strip('"') for c in copy.group(2).split(",")}
        return [table] if table in tenant_tables and "tenant_id" not in columns else []
    try:
        statements = sqlglot.parse(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return ["<unparsed>"]
    found: list[str] = []
    for statement in statements:
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            name = table.name
            if name not in tenant_tables or not _is_relation(table):
                continue
            if not _scoped(table) and name not in found:
                found.append(name)
    return found


def _is_relation(table: exp.Table) -> bool:
    """A table read or written, not a name in a column reference or a function."""
    return not isinstance(table.parent, exp.Column)


def _query_of(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, _QUERIES):
        parent = parent.parent
    return parent


def _scoped(table: exp.Table) -> bool:
    query = _query_of(table)
    if query is None:
        return False
    if isinstance(query, exp.Insert):
        target = query.this
        if isinstance(target, exp.Schema) and target.this is table:
            return any(
                isinstance(column, exp.Identifier) and column.name == "tenant_id"
                for column in target.expressions
            )
        # An INSERT without a column list writes every column, tenant_id included.
        return target is table
    alias = table.alias_or_name
    conditions: list[exp.Expression] = []
    where = query.args.get("where")
    if where is not None:
        conditions.append(where.this)
    for join in query.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None:
            conditions.append(on)
    return any(_compares_tenant(condition, alias) for condition in conditions)


def _conjuncts(condition: Any) -> list[Any]:
    while isinstance(condition, exp.Paren):
        condition = condition.this
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _is_tenant_column(node: Any, alias: str) -> bool:
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    return isinstance(node, exp.Column) and node.name == "tenant_id" and node.table in ("", alias)


def _compares_tenant(condition: exp.Expression, alias: str) -> bool:
    for conjunct in _conjuncts(condition):
        if isinstance(conjunct, exp.EQ) and (
            _is_tenant_column(conjunct.left, alias) or _is_tenant_column(conjunct.right, alias)
        ):
            return True
        if isinstance(conjunct, exp.In) and _is_tenant_column(conjunct.this, alias):
            return True
    return False
