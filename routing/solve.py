"""RoutingProblem + SolveParams -> OR-Tools -> :class:`RawAssignment`.

The only module in wastefleet that imports OR-Tools. It builds the solver
model from a :class:`routing.model.RoutingProblem` (all scaling already done
there), runs the search and reads the routes back as location indices.

Solver model
------------
- Nodes: the depots vehicles use, every point :func:`routing.model.diagnose`
  did not rule out and, when the problem unloads, a bounded number of *copies*
  of each facility (:func:`unload_copies`): one node per possible unload visit.
- Arc cost per vehicle: :func:`routing.model.arc_cost_matrix` with the
  :class:`routing.model.ObjectiveWeights` (one matrix per distinct pair of
  rates), weighted fixed cost per vehicle used, and a span cost on the time
  dimension for ``ObjectiveWeights.duration``.
- Dimension ``time``: transit = service (unload time at facilities) at the
  origin + travel; slack (waiting) allowed; the cumul at a node is its service
  start. Shift window on every start/end cumul, route limit as span upper
  bound, point windows and facility opening hours as ``SetRange`` plus
  ``RemoveInterval`` for gaps. The lunch break is a real OR-Tools break
  interval per vehicle (``SetBreakIntervalsOfVehicle``, visit transits =
  service and unload times), so it may interrupt a leg or a wait, never a visit.
- Dimensions ``kg`` and ``l`` (load on board): demand at points; when the
  problem unloads, a facility copy has transit ``-max capacity`` and a slack of
  up to that much, so the load after it can drop to zero (points and depots get
  no slack), and every route's end cumul is fixed to 0: the last visit of a
  route that collected anything is an unload. The plan reads an unload as a
  full emptying (which can only lower later loads).
- Day limits: dimensions ``route_kg``, ``route_l`` (collected, never reset) and
  ``stops`` (collection stops), added only when a vehicle has such a limit.
- Facility capacity across routes: per facility, a ``Cumulative`` over the
  optional unload intervals ``[start, start + unload_s)`` of its copies (one bay
  each, capacity = tipping bays), and ``sum(load on arrival) <= daily tonnage``
  over its copies; each added only when it can bind.
- Vehicle-stream compatibility (and, for copies, the unload rule of
  :mod:`routing.model`) as a hard constraint on the node's vehicle.
- Every point is in a one-node disjunction: optional points with their penalty,
  mandatory ones with :func:`routing.model.mandatory_penalty`; copies are free
  to leave out. The solver always returns a plan; leftovers are reported.
- Warm start: a per-vehicle ``change`` dimension counting the points the
  previous plan gave to another vehicle, with a span cost of the change penalty.

Search
------
The first solution of a dump-and-continue model comes from
:mod:`routing.construct` (OR-Tools' own strategies insert one node at a time
and cannot open a trip): ``cluster`` builds it directly; ``savings``,
``parallel_cheapest_insertion`` and ``path_cheapest_arc`` run OR-Tools on a
relaxed model without unloads (capacity per day, service times inflated by the
expected unload overhead) and split its routes into trips
(:func:`routing.construct.split_routes`). The routes are read into the full
model (``ReadAssignmentFromRoutes``) and improved by the metaheuristic. With
``workers > 1`` differently configured searches run in parallel processes on
the pickled problem and the best result is kept (:mod:`routing.search`).

Plain node routing (:func:`routing.rr_start.applies`: no unloads, no breaks, one window per point,
every point mandatory, one arc-cost matrix for the fleet), and dump-and-continue with independent
routes (its trip mode, :mod:`routing.rr_trips`), starts instead from the ruin-and-recreate
search of :mod:`routing.rr_start` (SISR in Numba) for :data:`RR_SHARE` of the time, seed
``SolveParams.seed + worker``; OR-Tools continues from its routes for the rest.

When vehicles have a fixed cost, small routes of the start are emptied into
the others where every point still fits (:func:`routing.fleet.shrink`) and our
own starts are built with both angular and urgent (earliest deadline) seeds,
the cheapest kept. With ``reduce_fleet="always"`` the first local search gets a
share of the time (:data:`FIRST_SHARE`); then the *fleet phase* empties the
smallest route into the others (cheapest feasible insertion) in a model without
that vehicle and keeps the result if it is better, as long as time allows
(:func:`_reduce_fleet`); the rest of the time improves the best fleet.

From :data:`DECOMPOSE_FROM` points, when routes share no facility limit, the
whole-plan model is not searched: groups of :data:`GROUP_SIZE` neighbouring
routes (by angle around the depot, :mod:`routing.decompose`) are improved one
at a time in small models with the rest fixed, round after round, and the plan
is timed group by group (:func:`_decompose`, :func:`_assemble`). With fixed
vehicle costs each group is also tried with one vehicle fewer
(:func:`_shrink_group`); when a group size stops paying the groups grow by one
route, up to :data:`GROUP_MAX_SIZE`.

Before any of this, co-located interchangeable points (same place, stream,
vehicles and windows; mandatory) are merged into one stop each
(:mod:`routing.aggregate`, ``SolveParams.group_colocated``): the search runs on
the smaller problem and the result is expanded back, every point listed.
"""

from __future__ import annotations

import logging
import math
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from core.errors import InfeasiblePlanError, ValidationError
from routing import rr_start
from routing.aggregate import Grouping, group_colocated
from routing.construct import Construction, cluster_routes, split_routes
from routing.decompose import independent_routes, route_groups
from routing.fleet import plan_cost, reinsert, removal_order, shrink
from routing.model import (
    ObjectiveWeights,
    RoutingProblem,
    WarmStart,
    arc_cost_matrix,
    diagnose,
    duration_cost_per_s,
    mandatory_penalty,
    unscale_cost,
)
from routing.search import Job, Report, run_parallel, throttled

__all__ = [
    "DECOMPOSE",
    "FIRST_SOLUTIONS",
    "METAHEURISTICS",
    "REASON_NO_FIT",
    "REDUCE_FLEET",
    "RawAssignment",
    "SolveParams",
    "run_job",
    "solve",
    "unload_copies",
]

logger = logging.getLogger(__name__)

FIRST_SOLUTIONS = ("auto", "cluster", "sweep", "parallel_cheapest_insertion", "savings", "path_cheapest_arc")
"""Accepted ``SolveParams.first_solution`` values. ``cluster`` and ``sweep`` are
:func:`routing.construct.cluster_routes` (sweep-and-grow; ``sweep`` keeps routes to angular sectors
more strictly); the others are OR-Tools ``FirstSolutionStrategy`` names in lower case; ``auto``
picks ``cluster`` when the problem unloads or has more than :data:`LARGE` points, else
``parallel_cheapest_insertion``."""

OWN_STARTS = {"cluster": (1.0, 0.5), "sweep": (3.0, 2.0)}
"""Our constructive starts and the ``turn_factor`` values they try, in order
(:func:`routing.construct.cluster_routes`; each also with ``urgent`` seeds)."""

METAHEURISTICS = ("guided_local_search", "simulated_annealing", "tabu_search", "greedy_descent", "automatic")
"""Accepted ``SolveParams.metaheuristic`` values (OR-Tools ``LocalSearchMetaheuristic``, lower case)."""

LARGE = 1000
"""Points from which ``auto`` starts from the cluster construction (OR-Tools' insertion gets slow)."""

REDUCE_FLEET = ("auto", "start", "always", "never")
"""Accepted ``SolveParams.reduce_fleet`` values: ``start`` empties small routes of the constructed
start into the others (:func:`routing.fleet.shrink`), ``always`` also runs the fleet phase after the
first local search (:func:`_reduce_fleet`), ``never`` does neither; ``auto`` is :data:`AUTO_FLEET`
when vehicles have a fixed cost in the objective (fewer vehicles is then always cheaper), else
``never``."""

AUTO_FLEET = "start"
"""What ``reduce_fleet="auto"`` does on a problem with fixed vehicle costs."""

DECOMPOSE = ("auto", "always", "never")
"""Accepted ``SolveParams.decompose`` values: ``auto`` decomposes from :data:`DECOMPOSE_FROM` points,
``always`` whenever possible (own start, independent routes, more routes than a group), ``never``
not at all."""

