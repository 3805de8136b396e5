"""An independent plan checker: re-checks a plan from scratch against the district and the matrices.

Deliberately shares no code with :mod:`routing.model`, :mod:`routing.solve` or
:mod:`routing.plan` (it imports only :mod:`core` and NumPy): it is the slow,
obviously correct twin of the solver chain, used by tests, by the benchmark
command and as a guard before a plan is published. It works on the original
(float) matrices, not the solver's rounded integers, and on the district's
domain records. Every load is recomputed from the points' expected amounts and
every time inequality between two consecutive stops from the travel-time
matrix and the route order, so the times a plan states are checked as a
*witness schedule*: if they pass, the route is feasible; nothing the plan
builder computed (loads, leg times) is trusted.

Conventions
-----------
Times are seconds since local midnight. ``tol`` below is the ``tolerance_s``
argument (default 1 s): every time comparison may be off by that much (the
solver rounds travel times up to whole seconds, the matrices are floats).
Loads are compared with a relative tolerance of 1e-9 (at least 1e-6 kg or l).
A *trip* is the run of collection stops after the depot or after an unload, up
to the next unload (or the depot).

Rules checked by :func:`verify_plan`
------------------------------------
Points

- every point, mandatory or optional, is served exactly once or listed in
  ``plan.unserved``; none is served twice, none is both served and listed,
  none is listed twice, every id is known. (A mandatory point listed unserved
  is accepted here: the plan says so; benchmarks add their own
  "everything served" rule.)

Route shape

- a vehicle has at most one route, and the vehicle is known;
- stop 0 is ``DEPOT_START`` and the last stop ``DEPOT_END``, both at the
  vehicle's depot; stops in between are ``COLLECTION`` (of a known point) or
  ``UNLOAD`` (at a known facility); every id is in ``index_of``;
- the vehicle may collect the stream of every point it serves;
- ``leg_distance_m`` of every stop equals ``dist_m`` from the previous stop
  within 1 m + 1 % (a matrix in the wrong order is caught here).

Loads (per dimension, kg and litres)

- the load after a collection is the load before plus the point's
  ``expected_kg`` / ``expected_l``; after an unload it is 0; it never exceeds
  ``capacity_kg`` / ``capacity_l``; the ``load_kg`` / ``load_l`` each stop
  states equals this recomputation;
- the route ends empty: when the district has facilities, the load on
  arrival at ``DEPOT_END`` is 0, i.e. every trip with a non-zero amount ends
  with an unload before the depot (a trip of zero-amount points only needs
  none). A district without facilities is a classic VRP (the Solomon and
  CVRPLIB benchmarks): the depot takes the load and this rule is off;
- the day's totals (sum of all collections of the route) stay within
  ``max_route_kg`` / ``max_route_l``; the number of collection stops within
  ``max_stops``.

Unloads

- the facility accepts the stream of every point collected on the trip it
  ends; the unload starts inside the facility's ``opening`` (start only,
  as in Kim et al. 2006); ``departure >= start + unload_s``.

Times

- ``arrival >= earliest arrival`` where the earliest arrival is the previous
  departure plus the travel time, plus the breaks taken in that gap: a break
  starting at ``b`` lets the truck drive ``b - departure`` of the leg first
  (never more than the leg), then pauses it, so with one break the earliest
  arrival is ``max(departure + travel, b) + duration`` (a break that would
  start after the truck has arrived is taken there, before the service);
- the service starts inside one of the point's windows (any time if it has
  none); ``departure >= start + service_s``; ``arrival <= start <= departure``;
- the vehicle leaves the depot no earlier than its shift start and is back no
  later than its shift end; ``DEPOT_END.arrival - DEPOT_START.departure <=
  route_limit_s`` (shift length, or ``max_duration_s`` when shorter).

Breaks (``Route.breaks``; each sits in the gap after ``stops[after_stop]``)

- a vehicle with ``break_duration_s == 0`` lists no break;
- otherwise at most one break, and exactly one when the route serves
  something and the break cannot be taken at the depot. It can be taken at the
  depot, and the route needs none, when the route is back no later than the
  end of ``break_window`` (Kim et al. / Benjamin & Beasley: a route that ends
  before the window takes its break at the depot; back inside the window it
  starts the break on return), or leaves no earlier than ``break_window.start
  + break_duration_s`` (a whole break fits before leaving). This matches
  OR-Tools, whose break intervals may lie before the route's start or after
  its end;
- every listed break: ``0 <= after_stop < len(stops) - 1``; ``duration_s``
  equals ``break_duration_s``; ``start_s`` inside ``break_window``; it starts
  no earlier than the departure from ``stops[after_stop]`` (it does not
  overlap that stop's service or unload) and, through the arrival rule above,
  ends before the truck is ready at the next stop (it overlaps no service
  there either).

Across routes

- tipping bays: at no moment do more than ``tipping_bays`` trucks unload at
  one facility, each unload occupying ``[start_s, start_s + unload_s)``
  (exact integer seconds, no tolerance; back-to-back unloads are fine);
- daily tonnage: the kg unloaded at a facility over all routes (the
  recomputed load before each unload) is at most ``daily_capacity_kg``.

Messages name the vehicle, the stop position and id and the numbers, e.g.
``"RES-01 stop 7 (P0123): load 9120 kg > capacity 9000 kg"``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TypeAlias

import numpy as np

from core.domain import (
    CollectionPoint,
    District,
    Facility,
    Plan,
    PlanBreak,
    PlanStop,
    Route,
    StopKind,
    Stream,
    TimeWindow,
    Vehicle,
)

__all__ = ["DISTANCE_TOL_M", "DISTANCE_TOL_REL", "plan_cost", "plan_distance_m", "verify_plan"]

DISTANCE_TOL_M = 1.0
"""Absolute slack on a stated leg distance (m)."""

DISTANCE_TOL_REL = 0.01
"""Relative slack on a stated leg distance (fraction of the matrix distance)."""

_LOAD_TOL_REL = 1e-9
_LOAD_TOL_ABS = 1e-6

Matrix: TypeAlias = np.ndarray | Sequence[Sequence[float]]
"""A square matrix indexable as ``m[i][j]`` (a NumPy array or a list of lists)."""


# --------------------------------------------------------------------------- formatting


def _clock(t: float) -> str:
    """``HH:MM:SS`` of seconds since midnight (hours run past 24 on the next day)."""
    t = round(t)
    sign = "-" if t < 0 else ""
    t = abs(t)
    return f"{sign}{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def _num(x: float) -> str:
    """A number without float noise: ``9120``, ``12.5``, ``inf``."""
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _windows(windows: Iterable[TimeWindow]) -> str:
    return ", ".join(f"{_clock(w.start_s)}-{_clock(w.end_s)}" for w in windows)


def _at(vid: str, pos: int, stop: PlanStop) -> str:
    return f"{vid} stop {pos} ({stop.ref_id})"


def _over(value: float, limit: float) -> bool:
    """``value > limit`` beyond float noise (loads)."""
    return value > limit + max(_LOAD_TOL_ABS, _LOAD_TOL_REL * abs(limit))


def _differs(a: float, b: float) -> bool:
    return abs(a - b) > max(_LOAD_TOL_ABS, _LOAD_TOL_REL * max(abs(a), abs(b)))


# --------------------------------------------------------------------------- context


@dataclass
class _Unload:
    """One unload of one route, for the checks across routes."""

    facility_id: str
    vehicle_id: str
    pos: int
    start_s: int
    kg: float


@dataclass
class _Problem:
    """The district's records by id and the matrices."""

    points: dict[str, CollectionPoint]
    facilities: dict[str, Facility]
    vehicles: dict[str, Vehicle]
    depot_ids: set[str]
    time_s: Matrix
    dist_m: Matrix
    index_of: Mapping[str, int]
    tol: float
    unloads: list[_Unload] = field(default_factory=list)

    @classmethod
    def of(
        cls, district: District, time_s: Matrix, dist_m: Matrix, index_of: Mapping[str, int], tol: float
    ) -> _Problem:
        return cls(
            points={p.id: p for p in district.points},
            facilities={f.id: f for f in district.facilities},
            vehicles={v.id: v for v in district.vehicles},
            depot_ids={d.id for d in district.depots},
            time_s=time_s,
            dist_m=dist_m,
            index_of=index_of,
            tol=tol,
        )

    def travel(self, a: str, b: str) -> float | None:
        """Travel time (s) from id ``a`` to id ``b``; ``None`` if either is not indexed."""
        if a not in self.index_of or b not in self.index_of:
            return None
        return float(self.time_s[self.index_of[a]][self.index_of[b]])

    def distance(self, a: str, b: str) -> float | None:
        """Road distance (m) from id ``a`` to id ``b``; ``None`` if either is not indexed."""
        if a not in self.index_of or b not in self.index_of:
            return None
        return float(self.dist_m[self.index_of[a]][self.index_of[b]])

    def service_s(self, stop: PlanStop) -> int:
        """Time the work at a stop takes (s): service, unload, or 0 at the depot."""
        if stop.kind == StopKind.COLLECTION and stop.ref_id in self.points:
            return self.points[stop.ref_id].service_s
        if stop.kind == StopKind.UNLOAD and stop.ref_id in self.facilities:
            return self.facilities[stop.ref_id].unload_s
        return 0


