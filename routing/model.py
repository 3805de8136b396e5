"""Domain objects -> :class:`RoutingProblem`: integer matrices, demands, windows and fleet.

This is the *data* step of the model -> data -> solve -> result split. Nothing
here imports OR-Tools; :mod:`routing.solve` turns a :class:`RoutingProblem` into
a solver model.

Location order
--------------
Every matrix row, every per-location tuple and every route in :mod:`routing`
uses one index: the position in :func:`locations`, which is

1. all depots, in ``district.depots`` order, then
2. all facilities, in ``district.facilities`` order, then
3. all collection points, in ``district.points`` order.

Unloading (dump-and-continue)
-----------------------------
When a problem has ``unload`` set (by default: the district has facilities), a
truck empties at a facility when full and carries on; every route that
collected anything ends with an unload before the depot. A truck body holds one
mixed load, so the facility must accept every stream on board. The rule used
here is the simplest sound one: **a vehicle may unload only at facilities that
accept every stream it carries**, where "carries" means the streams it is
licensed for that occur among the day's points (a residual + recyclables truck
on a day with only residual points may use a residual-only site). A facility is
usable by a vehicle only if it is open at a time the vehicle can reach it from
its depot and still get back inside its shift. ``VehicleSpec.unload_at`` lists
the usable facilities. Without ``unload`` (no facilities: CVRP/VRPTW
benchmarks) the capacity bounds the whole route and nothing is unloaded.

Scaling
-------
OR-Tools works on integers. The section "Scaling" below is the only place where
floats become integers: times are rounded *up* to whole seconds (a plan is never
optimistic), distances to the nearest metre, demands *up* and capacities *down*
to whole kg and litres, and money to ``1 / COST_SCALE`` currency units.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import numpy as np

from core.domain import DAY_S, District, Stream, UnservedPoint
from core.errors import ValidationError

__all__ = [
    "COST_SCALE",
    "UNREACHABLE_M",
    "UNREACHABLE_S",
    "FacilitySpec",
    "Location",
    "LocationKind",
    "ObjectiveWeights",
    "RoutingProblem",
    "VehicleSpec",
    "WarmStart",
    "arc_cost_matrix",
    "build_problem",
    "diagnose",
    "duration_cost_per_s",
    "hhmm",
    "locations",
    "mandatory_penalty",
    "scale_cost",
    "unscale_cost",
]


# --------------------------------------------------------------------------- locations


class LocationKind(StrEnum):
    """What a location of a routing problem is."""

    DEPOT = "depot"
    FACILITY = "facility"
    POINT = "point"


@dataclass(frozen=True, slots=True)
class Location:
    """One row/column of the routing matrices.

    Attributes
    ----------
    id : str
        Id of the depot, facility or collection point.
    lat, lon : float
        Position (degrees, WGS84).
    kind : LocationKind
        Depot, facility or collection point.
    """

    id: str
    lat: float
    lon: float
    kind: LocationKind


def locations(district: District) -> list[Location]:
    """The locations of a district in routing order: depots, then facilities, then points.

    Parameters
    ----------
    district : District
        The district to plan.

    Returns
    -------
    list of Location
        ``locations(district)[i]`` is the location of matrix row and column ``i``.
    """
    out = [Location(d.id, d.lat, d.lon, LocationKind.DEPOT) for d in district.depots]
    out += [Location(f.id, f.lat, f.lon, LocationKind.FACILITY) for f in district.facilities]
    out += [Location(p.id, p.lat, p.lon, LocationKind.POINT) for p in district.points]
    return out


# --------------------------------------------------------------------------- scaling

COST_SCALE = 1000
"""Objective units per currency unit: a cost ``c`` reaches OR-Tools as ``round(c * COST_SCALE)``."""

UNREACHABLE_S = 10_000_000
"""Travel time (s) that stands for "no road path" (``inf`` in the input); far beyond any horizon."""

UNREACHABLE_M = 1_000_000_000
"""Distance (m) that stands for "no road path" (``inf`` in the input)."""

_EPS = 1e-6
"""Float noise ignored when rounding up or down (e.g. 100.0000001 kg -> 100 kg)."""


def scale_cost(cost: float) -> int:
    """Money (currency units) -> integer objective units."""
    return round(cost * COST_SCALE)


def unscale_cost(units: int) -> float:
    """Integer objective units -> money (currency units)."""
    return units / COST_SCALE


def _up(value: float) -> int:
    """Round up to an integer, ignoring float noise (demands, service and travel times)."""
    return math.ceil(value - _EPS)


def _down(value: float) -> int:
    """Round down to an integer, ignoring float noise (capacities, window ends)."""
    return math.floor(value + _EPS)


def _scale_time_matrix(time_s: np.ndarray) -> np.ndarray:
    """Float seconds -> int64 seconds rounded up; ``inf`` -> :data:`UNREACHABLE_S`."""
    finite = np.isfinite(time_s)
    out = np.full(time_s.shape, UNREACHABLE_S, dtype=np.int64)
    out[finite] = np.ceil(time_s[finite] - _EPS).clip(min=0).astype(np.int64)
    return out


def _scale_dist_matrix(dist_m: np.ndarray) -> np.ndarray:
    """Float metres -> int64 metres rounded to nearest; ``inf`` -> :data:`UNREACHABLE_M`."""
    finite = np.isfinite(dist_m)
    out = np.full(dist_m.shape, UNREACHABLE_M, dtype=np.int64)
    out[finite] = np.rint(dist_m[finite]).astype(np.int64)
    return out


@dataclass(frozen=True, slots=True)
class ObjectiveWeights:
    """How much each part of a plan's cost counts in the objective; validated on creation.

    Each weight multiplies a vehicle's own cost rate; the defaults give the plain
    money cost (fixed cost per vehicle used, cost per km and per hour driven),
    which is what :func:`routing.verify.plan_cost` recomputes.

    Attributes
    ----------
    vehicles : float
        Multiplies ``Vehicle.fixed_cost`` of every vehicle used (>= 0).
    distance : float
        Multiplies ``cost_per_km`` of every km driven (>= 0).
    travel_time : float
        Multiplies ``cost_per_hour`` of every hour driven (>= 0).
    duration : float
        Multiplies ``cost_per_hour`` of every hour from leaving the depot to
        returning, service, unloading, waiting and breaks included (>= 0).
        Charged per whole second, rounded to whole objective units per second.
    """

    vehicles: float = 1.0
    distance: float = 1.0
    travel_time: float = 1.0
    duration: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < 0:
                raise ValidationError(
                    "ObjectiveWeights", f.name, f"must be a finite number >= 0, got {value!r}"
                )
        if not any(getattr(self, f.name) for f in fields(self)):
            raise ValidationError("ObjectiveWeights", "vehicles", "at least one weight must be > 0")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectiveWeights:
        """Weights from a mapping of attribute names (a TOML table); unknown keys are rejected."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError("ObjectiveWeights", unknown[0], f"is unknown; known: {sorted(known)}")
        return cls(**data)