DECOMPOSE_FROM = 500
"""Points (after co-located points are merged, :mod:`routing.aggregate`) from which the search
improves groups of neighbouring routes (:func:`_decompose`) instead of the whole plan, when it starts
from our own routes and routes are independent (:func:`routing.decompose.independent_routes`); below
:data:`LARGE` only worker 0 decomposes, so two workers try both. Measured (2 shared cores, noisy,
60 s, one worker): WCVRPTW 804 unmerged (784 points) 706 vs 808 miles decomposed; merged 1351 (545
stops) 961 vs 1034 decomposed, merged 804 (595 stops) 705 vs 654 decomposed; 444 (442 points) was
worse decomposed with two workers (80-83 vs 79 miles at 30 s), hence the threshold above it."""

GROUP_SIZE = 3
"""Routes per decomposition group at first."""

GROUP_MAX_SIZE = 6
"""Routes per group the decomposition grows to (one more each time a size stops paying)."""

GROUP_MAX_S = 20.0
"""Most time (s) one group's search may take."""

DECOMPOSE_RESERVE = 0.1
"""Share of the time left after the construction kept for timing the decomposed routes."""

SHRINK_SHARE = 0.1
"""Share of the construction's time one :func:`routing.fleet.shrink` of a start may take."""

FIRST_SHARE = 0.4
"""Share of a search's time for the first local search when the fleet phase follows."""

FLEET_TRY_SHARE = 0.5
"""Share of the time left that one fleet-phase try (one vehicle fewer) gets."""

FLEET_INSERT_SHARE = 0.05
"""Share of the time left one reinsertion of a route's points (in Python) may take."""

FLEET_LEFT_SHARE = 0.2
"""Share of an emptied route's points the reinsertion may fail to place and leave to the search."""

FLEET_MIN_LEFT = 2
"""Points the reinsertion may always leave to the search."""

FLEET_CANDIDATES = 3
"""Routes (fewest points first) whose points the fleet phase tries to reinsert elsewhere per step."""

MIN_PHASE_S = 0.5
"""A phase is not started with less time than this left (s)."""

RR_SHARE = 0.7
"""Share of a search's time the ruin-and-recreate start (:mod:`routing.rr_start`) gets when it applies;
OR-Tools' local search continues from its routes for the rest. Measured on X-n502-k39 at 60 s, one
worker, seeds 0/1 (2 shared cores, noisy): 0.6 -> 69385, 0.7 -> 69277/69366, 0.85 -> 69358/69375,
0.95 -> 69364."""

RR_ITERATIONS_PER_SOLUTION = 100
"""With ``SolveParams.solution_limit`` set, the ruin-and-recreate start stops after this many steps per
allowed solution (so a solution-limited solve stays deterministic)."""

REASON_NO_FIT = "could not fit in any route (capacity/time)"
"""Reason given for a mandatory point the solver left out (details may follow)."""

TIME = "time"
KG = "kg"
LITRES = "l"
ROUTE_KG = "route_kg"
ROUTE_L = "route_l"
STOPS = "stops"
CHANGE = "change"


# --------------------------------------------------------------------------- params


@dataclass(frozen=True, slots=True)
class SolveParams:
    """Search settings; validated on creation.

    OR-Tools' routing search has no random seed: it is deterministic for a
    given problem and parameters as long as it stops on ``solution_limit``
    before ``time_limit_s``. Benchmarks and tests therefore set a solution limit
    (PyVRP's fixed seed + iteration limit play the same role there).

    Attributes
    ----------
    time_limit_s : float
        Wall-clock limit of the whole solve, construction included (s, > 0).
        Guided local search never stops by itself, so this always applies.
    solution_limit : int or None
        Stop each search after this many solutions (> 0); ``None`` = no limit.
    first_solution : str
        One of :data:`FIRST_SOLUTIONS`.
    metaheuristic : str
        One of :data:`METAHEURISTICS`.
    log_search : bool
        Let OR-Tools log its search to stderr.
    workers : int
        Searches run in parallel processes (>= 1); 1 = in this process. The
        first worker uses these settings; the others start from another first
        solution (see :meth:`portfolio`). The best result is kept. Processes
        are *spawned*, so a script calling :func:`solve` with ``workers > 1``
        needs the usual ``if __name__ == "__main__":`` guard (without it the
        workers cannot start and the search falls back to this process).
    weights : ObjectiveWeights
        The mix of fixed cost, distance, travel time and duration in the objective.
    reduce_fleet : str
        One of :data:`REDUCE_FLEET`: empty small routes of the start and, after
        the first local search (a share :data:`FIRST_SHARE` of the time), the
        smallest routes while all points stay served; then search on.
    decompose : str
        One of :data:`DECOMPOSE`: improve groups of neighbouring routes
        instead of the whole plan (:func:`_decompose`).
    group_colocated : bool
        Serve co-located, interchangeable points as one stop in the search
        (:mod:`routing.aggregate`); the result lists every point.
    seed : int
        Random seed of the ruin-and-recreate start (:mod:`routing.rr_start`,
        >= 0); worker ``i`` uses ``seed + i``.
    """

    time_limit_s: float = 10.0
    solution_limit: int | None = None
    first_solution: str = "auto"
    metaheuristic: str = "guided_local_search"
    log_search: bool = False
    workers: int = 2
    weights: ObjectiveWeights = field(default_factory=ObjectiveWeights)
    reduce_fleet: str = "auto"
    decompose: str = "auto"
    seed: int = 0
    group_colocated: bool = True

    def __post_init__(self) -> None:
        record = "SolveParams"
        t = self.time_limit_s
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t <= 0:
            raise ValidationError(record, "time_limit_s", f"must be a finite number > 0, got {t!r}")
        n = self.solution_limit
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
            raise ValidationError(record, "solution_limit", f"must be an integer > 0 or None, got {n!r}")
        if self.first_solution not in FIRST_SOLUTIONS:
            allowed = ", ".join(FIRST_SOLUTIONS)
            msg = f"must be one of {allowed}; got {self.first_solution!r}"
            raise ValidationError(record, "first_solution", msg)
        if self.metaheuristic not in METAHEURISTICS:
            allowed = ", ".join(METAHEURISTICS)
            raise ValidationError(
                record, "metaheuristic", f"must be one of {allowed}; got {self.metaheuristic!r}"
            )
        if not isinstance(self.log_search, bool):
            raise ValidationError(record, "log_search", f"must be true or false, got {self.log_search!r}")
        w = self.workers
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValidationError(record, "workers", f"must be an integer >= 1, got {w!r}")
        if not isinstance(self.weights, ObjectiveWeights):
            raise ValidationError(record, "weights", f"must be ObjectiveWeights, got {self.weights!r}")
        if self.decompose not in DECOMPOSE:
            allowed = ", ".join(DECOMPOSE)
            raise ValidationError(record, "decompose", f"must be one of {allowed}; got {self.decompose!r}")
        if not isinstance(self.group_colocated, bool):
            raise ValidationError(
                record, "group_colocated", f"must be true or false, got {self.group_colocated!r}"
            )
        s = self.seed
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValidationError(record, "seed", f"must be an integer >= 0, got {s!r}")
        if self.reduce_fleet not in REDUCE_FLEET:
            allowed = ", ".join(REDUCE_FLEET)
            msg = f"must be one of {allowed}; got {self.reduce_fleet!r}"
            raise ValidationError(record, "reduce_fleet", msg)

    @classmethod
    def from_toml(cls, path: str | Path) -> SolveParams:
        """Load parameters from a TOML file of top-level keys named like the attributes.

        ``weights`` is a table (``[weights]``) of :class:`routing.model.ObjectiveWeights` fields.

        Raises
        ------
        core.errors.ValidationError
            Unknown keys or invalid values.
        """
        with open(path, "rb") as f:
            data: dict[str, Any] = tomllib.load(f)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"SolveParams file '{path}'", unknown[0], f"is unknown; known: {sorted(known)}"
            )
        if "weights" in data:
            if not isinstance(data["weights"], dict):
                raise ValidationError(f"SolveParams file '{path}'", "weights", "must be a table")
            data["weights"] = ObjectiveWeights.from_dict(data["weights"])
        return cls(**data)

    def resolved_first_solution(self, problem: RoutingProblem) -> str:
        """The first-solution method ``auto`` stands for on ``problem`` (others unchanged)."""
        if self.first_solution != "auto":
            return self.first_solution
        if problem.unload or len(problem.points) > LARGE:
            return "cluster"
        return "parallel_cheapest_insertion"

    def portfolio(self, problem: RoutingProblem) -> list[SolveParams]:
        """One configuration per worker: these settings first, then other first solutions.

        Worker 0 runs exactly these settings (so more workers never do worse on
        a deterministic, solution-limited search); the next ones start from the
        other methods in turn: ``cluster``, ``sweep``, ``savings``,
        ``parallel_cheapest_insertion`` when the problem unloads, else
        ``parallel_cheapest_insertion``, ``cluster``, ``savings``, ``sweep``.
        With ``decompose="auto"`` on fewer than :data:`LARGE` points, only
        worker 0 decomposes (the others search the whole plan).
        """
        first = self.resolved_first_solution(problem)
        if problem.unload:  # measured on the demo district: own starts first, then relaxed OR-Tools ones
            preferred = ("cluster", "sweep", "savings", "parallel_cheapest_insertion")
        else:
            preferred = ("parallel_cheapest_insertion", "cluster", "savings", "sweep")
        others = [s for s in preferred if s != first]
        out = [replace(self, first_solution=first, workers=1)]
        # Below LARGE points the whole-plan search still pays off: only worker 0 decomposes then.
        rest = "never" if self.decompose == "auto" and len(problem.points) < LARGE else self.decompose
        for i in range(1, self.workers):
            first_i = others[(i - 1) % len(others)]
            out.append(replace(self, first_solution=first_i, workers=1, decompose=rest, seed=self.seed + i))
        return out


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, slots=True)
class RawAssignment:
    """What the solver decided, in location indices of the :class:`RoutingProblem`.

    Attributes
    ----------
    routes : tuple of tuple of int
        One per vehicle (problem order): start depot, points and facilities
        (unload visits) in visiting order, end depot. An unused vehicle has
        ``(start, end)``.
    times_s : tuple of tuple of int
        Aligned with ``routes``: the minimum of the time cumul's range in the
        solution (s): service or unload start, departure from the start depot,
        return to the end depot. The plan keeps unload starts (tipping bays are
        shared) and recomputes the rest.
    objective : int
        Route costs plus penalties of dropped *optional* points (objective units,
        see :data:`routing.model.COST_SCALE`), with the objective weights used.
        The internal penalty of dropped mandatory points and warm-start change
        penalties are not included.
    status : str
        OR-Tools search status, lower case without the ``ROUTING_`` prefix
        (``"success"``, ``"optimal"``, ``"partial_success_local_optimum_not_reached"``...).
    dropped : tuple of int
        Location indices of unserved points, sorted.
    reasons : Mapping of int to str
        Why each dropped point is unserved.
    wall_time_s : float
        Time spent building and solving the model (s).
    breaks : tuple of tuple of (int, int)
        Aligned with ``routes``: ``(start_s, duration_s)`` of each break the
        solver scheduled (also breaks before the route starts or after it ends).
    first_solution : str
        The first-solution method of the search that produced this result.
    """

    routes: tuple[tuple[int, ...], ...]
    times_s: tuple[tuple[int, ...], ...]
    objective: int
    status: str
    dropped: tuple[int, ...]
    reasons: Mapping[int, str] = field(default_factory=dict)
    wall_time_s: float = 0.0
    breaks: tuple[tuple[tuple[int, int], ...], ...] = ()
    first_solution: str = ""


