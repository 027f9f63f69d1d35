"""What a log line says about the work it was written for: the request (its id, method, route
template and, once its key is authenticated, tenant) or the worker job (its id and tenant).

One context variable per kind, holding a small mutable object: the request's is set by the API's
middleware (api/instrumentation.py) and filled in as the request goes (the tenant where the key
is authenticated, api/deps.py), so what a dependency learns is seen by the lines written after
it, whichever task or thread writes them (a copied context shares the object)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

# The route of a request no route matched (a 404): one label, whatever the path.
UNMATCHED = "unmatched"


@dataclass(slots=True)
class RequestContext:
    request_id: str
    method: str
    # The ASGI scope: the router writes the matched route into it (`scope["route"]`), read when
    # a line is written, so nothing is done per request to know it.
    scope: Mapping[str, object]
    tenant_id: str | None = None

    @property
    def route(self) -> str:
        """The matched route's template (`/v1/profiles/{profile_id}`), never the raw path."""
        template = getattr(self.scope.get("route"), "path", None)
        if isinstance(template, str):
            return template
        # A mounted app (the dashboard's static files): a Mount names no route, but sets the
        # app it matched and its prefix, which is the template of every path under it.
        prefix = self.scope.get("root_path")
        if "endpoint" in self.scope and isinstance(prefix, str) and prefix:
            return prefix + "/{path}"
        return UNMATCHED


@dataclass(frozen=True, slots=True)
class JobContext:
    job_id: str
    tenant_id: str


CURRENT_REQUEST: ContextVar[RequestContext | None] = ContextVar("journeyline_request", default=None)
CURRENT_JOB: ContextVar[JobContext | None] = ContextVar("journeyline_job", default=None)


def current_request() -> RequestContext | None:
    return CURRENT_REQUEST.get()


def current_job() -> JobContext | None:
    return CURRENT_JOB.get()


def tenant_known(tenant_id: object) -> None:
    """The request being handled is the tenant's (its key or session is authenticated)."""
    request = CURRENT_REQUEST.get()
    if request is not None:
        request.tenant_id = str(tenant_id)


@contextlib.contextmanager
def job(job_id: object, tenant_id: object) -> Iterator[None]:
    """The lines written inside are the job's."""
    token = CURRENT_JOB.set(JobContext(str(job_id), str(tenant_id)))
    try:
        yield
    finally:
        CURRENT_JOB.reset(token)
