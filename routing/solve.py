"""RoutingProblem + SolveParams -> OR-Tools -> :class:`RawAssignment`.

The only module in wastefleet that imports OR-Tools. It builds the solver
model from a :class:`routing.model.RoutingProblem` (all scaling already done
there), runs the search and reads the routes back as location indices.

Solver model
------------
- Nodes: the depots vehicles use, plus every point :func:`routing.model.diagnose`
  did not rule out. Facilities are not visited by the minimal plan.
- Arc cost per vehicle: :func:`routing.model.arc_cost_matrix` (per-km plus
  per-hour-of-travel), one matrix per distinct pair of rates; fixed cost per
  vehicle used.
- Dimension ``time``: transit = service at the origin + travel; slack (waiting)
  allowed; the cumul at a point is its service start. Shift window on every
  start/end cumul, route limit as span upper bound, point windows as
  ``SetRange`` over their union plus ``RemoveInterval`` for the gaps.
- Dimensions ``kg`` and ``l``: capacity per vehicle, demand per point.
- Vehicle-stream compatibility as a hard constraint on the node's vehicle.
- Every point is in a one-node disjunction: optional points with their penalty,
  mandatory ones with :func:`routing.model.mandatory_penalty`, so the solver
  always returns a plan and leftovers are reported, never hidden.
"""

from __future__ import annotations

import logging
import math
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from core.errors import InfeasiblePlanError, ValidationError
from routing.model import (
    RoutingProblem,
    arc_cost_matrix,
    diagnose,
    mandatory_penalty,
    unscale_cost,
)

__all__ = [
    "FIRST_SOLUTIONS",
    "METAHEURISTICS",
    "RawAssignment",
    "SolveParams",
    "solve",
]

logger = logging.getLogger(__name__)

FIRST_SOLUTIONS = ("parallel_cheapest_insertion", "savings", "path_cheapest_arc")
"""Accepted ``SolveParams.first_solution`` values (OR-Tools ``FirstSolutionStrategy``, lower case)."""

METAHEURISTICS = ("guided_local_search", "simulated_annealing", "tabu_search", "greedy_descent", "automatic")
"""Accepted ``SolveParams.metaheuristic`` values (OR-Tools ``LocalSearchMetaheuristic``, lower case)."""

REASON_NO_FIT = "could not fit in any route (capacity/time)"
"""Reason given for a mandatory point the solver left out."""

TIME = "time"
KG = "kg"
LITRES = "l"


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
        Wall-clock limit of the search (s, > 0). Guided local search never stops
        by itself, so this always applies.
    solution_limit : int or None
        Stop after this many solutions (> 0); ``None`` = no limit.
    first_solution : str
        One of :data:`FIRST_SOLUTIONS`.
    metaheuristic : str
        One of :data:`METAHEURISTICS`.
    log_search : bool
        Let OR-Tools log its search to stderr.
    """

    time_limit_s: float = 10.0
    solution_limit: int | None = None
    first_solution: str = "parallel_cheapest_insertion"
    metaheuristic: str = "guided_local_search"
    log_search: bool = False

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

    @classmethod
    def from_toml(cls, path: str | Path) -> SolveParams:
        """Load parameters from a TOML file of top-level keys named like the attributes.

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
        return cls(**data)


@dataclass(frozen=True, slots=True)
class RawAssignment:
    """What the solver decided, in location indices of the :class:`RoutingProblem`.

    Attributes
    ----------
    routes : tuple of tuple of int
        One per vehicle (problem order): start depot, points in visiting order,
        end depot. An unused vehicle has ``(start, end)``.
    times_s : tuple of tuple of int
        Aligned with ``routes``: the minimum of the time cumul's range in the
        solution (s): service start at points, departure from the start depot,
        return to the end depot. OR-Tools' finalizer usually binds these to one
        schedule (in our runs: the shortest route, then the earliest); where a
        range is left open the minimum is the earliest feasible time.
    objective : int
        Route costs plus penalties of dropped *optional* points (objective units,
        see :data:`routing.model.COST_SCALE`). The internal penalty of dropped
        mandatory points is not included.
    status : str
        OR-Tools search status, lower case without the ``ROUTING_`` prefix
        (``"success"``, ``"optimal"``, ``"partial_success_local_optimum_not_reached"``...).
    dropped : tuple of int
        Location indices of unserved points, sorted.
    reasons : Mapping of int to str
        Why each dropped point is unserved.
    wall_time_s : float
        Time spent building and solving the model (s).
    """

    routes: tuple[tuple[int, ...], ...]
    times_s: tuple[tuple[int, ...], ...]
    objective: int
    status: str
    dropped: tuple[int, ...]
    reasons: Mapping[int, str] = field(default_factory=dict)
    wall_time_s: float = 0.0


