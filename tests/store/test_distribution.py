"""A schema Citus can distribute by tenant (DESIGN §11), held by the models and by the migrated
PostgreSQL catalog: every tenant table has `tenant_id`, its primary key and every unique
constraint or unique index lead with it, and a foreign key between tenant tables carries it on
both sides. Reference tables (replicated to every node) are named here, each with why."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from journeyline.store import migrate
from journeyline.store import models as _models  # noqa: F401 (every table in the metadata)
from journeyline.store.base import Base
from tests.conftest import _create_pg_database, _drop_pg_database, _requested_url

# Looked up before the tenant is known, small, and read on every request of their kind: Citus
# reference tables. Anything else is distributed by tenant_id.
REFERENCE_TABLES = {
    "tenants": "the distribution key's own table",
    "api_keys": "a request's key is found by its hash before its tenant is known",
    "dashboard_sessions": "a sign-in cookie is found by its hash before its tenant is known",
    "webhook_connections": "a provider's delivery names only the connection id in its URL",
}
# Not the application's: Alembic's bookkeeping.
IGNORED_TABLES = {"alembic_version"}


@dataclass(frozen=True)
class Key:
    """A primary key, unique constraint or unique index: its table, name and columns in order."""

    table: str
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """A foreign key: the referencing and the referenced table, and the column pairs."""

    table: str
    name: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Schema:
    tables: dict[str, set[str]]  # table -> columns
    keys: list[Key]
    references: list[Reference]


def violations(schema: Schema) -> list[str]:
    """Everything that would stop `create_distributed_table(table, 'tenant_id')`."""
    found: list[str] = []
    distributed = {
        name for name in schema.tables if name not in REFERENCE_TABLES.keys() | IGNORED_TABLES
    }
    for table in sorted(distributed):
        if "tenant_id" not in schema.tables[table]:
            found.append(f"{table}: no tenant_id column")
    for key in schema.keys:
        if key.table in distributed and key.columns[:1] != ("tenant_id",):
            found.append(f"{key.table}.{key.name} {key.columns}: does not lead with tenant_id")
    for ref in schema.references:
        if ref.table in REFERENCE_TABLES and ref.target not in REFERENCE_TABLES:
            found.append(f"{ref.table}.{ref.name}: a reference table refers to {ref.target}")
        if ref.table in distributed and ref.target in distributed:
            pairs = set(zip(ref.columns, ref.target_columns, strict=True))
            if ("tenant_id", "tenant_id") not in pairs:
                found.append(f"{ref.table}.{ref.name}: refers to {ref.target} without tenant_id")
    return found


def model_schema() -> Schema:
    tables: dict[str, set[str]] = {}
    keys: list[Key] = []
    references: list[Reference] = []
    for table in Base.metadata.sorted_tables:
        tables[table.name] = {column.name for column in table.columns}
        keys.append(
            Key(table.name, str(table.primary_key.name), tuple(table.primary_key.columns.keys()))
        )
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint):
                keys.append(Key(table.name, str(constraint.name), tuple(constraint.columns.keys())))
            if isinstance(constraint, sa.ForeignKeyConstraint):
                references.append(
                    Reference(
                        table.name,
                        str(constraint.name),
                        tuple(constraint.column_keys),
                        constraint.referred_table.name,
                        tuple(element.column.name for element in constraint.elements),
                    )
                )
        for index in table.indexes:
            if index.unique:
                columns = tuple(
                    getattr(expression, "name", str(expression)) for expression in index.expressions
                )
                keys.append(Key(table.name, str(index.name), columns))
    return Schema(tables, keys, references)


def test_the_models_can_be_distributed_by_tenant() -> None:
    schema = model_schema()
    assert set(REFERENCE_TABLES) <= set(schema.tables)  # the list names real tables
    assert violations(schema) == []


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            Schema({"things": {"id"}}, [Key("things", "pk_things", ("id",))], []),
            [
                "things: no tenant_id column",
                "things.pk_things ('id',): does not lead with tenant_id",
            ],
        ),
        (
            Schema(
                {"things": {"tenant_id", "id", "code"}},
                [
                    Key("things", "pk_things", ("tenant_id", "id")),
                    Key("things", "uq_things_code", ("code", "tenant_id")),
                ],
                [],
            ),
            ["things.uq_things_code ('code', 'tenant_id'): does not lead with tenant_id"],
        ),
        (
            Schema(
                {"a": {"tenant_id", "id", "b_id"}, "b": {"tenant_id", "id"}},
                [Key("a", "pk_a", ("tenant_id", "id")), Key("b", "pk_b", ("tenant_id", "id"))],
                [Reference("a", "fk_a_b", ("b_id",), "b", ("id",))],
            ),
            ["a.fk_a_b: refers to b without tenant_id"],
        ),
        (
            Schema(
                {"a": {"tenant_id", "id", "b_id"}, "b": {"tenant_id", "id"}},
                [Key("a", "pk_a", ("tenant_id", "id")), Key("b", "pk_b", ("tenant_id", "id"))],
                [Reference("a", "fk_a_b", ("tenant_id", "b_id"), "b", ("tenant_id", "id"))],
            ),
            [],
        ),
        (
            Schema(
                {"api_keys": {"id", "tenant_id"}, "tenants": {"id"}, "a": {"tenant_id", "id"}},
                [Key("api_keys", "pk_api_keys", ("id",)), Key("a", "pk_a", ("tenant_id", "id"))],
                [
                    Reference("api_keys", "fk_api_keys_tenant", ("tenant_id",), "tenants", ("id",)),
                    Reference("api_keys", "fk_api_keys_a", ("tenant_id",), "a", ("tenant_id",)),
                    Reference("a", "fk_a_tenant", ("tenant_id",), "tenants", ("id",)),
                ],
            ),
            ["api_keys.fk_api_keys_a: a reference table refers to a"],
        ),
    ],
    ids=["no-tenant", "unique-not-leading", "fk-without-tenant", "fk-with-tenant", "reference"],
)
def test_the_rules_catch_what_citus_refuses(schema: Schema, expected: list[str]) -> None:
    assert violations(schema) == expected


CATALOG_COLUMNS = sa.text(
    """
    SELECT c.relname, a.attname
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    """
)
# Every unique index (primary keys and unique constraints are backed by one), its key columns
# in order; an expression column shows as its expression. A partitioned log's partitions
# (store/partitions.py) are left out: their indexes are their parent's, checked on it.
CATALOG_KEYS = sa.text(
    """
    SELECT c.relname, i.relname,
           array(SELECT pg_get_indexdef(ix.indexrelid, k + 1, true)
                 FROM generate_subscripts(ix.indkey, 1) AS k ORDER BY k)
    FROM pg_index AS ix
    JOIN pg_class AS c ON c.oid = ix.indrelid
    JOIN pg_class AS i ON i.oid = ix.indexrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND ix.indisunique AND NOT c.relispartition
    """
)
CATALOG_REFERENCES = sa.text(
    """
    SELECT src.relname, con.conname,
           array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, pos)
                 JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.num
                 ORDER BY k.pos),
           dst.relname,
           array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, pos)
                 JOIN pg_attribute AS a ON a.attrelid = con.confrelid AND a.attnum = k.num
                 ORDER BY k.pos)
    FROM pg_constraint AS con
    JOIN pg_class AS src ON src.oid = con.conrelid
    JOIN pg_class AS dst ON dst.oid = con.confrelid
    WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace
    """
)


@pytest.fixture
async def migrated_url() -> AsyncIterator[str]:
    requested = _requested_url()
    assert requested is not None
    url = await _create_pg_database(requested)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await _drop_pg_database(requested, url)


@pytest.mark.postgres
async def test_the_migrated_catalog_can_be_distributed_by_tenant(migrated_url: str) -> None:
    """What the migrations built, not what the models say: an index made only in a migration
    counts too."""
    engine = create_async_engine(migrated_url)
    try:
        async with engine.connect() as connection:
            columns = (await connection.execute(CATALOG_COLUMNS)).all()
            keys = (await connection.execute(CATALOG_KEYS)).all()
            references = (await connection.execute(CATALOG_REFERENCES)).all()
    finally:
        await engine.dispose()
    tables: dict[str, set[str]] = {}
    for table, column in columns:
        tables.setdefault(table, set()).add(column)
    schema = Schema(
        tables,
        [Key(table, name, tuple(cols)) for table, name, cols in keys],
        [Reference(t, n, tuple(c), d, tuple(dc)) for t, n, c, d, dc in references],
    )
    assert set(tables) - IGNORED_TABLES == set(model_schema().tables)
    assert violations(schema) == []
