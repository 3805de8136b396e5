"""ArcProblem + SolveParams -> OR-Tools -> :class:`routing.arc_model.ArcSolution`.

Arc routing as node routing
---------------------------
Every way a task may be served becomes a *service node*: a ``forward`` task
one node (tail -> head), an ``either`` task two (tail -> head and head ->
tail) in ONE disjunction, so exactly one is served (a mandatory task's
disjunction has a penalty larger than any route cost; an optional task's has
its own penalty). A service node stands for "arrive at ``from_node``, serve,
leave from ``to_node``"; the move from node ``i`` to node ``j`` costs the
service of ``i`` plus the deadhead from ``i``'s ``to_node`` to ``j``'s
``from_node``. Depots are nodes with nothing to serve.

- Cost per vehicle: ``cost_per_distance * (service + deadhead distance)``
  times :data:`routing.model.COST_SCALE` (and ``ObjectiveWeights.distance``),
  plus ``fixed_cost`` (times ``ObjectiveWeights.vehicles``) per vehicle used,
  plus ``cost_per_hour`` per second of the route's span on the time dimension
  (times ``ObjectiveWeights.travel_time + duration``: in arc routing every
  hour on the road is working or driving time; dumping and waiting count too).
- Dimension ``time`` (only when the problem has any time data): transit =
  service time of the origin + deadhead time; the cumul at a node is its
  service start; task windows and facility opening hours restrict it; shift
  window on the route's start and end; the break is an OR-Tools break
  interval, as in :mod:`routing.solve`.
- One capacity dimension per tracked dimension, with dump-and-continue /
  refill-and-continue as in the collection model: a facility visit is a
  *copy* node with transit ``-top`` and a slack of up to ``top``, so the amount
  after it may drop to 0; every other node has no slack; dimensions in
  ``end_empty`` must be 0 at the route's end. A copy never follows a copy
  of a facility resetting the same dimensions (back-to-back visits would reset
  nothing new, and cost nothing on distance).
- Tasks a vehicle may not serve, and facilities it may not use, are ruled out
  on the node's vehicle variable.

Tasks no vehicle can ever serve (no allowed vehicle, demand above every
capacity, no path, window or shift out of reach) are left out before the
model is built and reported with the reason
(:func:`routing.arc_construct.diagnose_tasks`, like the node table and
:func:`routing.arc_construct.path_scanning`); tasks
the search drops are reported as :data:`routing.solve.REASON_NO_FIT` with what
was saturated.

Search
------
The first solution is :func:`best_path_scanning` (the best of a few
:func:`path_scanning` variants: nearest feasible task next, with a dump/refill
visit inserted when the next task would not fit) polished by
:func:`routing.arc_improve.or_opt` (chains of passes moved within their trip;
a route the model rejects after it keeps its scanned order), or one of
OR-Tools' strategies, improved by the metaheuristic of
:class:`routing.solve.SolveParams` (guided local search by default; OR-Tools'
``shortest_path_swap_active`` operators flip served directions). A *plain*
CARP (:func:`carp_arrays`: no times, no facilities, one depot, one capacity;
the benchmark sets) first runs the memetic phase of :mod:`routing.arc_local`
for :data:`MEMETIC_SHARE` of the budget, one seed per worker, and guided local
search continues from its best: OR-Tools' node moves alone stall far from the
optimum when capacity is tight (many short trips). With ``workers > 1``
searches run in parallel processes through :func:`routing.search.run_parallel`
and the best is kept.
A search stops early when it reaches the lower bound (the mandatory service
cost, when vehicles have no fixed cost) or, with ``stall_s``, when it has not
improved for that long.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from core.errors import InfeasiblePlanError
from routing.arc_construct import (
    Nodes,
    best_path_scanning,
    carp_arrays,
    diagnose_tasks,
    facility_copies,
    has_time,
    node_service,
    node_table,
    path_scanning,
    scaled_amount,
    unit_scale,
)
from routing.arc_improve import or_opt
from routing.arc_local import CarpArrays, memetic
from routing.arc_model import (
    ArcProblem,
    ArcRoute,
    ArcSolution,
    ArcVisit,
    UnservedTask,
    VisitKind,
)
from routing.model import COST_SCALE, UNREACHABLE_S, hhmm
from routing.search import Report, run_parallel, throttled
from routing.solve import REASON_NO_FIT, SolveParams

__all__ = [
    "ARC_FIRST_SOLUTIONS",
    "MEMETIC",
    "MEMETIC_SHARE",
    "PATH_SCANNING",
    "carp_arrays",
    "diagnose_tasks",
    "path_scanning",
    "solve_arc",
]

logger = logging.getLogger(__name__)

PATH_SCANNING = "path_scanning"
"""Our own first solution (:func:`path_scanning`)."""

MEMETIC = "memetic"
"""First-solution phase for plain CARP problems (:func:`routing.arc_local.memetic`)."""

MEMETIC_SHARE = 0.9
"""Share of the time limit the memetic phase gets; guided local search continues from its best."""

ARC_FIRST_SOLUTIONS = (PATH_SCANNING, "path_cheapest_arc", "parallel_cheapest_insertion", "savings")
"""Portfolio of first solutions, worker ``i`` takes entry ``i`` (``auto`` = the first); other
``SolveParams.first_solution`` values name an OR-Tools strategy for worker 0 (``cluster``/``sweep``
are point-routing starts and mean :data:`PATH_SCANNING` here)."""

TIME = "time"
_EPS = 1e-6
_UNREACHABLE_DIST = 1e9
"""Distance used for ``inf`` deadheads in the integer cost matrix (never chosen when avoidable)."""


# --------------------------------------------------------------------------- model


@dataclass(slots=True)
class _ArcModel:
    """An OR-Tools model of an arc problem, with what is needed to read a solution back."""

    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    nodes: Nodes
    time_dim: Any
    big: int
    """Penalty of a dropped mandatory task (objective units)."""
    mandatory: list[list[int]]
    """Solver indices of each mandatory task's service nodes."""
    task_index: dict[int, list[int]]
    """Task -> solver indices of its service nodes."""
    copies: dict[int, list[int]]
    """Facility -> solver indices of its copies."""
    dims: list[tuple[str, int]] = field(default_factory=list)
    """Capacity dimensions in the model and their integer scale."""


