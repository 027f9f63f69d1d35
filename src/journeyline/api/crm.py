"""The CRM (secret key): persons, companies, deals and the pipeline board."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from journeyline.api.deps import ReadSession, SecretDep
from journeyline.api.openapi_errors import SECRET
from journeyline.crm import service
from journeyline.crm.deals import Deal
from journeyline.store.models import CrmDeal

router = APIRouter(tags=["crm"], responses=SECRET)

Limit = Annotated[int, Query(ge=1, le=5000)]


class PersonOut(BaseModel):
    profile_id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    title: str | None
    company_id: uuid.UUID | None
    lifecycle_stage: str
    updated_at: datetime


class CompanyOut(BaseModel):
    id: uuid.UUID
    key: str
    domain: str | None
    name: str


class DealOut(BaseModel):
    id: uuid.UUID
    key: str
    kind: str
    stage: str
    name: str
    amount: float | None
    currency: str | None
    profile_id: uuid.UUID | None
    company_id: uuid.UUID | None
    cancelled: bool
    first_seen_at: datetime
    last_activity_at: datetime


class StageOut(BaseModel):
    stage: str
    count: int
    amount: float
    amounts: dict[str, float]
    deals: list[DealOut]


class Pipeline(BaseModel):
    currency: str | None
    stages: list[StageOut]


def _deal_out(deal: Deal | CrmDeal) -> DealOut:
    amount = None if deal.amount is None else float(deal.amount)
    return DealOut.model_validate({**_fields(deal), "amount": amount})


def _fields(deal: Deal | CrmDeal) -> dict[str, Any]:
    return {name: getattr(deal, name) for name in DealOut.model_fields if name != "amount"}


@router.get("/v1/crm/persons", summary="Persons, most recently changed first")
async def persons(context: SecretDep, session: ReadSession, limit: Limit = 500) -> dict[str, Any]:
    rows = await service.persons(session, context.tenant_id, limit)
    return {"data": [PersonOut.model_validate(row, from_attributes=True) for row in rows]}


@router.get("/v1/crm/companies", summary="Companies, by name")
async def companies(context: SecretDep, session: ReadSession, limit: Limit = 500) -> dict[str, Any]:
    rows = await service.companies(session, context.tenant_id, limit)
    return {"data": [CompanyOut.model_validate(row, from_attributes=True) for row in rows]}


@router.get("/v1/crm/deals", summary="Deals, most recently active first")
async def deals(context: SecretDep, session: ReadSession, limit: Limit = 500) -> dict[str, Any]:
    rows = await service.deals(session, context.tenant_id, limit)
    return {"data": [_deal_out(row) for row in rows]}


@router.get("/v1/pipeline", response_model=Pipeline, summary="Deals by stage")
async def pipeline(context: SecretDep, session: ReadSession, limit: Limit = 5000) -> Pipeline:
    """Every stage, in order, with its count and amount (in the board's currency; per currency
    in `amounts`: money is never converted)."""
    board = await service.board(session, context.tenant_id, limit)
    return Pipeline(
        currency=board.currency,
        stages=[
            StageOut(
                stage=column.stage,
                count=column.count,
                amount=float(column.amount),
                amounts={cur: float(total) for cur, total in column.amounts.items()},
                deals=[_deal_out(deal) for deal in column.deals],
            )
            for column in board.stages
        ],
    )