# --------------------------------------------------------------------------- per route


def _check_shape(p: _Problem, v: Vehicle, route: Route) -> list[str]:
    """Kinds and ids of the stops, streams, matrix index and leg distances."""
    out: list[str] = []
    stops = route.stops
    last = len(stops) - 1
    for pos, stop in enumerate(stops):
        name = _at(v.id, pos, stop)
        if pos in (0, last):
            kind = StopKind.DEPOT_START if pos == 0 else StopKind.DEPOT_END
            if stop.kind != kind or stop.ref_id != v.depot_id:
                out.append(
                    f"{name}: must be {kind.value} at the vehicle's depot {v.depot_id}, "
                    f"got {stop.kind.value} at {stop.ref_id}"
                )
        elif stop.kind == StopKind.COLLECTION:
            point = p.points.get(stop.ref_id)
            if point is None:
                out.append(f"{name}: collection at an unknown point")
            elif point.stream not in v.streams:
                allowed = ", ".join(sorted(s.value for s in v.streams))
                out.append(f"{name}: vehicle may not collect {point.stream.value} (it collects {allowed})")
        elif stop.kind == StopKind.UNLOAD:
            if stop.ref_id not in p.facilities:
                out.append(f"{name}: unload at an unknown facility")
        else:
            out.append(f"{name}: {stop.kind.value} stop in the middle of the route")
        if stop.ref_id not in p.index_of:
            out.append(f"{name}: id not in the matrix index")
        elif pos > 0:
            prev = stops[pos - 1]
            expected = p.distance(prev.ref_id, stop.ref_id)
            if expected is None:
                continue
            if not math.isfinite(expected):
                out.append(f"{name}: no road from {prev.ref_id} in the distance matrix")
            elif abs(stop.leg_distance_m - expected) > DISTANCE_TOL_M + DISTANCE_TOL_REL * abs(expected):
                out.append(
                    f"{name}: leg distance {_num(stop.leg_distance_m)} m, "
                    f"the matrix says {_num(expected)} m from {prev.ref_id}"
                )
    return out


