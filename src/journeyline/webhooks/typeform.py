"""Typeform webhooks: verify `Typeform-Signature` and map `form_response` to `form_submitted`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from journeyline.errors import InvalidPayload
from journeyline.payloads import (
    compact,
    identifier,
    iso_time,
    json_object,
    number,
    objects,
    reference,
    text,
)
from journeyline.webhooks.fields import (
    body_object,
    external_event,
    idempotency_key,
    required_text,
)
from journeyline.webhooks.provider import Delivery, Mapped, VerificationFailed, constant_time_equal

SIGNATURE_HEADER = "typeform-signature"
SIGNATURE_PREFIX = "sha256="
# The answer keys that are not the answer's value (every other type keeps its value under the
# key named by the type: {"type": "email", "email": "..."}).
_NOT_VALUES = frozenset({"type", "field"})


def _answer_value(answer: dict[str, Any], answer_type: str | None) -> Any:
    if answer_type == "choice":
        choice = json_object(answer.get("choice"))
        # An "Other" answer has no label, only the text typed in.
        return text(choice.get("label")) or text(choice.get("other"))
    if answer_type == "choices":
        choices = json_object(answer.get("choices"))
        labels = choices.get("labels")
        values = (
            [label for label in labels if isinstance(label, str)]
            if isinstance(labels, list)
            else []
        )
        other = text(choices.get("other"))
        return [*values, other] if other is not None else values
    if answer_type is None or answer_type in _NOT_VALUES:
        return None
    return answer.get(answer_type)


def _responses(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Each answer paired with its question: answers name only the field id, the definition
    carries the titles."""
    by_id: dict[str, dict[str, Any]] = {}
    for field in objects(json_object(form.get("definition")).get("fields")):
        field_id = text(field.get("id"))
        if field_id is not None:
            by_id.setdefault(field_id, field)
    responses: list[dict[str, Any]] = []
    for item in objects(form.get("answers")):
        field = json_object(item.get("field"))
        field_id = text(field.get("id"))
        described = by_id.get(field_id, {}) if field_id is not None else {}
        answer_type = text(item.get("type"))
        responses.append(
            {
                "field_id": field_id,
                "field_ref": text(field.get("ref")) or text(described.get("ref")),
                "question": text(described.get("title")),
                # The field's type (yes_no, rating, ...) says more than the answer's (boolean,
                # number); the answer's is the fallback.
                "type": text(field.get("type")) or text(described.get("type")) or answer_type,
                "value": _answer_value(item, answer_type),
            }
        )
    return responses


def _first_answer(form: dict[str, Any], answer_type: str) -> str | None:
    for answer in objects(form.get("answers")):
        if answer.get("type") == answer_type:
            value = text(answer.get(answer_type))
            if value is not None:
                return value.strip()
    return None


class TypeformProvider:
    name = "typeform"

    def verify(self, delivery: Delivery, secrets: Sequence[str], now: datetime) -> None:
        """`Typeform-Signature: sha256=<base64(HMAC-SHA256(secret, body))>`. Typeform signs no
        timestamp, so there is no replay window to check against `now`."""
        header = delivery.header(SIGNATURE_HEADER)
        if header is None or not header.strip():
            raise VerificationFailed("missing Typeform-Signature header")
        value = header.strip()
        if not value.startswith(SIGNATURE_PREFIX):
            raise VerificationFailed("malformed Typeform-Signature header: expected sha256=...")
        try:
            presented = base64.b64decode(value[len(SIGNATURE_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise VerificationFailed("malformed Typeform-Signature header: not base64") from None
        usable = [secret for secret in secrets if secret]
        if not usable:
            raise VerificationFailed("no Typeform secret is configured for this connection")
        # Check every secret (no early exit) so timing does not tell which one matched.
        matches = [
            constant_time_equal(
                hmac.new(secret.encode(), delivery.body, hashlib.sha256).digest(), presented
            )
            for secret in usable
        ]
        if not any(matches):
            raise VerificationFailed("Typeform-Signature does not match")

    def parse(self, delivery: Delivery) -> Mapped:
        data = body_object(delivery, "a Typeform delivery must be a JSON object")
        kind = required_text(
            data.get("event_type"),
            field="event_type",
            message="a Typeform delivery needs event_type",
        )
        form = data.get("form_response")
        key = idempotency_key(
            identifier(data.get("event_id")) or identifier(json_object(form).get("token")),
            field="event_id",
            message="event_id is too long to be a Typeform id",
        )
        if kind != "form_response":
            return Mapped(key, kind)
        if not isinstance(form, dict):
            raise InvalidPayload("form_response must be an object", field="form_response")

        definition = json_object(form.get("definition"))
        hidden = form.get("hidden")
        payload = {
            "responses": _responses(form),
            **compact(
                form_id=identifier(form.get("form_id")) or identifier(definition.get("id")),
                form_name=text(definition.get("title")),
                hidden=hidden if isinstance(hidden, dict) else None,
                score=number(json_object(form.get("calculated")).get("score")),
            ),
        }

        hidden_fields = json_object(hidden)
        user_id = identifier(hidden_fields.get("user_id"))
        event = external_event(
            self.name,
            delivery,
            event_type="form_submitted",
            event_name=kind,
            occurred_at=iso_time(form.get("submitted_at")),
            payload=payload,
            raw_payload=data,
            external_event_id=key,
            email=_first_answer(form, "email") or text(hidden_fields.get("email")),
            phone=_first_answer(form, "phone_number") or text(hidden_fields.get("phone")),
            external_id=None if user_id is None else str(user_id),
            object_id_ref=reference(form.get("token")),
        )
        return Mapped(key, kind, [event])


TYPEFORM = TypeformProvider()
