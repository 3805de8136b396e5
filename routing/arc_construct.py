"""What the arc solver's model is built from and started with (no OR-Tools here).

- :func:`diagnose_tasks`: tasks no vehicle can ever serve, with the reason;
- :class:`Nodes`, :func:`node_table`, :func:`facility_copies`: the solver nodes
  (depots, one service node per allowed direction of each task, facility
  copies for dump/refill visits) as plain arrays;
- :func:`path_scanning`: a greedy first solution over those nodes
  (:func:`best_path_scanning`: the best of a few tie-breaking variants);
- :func:`carp_arrays`: the :class:`routing.arc_local.CarpArrays` of a plain CARP.

See :mod:`routing.arc_solve` for the model and the search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routing.arc_local import CarpArrays
from routing.arc_model import ArcProblem, Direction
from routing.model import hhmm

__all__ = [
    "SCAN_VARIANTS",
    "Nodes",
    "best_path_scanning",
    "carp_arrays",
    "diagnose_tasks",
    "facility_copies",
    "has_time",
    "node_service",
    "node_table",
    "path_scanning",
    "reset_sites",
    "scaled_amount",
    "unit_scale",
]

_EPS = 1e-6


# --------------------------------------------------------------------------- integer units


def unit_scale(problem: ArcProblem, kept: Sequence[int], dim: str) -> int:
    """Integer units per unit of ``dim`` in the solver: 1 when every kept task's demand and every
    capacity is a whole number, else 1000 (grams for kg, millilitres for litres)."""
    values = [problem.tasks[t].demand.get(dim, 0.0) for t in kept]
    values += [v.capacity[dim] for v in problem.vehicles if dim in v.capacity]
    return 1 if all(abs(v - round(v)) < _EPS for v in values) else 1000


def scaled_amount(amount: float, scale: int, *, capacity: bool = False) -> int:
    """``amount`` in integer units: a demand rounded up, a capacity (``capacity=True``) rounded down.

    The model and :func:`path_scanning` both count loads with it, so a first
    route that fits by one count fits by the other (a sum of floats just under a
    capacity can be over it once each demand is rounded up).
    """
    if capacity:
        return math.floor(amount * scale + _EPS)
    return math.ceil(amount * scale - _EPS)


# --------------------------------------------------------------------------- diagnosis


def reset_sites(problem: ArcProblem, dims: set[str], vehicle: str) -> list[int]:
    """Facility indices that reset all of ``dims`` and ``vehicle`` may use."""
    return [
        f
        for f, fac in enumerate(problem.facilities)
        if dims <= fac.resets and (fac.vehicles is None or vehicle in fac.vehicles)
    ]


def _single_task_problem(problem: ArcProblem, t: int, k: int) -> str | None:
    """Why vehicle ``k`` cannot serve task ``t`` alone (depot -> task (-> facility) -> depot); ``None`` if
    it can."""
    task, v = problem.tasks[t], problem.vehicles[k]
    name = f"vehicle '{v.id}'"
    must_empty = {d for d in problem.end_empty if task.demand.get(d, 0) > 0 and d in v.capacity}
    resetting = any(must_empty & fac.resets for fac in problem.facilities)
    sites = reset_sites(problem, must_empty, v.id) if must_empty and resetting else []
    if must_empty and resetting and not sites:
        return f"{name} has no facility to empty {', '.join(sorted(must_empty))} at"
    reasons: list[str] = []
    for a, b in task.directions():
        out_d, out_t = problem.dist[v.start, a], problem.time_s[v.start, a]
        if not math.isfinite(out_d) or not math.isfinite(out_t):
            reasons.append(f"no path from {name}'s depot to the task")
            continue
        wins = task.windows or ((0.0, float(2 * 86_400)),)
        for ws, we in wins:
            depart = max(v.shift_start_s, ws - out_t)
            start = max(depart + out_t, ws)
            if task.windows and start + task.service_s > v.shift_end_s + _EPS:
                reasons.append(
                    f"time window {hhmm(math.ceil(ws))}-{hhmm(math.floor(we))} outside {name}'s shift "
                    f"{hhmm(math.ceil(v.shift_start_s))}-{hhmm(math.floor(v.shift_end_s))}"
                )
                continue
            if start > we + _EPS:
                reasons.append(
                    f"time window unreachable: {name} leaving at {hhmm(math.ceil(depart))} arrives "
                    f"{hhmm(math.ceil(depart + out_t))}, after the window end {hhmm(math.floor(we))}"
                )
                continue
            leave = start + task.service_s
            if sites:
                back = min(
                    problem.time_s[b, problem.facilities[f].node]
                    + problem.facilities[f].service_s
                    + problem.time_s[problem.facilities[f].node, v.end_node]
                    for f in sites
                )
            else:
                back = problem.time_s[b, v.end_node]
            if not math.isfinite(back):
                reasons.append(f"no path from the task back to {name}'s depot")
                continue
            if leave + back > v.shift_end_s + _EPS:
                reasons.append(
                    f"cannot return by shift end: {name} serving at {hhmm(math.ceil(start))} is back at "
                    f"{hhmm(math.ceil(leave + back))}, after its shift end {hhmm(math.floor(v.shift_end_s))}"
                )
                continue
            return None
    return reasons[-1] if reasons else f"{name} cannot reach the task"


def diagnose_tasks(problem: ArcProblem) -> dict[int, str]:
    """Tasks no vehicle can serve whatever the rest of the plan, and why.

    A task is ruled out when no vehicle may serve it; when its demand exceeds
    the capacity of every allowed vehicle (per dimension: a reset cannot help
    one task); or when no remaining vehicle can drive depot -> task (-> a
    facility emptying it) -> depot within its shift and one of the task's
    windows, in either allowed direction (breaks ignored, so nothing servable is
    ruled out).

    Returns
    -------
    dict of int to str
        Task index -> reason.
    """
    out: dict[int, str] = {}
    for t, task in enumerate(problem.tasks):
        allowed = [
            k for k, v in enumerate(problem.vehicles) if task.vehicles is None or v.id in task.vehicles
        ]
        if not allowed:
            out[t] = "no vehicle may serve it"
            continue
        reasons = []
        fit = []
        for k in allowed:
            v = problem.vehicles[k]
            over = [d for d, q in task.demand.items() if d in v.capacity and q > v.capacity[d] + _EPS]
            if not over:
                fit.append(k)
        if not fit:
            dims = sorted({d for d in task.demand if any(d in problem.vehicles[k].capacity for k in allowed)})
            parts = []
            for d in dims:
                largest = max(problem.vehicles[k].capacity.get(d, math.inf) for k in allowed)
                parts.append(
                    f"demand {task.demand[d]:g} {d} above every allowed vehicle's capacity "
                    f"(largest {largest:g})"
                )
            reasons.append("; ".join(parts) or "demand above every allowed vehicle's capacity")
        else:
            why = [_single_task_problem(problem, t, k) for k in fit]
            if all(w is not None for w in why):
                more = f" (and {len(why) - 1} more allowed vehicles)" if len(why) > 1 else ""
                reasons.append(f"{why[0]}{more}")
        if reasons:
            out[t] = "; ".join(reasons)
    return out


# --------------------------------------------------------------------------- node table


@dataclass(frozen=True, slots=True)
class Nodes:
    """The solver nodes of one model (plain arrays: picklable, no OR-Tools).

    Order: depots, service nodes of the kept tasks (one per direction), facility copies.
    """

    src: np.ndarray
    """Graph node where the visit starts (``from_node``)."""
    dst: np.ndarray
    """Graph node where it ends (``to_node``)."""
    task: np.ndarray
    """Task index, or -1."""
    facility: np.ndarray
    """Facility index, or -1."""
    n_depots: int

    @property
    def size(self) -> int:
        return len(self.src)


def facility_copies(problem: ArcProblem, kept: Sequence[int]) -> list[int]:
    """How many visits (solver nodes) each facility gets: enough trips for the demand it resets."""
    out = []
    nv = len(problem.vehicles)
    for fac in problem.facilities:
        users = [v for v in problem.vehicles if fac.vehicles is None or v.id in fac.vehicles]
        n = 0
        for d in fac.resets:
            caps = [v.capacity[d] for v in users if d in v.capacity]
            if not caps:
                continue
            total = sum(problem.tasks[t].demand.get(d, 0.0) for t in kept)
            n = max(n, math.ceil(total / max(min(caps), _EPS)) + len(users))
        out.append(min(n, 2 * len(kept) + nv))
    return out


def node_table(problem: ArcProblem, kept: Sequence[int], copies: Sequence[int]) -> Nodes:
    depots = sorted({v.start for v in problem.vehicles} | {v.end_node for v in problem.vehicles})
    src, dst, task, fac = list(depots), list(depots), [-1] * len(depots), [-1] * len(depots)
    for t in kept:
        for a, b in problem.tasks[t].directions():
            src.append(a)
            dst.append(b)
            task.append(t)
            fac.append(-1)
    for f, n in enumerate(copies):
        node = problem.facilities[f].node
        src += [node] * n
        dst += [node] * n
        task += [-1] * n
        fac += [f] * n
    return Nodes(
        np.asarray(src, dtype=np.int64),
        np.asarray(dst, dtype=np.int64),
        np.asarray(task, dtype=np.int64),
        np.asarray(fac, dtype=np.int64),
        len(depots),
    )


def has_time(problem: ArcProblem) -> bool:
    """Whether anything in the problem depends on time (else the time dimension is left out)."""
    if np.any(problem.time_s[np.isfinite(problem.time_s)] > 0) or not np.isfinite(problem.time_s).all():
        return True
    if any(t.service_s > 0 or t.windows for t in problem.tasks):
        return True
    if any(f.service_s > 0 or f.windows for f in problem.facilities):
        return True
    return any(v.break_s > 0 for v in problem.vehicles)


def node_service(problem: ArcProblem, nodes: Nodes) -> tuple[np.ndarray, np.ndarray]:
    """Service distance (distance unit) and service time (s, rounded up) of every solver node."""
    cost = np.zeros(nodes.size)
    secs = np.zeros(nodes.size, dtype=np.int64)
    for i in range(nodes.size):
        if nodes.task[i] >= 0:
            task = problem.tasks[int(nodes.task[i])]
            cost[i] = task.service_cost
            secs[i] = math.ceil(task.service_s - _EPS)
        elif nodes.facility[i] >= 0:
            secs[i] = math.ceil(problem.facilities[int(nodes.facility[i])].service_s - _EPS)
    return cost, secs


# --------------------------------------------------------------------------- first solution


def path_scanning(
    problem: ArcProblem, nodes: Nodes, *, seed_rule: int = 0, lookahead: bool = True
) -> list[list[int]]:
    """Greedy routes over solver nodes: from where the vehicle is, serve the nearest task that fits.

    For each vehicle in turn, repeatedly append the service node (of a not yet
    served task the vehicle may serve) whose ``from_node`` is nearest by
    deadhead distance and whose demand fits what is left of the capacity, and
    whose window can still be met with time to get back. When no task fits but
    one would after a reset, a copy of the nearest facility resetting the full
    dimensions is appended first. A route that must end empty gets a last
    facility visit. Ties are broken by ``seed_rule`` (0: prefer the longer
    service, 1: the shorter; gives different starts); with ``lookahead``, among
    the tasks equally near, the one ending nearest another unserved task wins (a
    street leading into a dead end of served streets is left for later).

    Returns
    -------
    list of list of int
        Per vehicle, solver node numbers (not indices) between the depots.
    """
    n_tasks = len(problem.tasks)
    served = np.zeros(n_tasks, dtype=bool)
    kept_tasks = {int(t) for t in nodes.task if t >= 0}
    by_task: dict[int, list[int]] = {}
    for i in range(nodes.size):
        if nodes.task[i] >= 0:
            by_task.setdefault(int(nodes.task[i]), []).append(i)
    free_copies: dict[int, list[int]] = {}
    for i in range(nodes.size):
        if nodes.facility[i] >= 0:
            free_copies.setdefault(int(nodes.facility[i]), []).append(i)
    dims = sorted({d for v in problem.vehicles for d in v.capacity})
    scale = {d: unit_scale(problem, sorted(kept_tasks), d) for d in dims}
    units = {
        t: {d: scaled_amount(q, scale[d]) for d, q in problem.tasks[t].demand.items() if d in scale}
        for t in kept_tasks
    }
    routes: list[list[int]] = []
    dist = problem.dist
    open_node = nodes.task >= 0  # service nodes of tasks not yet served
    tm = np.where(np.isfinite(problem.time_s), np.ceil(problem.time_s - _EPS), np.inf)  # as the solver rounds
    for v in problem.vehicles:
        route: list[int] = []
        at = v.start
        now = v.shift_start_s
        cap = {d: scaled_amount(c, scale[d], capacity=True) for d, c in v.capacity.items()}
        load = dict.fromkeys(dims, 0)  # integer units, as the solver counts
        resettable = {
            d
            for d in v.capacity
            if any(d in f.resets for f in problem.facilities if f.vehicles is None or v.id in f.vehicles)
        }
        # Time from a node back to the depot, via the nearest emptying site when the route must end
        # empty, plus the break if it has one (a cautious bound: OR-Tools decides the rest).
        need = set(problem.end_empty) & resettable
        emptying = reset_sites(problem, need, v.id) if need else []
        home = tm[:, v.end_node].copy()
        if emptying:
            via = [
                tm[:, f.node] + f.service_s + tm[f.node, v.end_node]
                for f in (problem.facilities[j] for j in emptying)
            ]
            home = np.minimum.reduce(via)
        home = home + v.break_s
        while True:
            best: tuple[float, float, int] | None = None
            ties: list[tuple[float, float, int]] = []
            blocked_by_capacity = False
            for t in kept_tasks:
                if served[t]:
                    continue
                task = problem.tasks[t]
                if task.vehicles is not None and v.id not in task.vehicles:
                    continue
                fits = all(load[d] + u <= cap[d] for d, u in units[t].items() if d in cap)
                if not fits:
                    if all(u <= cap[d] for d, u in units[t].items() if d in cap) and any(
                        d in resettable for d in task.demand
                    ):
                        blocked_by_capacity = True
                    continue
                for i in by_task[t]:
                    a, b = int(nodes.src[i]), int(nodes.dst[i])
                    arrive = now + tm[at, a]
                    start = arrive
                    if task.windows:
                        ok = [max(arrive, ws) for ws, we in task.windows if arrive <= we + _EPS]
                        if not ok:
                            continue
                        start = ok[0]
                    if start + math.ceil(task.service_s - _EPS) + home[b] > v.shift_end_s + _EPS:
                        continue
                    tie = task.service_cost if seed_rule == 0 else -task.service_cost
                    key = (float(dist[at, a]) + (start - arrive) * 1e-3, -tie, i)
                    ties.append(key)
                    if best is None or key < best:
                        best = key
            if best is not None:
                i = best[2] if not lookahead else _look_ahead(nodes, dist, open_node, best, ties)
                t = int(nodes.task[i])
                task = problem.tasks[t]
                route.append(i)
                served[t] = True
                open_node[by_task[t]] = False
                a, b = int(nodes.src[i]), int(nodes.dst[i])
                arrive = now + tm[at, a]
                start = arrive
                if task.windows:
                    start = next(max(arrive, ws) for ws, we in task.windows if arrive <= we + _EPS)
                now = start + math.ceil(task.service_s - _EPS)
                at = b
                for d, u in units[t].items():
                    load[d] += u
                continue
            if blocked_by_capacity:
                full = {d for d in resettable if load.get(d, 0) > 0}
                site = _nearest_copy(problem, nodes, free_copies, at, full, v.id)
                if site is not None:
                    route.append(site)
                    fac = problem.facilities[int(nodes.facility[site])]
                    now = max(now + tm[at, fac.node], _opening(fac.windows)) + math.ceil(fac.service_s - _EPS)
                    at = fac.node
                    for d in fac.resets:
                        if d in load:
                            load[d] = 0
                    continue
            break
        must_empty = {d for d in problem.end_empty if load.get(d, 0) > 0}
        if must_empty:
            site = _nearest_copy(problem, nodes, free_copies, at, must_empty, v.id)
            if site is not None:
                route.append(site)
        routes.append(route)
    return routes


SCAN_VARIANTS = ((0, True), (1, False), (1, True), (0, False))
"""``(seed_rule, lookahead)`` of the :func:`path_scanning` runs :func:`best_path_scanning` compares."""


def best_path_scanning(problem: ArcProblem, nodes: Nodes) -> list[list[int]]:
    """The best of :func:`path_scanning` under each of :data:`SCAN_VARIANTS`: most tasks served, then
    least distance driven (service + deadhead, depot legs included). Deterministic."""
    best: tuple[int, float] | None = None
    chosen: list[list[int]] = []
    for rule, lookahead in SCAN_VARIANTS:
        routes = path_scanning(problem, nodes, seed_rule=rule, lookahead=lookahead)
        served = driven = 0.0
        for v, route in zip(problem.vehicles, routes, strict=True):
            at = v.start
            for i in route:
                driven += float(problem.dist[at, nodes.src[i]])
                if nodes.task[i] >= 0:
                    served += 1
                    driven += problem.tasks[int(nodes.task[i])].service_cost
                at = int(nodes.dst[i])
            if route:
                driven += float(problem.dist[at, v.end_node])
        score = (-int(served), driven)
        if best is None or score < best:
            best, chosen = score, routes
    return chosen


def _look_ahead(
    nodes: Nodes,
    dist: np.ndarray,
    open_node: np.ndarray,
    best: tuple[float, float, int],
    keys: list[tuple[float, float, int]],
) -> int:
    """Among the candidates as near as ``best``, the node whose end is nearest another open task."""
    ties = [k for k in keys if k[0] <= best[0] + _EPS]
    if len(ties) < 2:
        return best[2]
    srcs = nodes.src[open_node]
    tasks = nodes.task[open_node]

    def onward(key: tuple[float, float, int]) -> tuple[float, float, int]:
        i = key[2]
        others = srcs[tasks != nodes.task[i]]
        nxt = float(dist[int(nodes.dst[i]), others].min()) if len(others) else 0.0
        return (nxt, key[1], i)

    return min(map(onward, ties))[2]


def _opening(windows: Sequence[tuple[float, float]]) -> float:
    """Earliest start allowed by ``windows`` (0 when always open)."""
    return math.ceil(windows[0][0] - _EPS) if windows else 0.0


def _nearest_copy(
    problem: ArcProblem, nodes: Nodes, free: dict[int, list[int]], at: int, dims: set[str], vehicle: str
) -> int | None:
    """A free copy of the nearest facility resetting ``dims`` that ``vehicle`` may use (popped); ``None``."""
    choices = [f for f in reset_sites(problem, dims, vehicle) if free.get(f)]
    if not choices:
        choices = [
            f
            for f, fac in enumerate(problem.facilities)
            if dims & fac.resets and free.get(f) and (fac.vehicles is None or vehicle in fac.vehicles)
        ]
    if not choices:
        return None
    f = min(choices, key=lambda f: problem.dist[at, problem.facilities[f].node])
    return free[f].pop(0)


# --------------------------------------------------------------------------- plain CARP


def carp_arrays(problem: ArcProblem, kept: Sequence[int]) -> CarpArrays | None:
    """The :class:`routing.arc_local.CarpArrays` of a plain CARP, or ``None`` when the problem is richer.

    Plain: nothing depends on time, no facilities, every vehicle starts and ends
    at one depot with the same single capacity dimension, cost rate and no fixed
    cost, every kept task is mandatory, open to every vehicle and demands only
    that dimension, and the deadheads between the nodes used are finite and symmetric.
    """
    vs = problem.vehicles
    if has_time(problem) or problem.facilities or not kept:
        return None
    v0 = vs[0]
    if len(v0.capacity) != 1:
        return None
    ((dim, cap),) = v0.capacity.items()
    same = all(
        v.start == v0.start
        and v.end_node == v0.start
        and dict(v.capacity) == {dim: cap}
        and v.cost_per_distance == v0.cost_per_distance
        and v.fixed_cost == 0
        for v in vs
    )
    tasks = [problem.tasks[t] for t in kept]
    if not same or any(
        t.penalty is not None or t.vehicles is not None or set(t.demand) - {dim} for t in tasks
    ):
        return None
    nodes = sorted({v0.start} | {t.tail for t in tasks} | {t.head for t in tasks})
    sub = problem.dist[np.ix_(nodes, nodes)]
    if not np.isfinite(sub).all() or not np.allclose(sub, sub.T):
        return None
    return CarpArrays(
        np.array([t.tail for t in tasks], dtype=np.int64),
        np.array([t.head for t in tasks], dtype=np.int64),
        np.array([t.service_cost for t in tasks], dtype=np.float64),
        np.array([t.demand.get(dim, 0.0) for t in tasks], dtype=np.float64),
        np.array([t.direction == Direction.EITHER for t in tasks], dtype=np.bool_),
        problem.dist,
        v0.start,
        cap,
        len(vs),
    )
