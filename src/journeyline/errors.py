"""The JourneylineError tree: each class carries its HTTP status and a stable code (their JSON
shapes are rendered by ingest/wire.py, and only there)."""

from __future__ import annotations


class JourneylineError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.index = index

    def headers(self) -> dict[str, str] | None:
        """HTTP headers the answer carries besides the body (Retry-After, …)."""
        return None


class MalformedBody(JourneylineError):
    status_code = 400
    code = "malformed_json"


class Unauthorized(JourneylineError):
    status_code = 401
    code = "unauthorized"


class Forbidden(JourneylineError):
    status_code = 403
    code = "forbidden"


class NotFound(JourneylineError):
    status_code = 404
    code = "not_found"


class ProfileNotFound(NotFound):
    """No profile of the tenant has this id, or the id is not a profile id at all."""

    code = "profile_not_found"


class KeyNotFound(NotFound):
    code = "key_not_found"


class LastSecretKey(JourneylineError):
    """Revoking the tenant's last live secret key would lock it out (API.md)."""

    status_code = 409
    code = "last_secret_key"


class RateLimited(JourneylineError):
    """Over a budget (DESIGN §8): nothing was stored; try again after `retry_after` seconds."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class MergeConflict(JourneylineError):
    status_code = 409
    code = "merge_conflict"


class RejectedMessage(JourneylineError):
    """The Segment dialect answers a message it cannot take with 400, as Segment does (its
    clients drop a 400 and retry anything else)."""

    status_code = 400
    code = "invalid_message"

    @classmethod
    def refusing(cls, cause: JourneylineError) -> RejectedMessage:
        """Segment's 400 for `cause`, which keeps its own stable code (`too_deep`, …)."""
        rejected = cls(cause.message, field=cause.field, index=cause.index)
        rejected.code = cause.code
        return rejected


class PayloadTooLarge(JourneylineError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedEncoding(JourneylineError):
    """A compressed body where the route reads plain JSON (a bomb is never inflated)."""

    status_code = 415
    code = "unsupported_media_type"


class InvalidPayload(JourneylineError):
    status_code = 422
    code = "invalid_payload"


class NoIdentifiers(InvalidPayload):
    """An event with no usable identifier (and no `allow_no_identity`): it cannot be resolved."""

    code = "no_identifiers"


class Unstorable(InvalidPayload):
    """An event the database refused for something no adapter checks (a batch lists it)."""

    code = "unstorable"


class TooDeep(InvalidPayload):
    """JSON nested deeper than `limits.max_json_depth` (decision 39)."""

    code = "too_deep"


class StorageUnavailable(JourneylineError):
    status_code = 503
    code = "storage_unavailable"