def _status_name(code: int) -> str:
    name = routing_enums_pb2.RoutingSearchStatus.Value.Name(code)
    return str(name).removeprefix("ROUTING_").lower()


def _restrict_vehicles(
    routing: pywrapcp.RoutingModel, index: int, vehicles: Sequence[int], n_vehicles: int
) -> None:
    """Allow only ``vehicles`` to visit ``index`` (a hard constraint, never a penalty).

    ``RoutingModel.SetAllowedVehiclesForIndex`` is the intended call, but the
    SWIG wrapper of OR-Tools 9.15 rejects every Python sequence for its
    ``absl::Span<const int>`` argument (TypeError). Then we restrict the node's
    vehicle variable directly, keeping -1 so the disjunction can still drop it.
    """
    if len(vehicles) == n_vehicles:
        return
    if not vehicles:  # an empty allowed set would mean "any vehicle" to OR-Tools
        routing.VehicleVar(index).SetValues([-1])
        return
    try:
        routing.SetAllowedVehiclesForIndex(list(vehicles), index)
    except TypeError:
        routing.VehicleVar(index).SetValues([-1, *vehicles])


# --------------------------------------------------------------------------- copies


def unload_copies(
    problem: RoutingProblem, kept: Sequence[int], *, extra: Mapping[int, int] | None = None
) -> dict[int, int]:
    """How many unload visits (solver nodes) each facility gets; 0 when nobody may unload there.

    Copies of disposal nodes are what makes a dump-and-continue model big, so
    their number is bounded from three sides:

    - per vehicle, the trips it could ever need: ``ceil(R / capacity) + 1`` per
      dimension, ``R`` being what it may collect in the day (its day limit, or
      all the demand it could serve); a facility gets at most the sum over the
      vehicles that may unload there;
    - the fleet's trips: ``B = ceil(D / smallest capacity) + vehicles`` where
      ``D`` is the demand those vehicles could serve (full trips plus one
      part-full trip per vehicle);
    - the facility's *share*: the fraction ``s`` of that demand whose nearest
      usable facility it is, giving ``ceil(1.5 * B * s) + 2`` (every facility
      keeps a couple, the busy ones about all of ``B``).

    Parameters
    ----------
    problem : RoutingProblem
        The problem (with ``unload`` set; otherwise every count is 0).
    kept : sequence of int
        Points in the model.
    extra : Mapping of int to int, optional
        Lower bounds per facility (e.g. visits in a warm-start plan).

    Returns
    -------
    dict of int to int
        Facility location index -> number of copies.
    """
    out = dict.fromkeys(problem.facilities, 0)
    if not problem.unload:
        return out
    vs = problem.vehicles
    demand = (np.asarray(problem.demand_kg, dtype=np.int64), np.asarray(problem.demand_l, dtype=np.int64))
    served_by: list[list[int]] = [[] for _ in vs]
    nearest_share: dict[int, float] = dict.fromkeys(problem.facilities, 0.0)
    for p in kept:
        ks = problem.serving_vehicles(p)
        for k in ks:
            served_by[k].append(p)
        sites = sorted({f for k in ks for f in vs[k].unload_at})
        if sites:
            nearest = sites[int(np.argmin(problem.time_s[p, sites]))]
            nearest_share[nearest] += 1.0
    trips = []
    for k, v in enumerate(vs):
        mine = np.asarray(served_by[k], dtype=np.int64)
        n = 0
        for dem, cap, day in zip(
            demand, (v.capacity_kg, v.capacity_l), (v.max_route_kg, v.max_route_l), strict=True
        ):
            total = int(dem[mine].sum()) if mine.size else 0
            reach = total if day is None else min(total, day)
            n = max(n, math.ceil(reach / max(cap, 1)) + 1 if mine.size else 0)
        trips.append(n)
    for f in problem.facilities:
        users = [k for k, v in enumerate(vs) if f in v.unload_at and trips[k]]
        if not users:
            continue
        pts = sorted({p for k in users for p in served_by[k]})
        fleet = len(users)
        for dem, caps in zip(
            demand, ([vs[k].capacity_kg for k in users], [vs[k].capacity_l for k in users]), strict=True
        ):
            fleet = max(fleet, math.ceil(int(dem[pts].sum()) / max(min(caps), 1)) + len(users))
        share = nearest_share[f] / max(len(pts), 1)
        out[f] = min(sum(trips[k] for k in users), fleet, math.ceil(1.5 * fleet * share) + 2)
    for f, n in (extra or {}).items():
        out[f] = max(out.get(f, 0), n)
    return out


# --------------------------------------------------------------------------- model


@dataclass(slots=True)
class _SolverModel:
    """An OR-Tools model of a problem, with what is needed to read a solution back."""

    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    node_loc: np.ndarray
    """Location index of each solver node."""
    time_dim: pywrapcp.RoutingDimension
    mandatory: list[int]
    """Solver indices of mandatory points."""
    big: int
    """Penalty of a dropped mandatory point (objective units)."""
    copies: dict[int, list[int]]
    """Facility location -> solver indices of its copies."""
    point_index: dict[int, int]
    """Point location -> solver index."""
    breaks: dict[int, Any] = field(default_factory=dict)
    """Vehicle -> its break interval variable."""
    change: list[int] | None = None
    """Per vehicle: change penalty coefficient (warm start), to take out of the objective."""


def _set_windows(cumul: Any, wins: Sequence[tuple[int, int]]) -> None:
    if not wins:
        return
    cumul.SetRange(wins[0][0], wins[-1][1])
    for (_, end), (start, _) in pairwise(wins):
        if start - end > 1:
            cumul.RemoveInterval(end + 1, start - 1)