def _check_loads(p: _Problem, v: Vehicle, route: Route, has_facilities: bool) -> list[str]:
    """Loads per dimension after each stop, trips, unload streams and opening, day totals."""
    out: list[str] = []
    stops = route.stops
    kg = litres = 0.0
    day_kg = day_l = 0.0
    n_collections = 0
    trip: list[tuple[int, CollectionPoint]] = []
    for pos, stop in enumerate(stops):
        name = _at(v.id, pos, stop)
        point = p.points.get(stop.ref_id) if stop.kind == StopKind.COLLECTION else None
        facility = p.facilities.get(stop.ref_id) if stop.kind == StopKind.UNLOAD else None
        if stop.kind == StopKind.COLLECTION:
            n_collections += 1
        if point is not None:
            kg += point.expected_kg
            litres += point.expected_l
            day_kg += point.expected_kg
            day_l += point.expected_l
            trip.append((pos, point))
            for unit, load, cap in (("kg", kg, v.capacity_kg), ("l", litres, v.capacity_l)):
                if _over(load, cap):
                    out.append(f"{name}: load {_num(load)} {unit} > capacity {_num(cap)} {unit}")
        if facility is not None:
            refused: dict[Stream, list[str]] = defaultdict(list)
            for _, tp in trip:
                if tp.stream not in facility.accepted_streams:
                    refused[tp.stream].append(tp.id)
            accepts = ", ".join(sorted(s.value for s in facility.accepted_streams))
            for stream, ids in sorted(refused.items()):
                out.append(
                    f"{name}: unloads {stream.value} (from {', '.join(ids)}) at a facility "
                    f"accepting only {accepts}"
                )
            tol = p.tol
            if not (facility.opening.start_s - tol <= stop.start_s <= facility.opening.end_s + tol):
                out.append(
                    f"{name}: unload starts {_clock(stop.start_s)}, outside the facility's opening "
                    f"{_windows([facility.opening])}"
                )
            p.unloads.append(_Unload(facility.id, v.id, pos, stop.start_s, kg))
        if stop.kind == StopKind.UNLOAD:
            kg = litres = 0.0
            trip = []
        for unit, load, stated in (("kg", kg, stop.load_kg), ("l", litres, stop.load_l)):
            if _differs(load, stated):
                out.append(f"{name}: states load {_num(stated)} {unit}, recomputed {_num(load)} {unit}")
    if has_facilities and (_over(kg, 0.0) or _over(litres, 0.0)):
        at = ", ".join(f"{pos} ({tp.id})" for pos, tp in trip)
        out.append(
            f"{v.id}: back at the depot with {_num(kg)} kg, {_num(litres)} l on board (collected at "
            f"stops {at} after the last unload); a route must end empty, with an unload before the depot"
        )
    for unit, total, limit in (("kg", day_kg, v.max_route_kg), ("l", day_l, v.max_route_l)):
        if limit is not None and _over(total, limit):
            out.append(f"{v.id}: collects {_num(total)} {unit} over the day > max_route_{unit} {_num(limit)}")
    if v.max_stops is not None and n_collections > v.max_stops:
        out.append(f"{v.id}: {n_collections} collection stops > max_stops {v.max_stops}")
    return out


