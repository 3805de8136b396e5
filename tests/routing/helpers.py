"""Test helpers: toy road matrices on a grid, a straight-line leg, fast solver settings, plan checks.

Positions are on a grid of 1 km units: grid ``(x, y)`` sits at
``lat = 52 + y / 100``, ``lon = 13 + x / 100``. The "roads" are a toy metric
on grid units (Manhattan by default, Euclidean on request), driven at 10 m/s,
so 1 km takes 100 s. Matrix order is depots, facilities, points, written out
here independently of :func:`routing.model.locations`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from core.domain import CollectionPoint, District, Plan, StopKind
from routing.model import RoutingProblem, WarmStart, build_problem
from routing.plan import LegFn, to_plan
from routing.solve import RawAssignment, SolveParams, solve
from routing.verify import verify_plan

BLOCK_M = 1000.0
"""Road metres per grid unit."""

SPEED_MPS = 10.0
"""Driving speed (m/s): 100 s per grid unit."""

DAY = date(2026, 3, 2)

FAST = SolveParams(time_limit_s=5.0, solution_limit=200, workers=1)
"""Stops on the solution limit long before the time limit, in this process: deterministic and fast."""


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


def plan_for(
    district: District,
    params: SolveParams = FAST,
    metric: str = "manhattan",
    *,
    warm_start: WarmStart | None = None,
) -> Solved:
    """Build, solve and turn into a plan."""
    m = matrices(district, metric)
    problem = build_problem(district, m.time_s, m.dist_m)
    assignment = solve(problem, params, warm_start=warm_start)
    plan = to_plan(district, DAY, problem, assignment, straight_leg(m))
    return Solved(problem, assignment, plan, m)


def with_points(district: District, *points: CollectionPoint) -> District:
    """The district with extra points appended."""
    return replace(district, points=(*district.points, *points))


def served_by(plan: Plan) -> dict[str, str]:
    """Map of point id -> vehicle id over the plan's collection stops."""
    return {s.ref_id: r.vehicle_id for r in plan.routes for s in r.collections}


def stop_ids(plan: Plan, vehicle_id: str) -> list[str]:
    """The ref ids of one vehicle's stops, depots and unloads included."""
    route = next(r for r in plan.routes if r.vehicle_id == vehicle_id)
    return [s.ref_id for s in route.stops]


