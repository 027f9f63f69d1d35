"""What every adapter shares: pydantic errors as field-naming 422s, size, depth and timestamp
rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from journeyline.errors import InvalidPayload, PayloadTooLarge
from journeyline.ingest.documents import check_depth
from journeyline.ingest.taxonomy import normalize_event_type, validate_payload

ModelT = TypeVar("ModelT", bound=BaseModel)


# Pydantic names the member of a union that failed after the field (`userId.str`): not a field.
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    while (
        location
        and isinstance(location[-1], str)
        and (location[-1] in _UNION_MEMBERS or "[" in location[-1])
    ):
        location = location[:-1]
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def parse_model(model: type[ModelT], data: object) -> ModelT:
    """Validate `data` as `model`; the first error becomes a 422 naming its field."""
    if not isinstance(data, dict):
        raise InvalidPayload("an event must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = field_path(tuple(first["loc"]))
        raise InvalidPayload(f"{path or 'body'}: {first['msg']}", field=path or None) from None


def check_event_limits(data: object, *, max_bytes: int, max_depth: int) -> None:
    """One event's bounds (DESIGN §8): nested at most `max_depth` levels (422 `too_deep`), at
    most `max_bytes` encoded (413)."""
    try:
        encoded: bytes | None = orjson.dumps(data)
    except orjson.JSONEncodeError:
        # orjson stops at 254 levels; whatever documents.decode_json gives it encodes otherwise.
        encoded = None
    check_depth(data, max_depth, encoded=encoded, what="an event")
    if encoded is None:
        raise InvalidPayload("the event cannot be encoded as JSON")
    size = len(encoded)
    if size > max_bytes:
        raise PayloadTooLarge(f"an event may hold at most {max_bytes} bytes; this one has {size}")


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_payload_types(event_type: str, payload: dict[str, Any], prefix: str) -> None:
    problem = validate_payload(event_type, payload)
    if problem is not None:
        field_name, message = problem
        raise InvalidPayload(message, field=f"{prefix}.{field_name}")


def track_event_type(
    name: str | None, payload: dict[str, Any], *, name_field: str, payload_field: str
) -> str:
    """The normalized type of a named event, its payload checked against the type's schema."""
    if not name or not name.strip():
        raise InvalidPayload(f"a track event needs {name_field}", field=name_field)
    event_type = normalize_event_type(name)
    if not event_type:
        raise InvalidPayload(f"{name_field} has no letters or digits", field=name_field)
    check_payload_types(event_type, payload, payload_field)
    return event_type
