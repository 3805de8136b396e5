"""Independent checks of arc-routing solutions: CARP benchmark routes and :class:`ArcSolution` plans.

Nothing here calls the solver or the CARP reader's shortest paths: the CARP
check builds its own all-pairs shortest paths (Floyd-Warshall) from the
instance's edge list and recomputes the cost from the edge costs, so a bug in
the model, the solver or the reader cannot hide behind its own numbers.

- :func:`verify_carp`: routes given as ordered served edges ``[from, to]`` in
  the file's node numbers (1-based), the format ``wastefleet bench carp
  --solution`` writes. Every required edge must be served exactly once (in
  either direction), each route starts and ends at the depot (implicit: the
  route deadheads from the depot to its first edge and back from its last), the
  deadhead between consecutive edges follows a shortest path, which must exist,
  and each route's demand is at most the capacity. The cost is the sum of the
  served edges' costs plus the shortest-path deadheads.
- :func:`verify_arc`: a solver plan against its :class:`routing.arc_model.ArcProblem`
  (directions, windows, capacities between resets, shifts, distances).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CarpCheck", "floyd_warshall", "verify_arc", "verify_carp"]

_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class CarpCheck:
    """Result of :func:`verify_carp`.

    Attributes
    ----------
    cost : float
        Recomputed total cost (service + deadhead); ``inf`` if a deadhead has no path.
    vehicles : int
        Routes serving at least one edge.
    violations : tuple of str
        Every rule broken, each naming the route and the edge.
    """

    cost: float
    vehicles: int
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        """No violations."""
        return not self.violations


def floyd_warshall(n: int, edges: Sequence[tuple[int, int, float]]) -> np.ndarray:
    """All-pairs shortest paths of an undirected graph on nodes ``0 .. n-1`` (``inf`` = no path)."""
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0.0)
    for u, v, c in edges:
        if c < d[u, v]:
            d[u, v] = d[v, u] = float(c)
    for k in range(n):
        d = np.minimum(d, d[:, k : k + 1] + d[k : k + 1, :])
    return d


def verify_carp(instance: Any, routes: Sequence[Sequence[Sequence[int]]]) -> CarpCheck:
    """Check CARP routes against an instance and recompute their cost.

    Parameters
    ----------
    instance : routing.carp.CarpInstance
        Read for ``n_vertices``, ``depot``, ``capacity``, ``required`` and
        ``others`` (edges with ``u``, ``v``, ``cost``, ``demand``; 1-based).
    routes : sequence of sequence of [from, to]
        Per route, its served edges in order (1-based node numbers).

    Returns
    -------
    CarpCheck
        Recomputed cost, routes used, violations.
    """
    n = int(instance.n_vertices)
    depot = int(instance.depot) - 1
    cap = float(instance.capacity)
    edges = [(e.u - 1, e.v - 1, float(e.cost)) for e in (*instance.required, *instance.others)]
    sp = floyd_warshall(n, edges)
    open_edges: dict[tuple[int, int], list[int]] = {}
    for idx, e in enumerate(instance.required):
        open_edges.setdefault((min(e.u, e.v), max(e.u, e.v)), []).append(idx)
    served = [0] * len(instance.required)
    violations: list[str] = []
    total = 0.0
    used = 0
    for r, route in enumerate(routes):
        if not route:
            continue
        used += 1
        at = depot
        demand = 0.0
        for k, pair in enumerate(route):
            if len(pair) != 2:
                violations.append(f"route {r}: item {k} is not a [from, to] pair: {list(pair)!r}")
                continue
            a, b = int(pair[0]), int(pair[1])
            if not (1 <= a <= n and 1 <= b <= n):
                violations.append(f"route {r}: edge [{a}, {b}] names a node outside 1..{n}")
                continue
            key = (min(a, b), max(a, b))
            candidates = open_edges.get(key)
            if candidates is None:
                violations.append(f"route {r}: edge [{a}, {b}] is not a required edge")
                continue
            free = [i for i in candidates if served[i] == 0]
            idx = free[0] if free else candidates[0]
            served[idx] += 1
            if served[idx] > 1:
                violations.append(f"route {r}: required edge ({key[0]}, {key[1]}) served more than once")
            dead = sp[at, a - 1]
            if not math.isfinite(dead):
                violations.append(f"route {r}: no path from node {at + 1} to edge [{a}, {b}]")
            total += dead + float(instance.required[idx].cost)
            demand += float(instance.required[idx].demand)
            at = b - 1
        back = sp[at, depot]
        if not math.isfinite(back):
            violations.append(f"route {r}: no path from node {at + 1} back to the depot {depot + 1}")
        total += back
        if demand > cap + _EPS:
            violations.append(f"route {r}: demand {demand:g} above the capacity {cap:g}")
    for idx, e in enumerate(instance.required):
        if served[idx] == 0:
            violations.append(f"required edge ({e.u}, {e.v}) not served")
    return CarpCheck(total, used, tuple(violations))


def verify_arc(problem: Any, solution: Any) -> list[str]:
    """Check an :class:`routing.arc_model.ArcSolution` against its problem; the violations (empty = valid).

    Rules: every visit names a known task or facility; each task is served at
    most once, mandatory ones exactly once or listed as unserved, in an allowed
    direction, by an allowed vehicle; a service starts inside one of its
    windows, a facility visit inside its opening hours; arrivals are no earlier
    than the previous end plus the deadhead time, and the route leaves and
    returns within the shift; the amount per tracked dimension never exceeds
    the capacity and resets only at facilities resetting it; ``end_empty``
    dimensions are 0 at the end; recorded deadhead and service distances match
    the problem's matrices and task costs.
    """
    out: list[str] = []
    tasks = {t.id: t for t in problem.tasks}
    facilities = {f.id: f for f in problem.facilities}
    count: dict[str, int] = {}
    unserved = {u.task_id for u in solution.unserved}
    if len(solution.routes) != len(problem.vehicles):
        out.append(f"solution has {len(solution.routes)} routes for {len(problem.vehicles)} vehicles")
    for v, route in zip(problem.vehicles, solution.routes, strict=False):
        name = f"route of '{v.id}'"
        if route.vehicle_id != v.id:
            out.append(f"{name}: belongs to '{route.vehicle_id}'")
        if not route.visits:
            continue
        if route.start_s < v.shift_start_s - _EPS or route.end_s > v.shift_end_s + _EPS:
            out.append(f"{name}: runs {route.start_s:g}..{route.end_s:g} s outside its shift")
        load = dict.fromkeys(v.capacity, 0.0)
        at, now = v.start, route.start_s
        service_d = dead_d = 0.0
        for k, visit in enumerate(route.visits):
            where = f"{name}, visit {k} ('{visit.id}')"
            dead = float(problem.dist[at, visit.from_node])
            if not math.isfinite(dead):
                out.append(f"{where}: no path from node {at} to node {visit.from_node}")
            elif abs(dead - visit.deadhead_dist) > _EPS * max(1.0, dead):
                out.append(f"{where}: deadhead {visit.deadhead_dist:g} recorded, {dead:g} on the graph")
            dead_d += dead
            earliest = now + float(problem.time_s[at, visit.from_node])
            if visit.start_s < earliest - 1.0 or visit.arrive_s < earliest - 1.0:
                out.append(f"{where}: starts at {visit.start_s:g} s, cannot be there before {earliest:g} s")
            if visit.kind == "service":
                task = tasks.get(visit.id)
                if task is None:
                    out.append(f"{where}: unknown task")
                    continue
                count[task.id] = count.get(task.id, 0) + 1
                if (visit.from_node, visit.to_node) not in task.directions():
                    way = f"{visit.from_node}->{visit.to_node}"
                    out.append(f"{where}: served {way}, not an allowed direction")
                if task.vehicles is not None and v.id not in task.vehicles:
                    out.append(f"{where}: vehicle '{v.id}' may not serve it")
                wins = task.windows
                service = task.service_s
                service_d += task.service_cost
                for d, q in task.demand.items():
                    if d in load:
                        load[d] += q
                        if load[d] > v.capacity[d] + _EPS:
                            out.append(f"{where}: {d} {load[d]:g} above the capacity {v.capacity[d]:g}")
            else:
                fac = facilities.get(visit.id)
                if fac is None:
                    out.append(f"{where}: unknown facility")
                    continue
                if fac.vehicles is not None and v.id not in fac.vehicles:
                    out.append(f"{where}: vehicle '{v.id}' may not use it")
                wins = fac.windows
                service = fac.service_s
                for d in fac.resets:
                    if d in load:
                        load[d] = 0.0
            if wins and not any(a - 1.0 <= visit.start_s <= b + 1.0 for a, b in wins):
                out.append(f"{where}: starts at {visit.start_s:g} s outside its windows {list(wins)}")
            if visit.end_s < visit.start_s + service - 1.0:
                out.append(f"{where}: ends before its service time has passed")
            at, now = visit.to_node, visit.end_s
        dead_d += float(problem.dist[at, v.end_node])
        if route.end_s < now + float(problem.time_s[at, v.end_node]) - 1.0:
            out.append(f"{name}: back at {route.end_s:g} s, before it can drive home")
        for d in problem.end_empty:
            if load.get(d, 0.0) > _EPS and any(d in f.resets for f in problem.facilities):
                out.append(f"{name}: ends with {load[d]:g} {d} on board")
        if abs(service_d - route.service_dist) > _EPS * max(1.0, service_d):
            out.append(f"{name}: service distance {route.service_dist:g} recorded, {service_d:g} recomputed")
        if abs(dead_d - route.deadhead_dist) > _EPS * max(1.0, dead_d):
            out.append(f"{name}: deadhead distance {route.deadhead_dist:g} recorded, {dead_d:g} recomputed")
    for tid, c in count.items():
        if c > 1:
            out.append(f"task '{tid}' served {c} times")
        if tid in unserved:
            out.append(f"task '{tid}' both served and listed as unserved")
    for t in problem.tasks:
        if t.id not in count and t.id not in unserved:
            out.append(f"task '{t.id}' neither served nor listed as unserved")
    return out
