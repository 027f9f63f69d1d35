"""Errors and warnings in the JSON shapes of API.md: the one module that renders them.

Every route's error answer (`{"error": {"code", "message", "field"?, "index"?}}`), a failed
event's slot in a list answer, Segment's error body and its batch's `rejected`, the errors a
batch job and a webhook delivery store (JSON, read back as they were written), and an event's
`warnings`. Everything else passes typed values: the domain error (errors.py) and the warning
records (ingest/outcome.py), never a dict built by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import assert_never

from journeyline.errors import JourneylineError
from journeyline.identity.identity_map import ConflictRecord
from journeyline.identity.normalize import Rejection
from journeyline.ingest.outcome import ErasedIdentifier, EventWarning

Json = dict[str, object]

# What a resolution conflict did to the identifier, after "<kind> '<value>' ".
_CONFLICT_MESSAGES = {
    "owned_by_other_anchor": "is owned by another profile and was not moved",
    "limit_exceeded": "exceeds the profile's identifier limit",
}
ERASED_MESSAGE = "the event carries an erased identifier and was dropped (not an error)"


def detail(code: str, message: str, *, field: str | None = None, index: int | None = None) -> Json:
    """The inside of `{"error": …}`: `field` and `index` only when they name something."""
    body: Json = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    if index is not None:
        body["index"] = index
    return body


def error_detail(error: JourneylineError) -> Json:
    return detail(error.code, error.message, field=error.field, index=error.index)


def error_body(error: JourneylineError) -> Json:
    """An error answer, and a failed event's slot in a list answer (its status is the
    error's `status_code`, which the caller answers with)."""
    return {"error": error_detail(error)}


def plain_error_body(code: str, message: str, *, field: str | None = None) -> Json:
    """The error shape for what the framework refused before any domain code ran (an unknown
    route, a wrong method, a request that does not match the route's signature)."""
    return {"error": detail(code, message, field=field)}


def indexed_error(index: int, error: JourneylineError) -> Json:
    """An item of a list that failed, named by its index in the list: Segment's `rejected`
    and a webhook delivery's stored `errors`."""
    return {"index": index, **detail(error.code, error.message, field=error.field)}


def job_error(index: int, error: JourneylineError) -> Json:
    """A batch job's failed event, as the job stores it and its status lists it:
    `{"index", "code", "message"}` (API.md)."""
    return {"index": index, "code": error.code, "message": error.message}


def segment_error_body(error: JourneylineError) -> Json:
    """The error shape plus Segment's own top-level `code` and `message`: both SDKs read those
    two keys from an error body, and RudderStack's fails on a body without them."""
    return {**error_body(error), "code": error.code, "message": error.message}


def delivery_error_body(error: JourneylineError, delivery_id: uuid.UUID) -> Json:
    """A webhook delivery that could not be mapped or stored, with the id it is logged under."""
    return {"error": {**error_detail(error), "delivery_id": str(delivery_id)}}


def warning(record: EventWarning) -> Json:
    """One warning of an event's answer: `{"code", "message", …}`, `kind` and `value` naming
    the identifier, and for a conflict the profile that owns it."""
    match record:
        case Rejection(kind=kind, value=value, reason=reason):
            return {
                "code": f"{reason}_identifier",
                "kind": kind,
                "value": value,
                "message": f"{kind} {value!r} was ignored ({reason})",
            }
        case ConflictRecord(kind=kind, value=value, reason=reason, owner_profile_id=owner):
            what = _CONFLICT_MESSAGES.get(reason, f"was ignored ({reason})")
            return {
                "code": reason,
                "kind": kind,
                "value": value,
                "owner_profile_id": str(owner) if owner is not None else None,
                "message": f"{kind} {value!r} {what}",
            }
        case ErasedIdentifier():
            return {"code": "erased_identifier", "message": ERASED_MESSAGE}
        case _:
            assert_never(record)


def warnings(records: Iterable[EventWarning]) -> list[Json]:
    return [warning(record) for record in records]
