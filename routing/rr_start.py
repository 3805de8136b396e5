"""A ruin-and-recreate start (SISR, :mod:`routing.rr_kernels`) for plain node routing problems.

:mod:`routing.solve` runs it before OR-Tools' guided local search when
:func:`applies`: the kernels search most of the time budget, OR-Tools continues
from their routes for the rest (it only keeps improvements).

The subset the kernels support: no dump-and-continue (``problem.unload`` off),
no breaks, at most one window per point, every point mandatory, no stop limit
on points that count as several stops (:mod:`routing.aggregate`), and one
arc-cost matrix for the whole fleet (all vehicles share ``cost_per_km`` and
``cost_per_hour``) with no duration cost. Vehicles may differ in depots,
capacities, shifts, route limits, stops, fixed costs and the streams they
collect. A day limit (``max_route_kg``/``max_route_l``) is the same as a
capacity here (nothing is unloaded), so the smaller of the two is used.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from routing.construct import Construction
from routing.model import RoutingProblem, arc_cost_matrix, duration_cost_per_s
from routing.rr_kernels import make_arrays, sisr

__all__ = ["NEIGHBOURS", "applies", "arrays", "construct"]

NEIGHBOURS = 40
"""Nearest customers per customer: the ruin's seeds and the recreate's insertion positions."""


def applies(problem: RoutingProblem, params: object) -> bool:
    """Whether the kernels support ``problem`` under ``params`` (a :class:`routing.solve.SolveParams`).

    See the module docstring for the subset.
    """
    weights = getattr(params, "weights", None)
    vs = problem.vehicles
    if problem.unload or not vs or weights is None or len(problem.points) == 0:
        return False
    if any(v.break_s > 0 for v in vs):
        return False
    if any(v.max_stops is not None for v in vs) and any(s > 1 for s in problem.stops):
        return False  # the kernels count one stop per point; merged points count more (routing.aggregate)
    if len({(v.cost_per_km, v.cost_per_hour) for v in vs}) != 1:
        return False
    if any(duration_cost_per_s(problem, k, weights) for k in range(len(vs))):
        return False
    return all(len(problem.windows[p]) <= 1 and problem.penalty[p] is None for p in problem.points)


def arrays(problem: RoutingProblem, kept: Sequence[int], weights: object) -> tuple:
    """The kernel arrays (:func:`routing.rr_kernels.make_arrays`) of ``problem``, ``kept`` points only."""
    n, nv = len(problem.locations), len(problem.vehicles)
    cust = np.asarray(sorted(kept), dtype=np.int64)
    cost = arc_cost_matrix(problem, 0, weights)  # type: ignore[arg-type]
    early = np.zeros(n, dtype=np.int64)
    late = np.full(n, problem.horizon_s, dtype=np.int64)
    for p in cust:
        if problem.windows[p]:
            early[p], late[p] = problem.windows[p][0]
    allowed = np.zeros((n, nv), dtype=np.bool_)
    for p in cust:
        allowed[p, list(problem.serving_vehicles(int(p)))] = True
    vs = problem.vehicles
    cap_kg = [v.capacity_kg if v.max_route_kg is None else min(v.capacity_kg, v.max_route_kg) for v in vs]
    cap_l = [v.capacity_l if v.max_route_l is None else min(v.capacity_l, v.max_route_l) for v in vs]
    fixed = [round(getattr(weights, "vehicles", 1.0) * v.fixed_cost) for v in vs]
    stops = [len(cust) + 1 if v.max_stops is None else v.max_stops for v in vs]
    classes: dict[tuple[object, ...], int] = {}
    vclass = []
    for k, v in enumerate(vs):
        key = (
            v.start,
            v.end,
            cap_kg[k],
            cap_l[k],
            v.shift_start_s,
            v.shift_end_s,
            v.route_limit_s,
            fixed[k],
            stops[k],
            allowed[:, k].tobytes(),
        )
        vclass.append(classes.setdefault(key, len(classes)))
    k_near = max(1, min(NEIGHBOURS, len(cust) - 1))
    near = np.zeros((n, k_near), dtype=np.int64)
    if len(cust) > 1:
        sym = cost[np.ix_(cust, cust)] + cost[np.ix_(cust, cust)].T
        np.fill_diagonal(sym, np.iinfo(np.int64).max)
        order = np.argsort(sym, axis=1, kind="stable")[:, :k_near]
        near[cust] = cust[order]
    else:
        near[:] = cust[0] if len(cust) else 0
    return make_arrays(
        cost=cost,
        time_s=problem.time_s,
        service_s=np.asarray(problem.service_s),
        early_s=early,
        late_s=late,
        demand_kg=np.asarray(problem.demand_kg),
        demand_l=np.asarray(problem.demand_l),
        allowed=allowed,
        start=np.array([v.start for v in vs]),
        end=np.array([v.end for v in vs]),
        capacity_kg=np.array(cap_kg),
        capacity_l=np.array(cap_l),
        shift_start_s=np.array([v.shift_start_s for v in vs]),
        shift_end_s=np.array([v.shift_end_s for v in vs]),
        route_limit_s=np.array([v.route_limit_s for v in vs]),
        fixed_cost=np.array(fixed),
        max_stops=np.array(stops),
        vclass=np.array(vclass),
        customers=cust,
        near=near,
    )


def construct(
    problem: RoutingProblem,
    kept: Sequence[int],
    params: object,
    deadline: float,
    *,
    max_iterations: int | None = None,
    report: Callable[[int, int], None] | None = None,
) -> Construction:
    """Routes (one per vehicle, location indices between the depots) found by SISR until ``deadline``.

    Parameters
    ----------
    problem : RoutingProblem
        A problem :func:`applies` accepts.
    kept : sequence of int
        The points to route (those the diagnosis did not rule out).
    params : SolveParams
        ``weights`` (fixed cost per vehicle used, distance and time) and ``seed``.
    deadline : float
        ``time.time()`` by which the search stops.
    max_iterations : int, optional
        Stop after this many ruin-and-recreate steps (deterministic for a seed).
    report : callable, optional
        ``report(objective units, unassigned points)`` on each improvement.

    Returns
    -------
    Construction
        Routes per vehicle; points no route could take are ``unassigned``.
    """
    if not kept:
        return Construction(tuple(() for _ in problem.vehicles), ())
    a = arrays(problem, kept, getattr(params, "weights", None))
    fleet = any(f > 0 for f in a[16])
    deadline = deadline if max_iterations is None or math.isfinite(deadline) else math.inf
    res = sisr(
        a,
        seed_value=int(getattr(params, "seed", 0)),
        max_iterations=max_iterations,
        deadline=max(deadline, time.time() + 1e-3),
        fleet=fleet,
        report=report,
    )
    return Construction(tuple(tuple(r) for r in res.routes), tuple(sorted(res.unassigned)))