def _status_name(code: int) -> str:
    name = routing_enums_pb2.RoutingSearchStatus.Value.Name(code)
    return str(name).removeprefix("ROUTING_").lower()


def _restrict_vehicles(
    routing: pywrapcp.RoutingModel, index: int, vehicles: tuple[int, ...], n_vehicles: int
) -> None:
    """Allow only ``vehicles`` to visit ``index`` (a hard constraint, never a penalty).

    ``RoutingModel.SetAllowedVehiclesForIndex`` is the intended call, but the
    SWIG wrapper of OR-Tools 9.15 rejects every Python sequence for its
    ``absl::Span<const int>`` argument (TypeError). Then we restrict the node's
    vehicle variable directly, keeping -1 so the disjunction can still drop it.
    """
    if len(vehicles) == n_vehicles:
        return
    try:
        routing.SetAllowedVehiclesForIndex(list(vehicles), index)
    except TypeError:
        routing.VehicleVar(index).SetValues([-1, *vehicles])


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


def _build_model(problem: RoutingProblem, kept: list[int]) -> _SolverModel:
    """Nodes = vehicle depots + kept points; costs, time, capacities, compatibility, disjunctions."""
    depot_locs = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    node_loc = np.array(depot_locs + kept, dtype=np.int64)
    node_of = {int(loc): node for node, loc in enumerate(node_loc)}
    nv = len(problem.vehicles)
    manager = pywrapcp.RoutingIndexManager(
        len(node_loc),
        nv,
        [node_of[v.start] for v in problem.vehicles],
        [node_of[v.end] for v in problem.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    sub = np.ix_(node_loc, node_loc)

    # Arc costs: one registered matrix per distinct pair of cost rates.
    cost_index: dict[tuple[float, float], int] = {}
    for k, v in enumerate(problem.vehicles):
        key = (v.cost_per_km, v.cost_per_hour)
        if key not in cost_index:
            cost_index[key] = routing.RegisterTransitMatrix(arc_cost_matrix(problem, k)[sub].tolist())
        routing.SetArcCostEvaluatorOfVehicle(cost_index[key], k)
        routing.SetFixedCostOfVehicle(v.fixed_cost, k)

    # Time: service at the origin + travel; waiting allowed up to the horizon.
    service = np.asarray(problem.service_s, dtype=np.int64)[node_loc]
    transit = service[:, None] + problem.time_s[sub]
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    routing.AddDimension(time_cb, problem.horizon_s, problem.horizon_s, False, TIME)
    time_dim = routing.GetDimensionOrDie(TIME)
    for k, v in enumerate(problem.vehicles):
        time_dim.CumulVar(routing.Start(k)).SetRange(v.shift_start_s, v.shift_end_s)
        time_dim.CumulVar(routing.End(k)).SetRange(v.shift_start_s, v.shift_end_s)
        time_dim.SetSpanUpperBoundForVehicle(v.route_limit_s, k)

    # Capacities.
    for name, demand, caps in (
        (KG, problem.demand_kg, [v.capacity_kg for v in problem.vehicles]),
        (LITRES, problem.demand_l, [v.capacity_l for v in problem.vehicles]),
    ):
        cb = routing.RegisterUnaryTransitVector(np.asarray(demand, dtype=np.int64)[node_loc].tolist())
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, name)

    # Points: windows, allowed vehicles, disjunctions.
    big = mandatory_penalty(problem)
    mandatory = []
    for p in kept:
        index = manager.NodeToIndex(node_of[p])
        wins = problem.windows[p]
        if wins:
            cumul = time_dim.CumulVar(index)
            cumul.SetRange(wins[0][0], wins[-1][1])
            for (_, end), (start, _) in pairwise(wins):
                if start - end > 1:
                    cumul.RemoveInterval(end + 1, start - 1)
        _restrict_vehicles(routing, index, problem.allowed_vehicles[p], nv)
        penalty = problem.penalty[p]
        if penalty is None:
            mandatory.append(index)
        routing.AddDisjunction([index], big if penalty is None else penalty)
    return _SolverModel(manager, routing, node_loc, time_dim, mandatory, big)


def _search_parameters(params: SolveParams) -> Any:
    """OR-Tools ``RoutingSearchParameters`` from our params."""
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution.upper()
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic.upper()
    )
    search.time_limit.FromMilliseconds(max(1, round(params.time_limit_s * 1000)))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    search.log_search = params.log_search
    return search


