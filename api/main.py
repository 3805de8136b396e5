"""The wastefleet HTTP API: ``create_app()`` wires routers and error handlers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routes import alerts, health, plans, telemetry
from core.errors import FleetError, InfeasiblePlanError, NotFoundError, ValidationError
from core.settings import Settings
from core.store import Store


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app; opens (and migrates) the database named by the settings unless given a store."""
    settings = settings or Settings()
    app = FastAPI(title="wastefleet", version="0.1.0", summary="Plan and police a sanitation fleet.")
    app.state.settings = settings
    app.state.store = store or Store.open(settings.sqlalchemy_url)
    for router in (health.router, plans.router, alerts.router, telemetry.router):
        app.include_router(router)

    status_of: dict[type[FleetError], int] = {
        ValidationError: 422,
        NotFoundError: 404,
        InfeasiblePlanError: 409,
    }
    for error_class, status in status_of.items():

        async def handler(request: Request, exc: Exception, status: int = status) -> JSONResponse:
            return JSONResponse(status_code=status, content={"detail": str(exc)})

        app.add_exception_handler(error_class, handler)
    return app