def _earliest_arrival(departure: float, travel: float, breaks: Sequence[PlanBreak]) -> float:
    """Earliest arrival after leaving at ``departure``, driving ``travel`` s, pausing for ``breaks``.

    The truck drives until a break starts (never more than the leg), pauses for
    its duration, then drives the rest; a break that starts after the leg is
    driven is taken at the next stop, before its service.
    """
    t = departure
    remaining = travel
    for b in sorted(breaks, key=lambda b: b.start_s):
        driven = min(remaining, max(0.0, b.start_s - t))
        remaining -= driven
        t = max(t + driven, b.start_s) + b.duration_s
    return t + remaining


def _check_times(p: _Problem, v: Vehicle, route: Route) -> list[str]:
    """Arrivals from the matrix and breaks, windows, service, shift and route duration."""
    out: list[str] = []
    tol = p.tol
    stops = route.stops
    for pos, stop in enumerate(stops):
        name = _at(v.id, pos, stop)
        if not stop.arrival_s <= stop.start_s <= stop.departure_s:
            out.append(
                f"{name}: times out of order (arrival {_clock(stop.arrival_s)}, start "
                f"{_clock(stop.start_s)}, departure {_clock(stop.departure_s)})"
            )
        if pos > 0:
            prev = stops[pos - 1]
            travel = p.travel(prev.ref_id, stop.ref_id)
            if travel is not None and not math.isfinite(travel):
                out.append(f"{name}: no road from {prev.ref_id} in the travel-time matrix")
            elif travel is not None:
                gap = [b for b in route.breaks if b.after_stop == pos - 1]
                earliest = _earliest_arrival(prev.departure_s, travel, gap)
                if stop.arrival_s + tol < earliest:
                    why = f"departure {_clock(prev.departure_s)} from stop {pos - 1}"
                    why += f" + travel {_num(travel)} s"
                    for b in gap:
                        why += f" + break {b.duration_s} s at {_clock(b.start_s)}"
                    out.append(
                        f"{name}: arrival {_clock(stop.arrival_s)} is before the earliest possible "
                        f"{_clock(earliest)} ({why})"
                    )
        service = p.service_s(stop)
        if stop.departure_s + tol < stop.start_s + service:
            out.append(
                f"{name}: departure {_clock(stop.departure_s)} is before start {_clock(stop.start_s)} "
                f"+ {'unload' if stop.kind == StopKind.UNLOAD else 'service'} {service} s"
            )
        point = p.points.get(stop.ref_id) if stop.kind == StopKind.COLLECTION else None
        if (
            point is not None
            and point.time_windows
            and not any(w.start_s - tol <= stop.start_s <= w.end_s + tol for w in point.time_windows)
        ):
            out.append(
                f"{name}: service starts {_clock(stop.start_s)}, outside its window(s) "
                f"{_windows(point.time_windows)}"
            )
    first, last = stops[0], stops[-1]
    if first.departure_s + tol < v.shift.start_s:
        out.append(
            f"{v.id}: leaves the depot at {_clock(first.departure_s)}, before its shift starts at "
            f"{_clock(v.shift.start_s)}"
        )
    if last.arrival_s > v.shift.end_s + tol:
        out.append(
            f"{v.id}: back at the depot at {_clock(last.arrival_s)}, after its shift ends at "
            f"{_clock(v.shift.end_s)}"
        )
    duration = last.arrival_s - first.departure_s
    if duration > v.route_limit_s + tol:
        out.append(f"{v.id}: route takes {duration} s > its limit of {v.route_limit_s} s")
    return out