def _read_routes(model: _SolverModel, solution: Any) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Routes (location indices) and time cumul minima (s) of every vehicle."""
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
    return routes, times


def solve(
    problem: RoutingProblem,
    params: SolveParams | None = None,
    *,
    progress: Callable[[float, float], None] | None = None,
) -> RawAssignment:
    """Solve a routing problem with OR-Tools.

    Points ruled out by :func:`routing.model.diagnose` are left out of the solver
    model and reported with the diagnosis; points the solver drops are reported
    as :data:`REASON_NO_FIT` (mandatory) or as not worth their penalty (optional).
    One impossible point never sinks the plan.

    Parameters
    ----------
    problem : RoutingProblem
        The problem, from :func:`routing.model.build_problem`.
    params : SolveParams, optional
        Search settings; default ``SolveParams()``.
    progress : callable, optional
        Called as ``progress(elapsed_s, best_objective)`` at each solution found,
        with the best objective so far in currency units (defined as
        :attr:`RawAssignment.objective`). An exception raised by it stops
        nothing but is re-raised after the search.

    Returns
    -------
    RawAssignment
        Routes, times, objective, status and the unserved points.

    Raises
    ------
    core.errors.InfeasiblePlanError
        OR-Tools returned no solution at all (time limit hit before a first
        solution, or an invalid model). With every point droppable this only
        happens on a very short time limit.
    """
    params = params or SolveParams()
    t0 = time.perf_counter()

    ruled_out = {problem.index_of()[u.point_id]: u.reason for u in diagnose(problem)}
    kept = [p for p in problem.points if p not in ruled_out]
    model = _build_model(problem, kept)
    routing = model.routing

    def unpaid_mandatory() -> int:
        """Internal penalty paid in the current solution for dropped mandatory points."""
        return model.big * sum(1 for i in model.mandatory if routing.ActiveVar(i).Value() == 0)

    errors: list[Exception] = []
    if progress is not None:
        best: list[int] = []  # [raw objective, reported objective] of the best solution

        def on_solution() -> None:
            try:
                raw = int(routing.CostVar().Value())
                if not best or raw < best[0]:
                    best[:] = [raw, raw - unpaid_mandatory()]
                progress(time.perf_counter() - t0, unscale_cost(best[1]))
            except Exception as e:  # re-raised after the search; C++ must not see it
                if not errors:
                    errors.append(e)

        routing.AddAtSolutionCallback(on_solution)

    solution = routing.SolveWithParameters(_search_parameters(params))
    status = _status_name(routing.status())
    if errors:
        raise errors[0]
    if solution is None:
        msg = f"OR-Tools found no solution (status '{status}', time limit {params.time_limit_s} s)"
        raise InfeasiblePlanError([msg])

    routes, times = _read_routes(model, solution)
    served = {p for route in routes for p in route[1:-1]}
    reasons = dict(ruled_out)
    n_mandatory_dropped = 0
    for p in kept:
        if p in served:
            continue
        penalty = problem.penalty[p]
        if penalty is None:
            n_mandatory_dropped += 1
            reasons[p] = REASON_NO_FIT
        else:
            reasons[p] = f"optional: serving it would cost more than its penalty ({unscale_cost(penalty):g})"
    objective = int(solution.ObjectiveValue()) - model.big * n_mandatory_dropped
    wall = time.perf_counter() - t0
    logger.info(
        "solved %d points with %d vehicles in %.2f s: status %s, objective %.3f, %d unserved",
        len(problem.points),
        len(problem.vehicles),
        wall,
        status,
        unscale_cost(objective),
        len(reasons),
    )
    return RawAssignment(
        routes=tuple(routes),
        times_s=tuple(times),
        objective=objective,
        status=status,
        dropped=tuple(sorted(reasons)),
        reasons=reasons,
        wall_time_s=wall,
    )
