"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import StoreDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Service health: the database answers and how much it holds."""

    status: str
    plans: int
    positions: int


@router.get("/health", response_model=Health)
def health(store: StoreDep) -> Health:
    """Report that the service runs and the database answers."""
    return Health(status="ok", plans=len(store.list_plans()), positions=store.count_positions())
