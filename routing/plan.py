"""RawAssignment -> :class:`core.domain.Plan`: stops, times, loads, road legs, unserved points.

This is the *result* step. It needs no solver: routes come as location indices
(:func:`routing.model.locations` order) and the road geometry comes from a
``leg`` callable the caller builds on the road network.

Schedule
--------
Times are recomputed from the route and the problem's integer travel times so
every stop is self-consistent: ``arrival = previous departure + leg_time_s``,
``start = max(arrival, window start)`` in the first window whose end is not
passed, ``departure = start + service``. A vehicle leaves the depot at the
solver's departure time, pushed later by any wait it would otherwise spend
before a window opens (no service starts later because of it); service starts
then match the solver's (a mismatch is logged as a warning). Loads are the
district's expected kg and litres (not the rounded-up integers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, TypedDict

from core.domain import (
    CollectionPoint,
    District,
    Plan,
    PlanStop,
    Route,
    StopKind,
    TimeWindow,
    UnservedPoint,
)
from core.errors import ValidationError
from routing.model import RoutingProblem, locations, unscale_cost

if TYPE_CHECKING:  # keeps OR-Tools out of `import routing.plan`
    from routing.solve import RawAssignment

__all__ = ["LegFn", "PlanKpis", "RouteKpis", "plan_kpis", "to_plan"]

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


def _schedule(
    problem: RoutingProblem, route: tuple[int, ...], depart: int
) -> list[tuple[int, int, int, int | None]]:
    """``(arrival, start, departure, window position)`` per stop, leaving the depot at ``depart`` (s)."""
    out: list[tuple[int, int, int, int | None]] = [(depart, depart, depart, None)]
    last = len(route) - 1
    for pos in range(1, last + 1):
        prev, loc = route[pos - 1], route[pos]
        arrival = out[-1][2] + int(problem.time_s[prev, loc])
        if pos == last:  # back at the depot
            out.append((arrival, arrival, arrival, None))
        else:
            start, w = _earliest_start(problem.windows[loc], arrival)
            out.append((arrival, start, start + problem.service_s[loc], w))
    return out


def _departure(problem: RoutingProblem, route: tuple[int, ...], solver_depart: int) -> int:
    """Latest departure (s) delaying no service start of the schedule that leaves at ``solver_depart``."""
    times = _schedule(problem, route, solver_depart)
    push = None
    for k in range(1, len(route) - 1):
        # Spare time before stop k's start: waiting summed along the way.
        wait = sum(times[j][1] - times[j][0] for j in range(1, k + 1))
        push = wait if push is None else min(push, wait)
    return solver_depart + (push or 0)


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
    routes = []
    for k, (route, solver_times) in enumerate(zip(assignment.routes, assignment.times_s, strict=True)):
        if len(route) <= 2:
            continue
        vehicle = problem.vehicles[k]
        times = _schedule(problem, route, _departure(problem, route, solver_times[0]))
        for loc, (_, start, _, _), solver_start in zip(
            route[1:-1], times[1:-1], solver_times[1:-1], strict=True
        ):
            if start != solver_start:
                logger.warning(
                    "vehicle %s: service at %s starts at %d s, solver said %d s",
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
        routes.append(Route(vehicle_id=vehicle.id, stops=tuple(stops)))

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


# --------------------------------------------------------------------------- KPIs


class RouteKpis(TypedDict):
    """Key figures of one route, or of the whole plan."""

    stops: int
    """Collection stops."""
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


class PlanKpis(TypedDict):
    """:func:`plan_kpis` result: per vehicle (plan order) and total."""

    vehicles: dict[str, RouteKpis]
    total: RouteKpis
    unserved: int


def plan_kpis(plan: Plan, district: District) -> PlanKpis:
    """Per-vehicle and total key figures for a summary table.

    Parameters
    ----------
    plan : Plan
        The plan.
    district : District
        The district it was made for (capacities and streams).

    Returns
    -------
    PlanKpis
        ``{"vehicles": {vehicle_id: RouteKpis}, "total": RouteKpis, "unserved": n}``.
    """
    capacity = {v.id: v.capacity_kg for v in district.vehicles}
    point_of = {p.id: p for p in district.points}
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
        peak = max((s.load_kg for s in route.stops), default=0.0)
        peak_sum += peak
        cap_sum += capacity[route.vehicle_id]
        per_vehicle[route.vehicle_id] = RouteKpis(
            stops=len(route.collections),
            km=route.distance_m / 1000.0,
            hours=route.duration_s / 3600.0,
            kg=kg,
            litres=litres,
            kg_by_stream=by_stream,
            kg_utilisation=peak / capacity[route.vehicle_id],
        )
    total_by_stream: dict[str, float] = {}
    for r in per_vehicle.values():
        for stream, kg in r["kg_by_stream"].items():
            total_by_stream[stream] = total_by_stream.get(stream, 0.0) + kg
    total = RouteKpis(
        stops=sum(r["stops"] for r in per_vehicle.values()),
        km=sum(r["km"] for r in per_vehicle.values()),
        hours=sum(r["hours"] for r in per_vehicle.values()),
        kg=sum(r["kg"] for r in per_vehicle.values()),
        litres=sum(r["litres"] for r in per_vehicle.values()),
        kg_by_stream=total_by_stream,
        kg_utilisation=peak_sum / cap_sum if cap_sum else 0.0,
    )
    return PlanKpis(vehicles=per_vehicle, total=total, unserved=len(plan.unserved))
