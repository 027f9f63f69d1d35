"""The error answers each route documents in the OpenAPI: every status a route can answer is
listed, with the error shape as its schema, so a client generated from `/openapi.json` can read
each of them (issue 15; the hostile-input and schemathesis tests hold the document to it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    index: int | None = None


class ErrorOut(BaseModel):
    """`{"error": {"code", "message", "field"?, "index"?}}` (some routes add keys of their own:
    a webhook's `delivery_id`, Segment's top-level `code` and `message`)."""

    error: ErrorDetail


DESCRIPTIONS = {
    400: "the body is not JSON (or not the JSON this route reads), or is empty",
    401: "no key, or a key that is not valid",
    403: "the key may not do this (a public key on a secret-key route)",
    404: "nothing of the tenant's by that id",
    409: "a conflict with the current state",
    415: "a compressed body (Content-Encoding) where this route reads plain JSON",
    413: "the body, a message in it or a batch is over its limit",
    422: "a field is missing or has a wrong value; `field` (and `index`) name it",
    429: "over a budget; `Retry-After` says when to try again",
    503: "the database or the queue is unavailable; `Retry-After` says when to try again",
}

Responses = dict[int | str, dict[str, Any]]


def errors(*statuses: int) -> Responses:
    """The documented error answers for `statuses`, in the error shape."""
    return {status: {"model": ErrorOut, "description": DESCRIPTIONS[status]} for status in statuses}


# What every route behind a key can answer before it reads anything of its own.
KEYED = errors(401, 429, 503)
SECRET = errors(401, 403, 429, 503)
# What reading a JSON body can answer (415: a compressed body where plain JSON is read).
BODY = errors(400, 413, 415, 422)