def _windows(cumul: Any, wins: Sequence[tuple[float, float]]) -> None:
    if not wins:
        return
    ints = [(math.ceil(a - _EPS), math.floor(b + _EPS)) for a, b in wins]
    cumul.SetRange(ints[0][0], ints[-1][1])
    for (_, end), (start, _) in itertools.pairwise(ints):
        if start - end > 1:
            cumul.RemoveInterval(end + 1, start - 1)


def _restrict(routing: Any, index: int, allowed: Sequence[int], nv: int) -> None:
    if len(allowed) == nv:
        return
    routing.VehicleVar(index).SetValues([-1, *allowed])


def _build_model(problem: ArcProblem, kept: Sequence[int], params: SolveParams) -> _ArcModel:
    """Nodes, costs, time, capacities, disjunctions (see the module docstring)."""
    copies = facility_copies(problem, kept)
    nodes = node_table(problem, kept, copies)
    depot_node = {int(g): i for i, g in enumerate(nodes.src[: nodes.n_depots])}
    nv = len(problem.vehicles)
    manager = pywrapcp.RoutingIndexManager(
        nodes.size,
        nv,
        [depot_node[v.start] for v in problem.vehicles],
        [depot_node[v.end_node] for v in problem.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    n_index = routing.Size()
    weights = params.weights

    svc_cost, svc_time = node_service(problem, nodes)
    dead = problem.dist[np.ix_(nodes.dst, nodes.src)]
    dead = np.where(np.isfinite(dead), dead, _UNREACHABLE_DIST)
    move = svc_cost[:, None] + dead
    np.fill_diagonal(move, 0.0)
    cost_of: dict[float, int] = {}
    max_arc = 0
    for k, v in enumerate(problem.vehicles):
        rate = weights.distance * v.cost_per_distance * COST_SCALE
        if rate not in cost_of:
            matrix = np.rint(move * rate).astype(np.int64)
            max_arc = max(max_arc, int(matrix[matrix < _UNREACHABLE_DIST * rate / 2].max(initial=0)))
            cost_of[rate] = routing.RegisterTransitMatrix(matrix.tolist())
        routing.SetArcCostEvaluatorOfVehicle(cost_of[rate], k)
        routing.SetFixedCostOfVehicle(round(weights.vehicles * v.fixed_cost * COST_SCALE), k)

    time_dim = None
    span_total = 0  # the most the span costs can add (objective units), for the drop penalty
    if has_time(problem):
        dead_t = problem.time_s[np.ix_(nodes.dst, nodes.src)]
        dead_t = np.where(np.isfinite(dead_t), np.ceil(dead_t - _EPS), UNREACHABLE_S).astype(np.int64)
        transit = svc_time[:, None] + dead_t
        np.fill_diagonal(transit, 0)
        horizon = 2 * 86_400
        cb = routing.RegisterTransitMatrix(transit.tolist())
        routing.AddDimension(cb, horizon, horizon, False, TIME)
        time_dim = routing.GetDimensionOrDie(TIME)
        visit = [int(svc_time[manager.IndexToNode(i)]) for i in range(n_index)]
        for k, v in enumerate(problem.vehicles):
            lo, hi = math.ceil(v.shift_start_s - _EPS), math.floor(v.shift_end_s + _EPS)
            time_dim.CumulVar(routing.Start(k)).SetRange(lo, hi)
            time_dim.CumulVar(routing.End(k)).SetRange(lo, hi)
            per_s = round((weights.travel_time + weights.duration) * v.cost_per_hour * COST_SCALE / 3600)
            if per_s:
                time_dim.SetSpanCostCoefficientForVehicle(per_s, k)
                span_total += per_s * max(0, hi - lo)
            if v.break_s > 0:
                brk = solver.FixedDurationIntervalVar(
                    math.ceil(v.break_start_min_s - _EPS),
                    math.floor(v.break_start_max_s + _EPS),
                    math.ceil(v.break_s - _EPS),
                    False,
                    f"break-{k}",
                )
                time_dim.SetBreakIntervalsOfVehicle([brk], k, visit)

    # Capacity dimensions, reset at facility copies that reset them.
    dims: list[tuple[str, int]] = []
    for d in problem.dimensions:
        tracked = [k for k, v in enumerate(problem.vehicles) if d in v.capacity]
        if not tracked:
            continue
        scale = unit_scale(problem, kept, d)
        demand = np.zeros(nodes.size, dtype=np.int64)
        for i in range(nodes.size):
            if nodes.task[i] >= 0:
                demand[i] = scaled_amount(problem.tasks[int(nodes.task[i])].demand.get(d, 0.0), scale)
        total = int(demand.sum())
        caps = [
            scaled_amount(v.capacity[d], scale, capacity=True) if d in v.capacity else total + 1
            for v in problem.vehicles
        ]
        top = max(caps)
        resets = np.array(
            [
                nodes.facility[i] >= 0 and d in problem.facilities[int(nodes.facility[i])].resets
                for i in range(nodes.size)
            ]
        )
        demand[resets] = -top
        cb = routing.RegisterUnaryTransitVector(demand.tolist())
        routing.AddDimensionWithVehicleCapacity(cb, top if resets.any() else 0, caps, True, f"cap:{d}")
        dim = routing.GetDimensionOrDie(f"cap:{d}")
        if resets.any():
            for i in range(n_index):
                if not resets[manager.IndexToNode(i)]:
                    dim.SlackVar(i).SetValue(0)
            if d in problem.end_empty:
                for k in tracked:
                    dim.CumulVar(routing.End(k)).SetValue(0)
        dims.append((d, scale))

    # Tasks: windows, vehicles, one disjunction per task.
    optional = sum(round(t.penalty * COST_SCALE) for t in problem.tasks if t.penalty is not None)
    fixed = sum(round(weights.vehicles * v.fixed_cost * COST_SCALE) for v in problem.vehicles)
    big = 1 + fixed + optional + (nodes.size + nv) * max_arc + span_total
    big = min(big, (1 << 62) // (len(kept) + 1))
    task_index: dict[int, list[int]] = {}
    for i in range(nodes.n_depots, nodes.size):
        if nodes.task[i] >= 0:
            task_index.setdefault(int(nodes.task[i]), []).append(manager.NodeToIndex(i))
    mandatory = []
    for t, indices in task_index.items():
        task = problem.tasks[t]
        allowed = [
            k for k, v in enumerate(problem.vehicles) if task.vehicles is None or v.id in task.vehicles
        ]
        for index in indices:
            if time_dim is not None:
                _windows(time_dim.CumulVar(index), task.windows)
            _restrict(routing, index, allowed, nv)
        if task.penalty is None:
            mandatory.append(indices)
            routing.AddDisjunction(indices, big, 1)
        else:
            routing.AddDisjunction(indices, round(task.penalty * COST_SCALE), 1)

    copy_index: dict[int, list[int]] = {}
    for i in range(nodes.n_depots, nodes.size):
        f = int(nodes.facility[i])
        if f < 0:
            continue
        index = manager.NodeToIndex(i)
        copy_index.setdefault(f, []).append(index)
        fac = problem.facilities[f]
        allowed = [k for k, v in enumerate(problem.vehicles) if fac.vehicles is None or v.id in fac.vehicles]
        if time_dim is not None:
            _windows(time_dim.CumulVar(index), fac.windows)
        _restrict(routing, index, allowed, nv)
        routing.AddDisjunction([index], 0)
    _no_stacked_visits(problem, routing, copy_index)

    return _ArcModel(manager, routing, nodes, time_dim, big, mandatory, task_index, copy_index, dims)


def _no_stacked_visits(problem: ArcProblem, routing: Any, copy_index: dict[int, list[int]]) -> None:
    """Forbid moving from a facility copy straight to a copy of a facility that resets nothing more."""
    for f, indices in copy_index.items():
        resets = problem.facilities[f].resets
        banned = [j for g, js in copy_index.items() if problem.facilities[g].resets <= resets for j in js]
        for i in indices:
            routing.NextVar(i).RemoveValues([j for j in banned if j != i])


# --------------------------------------------------------------------------- one search


@dataclass(frozen=True, slots=True)
class _ArcJob:
    """Everything one search needs; pickled to worker processes (the shape :mod:`routing.search` reads)."""

    problem: ArcProblem
    params: SolveParams
    kept: tuple[int, ...]
    ruled_out: dict[int, str]
    first: str
    """First solution of this search: :data:`PATH_SCANNING` or an OR-Tools strategy name."""
    deadline: float
    t0: float
    stall_s: float | None = None
    seed: int = 0
    """Random seed of the memetic phase."""
    warm: None = None


@dataclass(frozen=True, slots=True)
class _RawArc:
    """One search's result; per vehicle its visits ``(task, facility, from, to, start_s)``, -1 = none."""

    visits: tuple[tuple[tuple[int, int, int, int, int], ...], ...]
    starts: tuple[int, ...]
    """Time cumul (min) at each route's start (-1 without time dimension)."""
    breaks: tuple[tuple[tuple[int, int], ...], ...]
    dropped: tuple[int, ...]
    """Indices of the tasks left out (ruled out or dropped); the field :mod:`routing.search` ranks."""
    objective: int
    status: str
    first_solution: str


COMPLETION_LIMIT_S = 1.0
"""Time (s) OR-Tools may spend completing one assignment (placing breaks, cumuls) and on one LNS
move: its default (0.1 s) runs out under load on a few hundred passes with breaks, and then
even the first routes fail to restore (status ``fail``, nondeterministically)."""

TINY = 3
"""Service nodes up to which the search is a plain descent: a metaheuristic never stops on so few."""


def _search_parameters(
    params: SolveParams, first: str, time_limit_s: float, n_service: int, *, timed: bool = False
) -> Any:
    """OR-Tools search parameters; ``timed`` (a time dimension, perhaps breaks) raises the completion
    limit to :data:`COMPLETION_LIMIT_S`."""
    search = pywrapcp.DefaultRoutingSearchParameters()
    strategy = "path_cheapest_arc" if first in (PATH_SCANNING, MEMETIC) else first
    search.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy.upper())
    meta = "greedy_descent" if n_service <= TINY else params.metaheuristic
    search.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, meta.upper())
    search.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    if timed:
        search.lns_time_limit.FromMilliseconds(round(COMPLETION_LIMIT_S * 1000))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    search.log_search = params.log_search
    search.disable_scheduling_beware_this_may_degrade_performance = True
    return search


def _run(job: _ArcJob, report: Report | None) -> _RawArc:
    """One search: model, first solution, local search, result."""
    problem, params = job.problem, job.params
    model = _build_model(problem, job.kept, params)
    n_service = sum(len(v) for v in model.task_index.values())
    routing, manager = model.routing, model.manager
    remaining = lambda: max(0.05, job.deadline - time.time())  # noqa: E731
    bound = 0
    if all(v.fixed_cost == 0 for v in problem.vehicles) and all(
        v.cost_per_distance == problem.vehicles[0].cost_per_distance for v in problem.vehicles
    ):
        rate = params.weights.distance * problem.vehicles[0].cost_per_distance * COST_SCALE
        bound = round(
            sum(problem.tasks[t].service_cost for t in job.kept if problem.tasks[t].penalty is None) * rate
        )

    def current() -> tuple[int, int]:
        dropped = sum(
            1 for indices in model.mandatory if all(routing.ActiveVar(i).Value() == 0 for i in indices)
        )
        return dropped, int(routing.CostVar().Value()) - model.big * dropped

    errors: list[Exception] = []
    best: list[tuple[int, int]] = []
    last_gain = [time.time()]

    def on_solution() -> None:
        try:
            key = current()
            if not best or key < best[0]:
                best[:] = [key]
                last_gain[0] = time.time()
                if report is not None:
                    report(time.time() - job.t0, key[0], key[1] / COST_SCALE)
            at_bound = key[0] == 0 and bound and key[1] <= bound
            stalled = job.stall_s is not None and time.time() - last_gain[0] > job.stall_s
            if at_bound or stalled:
                routing.solver().FinishCurrentSearch()
        except Exception as e:  # re-raised after the search; C++ must not see it
            if not errors:
                errors.append(e)

    routing.AddAtSolutionCallback(on_solution)
    search = _search_parameters(params, job.first, remaining(), n_service, timed=model.time_dim is not None)
    solution = None
    arrays = carp_arrays(problem, job.kept) if job.first == MEMETIC else None
    if job.first == PATH_SCANNING or arrays is not None:
        routing.CloseModelWithParameters(search)
        start_routes = None
        if arrays is not None:
            try:
                start_routes = _memetic_routes(job, arrays, model.nodes, report)
            except Exception:  # e.g. a Numba cache clash between fresh workers: fall back, never fail
                logger.exception("memetic phase failed; starting from path scanning")
        if start_routes is None:
            scanned = best_path_scanning(problem, model.nodes)
            start_routes = _keep_accepted(model, scanned, or_opt(problem, model.nodes, scanned))
        start = _read_start(model, start_routes)
        search = _search_parameters(
            params, job.first, remaining(), n_service, timed=model.time_dim is not None
        )
        solution = routing.SolveFromAssignmentWithParameters(start, search) if start is not None else None
        if solution is None and start is not None:
            logger.warning("OR-Tools could not restore the first routes of %s; keeping them", job.first)
            solution = start
    if solution is None:
        solution = routing.SolveWithParameters(search)
    status = (
        str(routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status()))
        .removeprefix("ROUTING_")
        .lower()
    )
    if errors:
        raise errors[0]
    if solution is None:
        msg = f"OR-Tools found no solution (status '{status}', time limit {params.time_limit_s} s)"
        raise InfeasiblePlanError([msg])

    nodes = model.nodes
    visits, starts, breaks = [], [], []
    served: set[int] = set()
    for k in range(len(problem.vehicles)):
        index = routing.Start(k)
        starts.append(int(solution.Min(model.time_dim.CumulVar(index))) if model.time_dim is not None else -1)
        row = []
        index = solution.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            i = manager.IndexToNode(index)
            at = int(solution.Min(model.time_dim.CumulVar(index))) if model.time_dim is not None else -1
            t, f = int(nodes.task[i]), int(nodes.facility[i])
            row.append((t, f, int(nodes.src[i]), int(nodes.dst[i]), at))
            if t >= 0:
                served.add(t)
            index = solution.Value(routing.NextVar(index))
        visits.append(tuple(row))
    found: dict[str, tuple[int, int]] = {}
    container = solution.IntervalVarContainer()
    for j in range(container.Size()):
        element = container.Element(j)
        name = element.Var().Name()
        if name.startswith("break-") and element.PerformedValue() == 1:
            found[name] = (int(element.StartMin()), int(element.DurationMin()))
    breaks = [(found[f"break-{k}"],) if f"break-{k}" in found else () for k in range(len(problem.vehicles))]
    dropped = sorted(set(job.ruled_out) | {t for t in job.kept if t not in served})
    n_mandatory = sum(1 for t in job.kept if t not in served and problem.tasks[t].penalty is None)
    return _RawArc(
        visits=tuple(visits),
        starts=tuple(starts),
        breaks=tuple(breaks),
        dropped=tuple(dropped),
        objective=int(solution.ObjectiveValue()) - model.big * n_mandatory,
        status=status,
        first_solution=job.first,
    )


