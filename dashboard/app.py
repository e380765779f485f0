"""The console's FastAPI application: `create_app(store_url, ...)`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from dashboard.alerts import AlertBook, alert_hook
from dashboard.api import router as api_router
from dashboard.api_audit import router as audit_router
from dashboard.api_ops import router as ops_router
from dashboard.audit import AuditLog
from dashboard.body_limit import BodySizeLimit
from dashboard.config import ConsoleConfig, require_tokens
from dashboard.console import Console
from dashboard.docs import router as docs_router
from dashboard.headers import SecurityHeaders
from dashboard.health import router as health_router
from dashboard.live import LiveFeed
from dashboard.metrics import make_registry
from dashboard.metrics import router as metrics_router
from dashboard.opendata import include_opendata
from dashboard.opendata.config import OpenDataConfig
from dashboard.optimise import OptimiserRuns, Run
from dashboard.reader import StoreReader
from dashboard.territory_map import load_territory_map
from dashboard.throttle import SignInGuard, TokenBuckets
from dashboard.zones import zone_summary_hook

STATIC = Path(str(files("dashboard") / "static"))


def create_app(
    store_url: str,
    *,
    config: ConsoleConfig,
    territory_file: Path | None = None,
    mqtt_url: str | None = None,
    opendata: OpenDataConfig | None = None,
) -> FastAPI:
    """The console for this store; `territory_file` gives the zones' schematic map.

    Raises ConsoleConfigError when `config` has no token: there is no open console."""
    require_tokens(config, "the console configuration")
    reader = StoreReader(store_url)
    audit = AuditLog(reader, config.audit_sign_in_every_s)
    territory = load_territory_map(territory_file)
    alerts = AlertBook(config.alerts, territory, history=config.alert_history)
    # Alerts first: the zones' state is the worst of their open alerts.
    feed = LiveFeed(
        reader, poll_s=config.poll_s, hooks=(alert_hook(alerts), zone_summary_hook(territory))
    )

    async def run_finished(run: Run) -> None:
        await audit.record(
            "optimise.finished",
            client=run.requested_from,
            actor=run.requested_by,
            role="operator",
            detail=f"run {run.id} {run.domain}: {run.state} (exit {run.exit_code})",
        )

    runs = OptimiserRuns(
        config.optimise_command,
        store_url=store_url,
        mqtt_url=mqtt_url,
        timeout_s=config.optimise_timeout_s,
        inventory_file=territory_file,
        on_finish=run_finished,
    )
    console = Console(
        config=config,
        reader=reader,
        feed=feed,
        territory=territory,
        alerts=alerts,
        runs=runs,
        audit=audit,
        sign_ins=SignInGuard(config.sign_in_limit),
        rate_limits=TokenBuckets(config.rate_limit),
    )
    console.registry = make_registry(console)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await feed.poll_and_publish()
        poller = asyncio.create_task(feed.run(), name="console-poller")
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            await runs.stop()
            await asyncio.to_thread(reader.close)

    app = FastAPI(
        title="Soft Territory console",
        description="The operator console of a soft territory: live state, plans, alerts."
        " Every /api route takes a bearer token (viewer or operator role).",
        lifespan=lifespan,
        # Served by dashboard/docs.py behind a token; ReDoc is not served.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.console = console
    # The last added is the outermost: the headers go on the size limit's 413 too.
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    _add_routes(app)
    include_opendata(app, opendata or OpenDataConfig())
    return app


def _add_routes(app: FastAPI) -> None:
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(api_router)
    app.include_router(ops_router)
    app.include_router(audit_router)
    app.include_router(docs_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
