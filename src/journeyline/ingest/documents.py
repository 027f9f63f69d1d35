"""Untrusted JSON documents as they enter journeyline: decoded within a nesting bound, with every
string storable on SQLite and PostgreSQL alike, and measured against the configured depth.

Every request body, provider delivery and import line is decoded here (decision 39), so what
reaches the pipeline can always be encoded again (orjson stops at 254 levels, the standard
library's json at Python's recursion limit) and written (PostgreSQL's TEXT and JSONB refuse
U+0000, JSONB an unpaired surrogate). NUL and lone surrogates become U+FFFD, on both databases,
in keys and values alike; the request's other events are not refused for them.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from journeyline.errors import MalformedBody, TooDeep

# orjson's own bound on decoding (it refuses 1,025 levels). A deeper document is cut to this
# many levels first, so that a list of events can still refuse only the deep one by its index.
PARSED_DEPTH = 1024

# The deepest value orjson encodes inside one list (it stops at 254 levels): how deep a stored
# copy of a document too deep to keep is cut (documents deeper than any allowed limit stay so).
ENCODABLE_DEPTH = 253

_NUL_ESCAPE = b"\\u0000"
# A JSON escape, taken whole so that an escaped backslash is never read as the start of one:
# a surrogate pair (kept), a lone surrogate or a NUL (replaced), any other escape (kept).
_ESCAPE = re.compile(
    rb"\\(?:(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(u[dD][89a-fA-F][0-9a-fA-F]{2}|u0000)"
    rb"|.)",
    re.DOTALL,
)
_REPLACEMENT_ESCAPE = b"\\ufffd"
# What the depth of a document depends on: strings (skipped whole, brackets inside them are
# text) and runs of opening or closing brackets.
_STRUCTURE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]+|[\]}]+')


def decode_json(body: bytes) -> Any:
    """The document in `body`, its strings storable, at most PARSED_DEPTH levels deep
    (anything deeper is replaced by null, and so is always too deep for the event it is in).
    MalformedBody if it is not JSON."""
    if _NUL_ESCAPE in body:
        body = _storable_escapes(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # The rare paths: lone surrogates (orjson refuses them) or more than PARSED_DEPTH levels.
        error = exc
    repaired = _cut_to_depth(_storable_escapes(body), PARSED_DEPTH)
    if repaired != body:
        try:
            return orjson.loads(repaired)
        except orjson.JSONDecodeError:
            pass
    raise MalformedBody(f"the body is not valid JSON: {error}")


def _keep_or_replace(match: re.Match[bytes]) -> bytes:
    return _REPLACEMENT_ESCAPE if match.group(2) is not None else match.group(0)


def _storable_escapes(body: bytes) -> bytes:
    """`\\u0000` and unpaired surrogate escapes rewritten as `\\ufffd` (JSON text in, JSON out)."""
    return _ESCAPE.sub(_keep_or_replace, body)


def _cut_to_depth(body: bytes, levels: int) -> bytes:
    """The JSON text with every container that opens below `levels` levels replaced by null.

    One pass over strings and bracket runs (a run such as `[[[[` is one match), so a document
    100,000 levels deep costs a few milliseconds, not a recursion."""
    pieces: list[bytes] = []
    depth = 0
    copied = 0
    cut_from: int | None = None
    for match in _STRUCTURE.finditer(body):
        token = match.group()
        if token[0] == 0x22:  # a string
            continue
        start = match.start()
        if token[0] in b"[{":
            if cut_from is None and depth + len(token) > levels:
                cut_from = start + (levels - depth)
            depth += len(token)
            continue
        if cut_from is not None and depth - len(token) <= levels:
            pieces += (body[copied:cut_from], b"null")
            copied = start + (depth - levels)
            cut_from = None
        depth -= len(token)
    if cut_from is not None:
        # Never closed: not JSON either way; what is kept stays unreadable.
        pieces.append(body[copied:cut_from])
        copied = len(body)
    pieces.append(body[copied:])
    return b"".join(pieces)


def nesting_depth(value: object) -> int:
    """How many containers deep `value` goes (a scalar 0, `{}` 1, `{"a": []}` 2); iterative,
    so any depth is measured without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def check_depth(value: object, max_depth: int, *, encoded: bytes | None, what: str) -> None:
    """TooDeep (422, naming the top-level field) if `value` nests past `max_depth`. `encoded`
    is its JSON text when at hand: fewer brackets in it than the bound cannot nest past it
    (brackets inside strings only count extra), so most documents are never walked."""
    if encoded is not None and encoded.count(b"{") + encoded.count(b"[") <= max_depth:
        return
    if nesting_depth(value) > max_depth:
        raise TooDeep(
            f"{what} nests deeper than {max_depth} levels", field=deepest_member(value, max_depth)
        )


def deepest_member(value: object, max_depth: int) -> str | None:
    """The top-level key of an object whose value takes it past `max_depth` (for the error's
    `field`); None for anything else."""
    if not isinstance(value, dict):
        return None
    return next(
        (str(key) for key, member in value.items() if nesting_depth(member) + 1 > max_depth),
        None,
    )


def cut_to_depth(value: Any, levels: int) -> Any:
    """A copy of `value` with every container below `levels` levels replaced by None: what
    can be encoded of a document that is too deep to keep (recursion bounded by `levels`)."""
    if isinstance(value, dict):
        return (
            {key: cut_to_depth(member, levels - 1) for key, member in value.items()}
            if levels
            else None
        )
    if isinstance(value, list):
        return [cut_to_depth(member, levels - 1) for member in value] if levels else None
    return value
