"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from journeyline.api.deps import StateDep
from journeyline.api.responses import OrjsonResponse
from journeyline.metrics import render

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(state: StateDep) -> OrjsonResponse:
    """200 when storage answers, 503 when it does not."""
    if await state.database.ping():
        return OrjsonResponse({"status": "ok", "database": "ok"})
    return OrjsonResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text format."""
    return Response(render(), media_type="text/plain; version=0.0.4; charset=utf-8")
