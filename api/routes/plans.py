"""Read-only plan endpoints: list, one plan, its GeoJSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import StoreDep
from core.errors import NotFoundError
from core.geojson import plan_to_geojson
from core.serialize import plan_to_dict

router = APIRouter(prefix="/plans", tags=["plans"])


@router.get("")
def list_plans(store: StoreDep) -> dict[str, Any]:
    """All stored plans, newest first (summaries)."""
    rows = store.list_plans()
    return {"data": rows, "count": len(rows)}


@router.get("/latest")
def latest_plan(store: StoreDep) -> dict[str, Any]:
    """The newest plan in full."""
    found = store.latest_plan()
    if found is None:
        raise NotFoundError("no plan stored yet")
    plan_id, plan = found
    return {"id": plan_id, **plan_to_dict(plan)}


@router.get("/{plan_id}")
def get_plan(plan_id: int, store: StoreDep) -> dict[str, Any]:
    """One plan in full: routes, stops with times and loads, leg geometry, unserved points."""
    return {"id": plan_id, **plan_to_dict(store.get_plan(plan_id))}


@router.get("/{plan_id}/geojson")
def get_plan_geojson(plan_id: int, store: StoreDep) -> dict[str, Any]:
    """One plan in the plan interchange GeoJSON format (routes, stops, facilities)."""
    plan = store.get_plan(plan_id)
    return plan_to_geojson(plan, store.get_district(plan.district))
