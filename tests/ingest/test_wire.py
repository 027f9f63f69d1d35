"""The one renderer of errors and warnings: every error kind to its API.md shape and status,
every warning record to its shape (pure, no I/O)."""

from __future__ import annotations

import inspect
import uuid

import pytest

from journeyline import errors
from journeyline.errors import (
    Forbidden,
    InvalidPayload,
    JourneylineError,
    KeyNotFound,
    LastSecretKey,
    MalformedBody,
    MergeConflict,
    NoIdentifiers,
    NotFound,
    PayloadTooLarge,
    ProfileNotFound,
    RateLimited,
    RejectedMessage,
    StorageUnavailable,
    TooDeep,
    Unauthorized,
    Unstorable,
    UnsupportedEncoding,
)
from journeyline.identity.identity_map import ConflictRecord
from journeyline.identity.normalize import Rejection
from journeyline.ingest import wire
from journeyline.ingest.outcome import ERASED_IDENTIFIER, EventWarning

OWNER = uuid.UUID("0190a7c2-0000-7000-8000-000000000001")
ATTEMPTED = uuid.UUID("0190a7c2-0000-7000-8000-000000000002")
DELIVERY = uuid.UUID("0190a7c2-0000-7000-8000-0000000000d1")

# Every class of errors.py: an instance, the status it answers with, and its `code`.
ERROR_KINDS: list[tuple[JourneylineError, int, str]] = [
    (JourneylineError("internal error"), 500, "internal_error"),
    (MalformedBody("the body is not JSON"), 400, "malformed_json"),
    (Unauthorized("no key"), 401, "unauthorized"),
    (Forbidden("a public key may not"), 403, "forbidden"),
    (NotFound("no job has this id"), 404, "not_found"),
    (ProfileNotFound("no profile has this id", field="customerId"), 404, "profile_not_found"),
    (KeyNotFound("no such key"), 404, "key_not_found"),
    (LastSecretKey("the last live secret key"), 409, "last_secret_key"),
    (RateLimited("over the budget", retry_after=3), 429, "rate_limited"),
    (MergeConflict("already merged"), 409, "merge_conflict"),
    (RejectedMessage("a message needs a userId", field="userId"), 400, "invalid_message"),
    (PayloadTooLarge("at most 500 events"), 413, "payload_too_large"),
    (UnsupportedEncoding("send plain JSON"), 415, "unsupported_media_type"),
    (InvalidPayload("type is wrong", field="type", index=2), 422, "invalid_payload"),
    (NoIdentifiers("the event carries no usable identifier"), 422, "no_identifiers"),
    (Unstorable("the database refused this event"), 422, "unstorable"),
    (TooDeep("nested too deep", field="payload"), 422, "too_deep"),
    (StorageUnavailable("the database is unavailable"), 503, "storage_unavailable"),
]


def test_the_table_names_every_error_class() -> None:
    declared = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, JourneylineError) and cls.__module__ == errors.__name__
    }
    assert {type(error) for error, _, _ in ERROR_KINDS} == declared


@pytest.mark.parametrize(
    ("error", "status", "code"), ERROR_KINDS, ids=[type(e).__name__ for e, _, _ in ERROR_KINDS]
)
def test_each_error_kind_renders_its_status_and_shape(
    error: JourneylineError, status: int, code: str
) -> None:
    expected: dict[str, object] = {"code": code, "message": error.message}
    if error.field is not None:
        expected["field"] = error.field
    if error.index is not None:
        expected["index"] = error.index
    assert error.status_code == status
    assert wire.error_body(error) == {"error": expected}


@pytest.mark.parametrize(
    ("error", "body"),
    [
        (
            ProfileNotFound("no profile has this id", field="customerId"),
            {
                "code": "profile_not_found",
                "message": "no profile has this id",
                "field": "customerId",
            },
        ),
        (
            InvalidPayload("type is wrong", field="type", index=0),
            {"code": "invalid_payload", "message": "type is wrong", "field": "type", "index": 0},
        ),
        (
            NoIdentifiers("the event carries no usable identifier"),
            {"code": "no_identifiers", "message": "the event carries no usable identifier"},
        ),
    ],
)
def test_field_and_index_appear_only_when_they_name_something(
    error: JourneylineError, body: dict[str, object]
) -> None:
    assert wire.error_detail(error) == body


