"""The capacitated arc-routing problem (CARP) and its solution, independent of OSM and of CARP files.

Street sweeping, washing, gritting and kerbside work serve *streets*, not
points. An :class:`ArcProblem` describes such work on a graph of integer nodes
``0 .. n-1`` (road intersections, or CARP vertices):

- the **deadhead matrices** ``dist`` and ``time_s``: shortest-path distance
  and time between every pair of nodes when driving without working, computed
  by the caller (road network, Floyd-Warshall, ...); ``inf`` = no path;
- the **tasks** (:class:`ArcTask`): the required street pieces, each from a
  tail node to a head node, with the cost and time of serving it, its demand
  per dimension and a direction rule (``forward``: served only tail -> head, a
  one-way street or one kerb side; ``either``: served once in whichever
  direction suits the route; "both sides" of a two-way street = two
  ``forward`` tasks, one per direction);
- the **vehicles** (:class:`ArcVehicle`) with depot, capacity per dimension,
  shift, optional break and cost rates;
- the **intermediate facilities** (:class:`ArcFacility`): nodes where a
  vehicle resets some dimensions to zero and carries on (a transfer station
  empties the debris hopper; a water point refills the tank).

Units
-----
*Distance* is in the caller's unit: metres on a road network, the instance's
cost unit for CARP files. *Times* are seconds; times of day are seconds since
local midnight and may run past midnight (a night window 22:00-06:00 is
``(79200, 108000)``), up to :attr:`ArcProblem.horizon_s`. Money (fixed costs,
penalties) is in currency units; driving costs ``cost_per_distance`` per
distance unit.

Dimensions
----------
A dimension is a name such as ``"debris_kg"`` or ``"water_l"`` (CARP files have
one, :data:`CARP_DIMENSION`). A task's demand is what serving it *adds* to the
vehicle's dimension: debris picked up, water used. The amount on a vehicle
since its last reset must never exceed its capacity: a water tank of 8000 l
is a capacity of 8000 on ``"water_l"`` (the litres used since the last
refill). A facility visit resets the dimensions it lists to 0. Dimensions in
:attr:`ArcProblem.end_empty` must be 0 when a route ends (the hopper is
emptied before the sweeper returns to its depot); a vehicle without a
capacity for a dimension does not track it (unlimited).

Objective
---------
The solver minimises, over the vehicles used, ``fixed_cost + cost_per_distance
* (service cost of the served tasks + deadhead distance) + cost_per_hour *
route duration (h)`` plus the penalties of optional tasks left out. For CARP
(``cost_per_distance = 1``, no fixed cost) this is the classic total cost:
serviced edges plus deadheading.

:mod:`routing.arc_solve` turns an :class:`ArcProblem` into an OR-Tools model
and returns an :class:`ArcSolution`. The deadhead *paths* (node sequences) are
not part of the solution: the caller has the graph and rebuilds them from the
``from_node``/``to_node`` of consecutive visits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from core.domain import DAY_S
from core.errors import ValidationError

__all__ = [
    "CARP_DIMENSION",
    "ArcFacility",
    "ArcProblem",
    "ArcRoute",
    "ArcSolution",
    "ArcTask",
    "ArcVehicle",
    "ArcVisit",
    "Direction",
    "UnservedTask",
    "VisitKind",
]

CARP_DIMENSION = "demand"
"""The single demand dimension of CARP benchmark instances."""


class Direction(StrEnum):
    """How a task may be served."""

    FORWARD = "forward"
    """Only from ``tail`` to ``head`` (a one-way street, or one kerb side)."""
    EITHER = "either"
    """Once, in whichever direction suits the route (tail -> head or head -> tail)."""


def _finite_nonneg(record: str, name: str, value: object) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0:  # type: ignore[operator]
        raise ValidationError(record, name, f"must be a finite number >= 0, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _check_amounts(record: str, name: str, amounts: Mapping[str, float]) -> None:
    if not isinstance(amounts, Mapping):
        raise ValidationError(record, name, f"must be a mapping of dimension -> amount, got {amounts!r}")
    for dim, amount in amounts.items():
        if not isinstance(dim, str) or not dim:
            raise ValidationError(record, name, f"dimension names must be non-empty strings, got {dim!r}")
        _finite_nonneg(record, f"{name}[{dim!r}]", amount)


def _check_windows(record: str, name: str, windows: tuple[tuple[float, float], ...], horizon: float) -> None:
    prev_end = -math.inf
    for w in windows:
        if len(w) != 2:
            raise ValidationError(record, name, f"must hold (start_s, end_s) pairs, got {w!r}")
        start, end = w
        if not (prev_end < start <= end <= horizon and start >= 0):
            msg = f"must be sorted, disjoint (start <= end) and within [0, {horizon}] s, got {windows!r}"
            raise ValidationError(record, name, msg)
        prev_end = end


@dataclass(frozen=True, slots=True)
class ArcTask:
    """One required piece of street (a CARP required edge, a kerb side, a street to wash).

    Attributes
    ----------
    id : str
        Unique task id.
    tail, head : int
        Node indices; a ``forward`` task is served from ``tail`` to ``head``.
    service_cost : float
        Distance driven while serving it (distance unit; for CARP the edge cost).
    service_s : float
        Time to serve it (s): its length over the vehicle's working speed.
    demand : Mapping of str to float
        What serving it adds per dimension (e.g. ``{"debris_kg": 12.5}``); >= 0.
    direction : Direction
        ``forward`` or ``either``.
    windows : tuple of (float, float)
        Sorted, disjoint ``(start_s, end_s)`` windows in which its service must
        *start* (s since midnight, may pass midnight); empty = any time in the
        shift. Night-only sweeping is ``((79200, 108000),)``.
    penalty : float or None
        Cost of leaving it unserved (currency); ``None`` = must be served.
    vehicles : frozenset of str or None
        Ids of the vehicles that may serve it; ``None`` = any vehicle.
    """

    id: str
    tail: int
    head: int
    service_cost: float
    service_s: float = 0.0
    demand: Mapping[str, float] = field(default_factory=dict)
    direction: Direction = Direction.FORWARD
    windows: tuple[tuple[float, float], ...] = ()
    penalty: float | None = None
    vehicles: frozenset[str] | None = None

    def __post_init__(self) -> None:
        record = f"ArcTask '{self.id}'"
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError("ArcTask", "id", f"must be a non-empty string, got {self.id!r}")
        for name in ("tail", "head"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValidationError(record, name, f"must be a node index >= 0, got {value!r}")
        _finite_nonneg(record, "service_cost", self.service_cost)
        _finite_nonneg(record, "service_s", self.service_s)
        _check_amounts(record, "demand", self.demand)
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError as e:
            raise ValidationError(
                record, "direction", f"must be 'forward' or 'either', got {self.direction!r}"
            ) from e
        object.__setattr__(self, "windows", tuple(tuple(w) for w in self.windows))
        _check_windows(record, "windows", self.windows, 2 * DAY_S)
        if self.penalty is not None:
            _finite_nonneg(record, "penalty", self.penalty)
        if self.vehicles is not None:
            object.__setattr__(self, "vehicles", frozenset(self.vehicles))

    def directions(self) -> tuple[tuple[int, int], ...]:
        """The ``(from_node, to_node)`` ways it may be served: one for ``forward``, two for ``either``."""
        if self.direction == Direction.EITHER and self.tail != self.head:
            return ((self.tail, self.head), (self.head, self.tail))
        return ((self.tail, self.head),)


@dataclass(frozen=True, slots=True)
class ArcVehicle:
    """One sweeper, washer or CARP vehicle.

    Attributes
    ----------
    id : str
        Unique vehicle id.
    start : int
        Depot node it leaves from.
    end : int or None
        Node it returns to; ``None`` = ``start``.
    capacity : Mapping of str to float
        Most it may hold per dimension between resets (kg of debris, litres of
        water used, CARP capacity Q); a dimension not listed is not tracked.
    shift_start_s, shift_end_s : float
        Earliest departure and latest return (s since midnight).
    break_s : float
        Break duration (s); 0 = no break.
    break_start_min_s, break_start_max_s : float
        Window in which the break must start (s since midnight).
    cost_per_distance : float
        Cost per distance unit driven, serving or deadheading (currency).
    fixed_cost : float
        Cost of using it at all (currency).
    cost_per_hour : float
        Cost per hour from leaving the depot to returning (currency): serving,
        deadheading, facility visits, waiting and the break all count, so a
        needless dump or refill costs its service time. 0 = distance only.
    """

    id: str
    start: int
    end: int | None = None
    capacity: Mapping[str, float] = field(default_factory=dict)
    shift_start_s: float = 0.0
    shift_end_s: float = float(DAY_S)
    break_s: float = 0.0
    break_start_min_s: float = 0.0
    break_start_max_s: float = 0.0
    cost_per_distance: float = 1.0
    fixed_cost: float = 0.0
    cost_per_hour: float = 0.0

    def __post_init__(self) -> None:
        record = f"ArcVehicle '{self.id}'"
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError("ArcVehicle", "id", f"must be a non-empty string, got {self.id!r}")
        if self.end is None:
            object.__setattr__(self, "end", self.start)
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValidationError(record, name, f"must be a node index >= 0, got {value!r}")
        _check_amounts(record, "capacity", self.capacity)
        for name in (
            "shift_start_s",
            "shift_end_s",
            "break_s",
            "break_start_min_s",
            "break_start_max_s",
            "cost_per_distance",
            "fixed_cost",
            "cost_per_hour",
        ):
            _finite_nonneg(record, name, getattr(self, name))
        if not self.shift_start_s <= self.shift_end_s <= 2 * DAY_S:
            span = f"{self.shift_start_s}..{self.shift_end_s}"
            msg = f"needs shift_start_s <= shift_end_s <= {2 * DAY_S}, got {span}"
            raise ValidationError(record, "shift_end_s", msg)
        if self.break_s and not self.break_start_min_s <= self.break_start_max_s:
            raise ValidationError(record, "break_start_max_s", "must be >= break_start_min_s")

    @property
    def end_node(self) -> int:
        """The node it returns to (``end``, never ``None`` after validation)."""
        return self.start if self.end is None else self.end


@dataclass(frozen=True, slots=True)
class ArcFacility:
    """A place where vehicles reset dimensions and carry on (dump debris, refill water).

    Attributes
    ----------
    id : str
        Unique facility id.
    node : int
        Its node.
    resets : frozenset of str
        Dimensions a visit sets back to 0 (e.g. ``{"debris_kg"}``, ``{"water_l"}``).
    service_s : float
        Time a visit takes (s).
    windows : tuple of (float, float)
        Opening hours (windows for the visit start, s since midnight); empty = always.
    vehicles : frozenset of str or None
        Ids of the vehicles that may use it; ``None`` = any vehicle.
    """

    id: str
    node: int
    resets: frozenset[str]
    service_s: float = 0.0
    windows: tuple[tuple[float, float], ...] = ()
    vehicles: frozenset[str] | None = None

    def __post_init__(self) -> None:
        record = f"ArcFacility '{self.id}'"
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError("ArcFacility", "id", f"must be a non-empty string, got {self.id!r}")
        if isinstance(self.node, bool) or not isinstance(self.node, int | np.integer) or self.node < 0:
            raise ValidationError(record, "node", f"must be a node index >= 0, got {self.node!r}")
        object.__setattr__(self, "resets", frozenset(self.resets))
        if not self.resets or not all(isinstance(d, str) and d for d in self.resets):
            raise ValidationError(record, "resets", "must name at least one dimension")
        _finite_nonneg(record, "service_s", self.service_s)
        object.__setattr__(self, "windows", tuple(tuple(w) for w in self.windows))
        _check_windows(record, "windows", self.windows, 2 * DAY_S)
        if self.vehicles is not None:
            object.__setattr__(self, "vehicles", frozenset(self.vehicles))


def _matrix(record: str, name: str, value: object, n: int | None) -> np.ndarray:
    try:
        m = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as e:
        raise ValidationError(
            record, name, f"must be a numeric square array, got {type(value).__name__}"
        ) from e
    if m.ndim != 2 or m.shape[0] != m.shape[1] or (n is not None and m.shape[0] != n):
        want = "a square array" if n is None else f"shape ({n}, {n})"
        raise ValidationError(record, name, f"must have {want}, got {m.shape}")
    if np.isnan(m).any():
        i, j = np.argwhere(np.isnan(m))[0]
        raise ValidationError(record, name, f"must not contain NaN (first at [{i}, {j}])")
    if (m < 0).any():
        i, j = np.argwhere(m < 0)[0]
        raise ValidationError(record, name, f"must be >= 0, got {m[i, j]} at [{i}, {j}]")
    m.setflags(write=False)
    return m


@dataclass(frozen=True, slots=True, eq=False)
class ArcProblem:
    """A capacitated arc-routing problem (see the module docstring for units and rules).

    Attributes
    ----------
    dist : numpy.ndarray
        ``(n, n)`` deadhead (shortest-path) distances between nodes (distance
        unit); ``inf`` = no path. Read-only float64 copy.
    time_s : numpy.ndarray
        ``(n, n)`` deadhead travel times (s); ``inf`` = no path. Read-only.
    tasks : tuple of ArcTask
        The required work; ids unique.
    vehicles : tuple of ArcVehicle
        The fleet; ids unique.
    facilities : tuple of ArcFacility
        Reset points (dump / refill); ids unique. Empty = capacity bounds the
        whole route.
    end_empty : frozenset of str
        Dimensions that must be 0 when a route ends (only meaningful when some
        facility resets them).
    coords : tuple of (float, float) or None
        ``(lat, lon)`` per node (degrees, WGS84), for maps; ``None`` = unknown.
    name : str
        Instance or district name.
    """

    dist: np.ndarray
    time_s: np.ndarray
    tasks: tuple[ArcTask, ...]
    vehicles: tuple[ArcVehicle, ...]
    facilities: tuple[ArcFacility, ...] = ()
    end_empty: frozenset[str] = frozenset()
    coords: tuple[tuple[float, float], ...] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        record = f"ArcProblem '{self.name}'"
        dist = _matrix(record, "dist", self.dist, None)
        n = dist.shape[0]
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "time_s", _matrix(record, "time_s", self.time_s, n))
        for name in ("tasks", "vehicles", "facilities"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "end_empty", frozenset(self.end_empty))
        if not self.vehicles:
            raise ValidationError(record, "vehicles", "must hold at least one vehicle")
        for name in ("tasks", "vehicles", "facilities"):
            seen: set[str] = set()
            for item in getattr(self, name):
                if item.id in seen:
                    raise ValidationError(record, name, f"id '{item.id}' appears twice")
                seen.add(item.id)
        vehicle_ids = {v.id for v in self.vehicles}
        for t in self.tasks:
            for node_name in ("tail", "head"):
                if getattr(t, node_name) >= n:
                    raise ValidationError(f"ArcTask '{t.id}'", node_name, f"must be a node < {n}")
            if t.vehicles is not None and not t.vehicles <= vehicle_ids:
                unknown = sorted(t.vehicles - vehicle_ids)
                raise ValidationError(f"ArcTask '{t.id}'", "vehicles", f"names unknown vehicles {unknown}")
        for v in self.vehicles:
            for node_name in ("start", "end"):
                if getattr(v, node_name) >= n:
                    raise ValidationError(f"ArcVehicle '{v.id}'", node_name, f"must be a node < {n}")
        for f in self.facilities:
            if f.node >= n:
                raise ValidationError(f"ArcFacility '{f.id}'", "node", f"must be a node < {n}")
            if f.vehicles is not None and not f.vehicles <= vehicle_ids:
                unknown = sorted(f.vehicles - vehicle_ids)
                raise ValidationError(
                    f"ArcFacility '{f.id}'", "vehicles", f"names unknown vehicles {unknown}"
                )
        if self.coords is not None:
            object.__setattr__(self, "coords", tuple((float(a), float(b)) for a, b in self.coords))
            if len(self.coords) != n:
                raise ValidationError(record, "coords", f"must hold one (lat, lon) per node ({n})")

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.dist.shape[0])

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Every dimension named by a demand, a capacity or a facility, sorted."""
        dims = {d for t in self.tasks for d in t.demand}
        dims |= {d for v in self.vehicles for d in v.capacity}
        dims |= {d for f in self.facilities for d in f.resets}
        return tuple(sorted(dims))

    def task_index(self) -> dict[str, int]:
        """Map of task id -> position in :attr:`tasks`."""
        return {t.id: i for i, t in enumerate(self.tasks)}

    @property
    def penalty(self) -> tuple[float | None, ...]:
        """Each task's penalty, aligned with :attr:`tasks` (``None`` = mandatory).

        :func:`routing.search.rank` reads it to count the mandatory tasks a result left out.
        """
        return tuple(t.penalty for t in self.tasks)

    def lower_bound(self) -> float:
        """Sum of the service costs of the mandatory tasks (distance unit): no solution drives less."""
        return float(sum(t.service_cost for t in self.tasks if t.penalty is None))