def arc_cost_matrix(
    problem: RoutingProblem, vehicle: int, weights: ObjectiveWeights | None = None
) -> np.ndarray:
    """Integer cost of driving each arc with one vehicle (objective units).

    ``round(COST_SCALE * (w_d * cost_per_km * km + w_t * cost_per_hour * hours))``
    from the problem's integer distance and travel-time matrices; service and
    waiting time are not costed here (see ``ObjectiveWeights.duration``).
    Unreachable arcs get a finite, very large cost (they are infeasible in the
    time dimension anyway).

    Parameters
    ----------
    problem : RoutingProblem
        The problem.
    vehicle : int
        Index into ``problem.vehicles``.
    weights : ObjectiveWeights, optional
        Weights of distance and travel time; default ``ObjectiveWeights()``.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of shape ``(n, n)``.
    """
    w = weights or ObjectiveWeights()
    v = problem.vehicles[vehicle]
    money = (w.distance * v.cost_per_km) * problem.dist_m / 1000.0 + (
        w.travel_time * v.cost_per_hour
    ) * problem.time_s / 3600.0
    return np.rint(money * COST_SCALE).astype(np.int64)


def duration_cost_per_s(
    problem: RoutingProblem, vehicle: int, weights: ObjectiveWeights | None = None
) -> int:
    """Objective units per second of route duration of one vehicle (``ObjectiveWeights.duration``)."""
    w = weights or ObjectiveWeights()
    return round(w.duration * problem.vehicles[vehicle].cost_per_hour * COST_SCALE / 3600.0)


def _cost_classes(problem: RoutingProblem) -> list[tuple[int, int]]:
    """``(first vehicle, number of vehicles)`` per distinct ``(cost_per_km, cost_per_hour)``."""
    classes: dict[tuple[float, float], list[int]] = {}
    for k, v in enumerate(problem.vehicles):
        classes.setdefault((v.cost_per_km, v.cost_per_hour), []).append(k)
    return [(ks[0], len(ks)) for ks in classes.values()]


