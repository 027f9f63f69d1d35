"""The bulk path equals the one-by-one path: a random event stream processed as one list gives
the same profiles, identities, attributes and merges as the same stream sent event by event."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeyline.config import Settings
from journeyline.errors import JourneylineError
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.outcome import EventOutcome
from journeyline.store.db import Database
from journeyline.store.repositories.profiles import ProfileRepository
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import build_context

START = datetime(2026, 11, 1, tzinfo=UTC)

identifier_fields = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(["a@x.io", "b@x.io", "c@x.io"]),
        "phone": st.sampled_from(["+14155550100", "+14155550101"]),
        "external_id": st.sampled_from(["u1", "u2"]),
        "anonymous_id": st.sampled_from(["anon-1", "anon-2", "anon-3", "anon-4"]),
        "session_id": st.sampled_from(["s1", "s2"]),
    },
)
traits = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["plan", "city", "tags", "score"]),
        st.one_of(
            st.integers(0, 3),
            st.sampled_from(["a", "b"]),
            st.lists(st.sampled_from(["x", "y"]), max_size=2),
        ),
        max_size=2,
    ),
)
stream = st.lists(
    st.tuples(identifier_fields, traits, st.integers(0, 500)), min_size=1, max_size=12
)


def to_events(
    items: list[tuple[dict[str, str], dict[str, Any] | None, int]],
) -> list[CanonicalEvent]:
    return [
        CanonicalEvent(
            event_type="identified" if trait_patch is not None else "seen",
            event_name="identify" if trait_patch is not None else "seen",
            source_type="internal",
            source="api",
            received_at=START,
            occurred_at=START + timedelta(minutes=minutes),
            traits=trait_patch,
            **fields,  # type: ignore[arg-type]  # only identifier fields, all str
        )
        for fields, trait_patch, minutes in items
    ]


async def snapshot(database: Database, tenant_id: uuid.UUID) -> dict[str, Any]:
    """The tenant's identity state with profile ids replaced by the identifiers they own."""
    async with database.read() as session:
        repo = ProfileRepository(session, tenant_id)
        owners = await repo.owners_of(
            [
                (k, v)
                for k in ("email", "phone", "external_id", "anonymous_id", "session_id")
                for v in (
                    "a@x.io",
                    "b@x.io",
                    "c@x.io",
                    "+14155550100",
                    "+14155550101",
                    "u1",
                    "u2",
                    "anon-1",
                    "anon-2",
                    "anon-3",
                    "anon-4",
                    "s1",
                    "s2",
                )
            ]
        )
        groups: dict[uuid.UUID, set[tuple[str, str]]] = defaultdict(set)
        for key, owner in owners.items():
            groups[owner].add(key)
        profiles = await repo.get_many(groups)
        state = {}
        for owner, keys in groups.items():
            profile = profiles[owner]
            state[frozenset(keys)] = (profile.status, profile.attributes, profile.event_count)
        merged = await repo.merges_involving(list(groups))
    return {"profiles": state, "merges": len(merged)}


def refusal(outcome: EventOutcome) -> tuple[type[JourneylineError], str, str | None] | None:
    """The error an outcome carries, compared by what it says (exceptions compare by identity)."""
    error = outcome.error
    return None if error is None else (type(error), error.message, error.field)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=stream)
async def test_list_equals_one_by_one(
    database: Database,
    settings: Settings,
    items: list[tuple[dict[str, str], dict[str, Any] | None, int]],
) -> None:
    async def new_context() -> Any:
        created = await database.run(lambda session: tenancy.create_tenant(session, "prop"))
        return build_context(created.tenant_id, "secret", {}, settings)

    bulk, single = await new_context(), await new_context()
    events = to_events(items)
    bulk_out = await database.run(
        lambda session: pipeline.process(session, bulk, events, now=START)
    )
    single_out = []
    for event in events:
        single_out += await database.run(
            lambda session, event=event: pipeline.process(session, single, [event], now=START)  # type: ignore[misc]
        )
    assert [refusal(o) for o in bulk_out] == [refusal(o) for o in single_out]
    assert [len(o.merged_profile_ids) for o in bulk_out] == [
        len(o.merged_profile_ids) for o in single_out
    ]
    assert [o.matched_by for o in bulk_out] == [o.matched_by for o in single_out]
    assert await snapshot(database, bulk.tenant_id) == await snapshot(database, single.tenant_id)
