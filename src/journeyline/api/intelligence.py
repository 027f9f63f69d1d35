"""The intelligence graph (secret key): customers, touchpoints, campaigns, channels and funnel
stages, and multi-touch attribution over them (DESIGN §5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from journeyline.api.deps import ReadSession, SecretDep
from journeyline.api.openapi_errors import SECRET
from journeyline.errors import InvalidPayload
from journeyline.graph import service
from journeyline.graph.attribution import AttributionModel
from journeyline.graph.stages import Stage
from journeyline.graph.view import Mode
from journeyline.ids import parse_uuid

router = APIRouter(tags=["intelligence"], responses=SECRET)


class NodeOut(BaseModel):
    id: uuid.UUID
    type: str
    key: str
    label: str
    properties: dict[str, Any]


class EdgeOut(BaseModel):
    id: uuid.UUID
    type: str
    source: uuid.UUID
    target: uuid.UUID
    properties: dict[str, Any]


class IntelligenceOut(BaseModel):
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    stats: dict[str, Any]
    truncated: bool
    # `mode=full`: pass as `cursor` for the next (older) page of touchpoints.
    next_cursor: str | None = None


class CampaignCredit(BaseModel):
    campaign_id: str
    credit: float
    revenue: float


class ChannelCredit(BaseModel):
    channel: str
    credit: float
    revenue: float


class AttributionOut(BaseModel):
    model: str
    conversions: int
    attributed_conversions: int
    revenue: float
    campaigns: list[CampaignCredit]
    channels: list[ChannelCredit]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/v1/intelligence", response_model=IntelligenceOut, summary="The intelligence graph")
async def get_intelligence(
    context: SecretDep,
    session: ReadSession,
    mode: Mode = "summary",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    cursor: str | None = None,
) -> IntelligenceOut:
    """`summary` (the default) leaves out Touchpoint nodes and every edge touching one; `full`
    has them. Bounded: every Campaign, Channel and Stage, the newest `limit` Customers and a
    page of the newest `limit` Touchpoints (`next_cursor` gives the next, older page), the
    edges between them; `truncated` says whether some were left out. The stats always
    describe the whole graph."""
    before = parse_uuid(cursor) if cursor is not None else None
    if cursor is not None and before is None:
        raise InvalidPayload("cursor is not one this route gave", field="cursor")
    view = await service.intelligence(session, context.tenant_id, mode, limit, before=before)
    return IntelligenceOut(
        nodes=[
            NodeOut(id=n.id, type=n.type, key=n.key, label=n.label, properties=n.properties)
            for n in view.nodes
        ],
        edges=[
            EdgeOut(id=e.id, type=e.type, source=e.source, target=e.target, properties=e.properties)
            for e in view.edges
        ],
        stats=view.stats.as_json(),
        truncated=view.truncated,
        next_cursor=str(view.next_cursor) if view.next_cursor is not None else None,
    )


@router.get("/v1/intelligence/attribution", response_model=AttributionOut, summary="Attribution")
async def get_attribution(
    context: SecretDep,
    session: ReadSession,
    model: AttributionModel,
    stage: Stage = "conversion",
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> AttributionOut:
    """Each conversion into `stage` (at `from <= occurred_at < to`) shared among the campaigns
    and channels of its customer's earlier touchpoints by `model`."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until < since:
        raise InvalidPayload("to must not be before from", field="to")
    result = await service.attribution(
        session, context.tenant_id, model, stage=stage, since=since, until=until
    )
    return AttributionOut.model_validate(result.as_json())