def _memetic_routes(job: _ArcJob, arrays: CarpArrays, nodes: Nodes, report: Report | None) -> list[list[int]]:
    """Run the memetic phase for :data:`MEMETIC_SHARE` of the budget; its trips as solver node routes."""
    problem, params = job.problem, job.params
    budget = job.deadline - job.t0
    rate = params.weights.distance * problem.vehicles[0].cost_per_distance

    def improved(cost: float) -> None:
        if report is not None:
            report(time.time() - job.t0, 0, cost * rate)

    lower = sum(problem.tasks[t].service_cost for t in job.kept)
    _, trips = memetic(
        arrays,
        deadline=job.t0 + MEMETIC_SHARE * budget,
        seed=job.seed,
        max_iterations=params.solution_limit,
        lower_bound=lower,
        report=improved,
    )
    node_of: dict[tuple[int, int, int], int] = {}
    for i in range(nodes.n_depots, nodes.size):
        if nodes.task[i] >= 0:
            node_of[(int(nodes.task[i]), int(nodes.src[i]), int(nodes.dst[i]))] = i
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    for k, trip in enumerate(trips):
        for arc in trip:
            t = job.kept[arc >> 1]
            task = problem.tasks[t]
            a, b = (task.tail, task.head) if arc & 1 == 0 else (task.head, task.tail)
            routes[k].append(node_of[(t, a, b)])
    return routes