def _inflated_service(problem: RoutingProblem, kept: Sequence[int]) -> np.ndarray:
    """Service times (s) plus each point's share of the unload overhead of the relaxed model."""
    service = np.asarray(problem.service_s, dtype=np.int64).copy()
    for p in kept:
        ks = problem.serving_vehicles(p)
        if not ks:
            continue
        shares = []
        for k in ks:
            v = problem.vehicles[k]
            if not v.unload_at:
                continue
            sites = list(v.unload_at)
            detour = 2 * int(problem.time_s[p, sites].min())
            overhead = max(problem.service_s[f] for f in sites) + detour
            fill = max(
                problem.demand_kg[p] / max(v.capacity_kg, 1), problem.demand_l[p] / max(v.capacity_l, 1)
            )
            shares.append(fill * overhead)
        if shares:
            service[p] += math.ceil(float(np.mean(shares)))
    return service


def _build_model(
    problem: RoutingProblem,
    kept: Sequence[int],
    weights: ObjectiveWeights,
    *,
    copies: Mapping[int, int] | None = None,
    warm: WarmStart | None = None,
    relaxed: bool = False,
    disabled: frozenset[int] = frozenset(),
) -> _SolverModel:
    """Nodes = vehicle depots + kept points + facility copies; every constraint of the module docstring.

    ``relaxed`` builds the model the OR-Tools first-solution strategies run on
    when the problem unloads: no facility copies, no end-empty rule, capacity
    per day, service times inflated by the expected unload overhead.
    ``disabled`` vehicles may visit nothing (the fleet phase).
    """
    unload = problem.unload and not relaxed
    copies = dict(copies or {}) if unload else {}
    depot_locs = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    copy_locs = [f for f in sorted(copies) for _ in range(copies[f])]
    node_loc = np.array(depot_locs + list(kept) + copy_locs, dtype=np.int64)
    node_of = {int(loc): node for node, loc in enumerate(node_loc[: len(depot_locs) + len(kept)])}
    nv = len(problem.vehicles)
    manager = pywrapcp.RoutingIndexManager(
        len(node_loc),
        nv,
        [node_of[v.start] for v in problem.vehicles],
        [node_of[v.end] for v in problem.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    sub = np.ix_(node_loc, node_loc)
    n_index = routing.Size()

    # Arc costs: one registered matrix per distinct pair of cost rates.
    cost_index: dict[tuple[float, float], int] = {}
    for k, v in enumerate(problem.vehicles):
        key = (v.cost_per_km, v.cost_per_hour)
        if key not in cost_index:
            matrix = arc_cost_matrix(problem, k, weights)[sub]
            cost_index[key] = routing.RegisterTransitMatrix(matrix.tolist())
        routing.SetArcCostEvaluatorOfVehicle(cost_index[key], k)
        routing.SetFixedCostOfVehicle(round(weights.vehicles * v.fixed_cost), k)

    # Time: service at the origin + travel; waiting allowed up to the horizon.
    service = (
        _inflated_service(problem, kept) if relaxed and problem.unload else np.asarray(problem.service_s)
    )
    node_service = np.asarray(service, dtype=np.int64)[node_loc]
    transit = node_service[:, None] + problem.time_s[sub]
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    routing.AddDimension(time_cb, problem.horizon_s, problem.horizon_s, False, TIME)
    time_dim = routing.GetDimensionOrDie(TIME)
    visit = [int(node_service[manager.IndexToNode(i)]) for i in range(n_index)]
    breaks: dict[int, Any] = {}
    for k, v in enumerate(problem.vehicles):
        time_dim.CumulVar(routing.Start(k)).SetRange(v.shift_start_s, v.shift_end_s)
        time_dim.CumulVar(routing.End(k)).SetRange(v.shift_start_s, v.shift_end_s)
        time_dim.SetSpanUpperBoundForVehicle(v.route_limit_s, k)
        span_cost = duration_cost_per_s(problem, k, weights)
        if span_cost:
            time_dim.SetSpanCostCoefficientForVehicle(span_cost, k)
        if v.break_s > 0:
            brk = solver.FixedDurationIntervalVar(
                v.break_start_min_s, v.break_start_max_s, v.break_s, False, f"break-{k}"
            )
            time_dim.SetBreakIntervalsOfVehicle([brk], k, visit)
            breaks[k] = brk

    # Capacities: load on board, reset by unloads.
    is_copy = np.zeros(len(node_loc), dtype=bool)
    is_copy[len(depot_locs) + len(kept) :] = True
    dims = []
    for name, demand, caps, day_caps in (
        (
            KG,
            problem.demand_kg,
            [v.capacity_kg for v in problem.vehicles],
            [v.max_route_kg for v in problem.vehicles],
        ),
        (
            LITRES,
            problem.demand_l,
            [v.capacity_l for v in problem.vehicles],
            [v.max_route_l for v in problem.vehicles],
        ),
    ):
        node_demand = np.asarray(demand, dtype=np.int64)[node_loc]
        if relaxed and problem.unload:
            total = int(node_demand.sum())
            caps = [total if d is None else d for d in day_caps]
            cb = routing.RegisterUnaryTransitVector(node_demand.tolist())
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, name)
        elif unload:
            top = max(caps, default=0)
            node_demand[is_copy] = -top
            cb = routing.RegisterUnaryTransitVector(node_demand.tolist())
            routing.AddDimensionWithVehicleCapacity(cb, top, caps, True, name)
        else:
            cb = routing.RegisterUnaryTransitVector(node_demand.tolist())
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, name)
        dim = routing.GetDimensionOrDie(name)
        dims.append(dim)
        if unload:
            for i in range(n_index):
                if not is_copy[manager.IndexToNode(i)]:
                    dim.SlackVar(i).SetValue(0)
            for k in range(nv):
                dim.CumulVar(routing.End(k)).SetValue(0)

    # Day limits (collected over all trips) and stops.
    limits = (
        (ROUTE_KG, problem.demand_kg, [v.max_route_kg for v in problem.vehicles]),
        (ROUTE_L, problem.demand_l, [v.max_route_l for v in problem.vehicles]),
        (
            STOPS,
            tuple(problem.stops_at(loc) for loc in range(len(problem.locations))),
            [v.max_stops for v in problem.vehicles],
        ),
    )
    for name, demand, caps_or_none in limits:
        if all(c is None for c in caps_or_none):
            continue
        node_demand = np.asarray(demand, dtype=np.int64)[node_loc]
        node_demand[is_copy] = 0
        top = int(node_demand.sum()) + 1
        caps = [top if c is None else int(c) for c in caps_or_none]
        cb = routing.RegisterUnaryTransitVector(node_demand.tolist())
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, name)

    # Points: windows, allowed vehicles, disjunctions.
    big = mandatory_penalty(problem, weights)
    mandatory = []
    point_index = {}
    for p in kept:
        index = manager.NodeToIndex(node_of[p])
        point_index[p] = index
        _set_windows(time_dim.CumulVar(index), problem.windows[p])
        _restrict_vehicles(routing, index, [k for k in problem.serving_vehicles(p) if k not in disabled], nv)
        penalty = problem.penalty[p]
        if penalty is None:
            mandatory.append(index)
        routing.AddDisjunction([index], big if penalty is None else penalty)

    # Facility copies: opening, who may unload there, free to leave out; bays and tonnage.
    copy_index: dict[int, list[int]] = {f: [] for f in copies}
    for node in range(len(depot_locs) + len(kept), len(node_loc)):
        copy_index[int(node_loc[node])].append(manager.NodeToIndex(node))
    kg_dim = dims[0]
    for f, indices in copy_index.items():
        users = problem.allowed_vehicles[f]
        for index in indices:
            _set_windows(time_dim.CumulVar(index), problem.windows[f])
            _restrict_vehicles(routing, index, [k for k in users if k not in disabled], nv)
            routing.AddDisjunction([index], 0)
        spec = problem.site(f)
        unload_s = problem.service_s[f]
        if unload_s > 0 and spec.bays < min(len(users), len(indices)):
            intervals = [
                solver.FixedDurationIntervalVar(
                    time_dim.CumulVar(i), unload_s, routing.ActiveVar(i), f"unload-{f}-{n}"
                )
                for n, i in enumerate(indices)
            ]
            solver.Add(solver.Cumulative(intervals, [1] * len(intervals), spec.bays, f"bays-{f}"))
        if spec.daily_capacity_kg is not None and indices:
            could = sum(problem.demand_kg[p] for p in kept if set(problem.serving_vehicles(p)) & set(users))
            if could > spec.daily_capacity_kg:
                top = max((problem.vehicles[k].capacity_kg for k in users), default=0)
                for i in indices:
                    solver.Add(kg_dim.CumulVar(i) <= top * routing.ActiveVar(i))
                solver.Add(solver.Sum([kg_dim.CumulVar(i) for i in indices]) <= spec.daily_capacity_kg)

    # Warm start: count the points served by another vehicle than before.
    change: list[int] | None = None
    if warm is not None and warm.change_penalty > 0:
        before = {p: k for k, route in enumerate(warm.routes) for p in route if p in problem.points}
        callbacks = []
        for k in range(nv):
            vec = [1 if int(loc) in before and before[int(loc)] != k else 0 for loc in node_loc]
            callbacks.append(routing.RegisterUnaryTransitVector(vec))
        routing.AddDimensionWithVehicleTransits(callbacks, 0, len(kept) + 1, True, CHANGE)
        change_dim = routing.GetDimensionOrDie(CHANGE)
        for k in range(nv):
            change_dim.SetSpanCostCoefficientForVehicle(warm.change_penalty, k)
        change = [warm.change_penalty] * nv

    return _SolverModel(
        manager, routing, node_loc, time_dim, mandatory, big, copy_index, point_index, breaks, change
    )


