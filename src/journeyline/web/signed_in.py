"""Who is signed in to the dashboard: the dependency every page and fragment takes. A visitor
without a live session is sent to the sign-in page (303); the one JSON route answers 401 in the
API's shape instead, since a script fetching it cannot follow a redirect to a form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from journeyline.api.deps import StateDep, session_context
from journeyline.tenancy import sessions
from journeyline.tenancy.context import TenantContext

SIGN_IN = "/app/sign-in"


class SignInRequired(Exception):
    """No live session: answered by `on_sign_in_required`, before the route runs."""

    def __init__(self, *, as_json: bool) -> None:
        super().__init__("sign in required")
        self.as_json = as_json


def to_sign_in() -> RedirectResponse:
    return RedirectResponse(SIGN_IN, status_code=303)


async def visitor(request: Request, state: StateDep) -> TenantContext | None:
    """The tenant of the request's session cookie, or None (home chooses where to send it)."""
    return await session_context(state, request.cookies.get(sessions.COOKIE))


async def signed_in(request: Request, state: StateDep) -> TenantContext:
    context = await visitor(request, state)
    if context is None:
        raise SignInRequired(as_json=False)
    return context


async def signed_in_json(request: Request, state: StateDep) -> TenantContext:
    context = await visitor(request, state)
    if context is None:
        raise SignInRequired(as_json=True)
    return context


async def on_sign_in_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if exc.as_json:
        return JSONResponse({"error": {"code": "unauthorized"}}, status_code=401)
    return to_sign_in()


def install_sign_in_handler(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, on_sign_in_required)


SignedIn = Annotated[TenantContext, Depends(signed_in)]
SignedInJson = Annotated[TenantContext, Depends(signed_in_json)]