def _keep_accepted(
    model: _ArcModel, base: Sequence[Sequence[int]], better: Sequence[Sequence[int]]
) -> list[list[int]]:
    """Per vehicle the ``better`` route (node numbers) where the model accepts it, else the ``base`` one."""
    manager, routing = model.manager, model.routing
    out = []
    for k, (old, new) in enumerate(zip(base, better, strict=True)):
        if list(old) != list(new):
            alone = [[manager.NodeToIndex(i) for i in new] if j == k else [] for j in range(len(base))]
            if routing.ReadAssignmentFromRoutes(alone, True) is None:
                logger.info("improved first route of vehicle %d rejected by the model; keeping the first", k)
                new = old
        out.append(list(new))
    return out


def _read_start(model: _ArcModel, routes: Sequence[Sequence[int]]) -> Any | None:
    """An assignment of node routes; routes the model rejects are left out one by one."""
    manager, routing = model.manager, model.routing
    indices = [[manager.NodeToIndex(i) for i in route] for route in routes]
    start = routing.ReadAssignmentFromRoutes(indices, True)
    if start is not None:
        return start
    accepted: list[list[int]] = [[] for _ in indices]
    for k, row in enumerate(indices):
        if not row:
            continue
        accepted[k] = row
        if routing.ReadAssignmentFromRoutes(accepted, True) is None:
            logger.warning("path-scanning route of vehicle %d rejected by the solver model", k)
            accepted[k] = []
    return routing.ReadAssignmentFromRoutes(accepted, True)