def test_a_refusal_keeps_its_cause_code_in_segment_shape() -> None:
    refused = RejectedMessage.refusing(TooDeep("nested too deep", field="properties"))
    assert (refused.status_code, wire.segment_error_body(refused)) == (
        400,
        {
            "error": {"code": "too_deep", "message": "nested too deep", "field": "properties"},
            "code": "too_deep",
            "message": "nested too deep",
        },
    )


def test_plain_error_body_is_the_same_shape() -> None:
    assert wire.plain_error_body("method_not_allowed", "Method Not Allowed") == {
        "error": {"code": "method_not_allowed", "message": "Method Not Allowed"}
    }
    assert wire.plain_error_body("invalid_payload", "bad", field="limit") == {
        "error": {"code": "invalid_payload", "message": "bad", "field": "limit"}
    }


@pytest.mark.parametrize(
    ("index", "error", "rejected"),
    [
        (
            1,
            InvalidPayload("a message needs a userId or an anonymousId", field="userId", index=1),
            {
                "index": 1,
                "code": "invalid_payload",
                "message": "a message needs a userId or an anonymousId",
                "field": "userId",
            },
        ),
        (
            4,
            NoIdentifiers("the event carries no usable identifier"),
            {
                "index": 4,
                "code": "no_identifiers",
                "message": "the event carries no usable identifier",
            },
        ),
    ],
)
def test_an_indexed_error_is_named_by_its_place_in_the_list(
    index: int, error: JourneylineError, rejected: dict[str, object]
) -> None:
    assert wire.indexed_error(index, error) == rejected


@pytest.mark.parametrize(
    ("error", "stored"),
    [
        (
            InvalidPayload("payload must be an object", field="payload", index=7),
            {"index": 7, "code": "invalid_payload", "message": "payload must be an object"},
        ),
        (
            Unstorable("the database refused this event"),
            {"index": 7, "code": "unstorable", "message": "the database refused this event"},
        ),
        (
            ProfileNotFound("no profile has this id", field="customerId"),
            {"index": 7, "code": "profile_not_found", "message": "no profile has this id"},
        ),
    ],
)
def test_a_job_error_is_index_code_and_message(
    error: JourneylineError, stored: dict[str, object]
) -> None:
    assert wire.job_error(7, error) == stored


def test_a_delivery_error_carries_the_delivery_id() -> None:
    error = InvalidPayload("the delivery names no customer", field="data.object")
    assert wire.delivery_error_body(error, DELIVERY) == {
        "error": {
            "code": "invalid_payload",
            "message": "the delivery names no customer",
            "field": "data.object",
            "delivery_id": str(DELIVERY),
        }
    }


WARNINGS: list[tuple[EventWarning, dict[str, object]]] = [
    (
        Rejection("external_id", "undefined", "blocked"),
        {
            "code": "blocked_identifier",
            "kind": "external_id",
            "value": "undefined",
            "message": "external_id 'undefined' was ignored (blocked)",
        },
    ),
    (
        Rejection("email", "not-an-email", "invalid"),
        {
            "code": "invalid_identifier",
            "kind": "email",
            "value": "not-an-email",
            "message": "email 'not-an-email' was ignored (invalid)",
        },
    ),
    (
        ConflictRecord("email", "a@x.io", "owned_by_other_anchor", OWNER, ATTEMPTED, 0),
        {
            "code": "owned_by_other_anchor",
            "kind": "email",
            "value": "a@x.io",
            "owner_profile_id": str(OWNER),
            "message": "email 'a@x.io' is owned by another profile and was not moved",
        },
    ),
    (
        ConflictRecord("external_id", "u9", "limit_exceeded", None, ATTEMPTED, 3),
        {
            "code": "limit_exceeded",
            "kind": "external_id",
            "value": "u9",
            "owner_profile_id": None,
            "message": "external_id 'u9' exceeds the profile's identifier limit",
        },
    ),
    (
        ERASED_IDENTIFIER,
        {
            "code": "erased_identifier",
            "message": "the event carries an erased identifier and was dropped (not an error)",
        },
    ),
]


@pytest.mark.parametrize(("record", "shape"), WARNINGS, ids=[str(s["code"]) for _, s in WARNINGS])
def test_each_warning_record_renders_its_shape(
    record: EventWarning, shape: dict[str, object]
) -> None:
    assert wire.warning(record) == shape


def test_warnings_keep_their_order() -> None:
    records = [record for record, _ in WARNINGS]
    assert wire.warnings(reversed(records)) == [shape for _, shape in reversed(WARNINGS)]