def _search_parameters(params: SolveParams, time_limit_s: float, *, first_only: bool = False) -> Any:
    """OR-Tools ``RoutingSearchParameters`` from our params."""
    search = pywrapcp.DefaultRoutingSearchParameters()
    first = params.first_solution
    if first == "auto" or first in OWN_STARTS:  # our own start is read in; this only names a fallback
        first = "parallel_cheapest_insertion"
    search.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first.upper())
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic,
        "GREEDY_DESCENT" if first_only else params.metaheuristic.upper(),
    )
    search.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    if first_only:
        search.solution_limit = 1
    elif params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    search.log_search = params.log_search
    if params.weights.duration == 0:
        # The LP/MIP "scheduling" of cumuls makes every move ~20x slower once breaks are on and only
        # pays off with span costs; the break constraint itself is still enforced by propagation.
        search.disable_scheduling_beware_this_may_degrade_performance = True
    return search


def _read_routes(
    model: _SolverModel, solution: Any
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]], list[tuple[tuple[int, int], ...]]]:
    """Routes (location indices), time cumul minima (s) and breaks of every vehicle."""
    routing, manager = model.routing, model.manager
    routes, times = [], []
    for k in range(routing.vehicles()):
        index = routing.Start(k)
        route, at = [], []
        while True:
            route.append(int(model.node_loc[manager.IndexToNode(index)]))
            at.append(int(solution.Min(model.time_dim.CumulVar(index))))
            if routing.IsEnd(index):
                break
            index = solution.Value(routing.NextVar(index))
        routes.append(tuple(route))
        times.append(tuple(at))
    found: dict[str, tuple[int, int]] = {}
    container = solution.IntervalVarContainer()
    for i in range(container.Size()):
        element = container.Element(i)
        name = element.Var().Name()
        if name.startswith("break-") and element.PerformedValue() == 1:
            found[name] = (int(element.StartMin()), int(element.DurationMin()))
    breaks: list[tuple[tuple[int, int], ...]] = [
        (found[f"break-{k}"],) if f"break-{k}" in found else () for k in range(routing.vehicles())
    ]
    return routes, times, breaks


# --------------------------------------------------------------------------- starts


def _to_indices(model: _SolverModel, routes: Sequence[Sequence[int]]) -> list[list[int]]:
    """Location routes -> solver index routes, handing out facility copies in order."""
    free = {f: list(indices) for f, indices in model.copies.items()}
    out = []
    for route in routes:
        row = []
        for loc in route:
            if loc in model.point_index:
                row.append(model.point_index[loc])
            elif free.get(loc):
                row.append(free[loc].pop(0))
            else:
                msg = f"no solver node left for location {loc}"
                raise ValueError(msg)
        out.append(row)
    return out


def _read_start(model: _SolverModel, routes: Sequence[Sequence[int]]) -> Any | None:
    """An OR-Tools assignment of ``routes`` (location indices); drops routes it cannot restore."""
    indices = _to_indices(model, routes)
    start = model.routing.ReadAssignmentFromRoutes(indices, True)
    if start is not None:
        return start
    logger.warning("constructed routes were rejected as a whole; restoring them one by one")
    accepted: list[list[int]] = [[] for _ in indices]
    for k, row in enumerate(indices):
        if not row:
            continue
        accepted[k] = row
        if model.routing.ReadAssignmentFromRoutes(accepted, True) is None:
            logger.warning("route of vehicle %d rejected by the solver model; left out of the start", k)
            accepted[k] = []
    return model.routing.ReadAssignmentFromRoutes(accepted, True)


def _relaxed_orders(
    problem: RoutingProblem, kept: Sequence[int], params: SolveParams, time_limit_s: float
) -> list[tuple[int, ...]]:
    """Visiting orders from an OR-Tools first solution of the relaxed model (no unloads)."""
    model = _build_model(problem, kept, params.weights, relaxed=True)
    solution = model.routing.SolveWithParameters(_search_parameters(params, time_limit_s, first_only=True))
    if solution is None:
        return [() for _ in problem.vehicles]
    routes, _, _ = _read_routes(model, solution)
    return [route[1:-1] for route in routes]


def _construct(
    problem: RoutingProblem,
    kept: Sequence[int],
    params: SolveParams,
    copies: Mapping[int, int],
    warm: WarmStart | None,
    time_limit_s: float,
) -> Construction | None:
    """Routes to start from, or ``None`` to let OR-Tools build the first solution itself.

    A warm start and the relaxed OR-Tools orders are split into trips; what
    they leave out goes onto idle vehicles (:func:`routing.construct.split_routes`
    with ``fill``). Our own starts try each turn factor of :data:`OWN_STARTS`
    with angular and urgent seeds while ``time_limit_s`` allows and keep the
    one with the fewest unserved points, then the cheapest (only the first is
    built when the fleet is not reduced). When the
    search reduces the fleet, small routes of the start are emptied into the
    others first (:func:`routing.fleet.shrink`).
    """
    kept_set = set(kept)
    if warm is not None:
        return split_routes(problem, warm.routes, copies=copies, allowed=kept_set, fill=True)
    first = params.first_solution
    t_end = time.time() + time_limit_s
    shrinking = _fleet_mode(problem, params) != "never"
    if first in OWN_STARTS:
        variants = [(tf, urgent) for tf in OWN_STARTS[first] for urgent in (False, True)]
        if not shrinking:  # fewer vehicles would not pay: the plain start, as measured before
            variants = variants[:1]
        best: tuple[tuple[int, int, int], Construction] | None = None
        for n, (tf, urgent) in enumerate(variants):
            if n > 0 and time.time() > t_end - (time_limit_s / len(variants)):
                break
            c = cluster_routes(problem, kept, copies=copies, turn_factor=tf, urgent=urgent)
            if shrinking:
                cap = time.time() + time_limit_s * SHRINK_SHARE
                c = shrink(problem, c, weights=params.weights, copies=copies, deadline=min(t_end, cap))
            # Fewest unserved, then the cheapest (fixed costs first: vehicles, then distance). Keeping
            # the first of equal fleets instead was worse on WCVRPTW 102 (179.7 vs 157.4 miles at 30 s).
            key = (len(c.unassigned), plan_cost(problem, c.routes, params.weights), n)
            if best is None or key < best[0]:
                best = (key, c)
        return None if best is None else best[1]
    if problem.unload:
        orders = _relaxed_orders(problem, kept, params, time_limit_s / 2)
        c = split_routes(problem, orders, copies=copies, allowed=kept_set, fill=True)
        if shrinking:
            cap = time.time() + time_limit_s * SHRINK_SHARE
            c = shrink(problem, c, weights=params.weights, copies=copies, deadline=min(t_end, cap))
        return c
    return None


# --------------------------------------------------------------------------- one search


