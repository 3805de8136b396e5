"""Fixtures for the routing tests (``tiny_city`` could move to the root conftest as is)."""

from __future__ import annotations

import pytest

from core.domain import (
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    Stream,
    Vehicle,
    VehicleKind,
)
from tests.routing.helpers import at


@pytest.fixture(scope="session")
def tiny_city() -> District:
    """A district small enough to check by hand.

    Grid (x east, y north; 1 unit = 1 km of road, Manhattan metric, 10 m/s, so
    100 s per unit; see ``tests/routing/helpers.py``)::

        y=2   p2  p3  p4
        y=1   p1  .   p5
        y=0   D   .   .   F

    - Depot ``D`` at (0, 0); facility ``F`` (transfer station, residual) at
      (3, 0), open all day, 900 s to unload, one tipping bay.
    - Points ``p1`` (0,1), ``p2`` (0,2), ``p3`` (1,2), ``p4`` (2,2), ``p5`` (2,1):
      residual, 100 kg, 500 l, 60 s service, mandatory, no windows.
    - ``truck-1``: residual + recyclables, 1000 kg, 8000 l, fixed cost 100.
    - ``truck-2`` (licensed): residual + hazardous, 1000 kg, 8000 l, fixed cost 150.
    - Both: 1 per km + 36 per hour = 2.0 per km of driving; shift 06:00-15:00;
      lunch break of 60 min starting 11:00-12:00 (routes here end long before).

    Every route ends with an unload at ``F`` before the depot. Optimum:
    ``truck-1`` alone drives D-p1-p2-p3-p4-p5-F-D, 10 km (5 km to p5, 2 km to
    F, 3 km home), cost 100 + 10 * 2 = 120: 1000 s driving, 5 * 60 s service,
    at F 06:16:40, unloading until 06:31:40, back at 06:36:40.
    """
    trucks = {
        "kind": VehicleKind.COLLECTION_TRUCK,
        "depot_id": "D",
        "capacity_kg": 1000.0,
        "capacity_l": 8000.0,
        "cost_per_km": 1.0,
        "cost_per_hour": 36.0,
    }
    points = [
        CollectionPoint(pid, *at(x, y), stream=Stream.RESIDUAL, expected_kg=100.0, expected_l=500.0)
        for pid, (x, y) in {"p1": (0, 1), "p2": (0, 2), "p3": (1, 2), "p4": (2, 2), "p5": (2, 1)}.items()
    ]
    return District(
        name="tiny",
        timezone="Europe/Berlin",
        depots=(Depot("D", "Depot", *at(0, 0)),),
        facilities=(
            Facility("F", "Transfer", FacilityKind.TRANSFER_STATION, *at(3, 0), frozenset({Stream.RESIDUAL})),
        ),
        points=tuple(points),
        vehicles=(
            Vehicle(
                "truck-1",
                streams=frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}),
                fixed_cost=100.0,
                **trucks,
            ),
            Vehicle(
                "truck-2", streams=frozenset({Stream.RESIDUAL, Stream.HAZARDOUS}), fixed_cost=150.0, **trucks
            ),
        ),
    )