# --------------------------------------------------------------------------- solution


class VisitKind(StrEnum):
    """What a visit of an :class:`ArcRoute` is."""

    SERVICE = "service"
    FACILITY = "facility"


@dataclass(frozen=True, slots=True)
class ArcVisit:
    """One step of a route: serving a task in one direction, or a facility visit.

    Attributes
    ----------
    kind : VisitKind
        ``service`` or ``facility``.
    id : str
        Task id (service) or facility id (facility).
    from_node, to_node : int
        Where the work starts and ends: the direction actually used for a
        service (``tail, head`` or ``head, tail``); the facility node twice.
    deadhead_dist : float
        Deadhead distance from the previous position (depot or previous
        visit's ``to_node``) to ``from_node`` (distance unit).
    arrive_s : float
        Arrival at ``from_node`` (s since midnight).
    start_s, end_s : float
        Service (or facility visit) start and end (s); waiting is ``start_s - arrive_s``.
    load : Mapping of str to float
        Amount on board per tracked dimension after the visit (0 after a reset).
    """

    kind: VisitKind
    id: str
    from_node: int
    to_node: int
    deadhead_dist: float
    arrive_s: float
    start_s: float
    end_s: float
    load: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArcRoute:
    """One vehicle's work for the day (an unused vehicle has no visits).

    Attributes
    ----------
    vehicle_id : str
        The vehicle.
    visits : tuple of ArcVisit
        In order.
    start_s, end_s : float
        Departure from and return to the depot (s since midnight).
    service_dist, deadhead_dist : float
        Distance driven serving and deadheading, return to the depot included (distance unit).
    breaks : tuple of (float, float)
        ``(start_s, duration_s)`` of its break, if any.
    """

    vehicle_id: str
    visits: tuple[ArcVisit, ...]
    start_s: float
    end_s: float
    service_dist: float
    deadhead_dist: float
    breaks: tuple[tuple[float, float], ...] = ()

    @property
    def services(self) -> tuple[ArcVisit, ...]:
        """The service visits only."""
        return tuple(v for v in self.visits if v.kind == VisitKind.SERVICE)

    @property
    def distance(self) -> float:
        """Total distance driven (service + deadhead)."""
        return self.service_dist + self.deadhead_dist

    @property
    def used(self) -> bool:
        """Whether the vehicle does anything."""
        return bool(self.visits)