def _explain_drop(
    problem: RoutingProblem, p: int, routes: Sequence[Sequence[int]], unloaded: Mapping[int, int]
) -> str:
    """Reason for a mandatory point the solver left out, with what was saturated."""
    details = []
    ks = problem.serving_vehicles(p)
    used = [k for k in ks if len(routes[k]) > 2]
    if ks and len(used) == len(ks):
        details.append(f"all {len(ks)} vehicles that may serve it are in use")
    sites = {f for k in ks for f in problem.vehicles[k].unload_at}
    full = [
        problem.locations[f].id
        for f in sorted(sites)
        if problem.site(f).daily_capacity_kg is not None
        and unloaded.get(f, 0) + problem.demand_kg[p] > (problem.site(f).daily_capacity_kg or 0)
    ]
    if sites and len(full) == len(sites):
        details.append(f"daily capacity of {', '.join(full)} reached")
    return REASON_NO_FIT + (f": {'; '.join(details)}" if details else "")


def _key(model: _SolverModel, solution: Any) -> tuple[int, int]:
    """``(dropped mandatory points, objective without internal penalties)`` of an assignment."""
    routing = model.routing
    dropped = sum(1 for i in model.mandatory if solution.Value(routing.NextVar(i)) == i)
    cost = int(solution.ObjectiveValue()) - model.big * dropped
    if model.change is not None:
        dim = routing.GetDimensionOrDie(CHANGE)
        cost -= sum(c * solution.Value(dim.CumulVar(routing.End(k))) for k, c in enumerate(model.change))
    return dropped, cost


def _search_key(model: _SolverModel, solution: Any) -> tuple[int, int]:
    """``(dropped mandatory points, objective the search minimises)``: warm-start change costs included."""
    dropped = sum(1 for i in model.mandatory if solution.Value(model.routing.NextVar(i)) == i)
    return dropped, int(solution.ObjectiveValue())


class _Tracker:
    """Relays improvements of the best solution over every model of one search to ``report``."""

    def __init__(self, report: Report | None, t0: float) -> None:
        self.report = report
        self.t0 = t0
        self.best: tuple[int, int] | None = None
        self.errors: list[Exception] = []

    def offer(self, key: tuple[int, int]) -> None:
        """Report ``key`` (dropped, objective units) if it beats the best so far."""
        if self.report is not None and (self.best is None or key < self.best):
            self.best = key
            self.report(time.time() - self.t0, key[0], unscale_cost(key[1]))

    def attach(self, model: _SolverModel) -> None:
        """Report the model's improving solutions during its searches."""
        if self.report is None:
            return
        routing = model.routing

        def on_solution() -> None:
            try:
                dropped = sum(1 for i in model.mandatory if routing.ActiveVar(i).Value() == 0)
                cost = int(routing.CostVar().Value()) - model.big * dropped
                if model.change is not None:
                    dim = routing.GetDimensionOrDie(CHANGE)
                    ends = (dim.CumulVar(routing.End(k)).Value() for k in range(len(model.change)))
                    cost -= sum(c * e for c, e in zip(model.change, ends, strict=True))
                self.offer((dropped, cost))
            except Exception as e:  # re-raised after the search; C++ must not see it
                if not self.errors:
                    self.errors.append(e)

        routing.AddAtSolutionCallback(on_solution)

    def check(self) -> None:
        """Re-raise the first error a callback hit."""
        if self.errors:
            raise self.errors[0]


def _search_from(
    model: _SolverModel,
    routes: Sequence[Sequence[int]] | None,
    params: SolveParams,
    time_limit_s: float,
    tracker: _Tracker,
) -> Any | None:
    """Close ``model``, read ``routes`` (location indices) as the start and improve it for ``time_limit_s``.

    ``routes=None`` lets OR-Tools build the first solution. Returns the best
    assignment (the start itself if the search found nothing better in time),
    or ``None`` if there is no solution at all.
    """
    t_end = time.time() + time_limit_s
    left = lambda: max(0.05, t_end - time.time())  # noqa: E731
    routing = model.routing
    if routes is None:
        return routing.SolveWithParameters(_search_parameters(params, left()))
    closing = _search_parameters(params, left())
    closing.lns_time_limit.FromMilliseconds(round(1000 * min(30.0, max(0.1, left() / 4))))
    routing.CloseModelWithParameters(closing)
    start = _read_start(model, routes)
    if start is None:
        return routing.SolveWithParameters(_search_parameters(params, left()))
    return _resume(model, start, params, left(), tracker)


def _resume(
    model: _SolverModel, start: Any, params: SolveParams, time_limit_s: float, tracker: _Tracker
) -> Any:
    """Improve ``start`` (an assignment of the closed ``model``) for ``time_limit_s``; the best found."""
    search = _search_parameters(params, time_limit_s)
    # Restoring the start runs the solution finalizer under the LNS completion limit; on large
    # models with breaks that takes seconds, so give it room (it does not slow small models).
    search.lns_time_limit.FromMilliseconds(round(1000 * min(30.0, max(0.1, time_limit_s / 4))))
    solution = model.routing.SolveFromAssignmentWithParameters(start, search)
    tracker.check()
    if solution is None or _search_key(model, solution) > _search_key(model, start):
        if solution is None:
            logger.warning("the search could not improve on the start in time; keeping the start")
        tracker.offer(_key(model, start))
        return start
    return solution


def _fleet_mode(problem: RoutingProblem, params: SolveParams) -> str:
    """``never``, ``start`` or ``always``: what the search does to reduce the fleet (:data:`REDUCE_FLEET`)."""
    if params.reduce_fleet != "auto":
        return params.reduce_fleet
    if params.weights.vehicles > 0 and any(v.fixed_cost > 0 for v in problem.vehicles):
        return AUTO_FLEET
    return "never"


def _fleet_max_left(moved: int) -> int:
    """Points of an emptied route the reinsertion may leave to the search (:data:`FLEET_LEFT_SHARE`)."""
    return max(FLEET_MIN_LEFT, math.floor(FLEET_LEFT_SHARE * moved))


def _reduce_fleet(
    job: Job,
    copies: Mapping[int, int],
    model: _SolverModel,
    solution: Any,
    tracker: _Tracker,
    remaining: Callable[[], float],
) -> tuple[_SolverModel, Any]:
    """The fleet phase: empty one route at a time while the fleet can still serve every point.

    The routes with the fewest points (:func:`routing.fleet.removal_order`, at
    most :data:`FLEET_CANDIDATES`) are tried in turn: their points go one by one
    to their cheapest feasible position in the other routes
    (:func:`routing.fleet.reinsert`). The first route emptied that way (all but
    :func:`_fleet_max_left` points placed) starts a search in a model without
    its vehicle, which gets :data:`FLEET_TRY_SHARE` of the time left and puts
    the points still out back where it can; its result is kept when better
    (:func:`_search_key`: no more dropped points, lower objective), and the next route
    is tried.
    """
    problem, params = job.problem, job.params
    disabled: frozenset[int] = frozenset()
    while remaining() > MIN_PHASE_S:
        routes = [r[1:-1] for r in _read_routes(model, solution)[0]]
        start: Construction | None = None
        for k in removal_order(problem, routes)[:FLEET_CANDIDATES]:
            others = [() if j == k else r for j, r in enumerate(routes)]
            moved = [loc for loc in routes[k] if loc in problem.points]
            start = reinsert(
                problem,
                others,
                moved,
                weights=params.weights,
                copies=copies,
                max_left=_fleet_max_left(len(moved)),
                deadline=time.time() + remaining() * FLEET_INSERT_SHARE,
            )
            logger.info(
                "fleet phase: vehicle %d's %d points reinserted, %d left",
                k,
                len(moved),
                len(start.unassigned),
            )
            if len(start.unassigned) <= _fleet_max_left(len(moved)):
                break
        if start is None or len(start.unassigned) > _fleet_max_left(len(moved)) or remaining() <= MIN_PHASE_S:
            break
        budget = remaining() * FLEET_TRY_SHARE
        trial = disabled | {k}
        smaller = _build_model(
            problem, job.kept, params.weights, copies=copies, warm=job.warm, disabled=trial
        )
        tracker.attach(smaller)
        found = _search_from(smaller, start.routes, params, budget, tracker)
        tracker.check()
        before = _search_key(model, solution)
        after = None if found is None else _search_key(smaller, found)
        logger.info("fleet phase: without vehicle %d: %s (before %s)", k, after, before)
        if after is None or after >= before:
            break
        model, solution, disabled = smaller, found, trial
    return model, solution


def _decomposes(job: Job, construction: Construction | None) -> bool:
    """Whether the search improves groups of routes instead of the whole plan (:data:`DECOMPOSE_FROM`)."""
    mode = job.params.decompose
    return (
        mode != "never"
        and construction is not None
        and not construction.unassigned
        and job.warm is None
        and (mode == "always" or len(job.kept) >= DECOMPOSE_FROM)
        and independent_routes(job.problem)
        and sum(1 for r in construction.routes if r) > GROUP_SIZE
    )


