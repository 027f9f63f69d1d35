"""The statement audit's rule (tests/tenant_scope.py), case by case: the shapes journeyline sends
pass, and each way of missing the tenant is caught."""

from __future__ import annotations

import pytest

from tests.tenant_scope import unscoped_tables

TABLES = {"identities", "profiles", "events", "crm_persons", "ingest_jobs", "orders"}

CASES = [
    # The driver's shapes (store/repositories/scoped.py).
    (
        "SELECT found.kind FROM unnest($2::VARCHAR(20)[]) AS w(kind) CROSS JOIN LATERAL "
        "(SELECT kind FROM identities AS t WHERE t.tenant_id = $1 AND t.kind = w.kind OFFSET 0)"
        " AS found",
        "postgres",
        [],
    ),
    (
        "UPDATE identities AS t SET profile_id = v.profile_id FROM unnest($2::UUID[], "
        "$3::UUID[]) AS v(id, profile_id) WHERE t.tenant_id = $1 AND t.profile_id = v.id",
        "postgres",
        [],
    ),
    (
        "INSERT INTO events (tenant_id, id) SELECT $1, v.id FROM unnest($2::uuid[]) AS v(id)",
        "postgres",
        [],
    ),
    ("COPY events (tenant_id, id) FROM STDIN", "postgres", []),
    ("COPY events (id) FROM STDIN", "postgres", ["events"]),
    # SQLAlchemy's.
    (
        "DELETE FROM crm_persons WHERE crm_persons.tenant_id = $1::UUID AND "
        "crm_persons.profile_id = ANY ($2::UUID[])",
        "postgres",
        [],
    ),
    ("SELECT id FROM profiles WHERE tenant_id IN (?, ?)", "sqlite", []),
    (
        "INSERT INTO orders (tenant_id, order_id) VALUES (?, ?) ON CONFLICT (tenant_id, "
        "order_id) DO UPDATE SET status = excluded.status",
        "sqlite",
        [],
    ),
    (
        "SELECT count(*) FROM (SELECT id FROM events WHERE events.tenant_id = $1) AS anon_1",
        "postgres",
        [],
    ),
    ("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", "postgres", []),
    # Missing the tenant.
    ("SELECT id FROM ingest_jobs WHERE status = ? AND updated_at < ?", "sqlite", ["ingest_jobs"]),
    (
        "SELECT p.id FROM profiles AS p JOIN identities AS i ON i.profile_id = p.id "
        "WHERE p.tenant_id = ?",
        "sqlite",
        ["identities"],
    ),
    (
        "SELECT p.id FROM profiles AS p JOIN identities AS i ON i.profile_id = p.id "
        "AND i.tenant_id = p.tenant_id WHERE p.tenant_id = ?",
        "sqlite",
        [],
    ),
    ("SELECT id FROM profiles WHERE tenant_id = ? OR id = ?", "sqlite", ["profiles"]),
    ("UPDATE profiles SET status = ? WHERE id = ?", "sqlite", ["profiles"]),
    ("DELETE FROM events WHERE id = ?", "sqlite", ["events"]),
    ("INSERT INTO events (id) VALUES (?)", "sqlite", ["events"]),
    (
        "SELECT id FROM events WHERE tenant_id = ? AND profile_id IN "
        "(SELECT id FROM profiles WHERE merged_into = ?)",
        "sqlite",
        ["profiles"],
    ),
    ("SELECT id FROM tenants WHERE name = ?", "sqlite", []),  # not a tenant table
    ("THIS IS NOT SQL (", "sqlite", ["<unparsed>"]),
]


@pytest.mark.parametrize(("sql", "dialect", "expected"), CASES)
def test_the_rule(sql: str, dialect: str, expected: list[str]) -> None:
    assert unscoped_tables(sql, dialect, TABLES) == expected
