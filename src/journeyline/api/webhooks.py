"""Provider webhooks: connections (secret key), deliveries (the provider's own signature),
the delivery log and replay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.responses import Response

from journeyline.api.bodies import read_body, read_json
from journeyline.api.deps import ReadSession, SecretDep, StateDep
from journeyline.api.openapi_bodies import json_body, model_schema
from journeyline.api.openapi_errors import BODY, SECRET, ErrorOut, errors
from journeyline.api.responses import OrjsonResponse
from journeyline.cursors import decode_cursor, encode_cursor
from journeyline.errors import InvalidPayload
from journeyline.ingest import wire
from journeyline.ingest.dialects.fields import parse_model
from journeyline.store.db import Session
from journeyline.webhooks import service
from journeyline.webhooks.provider import Delivery
from journeyline.webhooks.registry import PROVIDERS, TWO_SECRETS

router = APIRouter(tags=["webhooks"])

Limit = Annotated[int, Query(ge=1, le=500)]
ProviderName = Literal["stripe", "shopify", "typeform", "hotmart"]


class NewConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: ProviderName
    secret: StrictStr = Field(min_length=1, max_length=512)
    secondary_secret: StrictStr | None = Field(default=None, min_length=1, max_length=512)


class ConnectionOut(BaseModel):
    id: uuid.UUID
    provider: str
    url: str
    has_secondary_secret: bool
    created_at: datetime


class ConnectionList(BaseModel):
    data: list[ConnectionOut]


class DeliveryOut(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    provider: str
    received_at: datetime
    verified: bool
    outcome: str
    reason: str | None
    kind: str | None
    delivery_key: str | None
    event_ids: list[uuid.UUID]
    replays: int


class DeliveryPage(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None


class ReceiptOut(BaseModel):
    status: str
    event_ids: list[uuid.UUID] | None = None
    delivery_id: uuid.UUID


def _connection_out(connection: Any) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        provider=connection.provider,
        url=f"/webhooks/{connection.provider}/{connection.id}",
        has_secondary_secret=connection.secondary_secret is not None,
        created_at=connection.created_at,
    )


def _answer(receipt: service.Receipt) -> OrjsonResponse:
    """200 for what the provider should not send again; an unreadable or refused delivery is
    a 422 in the error shape (it is recorded, and can be replayed once it can be mapped)."""
    if receipt.error is not None:
        body = wire.delivery_error_body(receipt.error, receipt.delivery_id)
        return OrjsonResponse(body, status_code=422)
    out: dict[str, Any] = {"status": receipt.status, "delivery_id": str(receipt.delivery_id)}
    if receipt.status == "accepted":
        out["event_ids"] = [str(event_id) for event_id in receipt.event_ids]
    return OrjsonResponse(out)


@router.post(
    "/v1/connections",
    status_code=201,
    response_model=ConnectionOut,
    responses={**SECRET, **BODY},
    openapi_extra=json_body(model_schema(NewConnection)),
    summary="Connect a provider's webhooks",
)
async def create_connection(request: Request, context: SecretDep, state: StateDep) -> ConnectionOut:
    """The secret is never shown again; point the provider at the answered `url`."""
    new = parse_model(
        NewConnection, await read_json(request, state.settings.limits.max_request_bytes)
    )
    if new.secondary_secret is not None and new.provider not in TWO_SECRETS:
        raise InvalidPayload(
            f"only {', '.join(sorted(TWO_SECRETS))} connections hold a second secret",
            field="secondary_secret",
        )

    async def work(session: Session) -> ConnectionOut:
        connection = await service.create_connection(
            session,
            state.settings,
            context.tenant_id,
            new.provider,
            new.secret,
            new.secondary_secret,
        )
        return _connection_out(connection)

    return await state.database.run(work)


@router.get(
    "/v1/connections",
    response_model=ConnectionList,
    responses=SECRET,
    summary="The tenant's connections",
)
async def list_connections(context: SecretDep, session: ReadSession) -> ConnectionList:
    connections = await service.list_connections(session, context.tenant_id)
    return ConnectionList(data=[_connection_out(c) for c in connections])


@router.delete(
    "/v1/connections/{connection_id}",
    status_code=204,
    responses={**SECRET, **errors(404)},
    summary="Disconnect a provider",
)
async def delete_connection(
    connection_id: uuid.UUID, context: SecretDep, state: StateDep
) -> Response:
    """Later deliveries to it are refused (401); the ones it received stay in the log."""
    await state.database.run(
        lambda session: service.delete_connection(session, context.tenant_id, connection_id)
    )
    return Response(status_code=204)


@router.post(
    "/webhooks/{provider}/{connection_id}",
    response_model=ReceiptOut,
    responses={
        **errors(400, 413, 422, 503),
        401: {"model": ErrorOut, "description": "bad signature, token or connection (never 404)"},
    },
    summary="A provider's delivery",
)
async def receive_delivery(
    provider: str, connection_id: str, request: Request, state: StateDep
) -> OrjsonResponse:
    """Verified with the provider's own scheme, recorded, mapped, processed."""
    body = await read_body(request, state.settings.limits.max_webhook_bytes)
    delivery = Delivery(
        body=body,
        headers={name.lower(): value for name, value in request.headers.items()},
        received_at=datetime.now(UTC),
        max_depth=state.settings.limits.max_json_depth,
    )
    receipt = await service.receive(
        state.database, state.settings, PROVIDERS, provider, connection_id, delivery
    )
    return _answer(receipt)


@router.get(
    "/v1/webhook-deliveries",
    response_model=DeliveryPage,
    responses=SECRET,
    summary="Deliveries, newest first",
)
async def list_deliveries(
    context: SecretDep,
    session: ReadSession,
    connection_id: uuid.UUID | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    before = decode_cursor(cursor) if cursor else None
    rows, following = await service.deliveries(
        session, context.tenant_id, connection_id=connection_id, limit=limit, before=before
    )
    return DeliveryPage(
        data=[
            DeliveryOut(
                id=row.id,
                connection_id=row.connection_id,
                provider=row.provider,
                received_at=row.received_at,
                verified=row.verified,
                outcome=row.outcome,
                reason=row.reason,
                kind=row.kind,
                delivery_key=row.delivery_key,
                event_ids=[uuid.UUID(event_id) for event_id in row.event_ids],
                replays=row.replays,
            )
            for row in rows
        ],
        next_cursor=encode_cursor(*following) if following else None,
    )


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/replay",
    response_model=ReceiptOut,
    responses={**SECRET, **errors(404)},
    summary="Process a stored delivery again",
)
async def replay_delivery(
    delivery_id: uuid.UUID, context: SecretDep, state: StateDep
) -> OrjsonResponse:
    """Idempotent: what it stored before is a duplicate now."""
    receipt = await service.replay(state.database, state.settings, PROVIDERS, context, delivery_id)
    return _answer(receipt)