@dataclass(frozen=True, slots=True)
class UnservedTask:
    """A task left out of a solution and why (capacity, window, time, no vehicle, ...)."""

    task_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ArcSolution:
    """The solver's answer to an :class:`ArcProblem`.

    Attributes
    ----------
    routes : tuple of ArcRoute
        One per vehicle, in problem order.
    unserved : tuple of UnservedTask
        Tasks left out, with reasons.
    cost : float
        Objective (currency): fixed costs of used vehicles + cost per distance
        * distance + cost per hour * route duration + penalties of unserved
        optional tasks.
    status : str
        Search status (OR-Tools' name in lower case, e.g. ``"success"``).
    wall_time_s : float
        Time spent solving (s).
    """

    routes: tuple[ArcRoute, ...]
    unserved: tuple[UnservedTask, ...]
    cost: float
    status: str = ""
    wall_time_s: float = 0.0

    @property
    def distance(self) -> float:
        """Total distance of all routes (service + deadhead; for CARP, the classic cost)."""
        return sum(r.distance for r in self.routes)

    @property
    def vehicles_used(self) -> int:
        """Number of routes with at least one visit."""
        return sum(1 for r in self.routes if r.used)

    def served_ids(self) -> set[str]:
        """Ids of the tasks served."""
        return {v.id for r in self.routes for v in r.services}