def mandatory_penalty(problem: RoutingProblem, weights: ObjectiveWeights | None = None) -> int:
    """The penalty (objective units) for leaving a mandatory point unserved.

    Larger than the cost of any solution plus every optional penalty, so the
    solver always prefers serving one more mandatory point. Unreachable arcs are
    left out of the bound.

    Returns
    -------
    int
        ``1 + sum(weighted fixed costs) + arcs * sum(largest reachable arc cost per vehicle)
        + sum(duration costs over the horizon) + sum(optional penalties)``, where a
        route has at most ``points + 1`` arcs (``2 * points + 2`` with unload
        visits); capped so ``points * penalty`` fits in 62 bits.
    """
    w = weights or ObjectiveWeights()
    n_points = len(problem.points)
    arcs = 2 * n_points + 2 if problem.unload else n_points + 1
    reachable = problem.time_s < UNREACHABLE_S
    bound = 1 + sum(round(w.vehicles * v.fixed_cost) for v in problem.vehicles)
    for first, count in _cost_classes(problem):
        costs = arc_cost_matrix(problem, first, w)[reachable]
        bound += count * arcs * int(costs.max(initial=0))
    bound += sum(duration_cost_per_s(problem, k, w) * problem.horizon_s for k in range(len(problem.vehicles)))
    bound += sum(p for p in problem.penalty if p is not None)
    cap = (1 << 62) // (n_points + 1)
    if bound > cap:
        # TODO: core.errors.ScalingWarning (STYLE.md) does not exist yet; use it once it does.
        msg = (
            f"mandatory penalty capped at {cap} objective units (bound {bound}): costs are too large "
            "to guarantee that serving a mandatory point always beats any route cost"
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return int(min(bound, cap))


# --------------------------------------------------------------------------- problem


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """One vehicle of a :class:`RoutingProblem`, in integers (except the cost rates).

    Attributes
    ----------
    id : str
        Vehicle id.
    start, end : int
        Location index of the depot it leaves from and returns to.
    capacity_kg, capacity_l : int
        Capacity, rounded down (kg, litres).
    shift_start_s, shift_end_s : int
        Earliest departure and latest return (s since local midnight).
    route_limit_s : int
        Longest route from departure to return (s).
    fixed_cost : int
        Cost of using the vehicle at all (objective units, see :data:`COST_SCALE`).
    cost_per_km, cost_per_hour : float
        Driving cost rates (currency per km and per hour of travel); scaled in
        :func:`arc_cost_matrix`.
    streams : frozenset of Stream
        Streams the vehicle may collect.
    break_start_min_s, break_start_max_s : int
        Window in which the break must start (s since local midnight).
    break_s : int
        Break duration (s); 0 = no break.
    max_route_kg, max_route_l : int or None
        Most the route may collect over the whole day, all trips (kg, litres,
        rounded down); ``None`` = no limit beyond capacity per trip.
    max_stops : int or None
        Most collection stops on the route; ``None`` = no limit.
    unload_at : tuple of int
        Location indices of the facilities the vehicle may unload at (see the
        module docstring); empty when the problem does not unload.
    """

    id: str
    start: int
    end: int
    capacity_kg: int
    capacity_l: int
    shift_start_s: int
    shift_end_s: int
    route_limit_s: int
    fixed_cost: int
    cost_per_km: float
    cost_per_hour: float
    streams: frozenset[Stream]
    break_start_min_s: int = 0
    break_start_max_s: int = 0
    break_s: int = 0
    max_route_kg: int | None = None
    max_route_l: int | None = None
    max_stops: int | None = None
    unload_at: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FacilitySpec:
    """One facility of a :class:`RoutingProblem` (its opening and unload time are per location).

    Attributes
    ----------
    loc : int
        Location index.
    accepted_streams : frozenset of Stream
        Streams it accepts.
    bays : int
        Tipping bays: at most this many trucks unload at once.
    daily_capacity_kg : int or None
        Most kg all routes together may unload here in the day (rounded down);
        ``None`` = unlimited.
    """

    loc: int
    accepted_streams: frozenset[Stream]
    bays: int = 1
    daily_capacity_kg: int | None = None


@dataclass(frozen=True, slots=True)
class WarmStart:
    """A previous plan's routes to start from, and what changing them costs.

    Attributes
    ----------
    routes : tuple of tuple of int
        One per vehicle (problem order): the location indices visited between
        the depots (points and facilities), in order. Unknown or ruled-out
        points are skipped when the start is rebuilt.
    change_penalty : int
        Objective units charged for every point served by another vehicle than
        in ``routes`` (points new to the day cost nothing); >= 0.
    """

    routes: tuple[tuple[int, ...], ...]
    change_penalty: int = 0

    def __post_init__(self) -> None:
        if self.change_penalty < 0:
            raise ValidationError("WarmStart", "change_penalty", f"must be >= 0, got {self.change_penalty}")


_KIND_ORDER = {LocationKind.DEPOT: 0, LocationKind.FACILITY: 1, LocationKind.POINT: 2}


@dataclass(frozen=True, slots=True, eq=False)
class RoutingProblem:
    """An immutable, all-integer routing problem over :func:`locations` order.

    Per-location tuples have one entry per location; entries of depots are
    zero/empty, and facilities carry their unload time and opening hours (not
    visited by the minimal plan, kept for unload trips).

    Attributes
    ----------
    locations : tuple of Location
        Depots, facilities, points (see the module docstring).
    time_s : numpy.ndarray
        ``int64`` ``(n, n)`` travel times (s), read-only; :data:`UNREACHABLE_S` = no path.
    dist_m : numpy.ndarray
        ``int64`` ``(n, n)`` road distances (m), read-only; :data:`UNREACHABLE_M` = no path.
    demand_kg, demand_l : tuple of int
        Load picked up at each location, rounded up (kg, litres).
    service_s : tuple of int
        Time spent at each location (s).
    windows : tuple of tuple of (int, int)
        Inclusive ``(start_s, end_s)`` windows in which service must start, sorted
        and disjoint; empty means any time in the vehicle's shift.
    stream : tuple of (Stream or None)
        Stream of each point; ``None`` for depots and facilities.
    penalty : tuple of (int or None)
        Cost of leaving a point unserved (objective units); ``None`` = mandatory.
        Only the entries of points are used.
    allowed_vehicles : tuple of tuple of int
        Vehicle indices that may serve each point (the vehicle collects the
        point's stream). Empty = no vehicle may (unlike OR-Tools, where an
        empty list means all).
    vehicles : tuple of VehicleSpec
        The fleet, in ``district.vehicles`` order.
    horizon_s : int
        Upper bound of every time of day in the problem (s).
    unload : bool
        Dump-and-continue: capacities bound each trip, trucks unload at
        facilities and every route ends empty (see the module docstring).
    sites : tuple of FacilitySpec
        One per facility, in location order (may be empty when ``unload`` is off).
    stops : tuple of int
        Per location, the collection stops it counts as against ``max_stops``
        (several co-located points merged into one, see :mod:`routing.aggregate`);
        empty = 1 per point, 0 elsewhere.
    """

    locations: tuple[Location, ...]
    time_s: np.ndarray
    dist_m: np.ndarray
    demand_kg: tuple[int, ...]
    demand_l: tuple[int, ...]
    service_s: tuple[int, ...]
    windows: tuple[tuple[tuple[int, int], ...], ...]
    stream: tuple[Stream | None, ...]
    penalty: tuple[int | None, ...]
    allowed_vehicles: tuple[tuple[int, ...], ...]
    vehicles: tuple[VehicleSpec, ...]
    horizon_s: int = 2 * DAY_S
    unload: bool = False
    sites: tuple[FacilitySpec, ...] = ()
    stops: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        record = "RoutingProblem"
        n = len(self.locations)
        order = [_KIND_ORDER[loc.kind] for loc in self.locations]
        if order != sorted(order):
            raise ValidationError(record, "locations", "must list depots, then facilities, then points")
        for name in ("time_s", "dist_m"):
            matrix = np.array(getattr(self, name), dtype=np.int64, copy=True)
            if matrix.shape != (n, n):
                raise ValidationError(record, name, f"must have shape ({n}, {n}), got {matrix.shape}")
            if n and matrix.min() < 0:
                raise ValidationError(record, name, "must be >= 0")
            matrix.setflags(write=False)
            object.__setattr__(self, name, matrix)
        for name in (
            "demand_kg",
            "demand_l",
            "service_s",
            "windows",
            "stream",
            "penalty",
            "allowed_vehicles",
        ):
            if len(getattr(self, name)) != n:
                raise ValidationError(record, name, f"must have one entry per location ({n})")
        if self.stops and len(self.stops) != n:
            raise ValidationError(record, "stops", f"must be empty or have one entry per location ({n})")
        for name in ("demand_kg", "demand_l", "service_s", "stops"):
            if any(x < 0 for x in getattr(self, name)):
                raise ValidationError(record, name, "must be >= 0")
        for i, wins in enumerate(self.windows):
            prev_end = -1
            for start, end in wins:
                if not prev_end < start <= end <= self.horizon_s:
                    raise ValidationError(
                        record, f"windows[{i}]", f"must be sorted, disjoint and within [0, {self.horizon_s}]"
                    )
                prev_end = end
        nv = len(self.vehicles)
        for i, allowed in enumerate(self.allowed_vehicles):
            if any(not 0 <= k < nv for k in allowed):
                raise ValidationError(record, f"allowed_vehicles[{i}]", f"must index vehicles (0..{nv - 1})")
        for v in self.vehicles:
            for name in ("start", "end"):
                idx = getattr(v, name)
                if not (0 <= idx < n and self.locations[idx].kind == LocationKind.DEPOT):
                    msg = f"must index a depot, got {idx}"
                    raise ValidationError(f"{record} vehicle '{v.id}'", name, msg)
            if not 0 <= v.shift_start_s <= v.shift_end_s <= self.horizon_s:
                raise ValidationError(f"{record} vehicle '{v.id}'", "shift", "must lie within the horizon")
            if v.capacity_kg < 0 or v.capacity_l < 0 or v.route_limit_s < 0 or v.fixed_cost < 0:
                raise ValidationError(f"{record} vehicle '{v.id}'", "capacity", "values must be >= 0")
            if v.break_s < 0 or (v.break_s and not 0 <= v.break_start_min_s <= v.break_start_max_s):
                raise ValidationError(
                    f"{record} vehicle '{v.id}'", "break", "needs 0 <= start min <= start max"
                )
            facilities = self.facilities
            if any(f not in facilities for f in v.unload_at):
                raise ValidationError(f"{record} vehicle '{v.id}'", "unload_at", "must index facilities")
        if self.sites and [s.loc for s in self.sites] != list(self.facilities):
            raise ValidationError(record, "sites", "must hold one entry per facility, in location order")
        if self.unload and not self.sites and len(self.facilities):
            raise ValidationError(record, "sites", "must describe every facility when unload is on")
        if any(s.bays < 1 for s in self.sites):
            raise ValidationError(record, "sites", "bays must be >= 1")

    @property
    def depots(self) -> range:
        """Location indices of the depots."""
        return self._indices(LocationKind.DEPOT)

    @property
    def facilities(self) -> range:
        """Location indices of the facilities."""
        return self._indices(LocationKind.FACILITY)

    @property
    def points(self) -> range:
        """Location indices of the collection points."""
        return self._indices(LocationKind.POINT)

    def _indices(self, kind: LocationKind) -> range:
        idx = [i for i, loc in enumerate(self.locations) if loc.kind == kind]
        return range(idx[0], idx[-1] + 1) if idx else range(0)

    def index_of(self) -> dict[str, int]:
        """Map of location id -> location index."""
        return {loc.id: i for i, loc in enumerate(self.locations)}

    def site(self, loc: int) -> FacilitySpec:
        """The :class:`FacilitySpec` of facility location ``loc``."""
        return self.sites[loc - self.facilities.start]

    def stops_at(self, loc: int) -> int:
        """Collection stops location ``loc`` counts as (see ``stops``)."""
        if self.stops:
            return self.stops[loc]
        return 1 if self.locations[loc].kind == LocationKind.POINT else 0

    def serving_vehicles(self, point: int) -> tuple[int, ...]:
        """Vehicles that may serve ``point``: they collect its stream and, if it has a
        load and the problem unloads, have somewhere to unload it."""
        allowed = self.allowed_vehicles[point]
        if not self.unload or (self.demand_kg[point] == 0 and self.demand_l[point] == 0):
            return allowed
        return tuple(k for k in allowed if self.vehicles[k].unload_at)

    def carried_streams(self, vehicle: int) -> frozenset[Stream]:
        """Streams ``vehicle`` may collect that occur among the points (what its body may hold)."""
        present = {s for s in self.stream if s is not None}
        return self.vehicles[vehicle].streams & frozenset(present)


def _check_matrix(name: str, value: object, n: int, district: str) -> np.ndarray:
    """Validate one input matrix: shape, numbers, >= 0, zero diagonal; ``inf`` allowed."""
    record = "build_problem"
    try:
        matrix = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        msg = f"must be a numeric ({n}, {n}) array, got {type(value).__name__}"
        raise ValidationError(record, name, msg) from e
    if matrix.shape != (n, n):
        msg = (
            f"must have shape ({n}, {n}) (depots, facilities, points of district '{district}'), "
            f"got {matrix.shape}"
        )
        raise ValidationError(record, name, msg)
    if np.isnan(matrix).any():
        i, j = np.argwhere(np.isnan(matrix))[0]
        raise ValidationError(record, name, f"must not contain NaN (first at [{i}, {j}])")
    if (matrix < 0).any():
        i, j = np.argwhere(matrix < 0)[0]
        raise ValidationError(record, name, f"must be >= 0, got {matrix[i, j]} at [{i}, {j}]")
    diag = np.diagonal(matrix)
    if (diag != 0).any():
        i = int(np.flatnonzero(diag != 0)[0])
        raise ValidationError(record, name, f"must have a zero diagonal, got {diag[i]} at [{i}, {i}]")
    limit = UNREACHABLE_S if name == "time_s" else UNREACHABLE_M
    finite = matrix[np.isfinite(matrix)]
    if finite.size and finite.max() >= limit:
        raise ValidationError(record, name, f"finite values must be < {limit} (use inf for 'no road path')")
    return matrix


def _usable_sites(
    district: District, time_s: np.ndarray, n_depots: int, depot: int, vehicle: int
) -> tuple[int, ...]:
    """Location indices of the facilities ``vehicle`` may unload at (module docstring rule)."""
    v = district.vehicles[vehicle]
    present = {p.stream for p in district.points}
    carried = (v.streams & present) or v.streams
    out = []
    for j, f in enumerate(district.facilities):
        loc = n_depots + j
        if not carried <= f.accepted_streams:
            continue
        out_s, back_s = time_s[depot, loc], time_s[loc, depot]
        if not (np.isfinite(out_s) and np.isfinite(back_s)):
            continue
        arrive_first = v.shift.start_s + out_s
        if f.opening.end_s < arrive_first or max(arrive_first, f.opening.start_s) + f.unload_s + back_s > (
            v.shift.end_s
        ):
            continue
        out.append(loc)
    return tuple(out)


def build_problem(
    district: District, time_s: np.ndarray, dist_m: np.ndarray, *, unload: bool | None = None
) -> RoutingProblem:
    """Turn a district and its road matrices into an integer :class:`RoutingProblem`.

    Parameters
    ----------
    district : District
        Places, work and fleet.
    time_s : numpy.ndarray
        ``(n, n)`` travel times (s) in :func:`locations` order; ``inf`` = no road path.
    dist_m : numpy.ndarray
        ``(n, n)`` road distances (m) in the same order; ``inf`` = no road path.
    unload : bool, optional
        Dump-and-continue (see the module docstring); default: on when the
        district has facilities.

    Returns
    -------
    RoutingProblem
        Times rounded up to seconds, demands up and capacities down to whole
        kg/litres, money scaled by :data:`COST_SCALE`.

    Raises
    ------
    core.errors.ValidationError
        A matrix has the wrong shape, NaN or negative values, a non-zero diagonal
        or finite values too large to scale; or a window is shorter than a second.
    """
    locs = locations(district)
    n = len(locs)
    time_f = _check_matrix("time_s", time_s, n, district.name)
    dist_f = _check_matrix("dist_m", dist_m, n, district.name)

    n_fixed = len(district.depots) + len(district.facilities)
    demand_kg = [0] * n_fixed + [_up(p.expected_kg) for p in district.points]
    demand_l = [0] * n_fixed + [_up(p.expected_l) for p in district.points]
    service = [0] * len(district.depots) + [_up(f.unload_s) for f in district.facilities]
    service += [_up(p.service_s) for p in district.points]

    windows: list[tuple[tuple[int, int], ...]] = [() for _ in district.depots]
    windows += [((_up(f.opening.start_s), _down(f.opening.end_s)),) for f in district.facilities]
    for p in district.points:
        wins = tuple((_up(w.start_s), _down(w.end_s)) for w in p.time_windows)
        if any(end < start for start, end in wins):
            msg = "holds a window shorter than a second"
            raise ValidationError(f"CollectionPoint '{p.id}'", "time_windows", msg)
        windows.append(wins)

    streams: list[Stream | None] = [None] * n_fixed + [p.stream for p in district.points]
    penalty: list[int | None] = [None] * n_fixed
    penalty += [None if p.penalty is None else scale_cost(p.penalty) for p in district.points]

    unload = bool(district.facilities) if unload is None else bool(unload)
    depot_index = {d.id: i for i, d in enumerate(district.depots)}
    n_depots = len(district.depots)
    unload_at = [
        _usable_sites(district, time_f, n_depots, depot_index[v.depot_id], k) if unload else ()
        for k, v in enumerate(district.vehicles)
    ]
    vehicles = tuple(
        VehicleSpec(
            id=v.id,
            start=depot_index[v.depot_id],
            end=depot_index[v.depot_id],
            capacity_kg=_down(v.capacity_kg),
            capacity_l=_down(v.capacity_l),
            shift_start_s=_up(v.shift.start_s),
            shift_end_s=_down(v.shift.end_s),
            route_limit_s=_down(v.route_limit_s),
            fixed_cost=scale_cost(v.fixed_cost),
            cost_per_km=float(v.cost_per_km),
            cost_per_hour=float(v.cost_per_hour),
            streams=v.streams,
            break_start_min_s=_up(v.break_window.start_s) if v.break_duration_s else 0,
            break_start_max_s=_down(v.break_window.end_s) if v.break_duration_s else 0,
            break_s=_up(v.break_duration_s),
            max_route_kg=None if v.max_route_kg is None else _down(v.max_route_kg),
            max_route_l=None if v.max_route_l is None else _down(v.max_route_l),
            max_stops=None if v.max_stops is None else int(v.max_stops),
            unload_at=unload_at[k],
        )
        for k, v in enumerate(district.vehicles)
    )
    allowed: list[tuple[int, ...]] = [() for _ in district.depots]
    allowed += [
        tuple(k for k in range(len(district.vehicles)) if n_depots + j in unload_at[k])
        for j in range(len(district.facilities))
    ]
    allowed += [
        tuple(k for k, v in enumerate(district.vehicles) if p.stream in v.streams) for p in district.points
    ]

    return RoutingProblem(
        locations=tuple(locs),
        time_s=_scale_time_matrix(time_f),
        dist_m=_scale_dist_matrix(dist_f),
        demand_kg=tuple(demand_kg),
        demand_l=tuple(demand_l),
        service_s=tuple(service),
        windows=tuple(windows),
        stream=tuple(streams),
        penalty=tuple(penalty),
        allowed_vehicles=tuple(allowed),
        vehicles=vehicles,
        unload=unload,
        sites=tuple(
            FacilitySpec(
                loc=n_depots + j,
                accepted_streams=f.accepted_streams,
                bays=f.tipping_bays,
                daily_capacity_kg=None if math.isinf(f.daily_capacity_kg) else _down(f.daily_capacity_kg),
            )
            for j, f in enumerate(district.facilities)
        ),
    )


# --------------------------------------------------------------------------- diagnosis


def hhmm(t_s: int) -> str:
    """Seconds since midnight -> ``HH:MM:SS`` (``+1d`` past midnight)."""
    day, rest = divmod(int(t_s), DAY_S)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{text}+{day}d" if day else text


def _unload_after(problem: RoutingProblem, k: int, p: int, leave: int) -> tuple[int, int] | None:
    """``(return time, site)`` of the quickest final unload after leaving ``p`` at ``leave``; ``None`` if no
    usable site is still open when the vehicle gets there."""
    v = problem.vehicles[k]
    best: tuple[int, int] | None = None
    for f in v.unload_at:
        arrive = leave + int(problem.time_s[p, f])
        (open_s, close_s) = problem.windows[f][0] if problem.windows[f] else (0, problem.horizon_s)
        if arrive > close_s:
            continue
        back = max(arrive, open_s) + problem.service_s[f] + int(problem.time_s[f, v.end])
        if best is None or back < best[0]:
            best = (back, f)
    return best


def _single_visit_problem(problem: RoutingProblem, k: int, p: int) -> str | None:
    """Why vehicle ``k`` cannot serve point ``p`` alone on a route (time only); ``None`` if it can.

    Exact for a route depot -> p -> depot (depot -> p -> facility -> depot when
    the problem unloads and ``p`` has a load; breaks are ignored, so the check
    never rules out a point that could be served): for each window, leave the
    depot as late as is useful (no waiting unless forced by the shift start).
    """
    v = problem.vehicles[k]
    out, back = int(problem.time_s[v.start, p]), int(problem.time_s[p, v.end])
    name = f"vehicle '{v.id}'"
    if out >= UNREACHABLE_S or back >= UNREACHABLE_S:
        return f"no road path between {name}'s depot and the point"
    unloads = problem.unload and (problem.demand_kg[p] > 0 or problem.demand_l[p] > 0)
    wins = problem.windows[p] or ((0, problem.horizon_s),)
    service = problem.service_s[p]
    reasons = []
    for ws, we in wins:
        depart = max(v.shift_start_s, ws - out)
        start = max(depart + out, ws)
        end = start + service + back
        via = ""
        if unloads:
            found = _unload_after(problem, k, p, start + service)
            if found is None:
                if start <= we:
                    reasons.append(
                        f"cannot unload: {name} serving at {hhmm(start)} reaches every facility it may "
                        "unload at after it closes"
                    )
                    continue
            else:
                end, f = found
                via = f" and unloading at '{problem.locations[f].id}'"
        if start > we:
            reasons.append(
                f"time window unreachable: {name} leaving at {hhmm(depart)} arrives {hhmm(depart + out)}, "
                f"after the window end {hhmm(we)}"
            )
        elif end > v.shift_end_s:
            reasons.append(
                f"cannot return by shift end: {name} serving at {hhmm(start)}{via} is back at {hhmm(end)}, "
                f"after its shift end {hhmm(v.shift_end_s)}"
            )
        elif end - depart > v.route_limit_s:
            reasons.append(
                f"route duration limit: {name} needs {end - depart} s for this point alone{via}, "
                f"limit {v.route_limit_s} s"
            )
        else:
            return None
    # Explain with the last window: the one a vehicle is most likely to reach.
    return reasons[-1]


def _no_site_reason(problem: RoutingProblem, p: int) -> str:
    """Why none of the vehicles collecting ``p``'s stream has a facility to unload at."""
    stream = problem.stream[p]
    label = stream.value if stream is not None else "?"
    accepting = [s for s in problem.sites if stream in s.accepted_streams]
    if not accepting:
        return f"no facility accepts stream '{label}'"
    why = []
    for k in problem.allowed_vehicles[p]:
        v = problem.vehicles[k]
        carried = problem.carried_streams(k)
        if not any(carried <= s.accepted_streams for s in problem.sites):
            names = ", ".join(sorted(s.value for s in carried))
            why.append(f"'{v.id}' carries {names} and no facility accepts all of them")
        else:
            why.append(
                f"the facilities accepting what '{v.id}' carries are closed or unreachable in its shift"
            )
    return f"no open facility accepts stream '{label}' for the vehicles that serve it ({'; '.join(why)})"


def _capacity(v: VehicleSpec, dim: str, unload: bool) -> int:
    """Most one point's demand may be for ``v`` in dimension ``dim`` (per trip and per day)."""
    cap = v.capacity_kg if dim == "kg" else v.capacity_l
    day = v.max_route_kg if dim == "kg" else v.max_route_l
    return cap if day is None else min(cap, day)


def diagnose(problem: RoutingProblem) -> list[UnservedPoint]:
    """Points that no vehicle can serve, whatever the rest of the plan, and why.

    A point is ruled out when no vehicle may collect its stream; when the
    problem unloads and none of the vehicles that collect it has an open
    facility that accepts everything it carries; when its demand exceeds the
    capacity of every remaining vehicle (per trip and per day, per dimension,
    then both together); or when no remaining vehicle can drive depot -> point
    (-> facility) -> depot within its shift, the point's windows, the
    facility's opening hours and its route limit.

    Parameters
    ----------
    problem : RoutingProblem
        The problem to check.

    Returns
    -------
    list of UnservedPoint
        One entry per ruled-out point, in location order; reasons joined by ``"; "``.
    """
    out = []
    for p in problem.points:
        loc = problem.locations[p]
        if not problem.allowed_vehicles[p]:
            fleet = sorted({s.value for v in problem.vehicles for s in v.streams})
            stream = problem.stream[p]
            label = stream.value if stream is not None else "?"
            reason = f"no vehicle may serve stream '{label}' (fleet serves: {', '.join(fleet)})"
            out.append(UnservedPoint(loc.id, reason))
            continue
        allowed = problem.serving_vehicles(p)
        if not allowed:
            out.append(UnservedPoint(loc.id, _no_site_reason(problem, p)))
            continue
        reasons = []
        kg, litres = problem.demand_kg[p], problem.demand_l[p]
        vs = problem.vehicles
        fit_kg = [k for k in allowed if _capacity(vs[k], "kg", problem.unload) >= kg]
        fit_l = [k for k in allowed if _capacity(vs[k], "l", problem.unload) >= litres]
        if not fit_kg:
            largest = max(_capacity(vs[k], "kg", problem.unload) for k in allowed)
            reasons.append(f"demand {kg} kg above every compatible vehicle's capacity (largest {largest} kg)")
        if not fit_l:
            largest = max(_capacity(vs[k], "l", problem.unload) for k in allowed)
            reasons.append(
                f"demand {litres} l above every compatible vehicle's capacity (largest {largest} l)"
            )
        fit = [k for k in fit_kg if k in fit_l]
        if fit_kg and fit_l and not fit:
            reasons.append(f"no compatible vehicle carries both {kg} kg and {litres} l")
        if not reasons:
            why = [_single_visit_problem(problem, k, p) for k in fit]
            if all(w is not None for w in why):
                first = why[0]
                more = f" (and {len(why) - 1} more compatible vehicles)" if len(why) > 1 else ""
                reasons.append(f"{first}{more}")
        if reasons:
            out.append(UnservedPoint(loc.id, "; ".join(reasons)))
    return out
