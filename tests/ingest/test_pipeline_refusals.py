"""What the pipeline answers for an event it cannot attribute: the domain error itself, and
the warning records themselves, on the outcome (rendered only by ingest/wire.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from journeyline.config import Settings
from journeyline.errors import NoIdentifiers, ProfileNotFound
from journeyline.identity.normalize import Rejection
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.store.db import Database
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import build_context

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def event(**fields: Any) -> CanonicalEvent:
    return CanonicalEvent(
        event_type="custom",
        event_name="probe",
        source_type="internal",
        source="api",
        received_at=NOW,
        **fields,
    )


async def run(database: Database, settings: Settings, events: list[CanonicalEvent]) -> Any:
    created = await database.run(lambda session: tenancy.create_tenant(session, "refusals"))
    context = build_context(created.tenant_id, "secret", {}, settings)
    return await database.run(lambda session: pipeline.process(session, context, events, now=NOW))


def test_each_resolution_error_is_its_domain_error() -> None:
    unknown, nothing = pipeline.refusal("profile_not_found"), pipeline.refusal("no_identifiers")
    assert (type(unknown), unknown.status_code, unknown.field) == (
        ProfileNotFound,
        404,
        "customerId",
    )
    assert (type(nothing), nothing.status_code, nothing.field) == (NoIdentifiers, 422, None)


async def test_an_unknown_profile_id_is_a_profile_not_found_on_the_outcome(
    database: Database, settings: Settings
) -> None:
    [outcome] = await run(database, settings, [event(profile_id=uuid.uuid4())])
    assert isinstance(outcome.error, ProfileNotFound)
    assert (outcome.event_id, outcome.profile_id) == (None, None)


async def test_a_repeat_of_a_refused_event_carries_the_same_error(
    database: Database, settings: Settings
) -> None:
    first, repeat = await run(
        database, settings, [event(external_event_id="m-1"), event(external_event_id="m-1")]
    )
    assert isinstance(first.error, NoIdentifiers)
    assert repeat.error is first.error
    assert (repeat.duplicate, repeat.conflicting_duplicate) == (False, False)


async def test_a_blocked_identifier_is_its_rejection_record(
    database: Database, settings: Settings
) -> None:
    [outcome] = await run(
        database, settings, [event(external_id="undefined", anonymous_id="a-blocked")]
    )
    assert outcome.error is None
    assert outcome.warnings == [Rejection("external_id", "undefined", "blocked")]
