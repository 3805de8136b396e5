"""RawAssignment -> :class:`core.domain.Plan`: stops, times, loads, unloads, breaks, legs, unserved.

This is the *result* step. It needs no solver: routes come as location indices
(:func:`routing.model.locations` order) and the road geometry comes from a
``leg`` callable the caller builds on the road network.

Schedule
--------
Times are recomputed from the route and the problem's integer travel times so
every stop is self-consistent:

- ``arrival = previous departure + leg_time_s``, plus the break duration when
  the break falls in that gap (``arrival = departure + break + travel``);
- ``start = max(arrival, window start)`` in the first window whose end is not
  passed; at a facility (an ``UNLOAD`` stop) also no earlier than the solver's
  unload start, because tipping bays are shared between routes and the
  solver's unload intervals are the ones proven not to overlap;
- ``departure = start + service`` (``+ unload_s`` at a facility).

The break is put in the gap where the solver put it (the vehicle leaves stop
``after_stop`` and takes it as soon as it may: ``start_s = max(departure,
window start)``; it may thus be taken at the previous stop, on the road or
while waiting). A route needs no break when it returns before the break
window closes or leaves the depot after a whole break fits before it. A
vehicle leaves the depot at the solver's departure time, pushed later by any
wait it would otherwise spend before a window opens (no service starts later
because of it). Loads are the district's expected kg and litres (not the
rounded-up integers); an unload empties the truck (load after = 0).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypedDict

from core.domain import (
    CollectionPoint,
    District,
    Facility,
    Plan,
    PlanBreak,
    PlanStop,
    Route,
    StopKind,
    TimeWindow,
    UnservedPoint,
)
from core.errors import ValidationError
from routing.model import LocationKind, RoutingProblem, WarmStart, locations, scale_cost, unscale_cost

if TYPE_CHECKING:  # keeps OR-Tools out of `import routing.plan`
    from routing.solve import RawAssignment

__all__ = ["FacilityKpis", "LegFn", "PlanKpis", "RouteKpis", "plan_kpis", "to_plan", "warm_start_from_plan"]

logger = logging.getLogger(__name__)

LegFn = Callable[[int, int], tuple[tuple[tuple[float, float], ...], float, float]]
"""``leg(from_loc, to_loc) -> (coords, distance_m, time_s)``: the road path between two
location indices, ``coords`` as ``(lat, lon)`` pairs from origin to destination."""


def _check_match(district: District, problem: RoutingProblem, assignment: RawAssignment) -> None:
    ids = [loc.id for loc in locations(district)]
    if ids != [loc.id for loc in problem.locations]:
        raise ValidationError("to_plan", "problem", f"was not built from district '{district.name}'")
    if [v.id for v in district.vehicles] != [v.id for v in problem.vehicles]:
        raise ValidationError("to_plan", "problem", f"has other vehicles than district '{district.name}'")
    if len(assignment.routes) != len(problem.vehicles) or len(assignment.times_s) != len(problem.vehicles):
        raise ValidationError("to_plan", "assignment", "must hold one route and one time list per vehicle")


def _earliest_start(windows: tuple[tuple[int, int], ...], arrival: int) -> tuple[int, int | None]:
    """``(service start, window position)`` for a point reached at ``arrival``; ``None`` = no windows.

    If every window has closed, returns ``(arrival, last window)``; the plan is
    then late and :func:`routing.verify.verify_plan` will say so.
    """
    if not windows:
        return arrival, None
    for i, (start, end) in enumerate(windows):
        if arrival <= end:
            return max(arrival, start), i
    return arrival, len(windows) - 1


_Times = list[tuple[int, int, int, int | None]]
"""``(arrival, start, departure, window position)`` per stop."""


@dataclass(frozen=True, slots=True)
class _Break:
    """Where a route takes its break: in the gap after stop ``gap`` (``None`` = not on the route)."""

    gap: int | None
    duration_s: int
    start_min_s: int
    start_max_s: int


def _schedule(
    problem: RoutingProblem,
    route: tuple[int, ...],
    depart: int,
    brk: _Break | None,
    floors: dict[int, int],
    *,
    strict: bool = True,
) -> tuple[_Times, int | None] | None:
    """Stop times leaving the depot at ``depart`` (s) and the break start; ``None`` if a window is missed.

    ``floors`` maps stop positions to the earliest start allowed there (the
    solver's unload starts). With ``strict`` off, late stops and breaks are
    kept as they fall (never ``None``), for the verifier to report.
    """
    out: _Times = [(depart, depart, depart, None)]
    last = len(route) - 1
    brk_start: int | None = None
    for pos in range(1, last + 1):
        prev, loc = route[pos - 1], route[pos]
        departure = out[-1][2]
        arrival = departure + int(problem.time_s[prev, loc])
        if brk is not None and brk.gap == pos - 1:
            brk_start = max(departure, brk.start_min_s)
            if brk_start > brk.start_max_s and strict:
                return None
            arrival = max(arrival, brk_start) + brk.duration_s
        if pos == last:  # back at the depot
            out.append((arrival, arrival, arrival, None))
            continue
        start, w = _earliest_start(problem.windows[loc], arrival)
        if w is not None and start > problem.windows[loc][w][1] and strict:
            return None
        start = max(start, floors.get(pos, start))
        out.append((arrival, start, start + problem.service_s[loc], w))
    return out, brk_start


def _shared_bays(problem: RoutingProblem, facility: int) -> bool:
    """Whether trucks may have to queue for the facility's bays (fewer bays than trucks using it)."""
    return problem.site(facility).bays < len(problem.allowed_vehicles[facility])


def _find_break(
    problem: RoutingProblem,
    vehicle: int,
    route: tuple[int, ...],
    solver_times: tuple[int, ...],
    solver_breaks: tuple[tuple[int, int], ...],
) -> _Break | None:
    """The gap of the route in which the solver put the vehicle's break; ``None`` if off the route."""
    v = problem.vehicles[vehicle]
    if v.break_s == 0 or not solver_breaks:
        return None
    start, duration = solver_breaks[0]
    if start + duration <= solver_times[0] or start >= solver_times[-1]:
        return None
    gap = None
    for pos in range(len(route) - 1):
        visit = 0 if pos == 0 else problem.service_s[route[pos]]
        if solver_times[pos] + visit <= start and start + duration <= solver_times[pos + 1]:
            gap = pos
            break
    if gap is None:  # inconsistent cumuls: the caller looks for a gap that works
        gap = -1
    return _Break(gap, duration, v.break_start_min_s, v.break_start_max_s)


def _route_schedule(
    problem: RoutingProblem,
    vehicle: int,
    route: tuple[int, ...],
    solver_times: tuple[int, ...],
    solver_breaks: tuple[tuple[int, int], ...],
) -> tuple[_Times, int | None, _Break | None]:
    """Times of every stop, the break start and the break placement of one route (module docstring)."""
    v = problem.vehicles[vehicle]
    floors = {
        pos: solver_times[pos]
        for pos in range(1, len(route) - 1)
        if problem.locations[route[pos]].kind == LocationKind.FACILITY and _shared_bays(problem, route[pos])
    }
    brk = _find_break(problem, vehicle, route, solver_times, solver_breaks)
    depart = solver_times[0]

    def feasible(b: _Break | None, push: int) -> tuple[_Times, int | None] | None:
        found = _schedule(problem, route, depart + push, b, floors)
        if found is None or found[0][-1][0] > v.shift_end_s:
            return None
        return found

    base = feasible(brk, 0) if brk is None or brk.gap != -1 else None
    if base is None and brk is not None:  # solver's gap unusable here: first gap that works
        for gap in range(len(route) - 1):
            candidate = _Break(gap, brk.duration_s, brk.start_min_s, brk.start_max_s)
            base = feasible(candidate, 0)
            if base is not None:
                brk = candidate
                break
    if base is None:  # keep the solver's times order; the verifier will report the problem
        logger.warning("vehicle %s: no consistent schedule found for its route", v.id)
        brk = brk if brk is not None and brk.gap != -1 else None
        found = _schedule(problem, route, depart, brk, floors, strict=False)
        assert found is not None  # never None when not strict
        return found[0], found[1], brk
    times = base[0]
    # Leave later instead of waiting: the largest push that delays no service start.
    bound = None
    for k in range(1, len(route) - 1):
        wait = sum(times[j][1] - times[j][0] for j in range(1, k + 1))
        bound = wait if bound is None else min(bound, wait)
    lo, hi = 0, bound or 0
    starts = [t[1] for t in times[1:-1]]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        trial = feasible(brk, mid)
        if trial is not None and [t[1] for t in trial[0][1:-1]] == starts:
            lo = mid
        else:
            hi = mid - 1
    best = feasible(brk, lo)
    assert best is not None
    return best[0], best[1], brk


def to_plan(
    district: District,
    day: date,
    problem: RoutingProblem,
    assignment: RawAssignment,
    leg: LegFn,
) -> Plan:
    """Build the day's :class:`core.domain.Plan` from a solver assignment.

    Parameters
    ----------
    district : District
        The district the problem was built from.
    day : datetime.date
        The plan's day.
    problem : RoutingProblem
        The problem that was solved.
    assignment : RawAssignment
        The solver's answer.
    leg : LegFn
        ``leg(from_loc, to_loc) -> (coords, distance_m, time_s)`` for two location
        indices. ``coords`` and ``distance_m`` go into the plan; times come from the
        problem's travel-time matrix (a mismatch over 1 s is logged).

    Returns
    -------
    Plan
        Routes of the vehicles that serve at least one point (DEPOT_START,
        COLLECTION..., DEPOT_END), the unserved points with reasons, the objective
        in currency units and the solver status.

    Raises
    ------
    core.errors.ValidationError
        The problem or the assignment does not belong to the district.
    """
    _check_match(district, problem, assignment)
    point_of: dict[str, CollectionPoint] = {p.id: p for p in district.points}
    facility_of: dict[str, Facility] = {f.id: f for f in district.facilities}
    breaks_of = assignment.breaks or tuple(() for _ in assignment.routes)
    routes = []
    for k, (route, solver_times, solver_breaks) in enumerate(
        zip(assignment.routes, assignment.times_s, breaks_of, strict=True)
    ):
        if len(route) <= 2:
            continue
        vehicle = problem.vehicles[k]
        times, brk_start, brk = _route_schedule(problem, k, route, solver_times, solver_breaks)
        for loc, (_, start, _, _), solver_start in zip(
            route[1:-1], times[1:-1], solver_times[1:-1], strict=True
        ):
            if start > solver_start:
                logger.warning(
                    "vehicle %s: service at %s starts at %d s, later than the solver's %d s",
                    vehicle.id,
                    problem.locations[loc].id,
                    start,
                    solver_start,
                )
        stops = []
        load_kg = load_l = 0.0
        for pos, (loc, (arrival, start, departure, w)) in enumerate(zip(route, times, strict=True)):
            place = problem.locations[loc]
            coords: tuple[tuple[float, float], ...] = ()
            distance = 0.0
            travel = 0
            if pos > 0:
                prev = route[pos - 1]
                path, distance, leg_time = leg(prev, loc)
                coords = tuple((float(lat), float(lon)) for lat, lon in path)
                travel = int(problem.time_s[prev, loc])
                if abs(leg_time - travel) > 1.0:
                    logger.debug("leg %d->%d takes %.1f s, matrix says %d s", prev, loc, leg_time, travel)
            window: TimeWindow | None = None
            if pos == 0:
                kind = StopKind.DEPOT_START
            elif pos == len(route) - 1:
                kind = StopKind.DEPOT_END
            elif place.kind == LocationKind.FACILITY:
                kind = StopKind.UNLOAD
                load_kg = load_l = 0.0
                window = facility_of[place.id].opening
            else:
                kind = StopKind.COLLECTION
                point = point_of[place.id]
                load_kg += point.expected_kg
                load_l += point.expected_l
                window = None if w is None else point.time_windows[w]
            stops.append(
                PlanStop(
                    kind=kind,
                    ref_id=place.id,
                    lat=place.lat,
                    lon=place.lon,
                    arrival_s=arrival,
                    start_s=start,
                    departure_s=departure,
                    load_kg=load_kg,
                    load_l=load_l,
                    leg_distance_m=float(distance),
                    leg_time_s=travel,
                    leg_coords=coords,
                    window=window,
                )
            )
        breaks: tuple[PlanBreak, ...] = ()
        if brk is not None and brk.gap is not None and brk.gap >= 0 and brk_start is not None:
            breaks = (PlanBreak(after_stop=brk.gap, start_s=brk_start, duration_s=brk.duration_s),)
        routes.append(Route(vehicle_id=vehicle.id, stops=tuple(stops), breaks=breaks))

    unserved = tuple(
        UnservedPoint(problem.locations[i].id, assignment.reasons.get(i, "not served"))
        for i in assignment.dropped
    )
    return Plan(
        district=district.name,
        day=day,
        routes=tuple(routes),
        unserved=unserved,
        objective=unscale_cost(assignment.objective),
        solver_status=assignment.status,
    )


def warm_start_from_plan(plan: Plan, problem: RoutingProblem, *, change_penalty: float = 10.0) -> WarmStart:
    """A :class:`routing.model.WarmStart` from a previous plan, for :func:`routing.solve.solve`.

    Parameters
    ----------
    plan : Plan
        The previous plan (e.g. yesterday's, or tonight's before a change).
    problem : RoutingProblem
        Today's problem; stops whose id it does not know, and routes of vehicles
        it does not have, are skipped.
    change_penalty : float
        Cost (currency units) of serving a point with another vehicle than in
        ``plan`` (>= 0).

    Returns
    -------
    WarmStart
        One visiting order per vehicle of ``problem`` (collections and unloads).
    """
    if change_penalty < 0:
        raise ValidationError("warm_start_from_plan", "change_penalty", f"must be >= 0, got {change_penalty}")
    index = problem.index_of()
    by_vehicle = {r.vehicle_id: r for r in plan.routes}
    routes = []
    for v in problem.vehicles:
        route = by_vehicle.get(v.id)
        stops = route.stops[1:-1] if route is not None else ()
        routes.append(
            tuple(
                index[s.ref_id]
                for s in stops
                if s.ref_id in index and s.kind in (StopKind.COLLECTION, StopKind.UNLOAD)
            )
        )
    return WarmStart(tuple(routes), scale_cost(change_penalty))


# --------------------------------------------------------------------------- KPIs


class RouteKpis(TypedDict):
    """Key figures of one route, or of the whole plan."""

    stops: int
    """Collection stops."""
    unloads: int
    """Unload visits at facilities."""
    km: float
    """Road distance (km)."""
    hours: float
    """Depot departure to return (h)."""
    kg: float
    """Expected kg collected."""
    litres: float
    """Expected litres collected."""
    kg_by_stream: dict[str, float]
    """Expected kg collected per stream."""
    kg_utilisation: float
    """Peak load / kg capacity (0..1); for the total, summed over used vehicles."""


class FacilityKpis(TypedDict):
    """Use of one facility over the day."""

    unloads: int
    """Unload visits."""
    kg: float
    """Expected kg unloaded."""
    daily_capacity_kg: float
    """The facility's daily tonnage limit (kg; ``inf`` = none)."""
    peak_bays: int
    """Most trucks unloading at the same time."""
    bays: int
    """Tipping bays."""


class PlanKpis(TypedDict):
    """:func:`plan_kpis` result: per vehicle (plan order), total and per facility (district order)."""

    vehicles: dict[str, RouteKpis]
    total: RouteKpis
    unserved: int
    facilities: dict[str, FacilityKpis]


def _peak(intervals: list[tuple[int, int]]) -> int:
    """Most half-open intervals ``[start, end)`` overlapping at one instant."""
    events = sorted([(s, 1) for s, e in intervals if e > s] + [(e, -1) for s, e in intervals if e > s])
    peak = now = 0
    for _, step in events:  # ends (-1) sort before starts (+1) at the same instant
        now += step
        peak = max(peak, now)
    return peak


def plan_kpis(plan: Plan, district: District) -> PlanKpis:
    """Per-vehicle, total and per-facility key figures for a summary table.

    Parameters
    ----------
    plan : Plan
        The plan.
    district : District
        The district it was made for (capacities, streams, facilities).

    Returns
    -------
    PlanKpis
        ``{"vehicles": {vehicle_id: RouteKpis}, "total": RouteKpis, "unserved": n,
        "facilities": {facility_id: FacilityKpis}}``. An unload's amount is the
        load on board when the truck arrives (expected kg).
    """
    capacity = {v.id: v.capacity_kg for v in district.vehicles}
    point_of = {p.id: p for p in district.points}
    facilities: dict[str, FacilityKpis] = {
        f.id: FacilityKpis(
            unloads=0, kg=0.0, daily_capacity_kg=f.daily_capacity_kg, peak_bays=0, bays=f.tipping_bays
        )
        for f in district.facilities
    }
    busy: dict[str, list[tuple[int, int]]] = {f.id: [] for f in district.facilities}
    per_vehicle: dict[str, RouteKpis] = {}
    peak_sum = cap_sum = 0.0
    for route in plan.routes:
        by_stream: dict[str, float] = {}
        kg = litres = 0.0
        for stop in route.collections:
            point = point_of[stop.ref_id]
            by_stream[point.stream.value] = by_stream.get(point.stream.value, 0.0) + point.expected_kg
            kg += point.expected_kg
            litres += point.expected_l
        for prev, stop in zip(route.stops, route.stops[1:], strict=False):
            if stop.kind == StopKind.UNLOAD and stop.ref_id in facilities:
                facilities[stop.ref_id]["unloads"] += 1
                facilities[stop.ref_id]["kg"] += prev.load_kg
                busy[stop.ref_id].append((stop.start_s, stop.departure_s))
        peak = max((s.load_kg for s in route.stops), default=0.0)
        peak_sum += peak
        cap_sum += capacity[route.vehicle_id]
        per_vehicle[route.vehicle_id] = RouteKpis(
            stops=len(route.collections),
            unloads=len(route.unloads),
            km=route.distance_m / 1000.0,
            hours=route.duration_s / 3600.0,
            kg=kg,
            litres=litres,
            kg_by_stream=by_stream,
            kg_utilisation=peak / capacity[route.vehicle_id],
        )
    for fid, intervals in busy.items():
        facilities[fid]["peak_bays"] = _peak(intervals)
    total_by_stream: dict[str, float] = {}
    for r in per_vehicle.values():
        for stream, kg in r["kg_by_stream"].items():
            total_by_stream[stream] = total_by_stream.get(stream, 0.0) + kg
    total = RouteKpis(
        stops=sum(r["stops"] for r in per_vehicle.values()),
        unloads=sum(r["unloads"] for r in per_vehicle.values()),
        km=sum(r["km"] for r in per_vehicle.values()),
        hours=sum(r["hours"] for r in per_vehicle.values()),
        kg=sum(r["kg"] for r in per_vehicle.values()),
        litres=sum(r["litres"] for r in per_vehicle.values()),
        kg_by_stream=total_by_stream,
        kg_utilisation=peak_sum / cap_sum if cap_sum else 0.0,
    )
    return PlanKpis(vehicles=per_vehicle, total=total, unserved=len(plan.unserved), facilities=facilities)