# --------------------------------------------------------------------------- assembly


def _assemble(problem: ArcProblem, raw: _RawArc, ruled_out: dict[int, str], wall_s: float) -> ArcSolution:
    """Visits with distances, times and loads; unserved tasks with reasons; the money cost."""
    dist, tm = problem.dist, problem.time_s
    routes = []
    used_vehicles = 0
    served: set[int] = set()
    cost = 0.0
    for k, v in enumerate(problem.vehicles):
        rows = raw.visits[k]
        if not rows:
            routes.append(ArcRoute(v.id, (), v.shift_start_s, v.shift_start_s, 0.0, 0.0, raw.breaks[k]))
            continue
        used_vehicles += 1
        load = dict.fromkeys(v.capacity, 0.0)
        at = v.start
        first_from = rows[0][2]
        first_start = rows[0][4]
        if first_start >= 0:
            depart = max(float(raw.starts[k]), first_start - float(tm[at, first_from]))
        else:
            depart = v.shift_start_s
        now = depart
        visits = []
        service_d = dead_d = 0.0
        for t, f, a, b, at_s in rows:
            dd = float(dist[at, a])
            arrive = now + float(tm[at, a])
            start = max(arrive, float(at_s)) if at_s >= 0 else arrive
            if t >= 0:
                task = problem.tasks[t]
                served.add(t)
                end = start + task.service_s
                for d, q in task.demand.items():
                    if d in load:
                        load[d] += q
                visits.append(ArcVisit(VisitKind.SERVICE, task.id, a, b, dd, arrive, start, end, dict(load)))
                service_d += task.service_cost
            else:
                fac = problem.facilities[f]
                end = start + fac.service_s
                for d in fac.resets:
                    if d in load:
                        load[d] = 0.0
                visits.append(ArcVisit(VisitKind.FACILITY, fac.id, a, b, dd, arrive, start, end, dict(load)))
            dead_d += dd
            now, at = end, b
        dead_d += float(dist[at, v.end_node])
        back = now + float(tm[at, v.end_node])
        for brk_start, duration in raw.breaks[k]:
            if now <= brk_start < back:  # a break after the last visit delays the return
                back += duration
        cost += (
            v.fixed_cost
            + v.cost_per_distance * (service_d + dead_d)
            + v.cost_per_hour * (back - depart) / 3600
        )
        routes.append(ArcRoute(v.id, tuple(visits), depart, back, service_d, dead_d, raw.breaks[k]))
    unserved = []
    for t, task in enumerate(problem.tasks):
        if t in served:
            continue
        if t in ruled_out:
            reason = ruled_out[t]
        elif task.penalty is not None:
            reason = f"optional: serving it would cost more than its penalty ({task.penalty:g})"
        else:
            reason = _explain_drop(problem, t, raw, used_vehicles)
        if task.penalty is not None:
            cost += task.penalty
        unserved.append(UnservedTask(task.id, reason))
    return ArcSolution(tuple(routes), tuple(unserved), cost, raw.status, wall_s)


