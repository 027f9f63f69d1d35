"""The dashboard's charts (/app/funnel and the JSON its charts read, /app/charts/*): the
Overview's activity, the funnel in stage order, the campaign → channel → stage flows,
attribution, and one customer's journey. Every JSON route is tenant-scoped by the session and
answers a bad query parameter with a 422 in the API's error shape."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from journeyline.api.deps import ReadSession
from journeyline.errors import InvalidPayload, ProfileNotFound
from journeyline.graph import insights
from journeyline.graph import service as graph_service
from journeyline.graph.attribution import AttributionModel, parse_model
from journeyline.graph.funnel import BREAKDOWNS, Breakdown
from journeyline.web.activity import activity, feed_names
from journeyline.web.lookup import search_terms
from journeyline.web.ranges import RANGES, Span, parse_span
from journeyline.web.routes import _render as render_page
from journeyline.web.signed_in import SignedIn, SignedInJson

router = APIRouter(prefix="/app", include_in_schema=False)

MODELS: tuple[str, ...] = get_args(AttributionModel)
# The live feed asks for the names of at most a page of people at once.
MAX_PEOPLE = 100
MAX_QUERY = 320


def _span(range_: str | None, since: str | None, until: str | None, offset: str | None) -> Span:
    return parse_span(range_, since, until, offset, datetime.now(UTC))


RangeParam = Annotated[str | None, Query(alias="range", max_length=16)]
DayParam = Annotated[str | None, Query(max_length=32)]
OffsetParam = Annotated[str | None, Query(max_length=8)]


def _uuid(raw: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidPayload(f"{field} must be a profile id (a UUID)", field=field) from None


@router.get("/funnel")
async def funnel_page(request: Request, context: SignedIn) -> Response:
    return render_page(request, "funnel.html", page="funnel", ranges=RANGES, breakdowns=BREAKDOWNS)


@router.get("/charts/activity.json")
async def activity_json(
    context: SignedInJson,
    session: ReadSession,
    range_: RangeParam = None,
    since: DayParam = None,
    until: DayParam = None,
    offset: OffsetParam = None,
) -> Response:
    span = _span(range_, since, until, offset)
    return JSONResponse((await activity(session, context.tenant_id, span)).as_json())


@router.get("/charts/funnel.json")
async def funnel_json(
    context: SignedInJson,
    session: ReadSession,
    range_: RangeParam = "90d",
    since: DayParam = None,
    until: DayParam = None,
    offset: OffsetParam = None,
    by: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    span = _span(range_, since, until, offset)
    if by not in (None, "", *BREAKDOWNS):
        raise InvalidPayload("by must be campaign or channel", field="by")
    breakdown: Breakdown | None = (
        "campaign" if by == "campaign" else "channel" if by == "channel" else None
    )
    found = await insights.funnel_of(
        session, context.tenant_id, since=span.since, until=span.until, by=breakdown
    )
    return JSONResponse(found.as_json())


@router.get("/charts/flows.json")
async def flows_json(
    context: SignedInJson,
    session: ReadSession,
    range_: RangeParam = "90d",
    since: DayParam = None,
    until: DayParam = None,
    offset: OffsetParam = None,
) -> Response:
    span = _span(range_, since, until, offset)
    found = await insights.flows_of(session, context.tenant_id, since=span.since, until=span.until)
    return JSONResponse(found.as_json())


@router.get("/charts/attribution.json")
async def attribution_json(
    context: SignedInJson,
    session: ReadSession,
    model: Annotated[str, Query(max_length=32)] = "linear",
) -> Response:
    result = await graph_service.attribution(session, context.tenant_id, parse_model(model))
    return JSONResponse(result.as_json())


@router.get("/charts/customers.json")
async def customers_json(
    context: SignedInJson,
    session: ReadSession,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
) -> Response:
    terms = search_terms(q, context.phone_region)
    if terms is None or len(terms.text) < 2:
        raise InvalidPayload("type at least two characters of a name or an email", field="q")
    found = await insights.find_customers(session, context.tenant_id, terms)
    return JSONResponse(
        {
            "customers": [
                {"customer_id": str(key), "label": label, "email": email}
                for key, label, email in found
            ]
        }
    )


@router.get("/charts/journey.json")
async def journey_json(
    context: SignedInJson,
    session: ReadSession,
    customer: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    wanted = _uuid(customer, "customer")
    found = await insights.journey_of(session, context.tenant_id, wanted)
    if found is None:
        raise ProfileNotFound("no such customer", field="customer")
    return JSONResponse(found.as_json())


@router.get("/charts/people.json")
async def people_json(
    context: SignedInJson,
    session: ReadSession,
    id: Annotated[list[str] | None, Query()] = None,
) -> Response:
    wanted = {_uuid(raw, "id") for raw in (id or [])}
    if len(wanted) > MAX_PEOPLE:
        raise InvalidPayload(f"at most {MAX_PEOPLE} ids at once", field="id")
    names = await feed_names(session, context.tenant_id, wanted)
    return JSONResponse({"people": {str(key): label for key, label in names.items()}})
