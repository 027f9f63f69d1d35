"""Webhook connections and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.store.models import WebhookConnection, WebhookDelivery
from journeyline.store.repositories.scoped import TenantRepository


async def find_connection(
    session: AsyncSession, connection_id: uuid.UUID
) -> WebhookConnection | None:
    """The connection a delivery names (not tenant-scoped: this is how its tenant is found)."""
    return await session.scalar(
        select(WebhookConnection).where(WebhookConnection.id == connection_id)
    )


class WebhookRepository(TenantRepository):
    async def add_connection(
        self,
        connection_id: uuid.UUID,
        provider: str,
        secret: str,
        secondary_secret: str | None,
        now: datetime,
    ) -> WebhookConnection:
        connection = WebhookConnection(
            tenant_id=self.tenant_id,
            id=connection_id,
            provider=provider,
            secret=secret,
            secondary_secret=secondary_secret,
            created_at=now,
        )
        self.session.add(connection)
        await self.session.flush()
        return connection

    async def connections(self) -> list[WebhookConnection]:
        statement = (
            select(WebhookConnection)
            .where(WebhookConnection.tenant_id == self.tenant_id)
            .order_by(WebhookConnection.created_at, WebhookConnection.id)
        )
        return list((await self.session.scalars(statement)).all())

    async def delete_connection(self, connection_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(WebhookConnection).where(
                WebhookConnection.tenant_id == self.tenant_id,
                WebhookConnection.id == connection_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def add_delivery(self, **fields: Any) -> None:
        self.session.add(WebhookDelivery(tenant_id=self.tenant_id, **fields))
        await self.session.flush()

    async def get_delivery(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        return await self.session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.tenant_id == self.tenant_id, WebhookDelivery.id == delivery_id
            )
        )

    async def record_replay(self, delivery_id: uuid.UUID, **fields: Any) -> None:
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.tenant_id == self.tenant_id, WebhookDelivery.id == delivery_id)
            .values(replays=WebhookDelivery.replays + 1, **fields)
        )

    async def deliveries_page(
        self,
        *,
        connection_id: uuid.UUID | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[WebhookDelivery]:
        """Newest first, keyset-paged on (received_at, id)."""
        statement = select(WebhookDelivery).where(WebhookDelivery.tenant_id == self.tenant_id)
        if connection_id is not None:
            statement = statement.where(WebhookDelivery.connection_id == connection_id)
        if before is not None:
            at, delivery_id = before
            statement = statement.where(
                or_(
                    WebhookDelivery.received_at < at,
                    and_(WebhookDelivery.received_at == at, WebhookDelivery.id < delivery_id),
                )
            )
        statement = statement.order_by(
            WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc()
        ).limit(limit)
        return list((await self.session.scalars(statement)).all())
