"""Orders and products (secret key): the commerce projection of the log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from journeyline.api.deps import ReadSession, SecretDep
from journeyline.api.openapi_errors import SECRET, errors
from journeyline.cursors import decode_key_cursor, encode_key_cursor
from journeyline.errors import NotFound
from journeyline.identity import reads
from journeyline.orders import service
from journeyline.store.models import Order, Product

router = APIRouter(tags=["orders"], responses=SECRET)

Limit = Annotated[int, Query(ge=1, le=500)]


class OrderOut(BaseModel):
    order_id: str
    profile_id: uuid.UUID | None
    status: str
    items: list[dict[str, Any]]
    total: float | None
    currency: str | None
    source: str | None
    created_at: datetime
    last_activity_at: datetime
    completed_at: datetime | None
    abandoned_at: datetime | None


class OrderPage(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None


class ProductOut(BaseModel):
    product_id: str
    name: str | None
    category: str | None
    price: float | None
    sku: str | None
    skeleton: bool


class ProductPage(BaseModel):
    data: list[ProductOut]
    next_cursor: str | None


def order_out(row: Order) -> OrderOut:
    return OrderOut.model_validate(row, from_attributes=True)


def product_out(row: Product) -> ProductOut:
    return ProductOut.model_validate(row, from_attributes=True)


@router.get(
    "/v1/orders",
    response_model=OrderPage,
    responses=errors(404),
    summary="Orders (404: a `profile_id` of nothing)",
)
async def list_orders(
    context: SecretDep,
    session: ReadSession,
    profile_id: uuid.UUID | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> OrderPage:
    """All orders, or a profile's (a merged profile id answers with the survivor's)."""
    family = await reads.family_of(session, context.tenant_id, profile_id) if profile_id else None
    rows, following = await service.list_orders(
        session,
        context.tenant_id,
        profile_ids=family,
        limit=limit,
        after=decode_key_cursor(cursor),
    )
    return OrderPage(
        data=[order_out(row) for row in rows], next_cursor=encode_key_cursor(following)
    )


@router.get(
    "/v1/orders/{order_id}", response_model=OrderOut, responses=errors(404), summary="One order"
)
async def get_order(order_id: str, context: SecretDep, session: ReadSession) -> OrderOut:
    row = await service.get_order(session, context.tenant_id, order_id)
    if row is None:
        raise NotFound(f"no order {order_id!r}")
    return order_out(row)


@router.get("/v1/products", response_model=ProductPage, summary="Products")
async def list_products(
    context: SecretDep, session: ReadSession, limit: Limit = 50, cursor: str | None = None
) -> ProductPage:
    rows, following = await service.list_products(
        session, context.tenant_id, limit=limit, after=decode_key_cursor(cursor)
    )
    return ProductPage(
        data=[product_out(row) for row in rows], next_cursor=encode_key_cursor(following)
    )


@router.get(
    "/v1/products/{product_id}",
    response_model=ProductOut,
    responses=errors(404),
    summary="One product",
)
async def get_product(product_id: str, context: SecretDep, session: ReadSession) -> ProductOut:
    row = await service.get_product(session, context.tenant_id, product_id)
    if row is None:
        raise NotFound(f"no product {product_id!r}")
    return product_out(row)