def _group_model(
    job: Job, group: Sequence[int], routes: Sequence[Sequence[int]], extra: Sequence[int] = ()
) -> tuple[_SolverModel, list[tuple[int, ...]]]:
    """A model of ``group``'s vehicles, the points of their ``routes`` and ``extra``; its start routes."""
    problem, nv = job.problem, len(job.problem.vehicles)
    points = sorted({*extra, *(loc for k in group for loc in routes[k] if loc in problem.points)})
    copies = unload_copies(problem, points)
    for f in copies:
        used = sum(1 for k in group for loc in routes[k] if loc == f)
        copies[f] = max(copies[f], used + 1)
    disabled = frozenset(k for k in range(nv) if k not in group)
    model = _build_model(problem, points, job.params.weights, copies=copies, disabled=disabled)
    return model, [tuple(routes[k]) if k in group else () for k in range(nv)]


def _decompose(
    job: Job, routes: Sequence[Sequence[int]], tracker: _Tracker, until: float
) -> list[tuple[int, ...]]:
    """Improve groups of neighbouring routes in turn, the rest fixed, until ``until``.

    Each group is a model with only its points and vehicles (:func:`_group_model`),
    started from its routes and searched for at most :data:`GROUP_MAX_S`; the
    new routes replace the old ones when every point stays served and the cost
    (:func:`routing.fleet.plan_cost`) drops. When vehicles have a fixed cost, each
    group is also tried with one vehicle fewer (:func:`_shrink_group`). Each
    round cuts the circle of routes one route further on; after as many rounds
    without a gain as routes per group (every cut tried) the groups grow by one
    route, up to :data:`GROUP_MAX_SIZE`, and then the search stops early.
    """
    problem, params = job.problem, job.params
    nv = len(problem.vehicles)
    current = [tuple(r) for r in routes]
    silent = _Tracker(None, job.t0)
    fleet = _fleet_mode(problem, params) != "never"
    tried: set[tuple[tuple[int, ...], ...]] = set()
    rounds = idle = 0
    size = GROUP_SIZE
    while time.time() < until - MIN_PHASE_S:
        if idle >= size:
            used = sum(1 for r in current if r)
            if size >= min(GROUP_MAX_SIZE, used):
                break
            size, idle = size + 1, 0
            logger.info("decomposition: groups of %d routes", size)
        groups = route_groups(problem, current, size, offset=rounds)
        idle += 1
        for n, group in enumerate(groups):
            left = until - time.time()
            if left <= MIN_PHASE_S:
                break
            budget = min(GROUP_MAX_S, left / max(1, len(groups) - n))
            model, start = _group_model(job, group, current)
            found = _search_from(model, start, params, budget, silent)
            if found is not None and _search_key(model, found)[0] == 0:
                new = [r[1:-1] for r in _read_routes(model, found)[0]]
                after = plan_cost(problem, [new[k] if k in group else () for k in range(nv)], params.weights)
                if after < plan_cost(problem, start, params.weights):
                    for k in group:
                        current[k] = tuple(new[k])
                    idle = 0
                    tracker.offer((0, plan_cost(problem, current, params.weights)))
            state = tuple(current[k] for k in group)
            if fleet and state not in tried and until - time.time() > MIN_PHASE_S:
                tried.add(state)
                fewer = _shrink_group(job, group, current, min(GROUP_MAX_S, (until - time.time()) / 2))
                if fewer is not None:
                    for k in group:
                        current[k] = fewer[k]
                    idle = 0
                    tracker.offer((0, plan_cost(problem, current, params.weights)))
        logger.info("decomposition round %d: cost %d", rounds, plan_cost(problem, current, params.weights))
        rounds += 1
    return current


def _shrink_group(
    job: Job,
    group: Sequence[int],
    routes: Sequence[Sequence[int]],
    budget_s: float,
    max_left: int | None = None,
) -> list[tuple[int, ...]] | None:
    """``group``'s routes with one vehicle fewer, all points served, when that costs less; else ``None``.

    The points of the group's smallest route (:func:`routing.fleet.removal_order`)
    go to their cheapest feasible positions in the group's other routes
    (:func:`routing.fleet.reinsert`; up to ``max_left``, default
    :func:`_fleet_max_left`, may stay out), then a search of the group without
    that vehicle places the rest and improves the whole group for ``budget_s``.
    """
    problem, params = job.problem, job.params
    nv = len(problem.vehicles)
    inside = [tuple(routes[k]) if k in group else () for k in range(nv)]
    order = removal_order(problem, inside)
    if not order:
        return None
    k = order[0]
    moved = [loc for loc in inside[k] if loc in problem.points]
    others = [() if j == k else r for j, r in enumerate(inside)]
    t0 = time.time()
    left = _fleet_max_left(len(moved)) if max_left is None else max_left
    start = reinsert(
        problem, others, moved, weights=params.weights, max_left=left, deadline=t0 + budget_s / 4
    )
    if len(start.unassigned) > left:
        logger.info(
            "decomposition: vehicle %d's %d stops: %d found no place", k, len(moved), len(start.unassigned)
        )
        return None
    rest = [j for j in group if j != k]
    model, start_routes = _group_model(job, rest, start.routes, extra=moved)
    found = _search_from(
        model, start_routes, params, max(MIN_PHASE_S, budget_s - (time.time() - t0)), _Tracker(None, job.t0)
    )
    if found is None or _search_key(model, found)[0] > 0:
        logger.info("decomposition: without vehicle %d, the search left stops out", k)
        return None
    new = [r[1:-1] for r in _read_routes(model, found)[0]]
    fewer = [tuple(new[j]) if j in rest else () for j in range(nv)]
    if plan_cost(problem, fewer, params.weights) >= plan_cost(problem, inside, params.weights):
        return None
    logger.info("decomposition: group %s served without vehicle %d", list(group), k)
    return fewer


def _assemble(job: Job, routes: Sequence[Sequence[int]]) -> RawAssignment | None:
    """The :class:`RawAssignment` of decomposed ``routes``, timed group by group; ``None`` if a group fails.

    Routes are independent (:func:`routing.decompose.independent_routes`), so each
    group's model gives its vehicles' times and breaks, and the objective is the
    sum of the groups' objectives.
    """
    problem = job.problem
    nv = len(problem.vehicles)
    out_routes: list[tuple[int, ...]] = [
        (problem.vehicles[k].start, problem.vehicles[k].end) for k in range(nv)
    ]
    out_times: list[tuple[int, ...]] = [(problem.vehicles[k].shift_start_s,) * 2 for k in range(nv)]
    out_breaks: list[tuple[tuple[int, int], ...]] = [() for _ in range(nv)]
    objective = 0
    for group in route_groups(problem, routes, GROUP_SIZE):
        model, start_routes = _group_model(job, group, routes)
        closing = _search_parameters(job.params, 10.0)
        closing.lns_time_limit.FromMilliseconds(10_000)
        model.routing.CloseModelWithParameters(closing)
        start = _read_start(model, start_routes)
        if start is None or _search_key(model, start)[0] > 0:
            logger.warning("decomposed routes of vehicles %s could not be timed", group)
            return None
        got, times, breaks = _read_routes(model, start)
        for k in group:
            out_routes[k], out_times[k], out_breaks[k] = got[k], times[k], breaks[k]
        objective += int(start.ObjectiveValue())
    served = {loc for r in out_routes for loc in r}
    reasons = dict(job.ruled_out)
    for p in job.kept:
        if p in served:
            continue
        penalty = problem.penalty[p]
        if penalty is None:
            reasons[p] = REASON_NO_FIT
        else:
            objective += penalty
            reasons[p] = f"optional: serving it would cost more than its penalty ({unscale_cost(penalty):g})"
    return RawAssignment(
        routes=tuple(out_routes),
        times_s=tuple(out_times),
        objective=objective,
        status="success",
        dropped=tuple(sorted(reasons)),
        reasons=reasons,
        wall_time_s=time.time() - job.t0,
        breaks=tuple(out_breaks),
        first_solution=job.params.first_solution,
    )


