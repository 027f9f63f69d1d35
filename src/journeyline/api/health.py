"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from starlette.responses import Response

from journeyline.api.deps import StateDep
from journeyline.api.handlers import retry_after
from journeyline.api.responses import OrjsonResponse
from journeyline.metrics import render

router = APIRouter(tags=["health"])

# A frozen database or Redis must not hang the probe: past this, it is unavailable.
PING_SECONDS = 2.0


async def _answers(ping: Awaitable[bool]) -> str:
    try:
        async with asyncio.timeout(PING_SECONDS):
            return "ok" if await ping else "unavailable"
    except TimeoutError:
        return "unavailable"


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={503: {"description": "the database is unavailable (with Retry-After)"}},
)
async def readyz(request: Request, state: StateDep) -> OrjsonResponse:
    """The database and the queue, each `ok` or `unavailable`. 503 (with `Retry-After`) when
    the database is: nothing can be served. A queue that is away is reported but still 200
    (`degraded`): events, reads and webhooks are served, and batches are accepted durably for
    the sweeper to announce once it is back (decision 45)."""
    database, queue = await asyncio.gather(
        _answers(state.database.ping()), _answers(state.queue.ping())
    )
    body = {"database": database, "queue": queue}
    if database != "ok":
        return OrjsonResponse(
            {"status": "unavailable", **body}, status_code=503, headers=retry_after(request)
        )
    return OrjsonResponse({"status": "ok" if queue == "ok" else "degraded", **body})


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text format."""
    return Response(render(), media_type="text/plain; version=0.0.4; charset=utf-8")
