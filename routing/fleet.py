"""Fleet phase helpers: which route to empty, and putting its points into the other routes.

Pure Python and NumPy (no OR-Tools), like :mod:`routing.construct`, whose
forward simulation decides feasibility. :func:`routing.solve.run_job` uses them
to try the same plan with one vehicle fewer: :func:`removal_order` names the
routes worth emptying (fewest points first), :func:`reinsert` moves that route's
points one at a time to the feasible position of least extra cost in the other
used routes (cheapest insertion; a full trip gets an extra unload, see
:func:`routing.construct.split_routes`), and the OR-Tools search then improves
the result in a model without that vehicle.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np

from routing.construct import Construction, split_routes
from routing.model import ObjectiveWeights, RoutingProblem, arc_cost_matrix

__all__ = ["CANDIDATES", "plan_cost", "reinsert", "removal_order", "shrink"]

CANDIDATES = 12
"""Insertion positions checked by simulation per point (cheapest estimated first)."""


def removal_order(problem: RoutingProblem, routes: Sequence[Sequence[int]]) -> list[int]:
    """Vehicles whose route may be emptied, fewest points first (then least volume, then index).

    ``routes`` holds, per vehicle, the location indices between its depots (or
    with them; depots are not points). A route is a candidate when it serves a
    point and every one of its points may be served by another vehicle that
    already has a route.
    """
    served = [[loc for loc in r if loc in problem.points] for r in routes]
    used = {k for k, pts in enumerate(served) if pts}
    movable = [
        k
        for k in used
        if all(any(j in used and j != k for j in problem.serving_vehicles(p)) for p in served[k])
    ]
    return sorted(movable, key=lambda k: (len(served[k]), sum(problem.demand_l[p] for p in served[k]), k))


def _feasible(
    problem: RoutingProblem, k: int, order: Sequence[int], copies: Mapping[int, int] | None
) -> tuple[int, ...] | None:
    """Route of vehicle ``k`` visiting ``order`` (unloads added as needed); ``None`` if a point drops."""
    orders: list[Sequence[int]] = [() for _ in problem.vehicles]
    orders[k] = order
    built = split_routes(problem, orders, copies=copies)
    n_points = sum(1 for loc in order if loc in problem.points)
    route = built.routes[k]
    if built.unassigned or sum(1 for loc in route if loc in problem.points) != n_points:
        return None
    return route


def _earliest_departures(problem: RoutingProblem, k: int, path: np.ndarray) -> np.ndarray:
    """A lower bound on the departure time (s) from each node of ``path`` (depot first, end depot last).

    Travel, waiting for windows and service only: no break, no waiting for a
    bay, and the first departure at the shift start. Used to skip insertion
    positions that cannot meet a point's windows (the simulation decides).
    """
    v = problem.vehicles[k]
    out = np.empty(len(path), dtype=np.int64)
    t = v.shift_start_s
    out[0] = t
    for i in range(1, len(path)):
        t += int(problem.time_s[path[i - 1], path[i]])
        wins = problem.windows[path[i]]
        if wins:
            t = max(t, next((a for a, b in wins if t <= b), t))
        t += problem.service_s[path[i]]
        out[i] = t
    return out


def _route_cost(
    problem: RoutingProblem, k: int, route: Sequence[int], costs: Mapping[tuple[float, float], np.ndarray]
) -> float:
    """Arc cost of vehicle ``k`` driving ``route`` between its depots (objective units)."""
    v = problem.vehicles[k]
    path = np.array([v.start, *route, v.end], dtype=np.int64)
    return float(costs[(v.cost_per_km, v.cost_per_hour)][path[:-1], path[1:]].sum())


def _busy_s(problem: RoutingProblem, k: int, path: np.ndarray) -> int:
    """Time (s) vehicle ``k`` needs for ``path`` at least: travel, service, unloads and its break if due.

    Waiting is left out, so a route whose ``busy`` time no longer fits between
    the shift start and end (or in the route limit) is surely infeasible.
    """
    v = problem.vehicles[k]
    busy = int(problem.time_s[path[:-1], path[1:]].sum()) + sum(problem.service_s[i] for i in path[1:-1])
    if v.break_s and v.shift_start_s + busy > v.break_start_max_s:
        busy += v.break_s
    return busy


def reinsert(
    problem: RoutingProblem,
    routes: Sequence[Sequence[int]],
    points: Sequence[int],
    *,
    weights: ObjectiveWeights | None = None,
    copies: Mapping[int, int] | None = None,
    max_left: int | None = None,
    deadline: float | None = None,
) -> Construction:
    """Insert ``points`` one at a time at their cheapest feasible position in the non-empty ``routes``.

    Parameters
    ----------
    problem : RoutingProblem
        The problem.
    routes : sequence of sequence of int
        Per vehicle, the location indices between the depots (points and unload
        visits); empty routes stay empty (no vehicle is added).
    points : sequence of int
        Points to place, in this order.
    weights : ObjectiveWeights, optional
        Weights of the arc cost the insertion minimises (default: plain cost).
    copies : Mapping of int to int, optional
        Most visits per facility location (the solver model's copies).
    max_left : int, optional
        Stop once more points than this found no position (the rest count as left out).
    deadline : float, optional
        ``time.time()`` after which the points not yet placed count as left out.

    Returns
    -------
    Construction
        The routes, re-simulated together (shared bays and tonnage), and the
        points that found no feasible position.
    """
    w = weights or ObjectiveWeights()
    current = [list(r) for r in routes]
    costs: dict[tuple[float, float], np.ndarray] = {}
    left: list[int] = []
    for n, p in enumerate(points):
        over = max_left is not None and len(left) > max_left
        if over or (deadline is not None and time.time() > deadline):
            left.extend(points[n:])
            break
        options: list[tuple[float, int, int]] = []  # (extra cost, vehicle, position)
        for k in problem.serving_vehicles(p):
            seq = current[k]
            if not seq:
                continue
            v = problem.vehicles[k]
            key = (v.cost_per_km, v.cost_per_hour)
            if key not in costs:
                costs[key] = arc_cost_matrix(problem, k, w)
            c = costs[key]
            path = np.array([v.start, *seq, v.end], dtype=np.int64)
            a, b = path[:-1], path[1:]
            extra = (c[a, p] + c[p, b] - c[a, b]).astype(np.float64)
            room = min(v.shift_end_s - v.shift_start_s, v.route_limit_s) - _busy_s(problem, k, path)
            extra_s = (
                problem.time_s[a, p] + problem.time_s[p, b] - problem.time_s[a, b] + problem.service_s[p]
            )
            extra[extra_s > room] = np.inf
            if problem.windows[p]:
                reach = _earliest_departures(problem, k, path)[:-1] + problem.time_s[a, p]
                extra[reach > problem.windows[p][-1][1]] = np.inf
            best = np.argsort(extra, kind="stable")[:CANDIDATES]
            options.extend((float(extra[i]), k, int(i)) for i in best if np.isfinite(extra[i]))
        options.sort()
        chosen: tuple[float, int, tuple[int, ...]] | None = None
        for estimate, k, i in options[:CANDIDATES]:
            order = [*current[k][:i], p, *current[k][i:]]
            route = _feasible(problem, k, order, copies)
            if route is None:
                continue
            real = _route_cost(problem, k, route, costs) - _route_cost(problem, k, current[k], costs)
            if chosen is None or real < chosen[0]:
                chosen = (real, k, route)
            if real <= estimate:  # no extra unload was needed: nothing further down can beat it
                break
        if chosen is None:
            left.append(p)
        else:
            current[chosen[1]] = list(chosen[2])
    together = split_routes(problem, current, copies=copies)
    return Construction(together.routes, tuple(sorted({*left, *together.unassigned})))


def shrink(
    problem: RoutingProblem,
    construction: Construction,
    *,
    weights: ObjectiveWeights | None = None,
    copies: Mapping[int, int] | None = None,
    deadline: float | None = None,
    routes_per_step: int = 3,
) -> Construction:
    """Empty routes of ``construction`` while all their points fit in the other routes.

    Each step tries the first ``routes_per_step`` routes of :func:`removal_order`
    and keeps the first one whose points :func:`reinsert` places completely;
    stops when none can be emptied or at ``deadline`` (``time.time()``).
    """
    routes = [tuple(r) for r in construction.routes]
    while deadline is None or time.time() < deadline:
        for k in removal_order(problem, routes)[:routes_per_step]:
            others = [() if j == k else r for j, r in enumerate(routes)]
            moved = [loc for loc in routes[k] if loc in problem.points]
            done = reinsert(
                problem, others, moved, weights=weights, copies=copies, max_left=0, deadline=deadline
            )
            if not done.unassigned:
                routes = list(done.routes)
                break
        else:
            break
    return Construction(tuple(routes), construction.unassigned)


def plan_cost(problem: RoutingProblem, routes: Sequence[Sequence[int]], weights: ObjectiveWeights) -> int:
    """Weighted fixed costs of the used vehicles plus arc costs of ``routes`` (objective units).

    ``routes`` as in :class:`routing.construct.Construction` (between the depots).
    """
    total = 0
    costs: dict[tuple[float, float], np.ndarray] = {}
    for k, r in enumerate(routes):
        if not r:
            continue
        v = problem.vehicles[k]
        key = (v.cost_per_km, v.cost_per_hour)
        if key not in costs:
            costs[key] = arc_cost_matrix(problem, k, weights)
        path = np.array([v.start, *r, v.end], dtype=np.int64)
        total += round(weights.vehicles * v.fixed_cost)
        total += int(costs[key][path[:-1], path[1:]].sum())
    return total
