"""Typeform webhooks: verify `Typeform-Signature` and map `form_response` to `form_submitted`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.webhooks.provider import Delivery, Mapped, VerificationFailed, constant_time_equal

SIGNATURE_HEADER = "typeform-signature"
SIGNATURE_PREFIX = "sha256="
# The events table keeps external_event_id and object_id_ref in 255 characters.
MAX_REF_LENGTH = 255
# The answer keys that are not the answer's value (every other type keeps its value under the
# key named by the type: {"type": "email", "email": "..."}).
_NOT_VALUES = frozenset({"type", "field"})


def _obj(value: object) -> dict[str, Any]:
    """Tolerant reading: anything but an object reads as an empty one."""
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _id(value: object) -> str | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return _text(value)


def _ref(value: object) -> str | None:
    """A provider id as the string the events table can hold, or None."""
    ident = _id(value)
    if ident is None:
        return None
    text = str(ident)
    return text if len(text) <= MAX_REF_LENGTH else None


def _number(value: object) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _iso_utc(value: object) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; unreadable ones are dropped."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        # OverflowError: an offset that pushes year 1 or 9999 out of range.
        return None


def _answer_value(answer: dict[str, Any], answer_type: str | None) -> Any:
    if answer_type == "choice":
        choice = _obj(answer.get("choice"))
        # An "Other" answer has no label, only the text typed in.
        return _text(choice.get("label")) or _text(choice.get("other"))
    if answer_type == "choices":
        choices = _obj(answer.get("choices"))
        labels = choices.get("labels")
        values = (
            [label for label in labels if isinstance(label, str)]
            if isinstance(labels, list)
            else []
        )
        other = _text(choices.get("other"))
        return [*values, other] if other is not None else values
    if answer_type is None or answer_type in _NOT_VALUES:
        return None
    return answer.get(answer_type)


def _responses(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Each answer paired with its question: answers name only the field id, the definition
    carries the titles."""
    definition_fields = _obj(form.get("definition")).get("fields")
    by_id: dict[str, dict[str, Any]] = {}
    if isinstance(definition_fields, list):
        for item in definition_fields:
            field = _obj(item)
            field_id = _text(field.get("id"))
            if field_id is not None:
                by_id.setdefault(field_id, field)
    answers = form.get("answers")
    responses: list[dict[str, Any]] = []
    for item in answers if isinstance(answers, list) else []:
        if not isinstance(item, dict):
            continue
        field = _obj(item.get("field"))
        field_id = _text(field.get("id"))
        described = by_id.get(field_id, {}) if field_id is not None else {}
        answer_type = _text(item.get("type"))
        responses.append(
            {
                "field_id": field_id,
                "field_ref": _text(field.get("ref")) or _text(described.get("ref")),
                "question": _text(described.get("title")),
                # The field's type (yes_no, rating, ...) says more than the answer's (boolean,
                # number); the answer's is the fallback.
                "type": _text(field.get("type")) or _text(described.get("type")) or answer_type,
                "value": _answer_value(item, answer_type),
            }
        )
    return responses


def _first_answer(form: dict[str, Any], answer_type: str) -> str | None:
    answers = form.get("answers")
    for item in answers if isinstance(answers, list) else []:
        answer = _obj(item)
        if answer.get("type") == answer_type:
            value = _text(answer.get(answer_type))
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
        data = delivery.json()
        if not isinstance(data, dict):
            raise InvalidPayload("a Typeform delivery must be a JSON object")
        kind = _text(data.get("event_type"))
        if kind is None:
            raise InvalidPayload("a Typeform delivery needs event_type", field="event_type")
        form = data.get("form_response")
        delivery_key = _id(data.get("event_id")) or _id(_obj(form).get("token"))
        key = None if delivery_key is None else str(delivery_key)
        if key is not None and len(key) > MAX_REF_LENGTH:
            # Truncating would let two deliveries share an idempotency key.
            raise InvalidPayload("event_id is too long to be a Typeform id", field="event_id")
        if kind != "form_response":
            return Mapped(key, kind)
        if not isinstance(form, dict):
            raise InvalidPayload("form_response must be an object", field="form_response")

        definition = _obj(form.get("definition"))
        payload: dict[str, Any] = {"responses": _responses(form)}
        form_id = _id(form.get("form_id")) or _id(definition.get("id"))
        if form_id is not None:
            payload["form_id"] = form_id
        form_name = _text(definition.get("title"))
        if form_name is not None:
            payload["form_name"] = form_name
        hidden = form.get("hidden")
        if isinstance(hidden, dict):
            payload["hidden"] = hidden
        score = _number(_obj(form.get("calculated")).get("score"))
        if score is not None:
            payload["score"] = score

        hidden_fields = _obj(hidden)
        user_id = _id(hidden_fields.get("user_id"))
        event = CanonicalEvent(
            event_type="form_submitted",
            event_name=kind,
            source_type="external",
            source=self.name,
            received_at=delivery.received_at,
            occurred_at=_iso_utc(form.get("submitted_at")),
            payload=payload,
            raw_payload=data,
            external_event_id=key,
            email=_first_answer(form, "email") or _text(hidden_fields.get("email")),
            phone=_first_answer(form, "phone_number") or _text(hidden_fields.get("phone")),
            external_id=None if user_id is None else str(user_id),
            object_id_ref=_ref(form.get("token")),
            allow_no_identity=True,
        )
        return Mapped(key, kind, [event])


TYPEFORM = TypeformProvider()