def _explain_drop(problem: ArcProblem, t: int, raw: _RawArc, used: int) -> str:
    """Why the search left a mandatory task out: ``capacity``, ``window`` or ``time``, with details.

    ``capacity`` when a dimension of its demand is never reset and no allowed vehicle has room
    left for it; else ``window`` when it has windows; else ``time`` (the allowed vehicles'
    shifts are taken).
    """
    task = problem.tasks[t]
    allowed = [k for k, v in enumerate(problem.vehicles) if task.vehicles is None or v.id in task.vehicles]
    busy = (
        f"all {len(allowed)} vehicles that may serve it are in use"
        if all(raw.visits[k] for k in allowed)
        else ""
    )
    for d, q in task.demand.items():
        ks = [k for k in allowed if d in problem.vehicles[k].capacity]
        if not ks or q <= 0 or any(d in f.resets for f in problem.facilities):
            continue
        load = {
            k: sum(problem.tasks[row[0]].demand.get(d, 0.0) for row in raw.visits[k] if row[0] >= 0)
            for k in ks
        }
        if all(load[k] + q > problem.vehicles[k].capacity[d] + _EPS for k in ks):
            room = max(problem.vehicles[k].capacity[d] - load[k] for k in ks)
            return f"{REASON_NO_FIT}: capacity: needs {q:g} {d}, the most room left on a vehicle is {room:g}"
    if task.windows:
        wins = ", ".join(f"{hhmm(math.ceil(a))}-{hhmm(math.floor(b))}" for a, b in task.windows)
        return f"{REASON_NO_FIT}: window: {wins}" + (f"; {busy}" if busy else "")
    return f"{REASON_NO_FIT}: time: the shifts of the vehicles that may serve it are full" + (
        f" ({busy})" if busy else ""
    )