def _check_breaks(p: _Problem, v: Vehicle, route: Route) -> list[str]:
    """How many breaks, and where each one sits (the arrival rule covers their end)."""
    out: list[str] = []
    tol = p.tol
    stops = route.stops
    breaks = route.breaks
    window, duration = v.break_window, v.break_duration_s
    if duration <= 0:
        if breaks:
            out.append(f"{v.id}: {len(breaks)} break(s) listed, but the vehicle takes no break")
    else:
        used = any(s.kind in (StopKind.COLLECTION, StopKind.UNLOAD) for s in stops[1:-1])
        leave, back = stops[0].departure_s, stops[-1].arrival_s
        at_depot = back <= window.end_s + tol or leave + tol >= window.start_s + duration
        if len(breaks) > 1:
            out.append(f"{v.id}: {len(breaks)} breaks, expected at most one")
        elif used and not at_depot and not breaks:
            out.append(
                f"{v.id}: no break; the route runs {_clock(leave)}-{_clock(back)} across the break "
                f"window {_windows([window])}, so a {duration} s break must start in it"
            )
    for b in breaks:
        label = f"{v.id} break after stop {b.after_stop}"
        if not 0 <= b.after_stop < len(stops) - 1:
            out.append(f"{label}: no such gap (the route has stops 0-{len(stops) - 1})")
            continue
        if duration > 0 and abs(b.duration_s - duration) > tol:
            out.append(f"{label}: lasts {b.duration_s} s, the vehicle's break is {duration} s")
        if not window.start_s - tol <= b.start_s <= window.end_s + tol:
            out.append(f"{label}: starts {_clock(b.start_s)}, outside the break window {_windows([window])}")
        before = stops[b.after_stop]
        if b.start_s + tol < before.departure_s:
            out.append(
                f"{label}: starts {_clock(b.start_s)}, before the truck leaves stop {b.after_stop} "
                f"({before.ref_id}) at {_clock(before.departure_s)}: it overlaps the work there"
            )
    return out


