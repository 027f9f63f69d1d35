"""What the provider adapter tests share: deliveries, fixture documents, and mutating them.

The property every adapter keeps: a verified delivery, however its fields are broken, either
maps to well-formed events or raises InvalidPayload (a 422), never anything else (a 500).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import strategies as st

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.provider import Delivery, Mapped, Provider, VerificationFailed
from tests.webhooks.signing import fixture

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)

Path = tuple[str | int, ...]

# Any JSON value orjson can write (integers up to u64, as it does), nested a little.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


# Bodies no adapter can read: not JSON at all, or JSON that is not an object.
UNREADABLE_BODIES = [
    pytest.param(b'{"id": 1, "type": ', id="invalid-json"),
    pytest.param(b"", id="empty"),
    pytest.param(b"[1, 2]", id="top-level-list"),
    pytest.param(b'"evt_1"', id="top-level-string"),
    pytest.param(b"5324830114101", id="top-level-number"),
    pytest.param(b"null", id="top-level-null"),
]


def delivery(body: bytes, headers: dict[str, str] | None = None) -> Delivery:
    """A delivery of `body` received at NOW (header names lower-cased, as a Delivery holds)."""
    return Delivery(body=body, headers=headers or {}, received_at=NOW)


def fixture_document(provider: str, name: str) -> dict[str, Any]:
    """tests/fixtures/webhooks/<provider>/<name> as a fresh JSON object."""
    document = orjson.loads(fixture(provider, name))
    assert isinstance(document, dict)
    return document


def paths(value: object, prefix: Path = ()) -> list[Path]:
    """Every location in a JSON document, the document itself included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def replaced(document: Any, path: Path, value: object) -> Any:
    """`document` with the field at `path` replaced (or added), in place; the root is replaced
    by returning `value`."""
    if not path:
        return value
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def deleted(document: Any, path: Path) -> Any:
    """`document` without the field (or list item) at `path`, in place; `path` is not the root."""
    target = document
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return document


def edited(provider: str, name: str, path: Path, value: object) -> bytes:
    """A fixture with one field replaced (or added), re-serialised."""
    return orjson.dumps(replaced(fixture_document(provider, name), path, value))


@st.composite
def mutated(draw: st.DrawFn, document: Any, most: int = 3) -> Any:
    """A copy of `document` with one to `most` fields replaced by any JSON value or deleted."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=most))):
        path = draw(st.sampled_from(paths(document)))
        delete = draw(st.booleans())
        if path and delete:
            document = deleted(document, path)
        else:
            document = replaced(document, path, draw(JSON_VALUES))
    return document


def only_event(mapped: Mapped) -> CanonicalEvent:
    assert len(mapped.events) == 1
    return mapped.events[0]


def read(event: CanonicalEvent, field: str) -> object:
    """An event attribute, `payload.<field>` or `traits.<field>` (None when absent)."""
    if field.startswith("payload."):
        return event.payload.get(field.removeprefix("payload."))
    if field.startswith("traits."):
        return (event.traits or {}).get(field.removeprefix("traits."))
    return getattr(event, field)


def check_well_formed(mapped: Mapped) -> None:
    """Each event passes the taxonomy, has an aware time, fits the events table and is JSON."""
    for event in mapped.events:
        assert validate_payload(event.event_type, event.payload) is None
        assert event.occurred_at is None or event.occurred_at.utcoffset() is not None
        assert event.external_event_id is None or len(event.external_event_id) <= 255
        assert event.object_id_ref is None or len(event.object_id_ref) <= 255
        for identifier in (event.email, event.phone, event.external_id):
            assert identifier is None or isinstance(identifier, str)
        orjson.dumps(event.payload)


def check_maps_or_is_invalid(parse: Callable[[bytes], Mapped], body: bytes) -> None:
    """`parse(body)` maps to well-formed events or raises InvalidPayload: nothing else."""
    try:
        mapped = parse(body)
    except InvalidPayload:
        return
    check_well_formed(mapped)


def check_fails_verification(
    provider: Provider, unproven: Delivery, secrets: Sequence[str]
) -> None:
    """`provider` refuses the delivery, and says why."""
    with pytest.raises(VerificationFailed) as failed:
        provider.verify(unproven, secrets, NOW)
    assert failed.value.reason