def run_job(job: Job, report: Report | None) -> RawAssignment:
    """One search: model, start, local search, fleet phase, result; ``report`` on every improvement.

    Module-level so :func:`routing.search.run_parallel` can run it in worker processes.
    """
    problem, params, kept = job.problem, job.params, list(job.kept)
    extra: dict[int, int] = {}
    if job.warm is not None:
        for route in job.warm.routes:
            for loc in route:
                if loc in problem.facilities:
                    extra[loc] = extra.get(loc, 0) + 1
        extra = {f: n + 1 for f, n in extra.items()}
    copies = unload_copies(problem, kept, extra=extra)
    remaining = lambda: max(0.05, job.deadline - time.time())  # noqa: E731
    tracker = _Tracker(report, job.t0)
    if job.warm is None and rr_start.applies(problem, params):
        rr = _rr_construct(job, remaining() * RR_SHARE, tracker)
        for f in copies:  # trip mode: the start's unloads must each find a solver node, plus one spare
            used = sum(1 for route in rr.routes for loc in route if loc == f)
            copies[f] = max(copies[f], used + 1) if used else copies[f]
        construction: Construction | None = rr
    else:
        construction = _construct(problem, kept, params, copies, job.warm, remaining() / 4)
    logger.info("start built at %.1f s", time.time() - job.t0)
    if construction is not None and _decomposes(job, construction):
        until = time.time() + remaining() * (1.0 - DECOMPOSE_RESERVE)
        decomposed = _decompose(job, construction.routes, tracker, until)
        assembled = _assemble(job, decomposed)
        if assembled is not None:
            return assembled
        construction = Construction(tuple(decomposed), ())
    model = _build_model(problem, kept, params.weights, copies=copies, warm=job.warm)
    logger.info("model built at %.1f s", time.time() - job.t0)
    tracker.attach(model)
    reduce = _fleet_mode(problem, params) == "always" and len(kept) > 0
    first_s = remaining() * (FIRST_SHARE if reduce else 1.0)
    routes = None if construction is None else construction.routes
    solution = _search_from(model, routes, params, first_s, tracker)
    tracker.check()
    logger.info("first search done at %.1f s", time.time() - job.t0)
    if solution is None:
        status = _status_name(model.routing.status())
        msg = f"OR-Tools found no solution (status '{status}', time limit {params.time_limit_s} s)"
        raise InfeasiblePlanError([msg])
    if reduce:
        first_model = model
        model, solution = _reduce_fleet(job, copies, model, solution, tracker, remaining)
        if remaining() > MIN_PHASE_S:  # resume the search on the best fleet with the time left
            solution = _resume(model, solution, params, remaining(), tracker)
        if model is not first_model:
            logger.info("fleet phase kept a smaller fleet")
    return _result(job, model, solution)


def _rr_construct(job: Job, budget_s: float, tracker: _Tracker) -> Construction:
    """The ruin-and-recreate start (:func:`routing.rr_start.construct`) for ``budget_s`` (s), reported."""
    n = job.params.solution_limit
    logger.info("ruin-and-recreate start for %.1f s (seed %d)", budget_s, job.params.seed)
    return rr_start.construct(
        job.problem,
        job.kept,
        job.params,
        time.time() + budget_s,
        max_iterations=None if n is None else n * RR_ITERATIONS_PER_SOLUTION,
        report=lambda cost, unassigned: tracker.offer((unassigned, cost)),
    )


def _result(job: Job, model: _SolverModel, solution: Any) -> RawAssignment:
    """Read ``solution`` of ``model`` back as a :class:`RawAssignment`, with reasons for unserved points."""
    problem, params, routing = job.problem, job.params, model.routing
    status = _status_name(routing.status())
    routes, times, breaks = _read_routes(model, solution)
    served = {p for route in routes for p in route[1:-1]}
    unloaded: dict[int, int] = {}
    kg_dim = routing.GetDimensionOrDie(KG)
    for f, indices in model.copies.items():
        unloaded[f] = sum(
            int(solution.Min(kg_dim.CumulVar(i))) for i in indices if solution.Value(routing.NextVar(i)) != i
        )
    reasons = dict(job.ruled_out)
    n_mandatory_dropped = 0
    for p in job.kept:
        if p in served:
            continue
        penalty = problem.penalty[p]
        if penalty is None:
            n_mandatory_dropped += 1
            reasons[p] = _explain_drop(problem, p, routes, unloaded)
        else:
            reasons[p] = f"optional: serving it would cost more than its penalty ({unscale_cost(penalty):g})"
    objective = int(solution.ObjectiveValue()) - model.big * n_mandatory_dropped
    if model.change is not None and job.warm is not None:
        before = {p: k for k, route in enumerate(job.warm.routes) for p in route if p in problem.points}
        moved = sum(
            1 for k, route in enumerate(routes) for p in route[1:-1] if p in before and before[p] != k
        )
        objective -= moved * job.warm.change_penalty
    return RawAssignment(
        routes=tuple(routes),
        times_s=tuple(times),
        objective=objective,
        status=status,
        dropped=tuple(sorted(reasons)),
        reasons=reasons,
        wall_time_s=time.time() - job.t0,
        breaks=tuple(breaks),
        first_solution=params.first_solution,
    )


# --------------------------------------------------------------------------- solve


def _expand(grouping: Grouping, problem: RoutingProblem, merged: RawAssignment) -> RawAssignment:
    """``merged`` (a result of ``grouping.problem``) in the locations of ``problem``."""
    return replace(
        merged,
        routes=tuple(tuple(grouping.expand_route(r)) for r in merged.routes),
        times_s=tuple(
            tuple(grouping.expand_times(r, t, problem))
            for r, t in zip(merged.routes, merged.times_s, strict=True)
        ),
        dropped=grouping.expand_points(merged.dropped),
        reasons=grouping.expand_reasons(merged.reasons),
    )


def solve(
    problem: RoutingProblem,
    params: SolveParams | None = None,
    *,
    progress: Callable[[float, float], None] | None = None,
    warm_start: WarmStart | None = None,
) -> RawAssignment:
    """Solve a routing problem with OR-Tools.

    Points ruled out by :func:`routing.model.diagnose` are left out of the solver
    model and reported with the diagnosis; points the solver drops are reported
    as :data:`REASON_NO_FIT` (mandatory, with what was saturated) or as not
    worth their penalty (optional). One impossible point never sinks the plan.

    Parameters
    ----------
    problem : RoutingProblem
        The problem, from :func:`routing.model.build_problem`.
    params : SolveParams, optional
        Search settings; default ``SolveParams()``.
    progress : callable, optional
        Called as ``progress(elapsed_s, best_objective)`` each time the best
        solution so far improves (over all workers), with the objective in
        currency units (defined as :attr:`RawAssignment.objective`). An
        exception raised by it stops nothing but is re-raised after the search.
    warm_start : WarmStart, optional
        A previous plan's routes (e.g. :func:`routing.plan.warm_start_from_plan`)
        to start from, with a penalty per point moved to another vehicle.

    Returns
    -------
    RawAssignment
        Routes, times, breaks, objective, status and the unserved points.

    Raises
    ------
    core.errors.InfeasiblePlanError
        OR-Tools returned no solution at all (time limit hit before a first
        solution, or an invalid model). With every point droppable this only
        happens on a very short time limit.
    """
    params = params or SolveParams()
    t0 = time.time()
    ruled_out = {problem.index_of()[u.point_id]: u.reason for u in diagnose(problem)}
    kept = tuple(p for p in problem.points if p not in ruled_out)
    grouping = group_colocated(problem, kept) if params.group_colocated else None
    if grouping is not None:
        logger.info(
            "%d points served as %d stops (co-located points merged)",
            len(problem.points),
            len(grouping.problem.points),
        )
        inner = replace(params, group_colocated=False)
        warm = None if warm_start is None else grouping.merge_warm(warm_start)
        merged = solve(grouping.problem, inner, progress=progress, warm_start=warm)
        return _expand(grouping, problem, merged)
    configs = params.portfolio(problem)
    deadline = t0 + params.time_limit_s
    jobs = [Job(problem, c, kept, ruled_out, warm_start, deadline, t0) for c in configs]
    if len(jobs) == 1 or not kept:
        result = run_job(jobs[0], throttled(progress))
    else:
        result = run_parallel(jobs, run_job, progress)
    logger.info(
        "solved %d points with %d vehicles in %.2f s (%s start): status %s, objective %.3f, %d unserved",
        len(problem.points),
        len(problem.vehicles),
        time.time() - t0,
        result.first_solution,
        result.status,
        unscale_cost(result.objective),
        len(result.dropped),
    )
    return replace(result, wall_time_s=time.time() - t0)
