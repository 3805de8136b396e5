"""Test helpers: toy road matrices on a grid, a straight-line leg, fast solver settings.

Positions are on a grid of 1 km units: grid ``(x, y)`` sits at
``lat = 52 + y / 100``, ``lon = 13 + x / 100``. The "roads" are a toy metric
on grid units (Manhattan by default, Euclidean on request), driven at 10 m/s,
so 1 km takes 100 s. Matrix order is depots, facilities, points, written out
here independently of :func:`routing.model.locations`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from core.domain import CollectionPoint, District, Plan
from routing.model import RoutingProblem, build_problem
from routing.plan import LegFn, to_plan
from routing.solve import RawAssignment, SolveParams, solve

BLOCK_M = 1000.0
"""Road metres per grid unit."""

SPEED_MPS = 10.0
"""Driving speed (m/s): 100 s per grid unit."""

DAY = date(2026, 3, 2)

FAST = SolveParams(time_limit_s=5.0, solution_limit=200)
"""Stops on the solution limit long before the time limit: deterministic and fast."""


def at(x: float, y: float) -> tuple[float, float]:
    """``(lat, lon)`` of grid position ``(x, y)``."""
    return 52.0 + y / 100.0, 13.0 + x / 100.0


def grid_xy(lat: float, lon: float) -> tuple[float, float]:
    """Grid position of ``(lat, lon)``."""
    return round((lon - 13.0) * 100.0, 9), round((lat - 52.0) * 100.0, 9)


def hm(h: int, m: int = 0, s: int = 0) -> int:
    """Seconds since midnight."""
    return h * 3600 + m * 60 + s


@dataclass(frozen=True)
class Matrices:
    """Toy matrices of a district in depots, facilities, points order."""

    time_s: np.ndarray
    dist_m: np.ndarray
    index_of: dict[str, int]
    coords: tuple[tuple[float, float], ...]


def matrices(district: District, metric: str = "manhattan") -> Matrices:
    """Distance (m) and time (s) matrices of a district on the toy grid metric."""
    places = [*district.depots, *district.facilities, *district.points]
    xy = [grid_xy(p.lat, p.lon) for p in places]
    n = len(places)
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            dx, dy = abs(xy[i][0] - xy[j][0]), abs(xy[i][1] - xy[j][1])
            units = dx + dy if metric == "manhattan" else math.hypot(dx, dy)
            dist[i, j] = units * BLOCK_M
    return Matrices(
        time_s=dist / SPEED_MPS,
        dist_m=dist,
        index_of={p.id: i for i, p in enumerate(places)},
        coords=tuple((p.lat, p.lon) for p in places),
    )


def straight_leg(m: Matrices) -> LegFn:
    """A leg callable drawing a straight line, with the matrices' distance and time."""

    def leg(i: int, j: int) -> tuple[tuple[tuple[float, float], ...], float, float]:
        return (m.coords[i], m.coords[j]), float(m.dist_m[i, j]), float(m.time_s[i, j])

    return leg


@dataclass(frozen=True)
class Solved:
    """Everything one solve produced, for assertions."""

    problem: RoutingProblem
    assignment: RawAssignment
    plan: Plan
    m: Matrices


def plan_for(district: District, params: SolveParams = FAST, metric: str = "manhattan") -> Solved:
    """Build, solve and turn into a plan."""
    m = matrices(district, metric)
    problem = build_problem(district, m.time_s, m.dist_m)
    assignment = solve(problem, params)
    plan = to_plan(district, DAY, problem, assignment, straight_leg(m))
    return Solved(problem, assignment, plan, m)


def with_points(district: District, *points: CollectionPoint) -> District:
    """The district with extra points appended."""
    return replace(district, points=(*district.points, *points))


def served_by(plan: Plan) -> dict[str, str]:
    """Map of point id -> vehicle id over the plan's collection stops."""
    return {s.ref_id: r.vehicle_id for r in plan.routes for s in r.collections}
