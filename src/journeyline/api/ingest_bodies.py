"""An ingest route's body once read (api/bodies.py): one event or a list of them under a key,
unwrapped within the request's limits, and each item adapted within the event limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from journeyline.config import LimitSettings
from journeyline.errors import InvalidPayload, PayloadTooLarge
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.service import Adapted, adapt_each


def unwrap(body: object, list_key: str, limit: int) -> tuple[list[object], bool]:
    """(items, is_list): a body is one event or {list_key: [events]}."""
    if isinstance(body, dict) and list_key in body:
        items = body[list_key]
        if not isinstance(items, list):
            raise InvalidPayload(f"{list_key} must be a list of events", field=list_key)
        if not items:
            raise InvalidPayload(f"{list_key} holds no events", field=list_key)
        if len(items) > limit:
            raise PayloadTooLarge(
                f"{list_key} may hold at most {limit} events; it has {len(items)}"
            )
        return items, True
    if not isinstance(body, dict):
        raise InvalidPayload(
            "the body must be a JSON object: one event or a list under " + list_key
        )
    return [body], False


def adapt_items(
    items: Sequence[object],
    parse: Callable[[object], CanonicalEvent],
    limits: LimitSettings,
    *,
    is_list: bool,
) -> list[Adapted]:
    """Each item adapted within the event limits (size, depth); failures stay in their slot."""
    return adapt_each(
        items, parse, limits.max_event_bytes, max_depth=limits.max_json_depth, is_list=is_list
    )
