"""What a newcomer's browser lands on: `/` leads to the dashboard, and `/docs` is Swagger UI
served from journeyline's own files (static/swagger-ui, from npm's swagger-ui-dist), so the
documentation works offline and loads nothing from any other host (decision 69)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

DOCS_PATH = "/docs"
OPENAPI_PATH = "/openapi.json"
# Mounted by app.py; the files are swagger-ui-dist's, unchanged (static/swagger-ui/NOTICE).
ASSETS_PATH = "/docs/static"
DASHBOARD_PATH = "/app"


@router.get("/")
async def home() -> RedirectResponse:
    """The dashboard (it asks for a secret key first); the API itself is described at /docs."""
    return RedirectResponse(DASHBOARD_PATH, status_code=307)


@router.get(DOCS_PATH)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="journeyline API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        # Swagger UI would otherwise send the document to validator.swagger.io for its badge.
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
    )
