"""/docs (Swagger UI) and /openapi.json, behind a viewer's token unless configured public.

Swagger UI is FastAPI's usual page: its script and style come from the jsDelivr CDN and it
starts with one inline script, so this page carries a policy of its own that allows that
CDN and that one script by its hash, and nothing else inline. A browser sends no token on
a plain navigation, so reading /docs in a browser needs `public_docs: true`; a client that
sends its token reads /openapi.json either way.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from dashboard.access import docs_reader

router = APIRouter(include_in_schema=False, dependencies=[Depends(docs_reader)])

SWAGGER_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} – API")
    html = bytes(page.body).decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": docs_policy(html)})


def docs_policy(html: str) -> str:
    """The page's own policy: the CDN, and its inline scripts by their SHA-256 only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    # Styles may be set inline by Swagger UI itself; scripts may not.
    return (
        f"default-src 'none'; script-src {SWAGGER_CDN} {hashes};"
        f" style-src {SWAGGER_CDN} 'unsafe-inline'; img-src 'self' data: https:;"
        " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