# --------------------------------------------------------------------------- across routes


def _check_facilities(p: _Problem) -> list[str]:
    """Tipping-bay concurrency and daily tonnage per facility, over all routes."""
    out: list[str] = []
    by_facility: dict[str, list[_Unload]] = defaultdict(list)
    for u in p.unloads:
        by_facility[u.facility_id].append(u)
    for fid, unloads in by_facility.items():
        f = p.facilities[fid]
        if f.unload_s > 0:
            # Sweep: ends (-1) sort before starts (+1) at the same second: [start, end) intervals.
            events = sorted(
                [(u.start_s, 1) for u in unloads] + [(u.start_s + f.unload_s, -1) for u in unloads]
            )
            busy = peak = 0
            peak_at = 0
            for t, step in events:
                busy += step
                if busy > peak:
                    peak, peak_at = busy, t
            if peak > f.tipping_bays:
                who = ", ".join(
                    f"{u.vehicle_id} stop {u.pos}"
                    for u in sorted(unloads, key=lambda u: (u.start_s, u.vehicle_id))
                    if u.start_s <= peak_at < u.start_s + f.unload_s
                )
                out.append(
                    f"facility {fid}: {peak} trucks unloading at once at {_clock(peak_at)} ({who}) "
                    f"> {f.tipping_bays} tipping bay(s)"
                )
        total = sum(u.kg for u in unloads)
        if _over(total, f.daily_capacity_kg):
            out.append(
                f"facility {fid}: {_num(total)} kg unloaded over the day > daily capacity "
                f"{_num(f.daily_capacity_kg)} kg ({len(unloads)} unloads)"
            )
    return out


def _check_points(plan: Plan, p: _Problem, served: Mapping[str, list[str]]) -> list[str]:
    out: list[str] = []
    listed: dict[str, int] = defaultdict(int)
    for u in plan.unserved:
        listed[u.point_id] += 1
        if u.point_id not in p.points:
            out.append(f"unserved entry names unknown point {u.point_id}")
    for pid, count in listed.items():
        if count > 1:
            out.append(f"point {pid}: listed unserved {count} times")
    for pid, point in p.points.items():
        by = served.get(pid, [])
        if len(by) > 1:
            out.append(f"point {pid}: served {len(by)} times (by {', '.join(by)})")
        if by and pid in listed:
            out.append(f"point {pid}: both served (by {by[0]}) and listed unserved")
        if not by and pid not in listed:
            what = "mandatory" if point.penalty is None else "optional"
            out.append(f"point {pid}: {what} point neither served nor listed unserved")
    return out


# --------------------------------------------------------------------------- API


