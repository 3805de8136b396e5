"""Read-only alert endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import StoreDep
from core.domain import AlertType
from core.serialize import alert_to_dict

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
def list_alerts(
    store: StoreDep, vehicle_id: str | None = None, type: AlertType | None = None
) -> dict[str, Any]:
    """Stored alerts, optionally for one vehicle or of one type."""
    rows = [{"id": i, **alert_to_dict(a)} for i, a in store.list_alerts(vehicle_id=vehicle_id, type=type)]
    return {"data": rows, "count": len(rows)}


@router.get("/{alert_id}")
def get_alert(alert_id: int, store: StoreDep) -> dict[str, Any]:
    """One alert with its measured values and evidence (GeoJSON track piece)."""
    return {"id": alert_id, **alert_to_dict(store.get_alert(alert_id))}