# --------------------------------------------------------------------------- solve


def _portfolio(problem: ArcProblem, kept: Sequence[int], params: SolveParams) -> list[tuple[str, int]]:
    """``(first solution, seed)`` per worker: the memetic phase with seeds 0, 1, ... on a plain CARP;
    else ``first_solution`` (``auto`` = :data:`PATH_SCANNING`) then the other starts in turn."""
    if params.first_solution == "auto" and carp_arrays(problem, kept) is not None:
        return [(MEMETIC, i) for i in range(params.workers)]
    first = params.first_solution
    if first in ("auto", "cluster", "sweep"):
        first = PATH_SCANNING
    others = [s for s in ARC_FIRST_SOLUTIONS if s != first]
    return [(first, 0), *((others[(i - 1) % len(others)], i) for i in range(1, params.workers))]


def solve_arc(
    problem: ArcProblem,
    params: SolveParams | None = None,
    *,
    progress: Callable[[float, float], None] | None = None,
    stall_s: float | None = None,
) -> ArcSolution:
    """Solve a capacitated arc-routing problem with OR-Tools.

    Parameters
    ----------
    problem : ArcProblem
        The problem.
    params : SolveParams, optional
        Search settings (time limit, solution limit, metaheuristic, workers,
        weights); default ``SolveParams()``. ``first_solution`` ``auto`` means
        :func:`path_scanning`; with several workers the others start from
        OR-Tools' ``path_cheapest_arc``, ``parallel_cheapest_insertion``, ``savings``.
        On a plain CARP, ``auto`` runs the memetic phase first (one seed per
        worker); ``solution_limit`` then also caps its offspring, so a run with a
        solution limit is repeatable.
    progress : callable, optional
        ``progress(elapsed_s, best_objective)`` on every improvement of the best
        solution (objective in currency units, penalties of dropped mandatory
        tasks left out).
    stall_s : float, optional
        Stop a search that has not improved for this long (s); ``None`` = run to
        the time limit (or the lower bound).

    Returns
    -------
    ArcSolution
        Routes with directions, times, loads and facility visits; unserved tasks with reasons.

    Raises
    ------
    core.errors.InfeasiblePlanError
        OR-Tools returned no solution at all (a very short time limit).
    """
    params = params or SolveParams()
    t0 = time.time()
    ruled_out = diagnose_tasks(problem)
    kept = tuple(t for t in range(len(problem.tasks)) if t not in ruled_out)
    deadline = t0 + params.time_limit_s
    jobs = [
        _ArcJob(problem, replace(params, workers=1), kept, ruled_out, first, deadline, t0, stall_s, seed)
        for first, seed in _portfolio(problem, kept, params)
    ]
    if not kept:
        raw = _RawArc(
            tuple(() for _ in problem.vehicles),
            tuple(-1 for _ in problem.vehicles),
            tuple(() for _ in problem.vehicles),
            tuple(sorted(ruled_out)),
            0,
            "no_tasks",
            "",
        )
    elif len(jobs) == 1:
        raw = _run(jobs[0], throttled(progress))
    else:
        raw = run_parallel(cast(Any, jobs), cast(Any, _run), progress)
    solution = _assemble(problem, raw, ruled_out, time.time() - t0)
    logger.info(
        "arc problem '%s': %d tasks, %d vehicles, %.2f s (%s start): status %s, cost %.3f, %d unserved",
        problem.name,
        len(problem.tasks),
        len(problem.vehicles),
        solution.wall_time_s,
        raw.first_solution,
        raw.status,
        solution.cost,
        len(solution.unserved),
    )
    return solution
