"""The JourneylineError tree: each class carries its HTTP status and a stable code."""

from __future__ import annotations


class JourneylineError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.index = index

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.index is not None:
            body["index"] = self.index
        return body


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
    code = "profile_not_found"


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


class InvalidPayload(JourneylineError):
    status_code = 422
    code = "invalid_payload"


class TooDeep(InvalidPayload):
    """JSON nested deeper than `limits.max_json_depth` (decision 39)."""

    code = "too_deep"


class StorageUnavailable(JourneylineError):
    status_code = 503
    code = "storage_unavailable"