def plan_problems(plan: Plan, district: District, m: Matrices) -> list[str]:
    """A small, solver-independent check of the plan semantics the routing core promises.

    Recomputed from the district and the toy matrices: leg times (a break adds
    its duration to the gap it is in), service and unload durations, windows
    and facility opening, trip capacity per dimension with resets at unloads,
    loads stated after each stop, the unload rule (the facility accepts every
    stream on board), routes ending empty, day limits, tipping bays and daily
    tonnage. Returns human-readable problems (empty = sound).
    """
    out: list[str] = []
    points = {p.id: p for p in district.points}
    facilities = {f.id: f for f in district.facilities}
    vehicles = {v.id: v for v in district.vehicles}
    busy: dict[str, list[tuple[int, int]]] = {}
    tons: dict[str, float] = {}
    for route in plan.routes:
        v = vehicles[route.vehicle_id]
        stops = route.stops
        gaps = {b.after_stop: b for b in route.breaks}
        kg = litres = day_kg = day_l = 0.0
        n_stops = 0
        on_board: set[str] = set()
        for pos, stop in enumerate(stops):
            name = f"{v.id} stop {pos} ({stop.ref_id})"
            if pos > 0:
                prev = stops[pos - 1]
                travel = m.time_s[m.index_of[prev.ref_id], m.index_of[stop.ref_id]]
                brk = gaps.get(pos - 1)
                earliest = prev.departure_s + travel + (brk.duration_s if brk else 0)
                if stop.arrival_s + 1e-6 < earliest:
                    out.append(f"{name}: arrival {stop.arrival_s} before {earliest}")
                if brk is not None:
                    if not v.break_window.start_s <= brk.start_s <= v.break_window.end_s:
                        out.append(f"{name}: break starts {brk.start_s} outside its window")
                    if brk.start_s < prev.departure_s or brk.start_s + brk.duration_s > stop.start_s:
                        out.append(f"{name}: break overlaps a visit")
            if not stop.arrival_s <= stop.start_s <= stop.departure_s:
                out.append(f"{name}: times out of order")
            if stop.kind == StopKind.COLLECTION:
                p = points[stop.ref_id]
                if p.stream not in v.streams:
                    out.append(f"{name}: stream {p.stream} not served by the vehicle")
                if p.time_windows and not any(w.contains(stop.start_s) for w in p.time_windows):
                    out.append(f"{name}: starts outside its windows")
                if stop.departure_s != stop.start_s + p.service_s:
                    out.append(f"{name}: departure is not start + service")
                kg, litres = kg + p.expected_kg, litres + p.expected_l
                day_kg, day_l, n_stops = day_kg + p.expected_kg, day_l + p.expected_l, n_stops + 1
                on_board.add(p.stream)
                if kg > v.capacity_kg + 1e-6 or litres > v.capacity_l + 1e-6:
                    out.append(f"{name}: load {kg:g} kg / {litres:g} l above capacity")
            elif stop.kind == StopKind.UNLOAD:
                f = facilities[stop.ref_id]
                if not on_board <= f.accepted_streams:
                    out.append(f"{name}: facility does not accept {sorted(on_board - f.accepted_streams)}")
                if not f.opening.contains(stop.start_s) or stop.window != f.opening:
                    out.append(f"{name}: unload outside the opening")
                if stop.departure_s != stop.start_s + f.unload_s:
                    out.append(f"{name}: departure is not start + unload_s")
                busy.setdefault(f.id, []).append((stop.start_s, stop.departure_s))
                tons[f.id] = tons.get(f.id, 0.0) + kg
                kg = litres = 0.0
                on_board = set()
            if abs(stop.load_kg - kg) > 1e-6 or abs(stop.load_l - litres) > 1e-6:
                out.append(f"{name}: states load {stop.load_kg:g} kg, recomputed {kg:g} kg")
        if district.facilities and (kg > 1e-6 or litres > 1e-6):
            out.append(f"{v.id}: returns to the depot loaded")
        if v.max_route_kg is not None and day_kg > v.max_route_kg + 1e-6:
            out.append(f"{v.id}: collects {day_kg:g} kg, above its day limit")
        if v.max_route_l is not None and day_l > v.max_route_l + 1e-6:
            out.append(f"{v.id}: collects {day_l:g} l, above its day limit")
        if v.max_stops is not None and n_stops > v.max_stops:
            out.append(f"{v.id}: {n_stops} stops, above its limit")
        if stops[0].departure_s < v.shift.start_s or stops[-1].arrival_s > v.shift.end_s:
            out.append(f"{v.id}: outside its shift")
        needs_break = v.break_duration_s > 0 and (
            stops[0].departure_s < v.break_window.start_s + v.break_duration_s
            and stops[-1].arrival_s > v.break_window.end_s
        )
        if needs_break and not route.breaks:
            out.append(f"{v.id}: spans the break window without a break")
    for fid, intervals in busy.items():
        bays = facilities[fid].tipping_bays
        for s, _ in intervals:
            if sum(1 for a, b in intervals if a <= s < b) > bays:
                out.append(f"{fid}: more than {bays} trucks unloading at {s}")
        if tons[fid] > facilities[fid].daily_capacity_kg + 1e-6:
            out.append(f"{fid}: {tons[fid]:g} kg unloaded, above its daily capacity")
    return out


def sisr_plan(city: District, params: SolveParams, caplog: Any) -> Solved:
    """Solve ``city`` through the ruin-and-recreate start: the path ran, nothing dropped, both checks clean.

    ``caplog`` is pytest's log-capture fixture.
    """
    with caplog.at_level(logging.INFO, logger="routing.solve"):
        solved = plan_for(city, params, metric="euclidean")
    assert any("ruin-and-recreate start" in r.getMessage() for r in caplog.records), "the SISR path ran"
    assert solved.assignment.dropped == ()
    m = solved.m
    index_of = {loc.id: i for i, loc in enumerate(solved.problem.locations)}
    assert list(verify_plan(solved.plan, city, m.time_s, m.dist_m, index_of)) == []
    assert plan_problems(solved.plan, city, m) == []
    return solved