def verify_plan(
    plan: Plan,
    district: District,
    time_s: Matrix,
    dist_m: Matrix,
    index_of: Mapping[str, int],
    *,
    tolerance_s: float = 1,
) -> list[str]:
    """Check a plan against every rule of the module docstring, from scratch.

    Parameters
    ----------
    plan : Plan
        The plan to check.
    district : District
        Points, facilities, vehicles and depots the plan was made for.
    time_s : array-like
        ``(n, n)`` travel times (s), indexed through ``index_of``.
    dist_m : array-like
        ``(n, n)`` road distances (m), indexed through ``index_of``.
    index_of : Mapping of str to int
        Location id (depot, facility, point) -> matrix index.
    tolerance_s : float, optional
        Slack on every time comparison (s); default 1.

    Returns
    -------
    list of str
        Human-readable violations naming vehicle, stop position and id, and
        the numbers; empty when the plan is sound. Route by route in plan
        order, then facilities, then points.
    """
    p = _Problem.of(district, time_s, dist_m, index_of, float(tolerance_s))
    has_facilities = bool(district.facilities)
    out: list[str] = []
    served: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for route in plan.routes:
        vid = route.vehicle_id
        for stop in route.stops[1:-1]:
            if stop.kind == StopKind.COLLECTION:
                served[stop.ref_id].append(vid)
        vehicle = p.vehicles.get(vid)
        if vehicle is None:
            out.append(f"{vid}: route of an unknown vehicle")
            continue
        if vid in seen:
            out.append(f"{vid}: more than one route")
        seen.add(vid)
        if len(route.stops) < 2:
            out.append(f"{vid}: route has {len(route.stops)} stop(s); it must start and end at its depot")
            continue
        out += _check_shape(p, vehicle, route)
        out += _check_loads(p, vehicle, route, has_facilities)
        out += _check_times(p, vehicle, route)
        out += _check_breaks(p, vehicle, route)
    out += _check_facilities(p)
    out += _check_points(plan, p, served)
    return out


def _legs(route: Route, index_of: Mapping[str, int]) -> Iterable[tuple[int, int]]:
    for a, b in pairwise(route.stops):
        for stop in (a, b):
            if stop.ref_id not in index_of:
                raise ValueError(f"{route.vehicle_id}: stop {stop.ref_id} is not in the matrix index")
        yield index_of[a.ref_id], index_of[b.ref_id]


def plan_distance_m(plan: Plan, dist_m: Matrix, index_of: Mapping[str, int]) -> float:
    """Total road distance of a plan recomputed from the matrix (m), ignoring the stated legs.

    Parameters
    ----------
    plan : Plan
        The plan.
    dist_m : array-like
        ``(n, n)`` road distances (m), indexed through ``index_of``.
    index_of : Mapping of str to int
        Location id -> matrix index.

    Returns
    -------
    float
        Sum of ``dist_m`` over consecutive stops of every route (unload legs included).

    Raises
    ------
    ValueError
        A stop's id is not in ``index_of``.
    """
    return float(sum(float(dist_m[i][j]) for route in plan.routes for i, j in _legs(route, index_of)))


def plan_cost(
    plan: Plan,
    district: District,
    time_s: Matrix,
    dist_m: Matrix,
    index_of: Mapping[str, int],
) -> float:
    """Recompute a plan's money cost from the matrices (currency units).

    Per route of a *used* vehicle (one with at least one collection or unload
    stop): its ``fixed_cost``; per leg of every route: ``cost_per_km * km +
    cost_per_hour * hours`` with km from ``dist_m`` and hours the travel time
    from ``time_s`` (driving only: service, unloading, waiting and breaks are
    not charged, as with the default objective weights); plus the ``penalty``
    of every optional point listed unserved. Comparable with
    ``Plan.objective`` up to the solver's rounding.

    Parameters
    ----------
    plan, district, time_s, dist_m, index_of
        As for :func:`verify_plan`.

    Returns
    -------
    float
        Total cost (currency units).

    Raises
    ------
    ValueError
        A route's vehicle is not in the district, or a stop's id is not in ``index_of``.
    """
    vehicles = {v.id: v for v in district.vehicles}
    points = {pt.id: pt for pt in district.points}
    total = 0.0
    for route in plan.routes:
        v = vehicles.get(route.vehicle_id)
        if v is None:
            raise ValueError(f"route of unknown vehicle {route.vehicle_id}")
        if any(s.kind in (StopKind.COLLECTION, StopKind.UNLOAD) for s in route.stops):
            total += v.fixed_cost
        for i, j in _legs(route, index_of):
            total += v.cost_per_km * float(dist_m[i][j]) / 1000.0
            total += v.cost_per_hour * float(time_s[i][j]) / 3600.0
    for u in plan.unserved:
        point = points.get(u.point_id)
        if point is not None and point.penalty is not None:
            total += point.penalty
    return total
