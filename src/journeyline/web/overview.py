"""The dashboard's overview of a tenant: counts across the projections and the latest events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from journeyline.crm import service as crm_service
from journeyline.crm.board import Board
from journeyline.graph import service as graph_service
from journeyline.store.db import Session
from journeyline.store.models import Event
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.orders import OrderRepository
from journeyline.store.repositories.profiles import ProfileRepository


@dataclass(frozen=True, slots=True)
class Overview:
    profiles: dict[str, int]  # by status: shadow, anchor, merged
    events: int
    orders: dict[str, int]  # by status
    board: Board
    graph_nodes: dict[str, int]  # by type
    recent: list[Event]


async def overview(session: Session, tenant_id: uuid.UUID, *, recent: int = 25) -> Overview:
    events = EventRepository(session, tenant_id)
    return Overview(
        profiles=await ProfileRepository(session, tenant_id).counts_by_status(),
        events=await events.count(),
        orders=await OrderRepository(session, tenant_id).counts_by_status(),
        board=await crm_service.board(session, tenant_id, 5000),
        graph_nodes={
            str(kind): count
            for kind, count in (await graph_service.stats(session, tenant_id)).nodes.items()
        },
        recent=await events.newest(recent),
    )
