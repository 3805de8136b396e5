"""A ruin-and-recreate start (SISR, :mod:`routing.rr_kernels`) for node routing, with or without unload trips.

:mod:`routing.solve` runs it before OR-Tools' guided local search when
:func:`applies`: the kernels search most of the time budget, OR-Tools continues
from their routes for the rest (it only keeps improvements).

The subset the kernels support: at most one window per point, every point
mandatory, and one arc-cost matrix for the whole fleet (all vehicles share
``cost_per_km`` and ``cost_per_hour``) with no duration cost. Vehicles may
differ in depots, capacities, shifts, route limits, stops, fixed costs and the
streams they collect. Then either

- plain routing: no dump-and-continue (``problem.unload`` off), no breaks, no
  stop limit on points that count as several stops (:mod:`routing.aggregate`);
  a day limit (``max_route_kg``/``max_route_l``) is the same as a capacity
  (nothing is unloaded), so the smaller of the two is used; or
- *trip mode* (:mod:`routing.rr_trips`, when :data:`TRIPS` is on):
  dump-and-continue with independent routes
  (:func:`routing.decompose.independent_routes`: no bay or tonnage limit
  binds across routes), facilities with at most one opening window; breaks,
  day limits and merged stops are handled. Routes come back with their unload
  visits (facility location indices).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from routing.construct import Construction
from routing.decompose import independent_routes
from routing.model import RoutingProblem, arc_cost_matrix, duration_cost_per_s
from routing.rr_kernels import make_arrays, sisr
from routing.rr_trips import simulate

__all__ = ["NEIGHBOURS", "TRIPS", "applies", "arrays", "construct", "visits"]

TRIPS = True
"""Whether :func:`applies` accepts dump-and-continue problems (trip mode). Measured on WCVRPTW at 60 s,
``wastefleet bench`` defaults, one run each (2 shared cores, noisy), vehicles / miles before -> with
trip mode: 102 3/154.0 -> 3/150.4, 277 3/461.3 -> 3/449.9, 444 11/79.8 -> 11/77.8, 804 5/710.5 ->
5/610.1, 1351 7/970.5 -> 7/898.4, 1599 14/1302.9 -> 14/1101.8."""

NEIGHBOURS = 40
"""Nearest customers per customer: the ruin's seeds and the recreate's insertion positions."""


def applies(problem: RoutingProblem, params: object) -> bool:
    """Whether the kernels support ``problem`` under ``params`` (a :class:`routing.solve.SolveParams`).

    See the module docstring for the subset.
    """
    weights = getattr(params, "weights", None)
    vs = problem.vehicles
    if not vs or weights is None or len(problem.points) == 0:
        return False
    if problem.unload:
        if not TRIPS or not independent_routes(problem):
            return False
        if any(len(problem.windows[f]) > 1 for f in problem.facilities):
            return False
    else:
        if any(v.break_s > 0 for v in vs):
            return False
        if any(v.max_stops is not None for v in vs) and any(s > 1 for s in problem.stops):
            return False  # plain mode counts one stop per point; merged points count more (routing.aggregate)
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
    trips = bool(problem.unload)
    early = np.zeros(n, dtype=np.int64)
    late = np.full(n, problem.horizon_s, dtype=np.int64)
    for p in [*cust, *(problem.facilities if trips else ())]:
        if problem.windows[p]:
            early[p], late[p] = problem.windows[p][0]
    allowed = np.zeros((n, nv), dtype=np.bool_)
    for p in cust:
        allowed[p, list(problem.serving_vehicles(int(p)))] = True
    vs = problem.vehicles
    big = np.iinfo(np.int64).max // 4
    if trips:
        cap_kg, cap_l = [v.capacity_kg for v in vs], [v.capacity_l for v in vs]
        day_kg = [big if v.max_route_kg is None else v.max_route_kg for v in vs]
        day_l = [big if v.max_route_l is None else v.max_route_l for v in vs]
        stop_w = np.array([problem.stops_at(i) for i in range(n)], dtype=np.int64)
        width = max(1, max(len(v.unload_at) for v in vs))
        sites = np.full((nv, width), -1, dtype=np.int64)
        for k, v in enumerate(vs):
            sites[k, : len(v.unload_at)] = v.unload_at
    else:
        cap_kg = [v.capacity_kg if v.max_route_kg is None else min(v.capacity_kg, v.max_route_kg) for v in vs]
        cap_l = [v.capacity_l if v.max_route_l is None else min(v.capacity_l, v.max_route_l) for v in vs]
    fixed = [round(getattr(weights, "vehicles", 1.0) * v.fixed_cost) for v in vs]
    stops = [len(cust) + 1 if v.max_stops is None else v.max_stops for v in vs]
    if trips:
        stops = [big if v.max_stops is None else v.max_stops for v in vs]
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
            v.unload_at,
            v.max_route_kg,
            v.max_route_l,
            (v.break_start_min_s, v.break_start_max_s, v.break_s),
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
        **(
            {
                "unload_sites": sites,
                "day_kg": np.array(day_kg),
                "day_l": np.array(day_l),
                "stop_w": stop_w,
                "break_min_s": np.array([v.break_start_min_s for v in vs]),
                "break_max_s": np.array([v.break_start_max_s for v in vs]),
                "break_s": np.array([v.break_s for v in vs]),
            }
            if trips
            else {}
        ),
    )


def visits(a: tuple, k: int, customers: Sequence[int]) -> tuple[int, ...] | None:
    """The visits (customers and unload sites) of vehicle ``k`` driving ``customers`` in trip mode.

    ``a`` are the kernel arrays (:func:`arrays`); ``None`` when the route is infeasible.
    """
    seq = np.asarray(customers, dtype=np.int64)
    out = np.empty(2 * len(seq) + 1, dtype=np.int64)
    c, m = simulate(a, k, seq, len(seq), out)
    return None if c < 0 else tuple(int(x) for x in out[:m])


def construct(
    problem: RoutingProblem,
    kept: Sequence[int],
    params: object,
    deadline: float,
    *,
    max_iterations: int | None = None,
    report: Callable[[int, int], None] | None = None,
) -> Construction:
    """Routes (one per vehicle, location indices between the depots, unload visits included) found by SISR.

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
    if not a[22][0]:
        return Construction(tuple(tuple(r) for r in res.routes), tuple(sorted(res.unassigned)))
    routes: list[tuple[int, ...]] = []
    left = list(res.unassigned)
    for k, r in enumerate(res.routes):
        got = visits(a, k, r)
        if got is None:  # cannot happen: the kernels keep every route feasible
            left += r
            got = ()
        routes.append(got)
    return Construction(tuple(routes), tuple(sorted(left)))
