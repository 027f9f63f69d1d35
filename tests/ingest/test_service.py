"""The ingest entry points' bookkeeping: what an outcome adds to /metrics (no I/O)."""

from __future__ import annotations

import uuid

import pytest

from journeyline.errors import NoIdentifiers, ProfileNotFound
from journeyline.identity.identity_map import ConflictRecord
from journeyline.identity.normalize import Rejection
from journeyline.ingest.outcome import ERASED_IDENTIFIER, EventOutcome, EventWarning
from journeyline.ingest.service import record_metrics
from journeyline.metrics import REGISTRY


def counted(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@pytest.mark.parametrize(
    ("warnings", "refused"),
    [
        ([Rejection("external_id", "undefined", "blocked")], 1),
        ([Rejection("email", "nope", "invalid")], 1),
        (
            [
                ConflictRecord("email", "a@x.io", "owned_by_other_anchor", uuid.uuid4(), None, 0),
                ConflictRecord("external_id", "u9", "limit_exceeded", None, None, 0),
            ],
            2,
        ),
        ([ERASED_IDENTIFIER], 0),
        ([], 0),
    ],
)
def test_conflicts_count_refused_identifiers_not_an_erased_one(
    warnings: list[EventWarning], refused: int
) -> None:
    before = counted("journeyline_identity_conflicts_total")
    record_metrics([EventOutcome(warnings=list(warnings))])
    assert counted("journeyline_identity_conflicts_total") - before == refused


def test_an_outcome_with_an_error_counts_as_failed() -> None:
    labels = {"outcome": "failed"}
    before = counted("journeyline_events_total", labels)
    record_metrics(
        [
            EventOutcome(error=ProfileNotFound("no profile has this id", field="customerId")),
            EventOutcome(error=NoIdentifiers("the event carries no usable identifier")),
        ]
    )
    assert counted("journeyline_events_total", labels) - before == 2
