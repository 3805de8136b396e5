"""An independent plan checker: recomputes every rule of a plan from the district and matrices.

Deliberately shares no code with :mod:`routing.model`, :mod:`routing.solve` or
:mod:`routing.plan` (and does not import them): it is the slow, obviously
correct twin of the solver chain, used by tests and as a guard before a plan
is published. It works on the original (float) matrices, not the solver's
rounded integers, and on the district's domain records.

Rules checked by :func:`verify_plan`
------------------------------------
- every mandatory point is served exactly once or listed unserved; no point is
  served twice, nor both served and listed unserved; every id is known;
- a vehicle has at most one route, and it starts and ends at its depot;
- the vehicle may collect the stream of every point it serves;
- the load after each stop, per dimension (kg, litres), never exceeds capacity,
  and agrees with the load the plan states;
- times: ``arrival >= previous departure + travel time``; service starts inside
  one of the point's windows; ``departure >= start + service``; the depot is
  left no earlier than the shift start and reached no later than the shift end;
  the route lasts no longer than ``min(shift length, max_duration_s)``;
- each leg's distance agrees with the distance matrix (1 m + 1 %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import TypeAlias

import numpy as np

from core.domain import CollectionPoint, District, Plan, PlanStop, StopKind, Vehicle

__all__ = ["plan_cost", "verify_plan"]

TIME_TOL_S = 1e-6
"""Allowed float noise on times (s)."""

LOAD_TOL = 1e-6
"""Allowed float noise on loads (kg or litres)."""

Matrix: TypeAlias = np.ndarray | Sequence[Sequence[float]]
"""A square matrix indexable as ``m[i][j]`` (a NumPy array or a list of lists)."""


def _clock(t: float) -> str:
    t = int(t)
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def _stop_name(vehicle_id: str, pos: int, stop: PlanStop) -> str:
    return f"vehicle '{vehicle_id}' stop {pos} ('{stop.ref_id}')"


def _check_route_times(
    vehicle: Vehicle,
    stops: Sequence[PlanStop],
    points: Mapping[str, CollectionPoint],
    time_s: Matrix,
    index_of: Mapping[str, int],
) -> list[str]:
    out = []
    vid = vehicle.id
    for pos, stop in enumerate(stops):
        name = _stop_name(vid, pos, stop)
        if pos > 0:
            prev = stops[pos - 1]
            if prev.ref_id in index_of and stop.ref_id in index_of:
                travel = float(time_s[index_of[prev.ref_id]][index_of[stop.ref_id]])
                earliest = prev.departure_s + travel
                if stop.arrival_s + TIME_TOL_S < earliest:
                    out.append(
                        f"{name}: arrival {_clock(stop.arrival_s)} ({stop.arrival_s} s) is before previous "
                        f"departure {prev.departure_s} s + travel {travel:g} s = {earliest:g} s"
                    )
        if not stop.arrival_s <= stop.start_s <= stop.departure_s:
            out.append(
                f"{name}: times out of order (arrival {stop.arrival_s}, start {stop.start_s}, "
                f"departure {stop.departure_s})"
            )
        point = points.get(stop.ref_id) if stop.kind == StopKind.COLLECTION else None
        if point is None:
            continue
        if stop.departure_s + TIME_TOL_S < stop.start_s + point.service_s:
            out.append(
                f"{name}: departure {stop.departure_s} s is before start {stop.start_s} s "
                f"+ service {point.service_s} s"
            )
        if point.time_windows and not any(w.start_s <= stop.start_s <= w.end_s for w in point.time_windows):
            windows = ", ".join(f"{_clock(w.start_s)}-{_clock(w.end_s)}" for w in point.time_windows)
            out.append(
                f"{name}: service starts {_clock(stop.start_s)} ({stop.start_s} s), outside its "
                f"window(s) {windows}"
            )
    first, last = stops[0], stops[-1]
    if first.departure_s + TIME_TOL_S < vehicle.shift.start_s:
        out.append(
            f"vehicle '{vid}': leaves the depot at {_clock(first.departure_s)}, before its shift starts "
            f"at {_clock(vehicle.shift.start_s)}"
        )
    if last.arrival_s > vehicle.shift.end_s + TIME_TOL_S:
        out.append(
            f"vehicle '{vid}': back at the depot at {_clock(last.arrival_s)}, after its shift ends "
            f"at {_clock(vehicle.shift.end_s)}"
        )
    limit = vehicle.shift.end_s - vehicle.shift.start_s
    if vehicle.max_duration_s is not None:
        limit = min(limit, vehicle.max_duration_s)
    duration = last.arrival_s - first.departure_s
    if duration > limit + TIME_TOL_S:
        out.append(f"vehicle '{vid}': route takes {duration} s, above its limit of {limit} s")
    return out


def _check_route_loads(
    vehicle: Vehicle, stops: Sequence[PlanStop], points: Mapping[str, CollectionPoint]
) -> list[str]:
    out = []
    kg = litres = 0.0
    for pos, stop in enumerate(stops):
        name = _stop_name(vehicle.id, pos, stop)
        point = points.get(stop.ref_id) if stop.kind == StopKind.COLLECTION else None
        if point is not None:
            kg += point.expected_kg
            litres += point.expected_l
        for unit, load, cap, stated in (
            ("kg", kg, vehicle.capacity_kg, stop.load_kg),
            ("l", litres, vehicle.capacity_l, stop.load_l),
        ):
            if point is not None and load > cap + LOAD_TOL:  # loads only grow at collections
                out.append(f"{name}: load {load:g} {unit} above capacity {cap:g} {unit}")
            if abs(load - stated) > LOAD_TOL:
                out.append(f"{name}: plan states load {stated:g} {unit}, recomputed {load:g} {unit}")
    return out


def verify_plan(
    plan: Plan,
    district: District,
    time_s: Matrix,
    dist_m: Matrix,
    index_of: Mapping[str, int],
) -> list[str]:
    """Check a plan against every rule, from scratch; an empty list means no violation.

    Parameters
    ----------
    plan : Plan
        The plan to check.
    district : District
        Points, vehicles and depots the plan was made for.
    time_s : array-like
        ``(n, n)`` travel times (s), indexed through ``index_of``.
    dist_m : array-like
        ``(n, n)`` road distances (m), indexed through ``index_of``.
    index_of : Mapping of str to int
        Location id (depot, facility, point) -> matrix index.

    Returns
    -------
    list of str
        Human-readable violations naming vehicle, stop and the numbers.
    """
    out: list[str] = []
    points = {p.id: p for p in district.points}
    vehicles = {v.id: v for v in district.vehicles}
    depots = {d.id for d in district.depots}

    served: dict[str, list[str]] = {}
    seen_vehicles: set[str] = set()
    for route in plan.routes:
        vid = route.vehicle_id
        vehicle = vehicles.get(vid)
        if vehicle is None:
            out.append(f"route of unknown vehicle '{vid}'")
            continue
        if vid in seen_vehicles:
            out.append(f"vehicle '{vid}' has more than one route")
        seen_vehicles.add(vid)
        stops = route.stops
        if len(stops) < 2:
            out.append(f"vehicle '{vid}': route has {len(stops)} stop(s); it must start and end at its depot")
            continue
        for pos, stop in ((0, stops[0]), (len(stops) - 1, stops[-1])):
            kind = StopKind.DEPOT_START if pos == 0 else StopKind.DEPOT_END
            if stop.kind != kind or stop.ref_id != vehicle.depot_id:
                out.append(
                    f"{_stop_name(vid, pos, stop)}: must be {kind.value} at the vehicle's depot "
                    f"'{vehicle.depot_id}', got {stop.kind.value} at '{stop.ref_id}'"
                )
        for pos, stop in enumerate(stops):
            name = _stop_name(vid, pos, stop)
            if stop.ref_id not in index_of:
                out.append(f"{name}: id not in the matrix index")
            if 0 < pos < len(stops) - 1:
                if stop.kind != StopKind.COLLECTION:
                    out.append(
                        f"{name}: {stop.kind.value} stop mid-route (this checker knows collections only)"
                    )
                    continue
                point = points.get(stop.ref_id)
                if point is None:
                    out.append(f"{name}: unknown collection point")
                    continue
                served.setdefault(point.id, []).append(vid)
                if point.stream not in vehicle.streams:
                    allowed = ", ".join(sorted(s.value for s in vehicle.streams))
                    out.append(
                        f"{name}: vehicle may not serve stream '{point.stream.value}' (it serves {allowed})"
                    )
            elif stop.ref_id not in depots:
                out.append(f"{name}: route ends are not a depot")
            if pos > 0 and stop.ref_id in index_of and stops[pos - 1].ref_id in index_of:
                expected = float(dist_m[index_of[stops[pos - 1].ref_id]][index_of[stop.ref_id]])
                if abs(stop.leg_distance_m - expected) > 1.0 + 0.01 * expected:
                    out.append(f"{name}: leg distance {stop.leg_distance_m:g} m, matrix says {expected:g} m")
        out += _check_route_loads(vehicle, stops, points)
        out += _check_route_times(vehicle, stops, points, time_s, index_of)

    unserved: dict[str, int] = {}
    for u in plan.unserved:
        unserved[u.point_id] = unserved.get(u.point_id, 0) + 1
        if u.point_id not in points:
            out.append(f"unserved entry names unknown point '{u.point_id}'")
    for pid, count in unserved.items():
        if count > 1:
            out.append(f"point '{pid}' listed unserved {count} times")
    for pid, point in points.items():
        by = served.get(pid, [])
        if len(by) > 1:
            out.append(f"point '{pid}' served {len(by)} times (by {', '.join(repr(v) for v in by)})")
        if by and pid in unserved:
            out.append(f"point '{pid}' is both served and listed unserved")
        if not by and pid not in unserved and point.penalty is None:
            out.append(f"mandatory point '{pid}' is neither served nor listed unserved")
    return out


def plan_cost(
    plan: Plan,
    district: District,
    time_s: Matrix,
    dist_m: Matrix,
    index_of: Mapping[str, int],
) -> float:
    """Recompute a plan's cost from scratch (currency units).

    Per route: the vehicle's fixed cost plus, per leg, ``cost_per_km * km +
    cost_per_hour * travel hours`` from the matrices; plus the penalty of every
    unserved optional point. Comparable with ``Plan.objective`` up to the
    solver's rounding (travel times rounded up to seconds, money to
    ``1/1000`` per leg).

    Parameters
    ----------
    plan, district, time_s, dist_m, index_of
        As for :func:`verify_plan`.

    Returns
    -------
    float
        Total cost (currency units).
    """
    vehicles = {v.id: v for v in district.vehicles}
    points = {p.id: p for p in district.points}
    total = 0.0
    for route in plan.routes:
        v = vehicles[route.vehicle_id]
        total += v.fixed_cost
        for prev, stop in pairwise(route.stops):
            i, j = index_of[prev.ref_id], index_of[stop.ref_id]
            total += v.cost_per_km * float(dist_m[i][j]) / 1000.0
            total += v.cost_per_hour * float(time_s[i][j]) / 3600.0
    for u in plan.unserved:
        point = points.get(u.point_id)
        if point is not None and point.penalty is not None:
            total += point.penalty
    return total
