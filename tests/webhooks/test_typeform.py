"""Typeform adapter: signature verification and form_response mapping, with no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.errors import InvalidPayload
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.provider import Delivery, Mapped, Provider, VerificationFailed
from journeyline.webhooks.typeform import TYPEFORM
from tests.webhooks.mutation import (
    NOW,
    UNREADABLE_BODIES,
    check_fails_verification,
    check_maps_or_is_invalid,
    fixture_document,
    mutated,
    only_event,
)
from tests.webhooks.mutation import delivery as unsigned
from tests.webhooks.signing import fixture, typeform_signature

SECRET = "tf-secret-1"
DOCS_EXAMPLE = "form_response__typeform_docs_example_2018.json"
PROVIDER: Provider = TYPEFORM


def signed(body: bytes, secret: str = SECRET) -> Delivery:
    return unsigned(body, {"typeform-signature": typeform_signature(secret, body)})


def body_of(data: object) -> bytes:
    return orjson.dumps(data)


def form(answers: list[Any], **extra: Any) -> dict[str, Any]:
    """A minimal form_response delivery around `answers`."""
    return {
        "event_id": "evt-1",
        "event_type": "form_response",
        "form_response": {"form_id": "f1", "token": "tok-1", "answers": answers, **extra},
    }


# --- the documented example, end to end ---------------------------------------------------


def test_the_docs_example_verifies_and_maps_to_form_submitted() -> None:
    body = fixture("typeform", DOCS_EXAMPLE)
    delivery = signed(body)
    PROVIDER.verify(delivery, [SECRET], NOW)

    mapped = PROVIDER.parse(delivery)
    event = only_event(mapped)
    assert (mapped.delivery_key, mapped.kind) == ("LtWXD3crgy", "form_response")
    assert (event.event_type, event.event_name) == ("form_submitted", "form_response")
    assert (event.source, event.source_type, event.allow_no_identity) == (
        "typeform",
        "external",
        True,
    )
    assert event.external_event_id == "LtWXD3crgy"
    assert event.object_id_ref == "a3a12ec67a1365927098a606107fac15"
    assert event.occurred_at == datetime(2018, 1, 18, 18, 17, 2, tzinfo=UTC)
    assert event.received_at == NOW
    assert event.raw_payload == orjson.loads(body)
    assert (event.email, event.phone, event.external_id) == ("laura@example.com", None, None)
    assert event.payload["form_id"] == "lT4Z3j"
    assert event.payload["form_name"] == "Webhooks example"
    assert event.payload["score"] == 9
    assert "hidden" not in event.payload
    assert validate_payload(event.event_type, event.payload) is None


# field_id -> (field_ref, type, value): every answer of the example paired with its field.
EXAMPLE_RESPONSES: list[tuple[str, str, str, object]] = [
    (
        "DlXFaesGBpoF",
        "[readable_ref_long_text",  # Typeform's own typo, kept
        "long_text",
        "It's cold right now! I live in an older medium-sized city with a university. "
        "Geographically, the area is hilly.",
    ),
    ("SMEUb7VJz92Q", "readable_ref_email", "email", "laura@example.com"),
    ("JwWggjAKtOkA", "readable_ref_short_text", "short_text", "Laura"),
    ("KoJxDM3c6x8h", "readable_ref_date", "date", "2005-10-15"),
    ("PNe8ZKBK8C2Q", "readable_ref_picture_choice", "picture_choice", ["London", "Sydney"]),
    ("Q7M2XAwY04dW", "readable_ref_number1", "number", 5),
    ("gFFf3xAkJKsr", "readable_ref_legal", "legal", True),
    ("k6TP9oLGgHjl", "readable_ref_multiple_choice", "multiple_choice", "London"),
    ("RUqkXSeXBXSd", "readable_ref_yes_no", "yes_no", False),
    ("NRsxU591jIW9", "readable_ref_opinion_scale", "opinion_scale", 2),
    ("WOTdC00F8A3h", "readable_ref_rating", "rating", 3),
    ("pn48RmPazVdM", "readable_ref_number2", "number", 4),
]


def test_every_answer_is_paired_with_its_field_in_order() -> None:
    event = only_event(PROVIDER.parse(unsigned(fixture("typeform", DOCS_EXAMPLE))))
    responses = event.payload["responses"]
    assert [(r["field_id"], r["field_ref"], r["type"], r["value"]) for r in responses] == (
        EXAMPLE_RESPONSES
    )
    assert all(set(r) == {"field_id", "field_ref", "question", "type", "value"} for r in responses)


@pytest.mark.parametrize(
    ("field_id", "question"),
    [
        ("JwWggjAKtOkA", "What is your first name?"),
        ("k6TP9oLGgHjl", "Which of these cities is your favorite?"),
        (
            "DlXFaesGBpoF",
            "Thanks, {{answer_60906475}}! What's it like where you live? Tell us in a few sentences.",
        ),
    ],
)
def test_the_question_is_the_field_title_from_the_definition(field_id: str, question: str) -> None:
    event = only_event(PROVIDER.parse(unsigned(fixture("typeform", DOCS_EXAMPLE))))
    by_id = {r["field_id"]: r for r in event.payload["responses"]}
    assert by_id[field_id]["question"] == question


# --- answer values by answer type -----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ({"type": "text", "text": "hi"}, "hi"),
        ({"type": "email", "email": "a@b.io"}, "a@b.io"),
        ({"type": "phone_number", "phone_number": "+14155550100"}, "+14155550100"),
        ({"type": "number", "number": 7.5}, 7.5),
        ({"type": "boolean", "boolean": False}, False),
        ({"type": "choice", "choice": {"label": "Red"}}, "Red"),
        ({"type": "choice", "choice": {"other": "Mauve"}}, "Mauve"),
        ({"type": "choices", "choices": {"labels": ["A", "B"], "other": "C"}}, ["A", "B", "C"]),
        ({"type": "choices", "choices": {"labels": ["A", 3, None]}}, ["A"]),
        ({"type": "date", "date": "2020-01-02"}, "2020-01-02"),
        ({"type": "url", "url": "https://x.io"}, "https://x.io"),
        ({"type": "file_url", "file_url": "https://f.io/a.pdf"}, "https://f.io/a.pdf"),
        (
            {"type": "payment", "payment": {"amount": "9.99", "last4": "4242", "name": "L"}},
            {"amount": "9.99", "last4": "4242", "name": "L"},
        ),
        ({"type": "multi_format", "multi_format": {"video_url": "v"}}, {"video_url": "v"}),
        ({"type": "choice", "choice": "Red"}, None),
        ({"type": "choices", "choices": ["A"]}, []),
        ({"text": "no type"}, None),
        ({"type": "field", "field": {"id": "x"}}, None),
    ],
)
def test_the_value_is_read_by_the_answer_type(answer: dict[str, Any], value: object) -> None:
    event = only_event(PROVIDER.parse(unsigned(body_of(form([answer])))))
    assert event.payload["responses"][0]["value"] == value


def test_an_answer_whose_field_is_not_in_the_definition_keeps_its_own_type() -> None:
    answer = {"type": "text", "text": "x", "field": {"id": "zz", "type": "short_text", "ref": "r"}}
    event = only_event(PROVIDER.parse(unsigned(body_of(form([answer])))))
    assert event.payload["responses"] == [
        {"field_id": "zz", "field_ref": "r", "question": None, "type": "short_text", "value": "x"}
    ]


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "hidden", "expected"),
    [
        pytest.param(
            [{"type": "phone_number", "phone_number": "+14155550100"}],
            None,
            (None, "+14155550100", None),
            id="phone-answer",
        ),
        pytest.param(
            [],
            {"email": "h@x.io", "phone": "+14155550101", "user_id": "crm-7"},
            ("h@x.io", "+14155550101", "crm-7"),
            id="hidden-fields",
        ),
        pytest.param(
            [{"type": "email", "email": " typed@x.io "}],
            {"email": "hidden@x.io", "user_id": 42},
            ("typed@x.io", None, "42"),
            id="answer-before-hidden",
        ),
        pytest.param(
            [{"type": "text", "text": "a@b.io"}],
            {"email": ["not", "a", "string"], "user_id": True},
            (None, None, None),
            id="no-identity",
        ),
    ],
)
def test_identity_comes_from_answers_then_hidden_fields(
    answers: list[Any], hidden: dict[str, Any] | None, expected: tuple[str | None, ...]
) -> None:
    extra = {} if hidden is None else {"hidden": hidden}
    event = only_event(PROVIDER.parse(unsigned(body_of(form(answers, **extra)))))
    assert (event.email, event.phone, event.external_id) == expected
    if hidden is not None:
        assert event.payload["hidden"] == hidden


def test_the_token_is_the_key_when_there_is_no_event_id() -> None:
    data = form([])
    del data["event_id"]
    mapped = PROVIDER.parse(unsigned(body_of(data)))
    assert mapped.delivery_key == "tok-1"
    assert only_event(mapped).external_event_id == "tok-1"


def test_other_event_types_are_ignored() -> None:
    mapped = PROVIDER.parse(unsigned(body_of({"event_id": "e9", "event_type": "form_partial"})))
    assert (mapped.delivery_key, mapped.kind, mapped.events) == ("e9", "form_partial", [])


# --- verification ---------------------------------------------------------------------------


def test_any_of_the_secrets_may_match() -> None:
    body = fixture("typeform", DOCS_EXAMPLE)
    PROVIDER.verify(signed(body, "new-secret"), ["old-secret", "new-secret"], NOW)


@pytest.mark.parametrize(
    ("delivery", "secrets"),
    [
        pytest.param(
            unsigned(
                fixture("typeform", DOCS_EXAMPLE).replace(b"Laura", b"Lauri"),
                {
                    "typeform-signature": typeform_signature(
                        SECRET, fixture("typeform", DOCS_EXAMPLE)
                    )
                },
            ),
            [SECRET],
            id="tampered-body",
        ),
        pytest.param(
            signed(fixture("typeform", DOCS_EXAMPLE), "other"), [SECRET], id="wrong-secret"
        ),
        pytest.param(unsigned(fixture("typeform", DOCS_EXAMPLE)), [SECRET], id="missing-header"),
        pytest.param(
            unsigned(fixture("typeform", DOCS_EXAMPLE), {"typeform-signature": ""}),
            [SECRET],
            id="empty-header",
        ),
        pytest.param(
            unsigned(
                fixture("typeform", DOCS_EXAMPLE),
                {
                    "typeform-signature": typeform_signature(
                        SECRET, fixture("typeform", DOCS_EXAMPLE)
                    ).removeprefix("sha256=")
                },
            ),
            [SECRET],
            id="no-sha256-prefix",
        ),
        pytest.param(
            unsigned(fixture("typeform", DOCS_EXAMPLE), {"typeform-signature": "sha256=%%%"}),
            [SECRET],
            id="not-base64",
        ),
        pytest.param(
            unsigned(fixture("typeform", DOCS_EXAMPLE), {"typeform-signature": "sha256=é"}),
            [SECRET],
            id="non-ascii",
        ),
        pytest.param(signed(fixture("typeform", DOCS_EXAMPLE)), [], id="no-secret"),
        pytest.param(signed(fixture("typeform", DOCS_EXAMPLE), ""), [""], id="empty-secret"),
    ],
)
def test_an_unproven_delivery_fails_verification(delivery: Delivery, secrets: list[str]) -> None:
    check_fails_verification(PROVIDER, delivery, secrets)


# --- unexpected shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        *UNREADABLE_BODIES,
        pytest.param(body_of({"form_response": {}}), id="no-event-type"),
        pytest.param(body_of({"event_type": 3}), id="event-type-number"),
        pytest.param(body_of({"event_type": "form_response"}), id="no-form-response"),
        pytest.param(
            body_of({"event_type": "form_response", "form_response": "x"}), id="form-response-str"
        ),
        pytest.param(body_of({**form([]), "event_id": "e" * 300}), id="key-too-long"),
    ],
)
def test_an_unreadable_delivery_is_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        PROVIDER.parse(unsigned(body))


@pytest.mark.parametrize(
    "form_response",
    [
        {"answers": "none", "definition": "x", "calculated": [], "hidden": "h"},
        {"answers": [None, 1, "a", []], "definition": {"fields": "x", "title": 5}},
        {"answers": [{"field": "x", "type": 1}], "definition": {"fields": [None, {"id": 3}]}},
        {"form_id": {"id": 1}, "token": ["t"], "submitted_at": "yesterday"},
        {"submitted_at": "0001-01-01T00:00:00+01:00", "calculated": {"score": True}},
        {},
    ],
)
def test_wrongly_typed_fields_are_skipped(form_response: dict[str, Any]) -> None:
    data = {"event_id": "e1", "event_type": "form_response", "form_response": form_response}
    event = only_event(PROVIDER.parse(unsigned(body_of(data))))
    assert event.event_type == "form_submitted"
    assert validate_payload(event.event_type, event.payload) is None
    assert event.occurred_at is None


# --- property: no input raises anything but InvalidPayload ------------------------------------


def parse(body: bytes) -> Mapped:
    return PROVIDER.parse(unsigned(body))


@settings(max_examples=300, deadline=None)
@given(document=mutated(fixture_document("typeform", DOCS_EXAMPLE)))
def test_mutated_deliveries_map_or_are_invalid_payload(document: object) -> None:
    check_maps_or_is_invalid(parse, orjson.dumps(document))


@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_are_invalid_payload(body: bytes) -> None:
    check_maps_or_is_invalid(parse, body)


@given(body=st.binary(max_size=100), header=st.text(max_size=60))
def test_arbitrary_signatures_only_fail_verification(body: bytes, header: str) -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(unsigned(body, {"typeform-signature": header}), [SECRET], NOW)
