"""Slack Induction by String Removals (SISR) for node routing with time windows, in Numba.

A ruin-and-recreate search after the idea of Christiaens & Vanden Berghe
(2020): remove a few *strings* (runs of consecutive customers) from routes
near a random seed customer, put the removed customers back one by one at
their cheapest feasible position (sometimes skipping a position: a *blink*),
and accept the result by simulated annealing on the objective. A separate
*fleet phase* empties the smallest route and searches until every customer is
served again by one route fewer (absence counters steer it).

Problem arrays (:func:`make_arrays`, all ``int64`` unless said)
----------------------------------------------------------------
Everything is indexed by *location* (the :class:`routing.model.RoutingProblem`
order), so routes hold location indices. Per location: service time (s),
window ``[early, late]`` in which service starts (s), demand (kg, litres).
Per vehicle: start/end depot, capacity (kg, litres), shift ``[start, end]``
(s), route limit (s; ``limit_binds`` when it is tighter than the shift),
fixed cost, most stops, a class id (identical empty vehicles are tried once).
One arc-cost matrix (objective units) for every vehicle, one travel-time
matrix (s), ``allowed[loc, k]`` (bool), the customers, and per customer its
nearest customers (``near``).

Feasibility is hard. Per route the search keeps, for every position, the
earliest service start from the shift start (forward) and the latest service
start that still lets the rest of the route and the return meet their windows
and the shift end (backward), so inserting a customer is checked in O(1)
(Savelsbergh); only a vehicle whose route limit binds needs an O(route)
simulation (:func:`min_span`: leave as late as possible).

*Trip mode* (dump-and-continue, the flag in the arrays): capacities are per
trip, and a route of customers is evaluated by the forward simulation of
:func:`routing.rr_trips.simulate`, which places the unloads and the break. Each
insertion position is simulated (O(route)), but only when an estimate with the
unloads kept in place beats the best position so far; a ruin that would leave
a route infeasible (its unloads move) keeps that route whole. The earliest and
latest arrays then hold, per gap, the visits just before and after it.

Solution state (a tuple, see :func:`new_state`): ``route[k, i]`` location of
the ``i``-th customer of vehicle ``k``, ``rlen[k]``, loads, earliest and
latest start per position (position 0 = start depot, ``rlen + 1`` = end
depot), route cost (fixed cost + arcs; 0 when empty), and per location its
vehicle (``-1`` = unassigned) and position.

Deterministic for a given seed and number of iterations (:func:`seed`; the
temperature follows the iteration count given by the caller).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from routing.rr_trips import simulate

__all__ = [
    "SisrResult",
    "feasible_insertion",
    "fleet_chunk",
    "initial",
    "load_routes",
    "make_arrays",
    "min_span",
    "new_state",
    "sa_chunk",
    "seed",
    "sisr",
    "state_cost",
    "warm_up",
]

IntArr = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]

AVG_REMOVED = 10.0
"""Mean customers removed per ruin (the paper's c-bar)."""

MAX_STRING = 10.0
"""Longest string removed from one route (the paper's L-max)."""

SPLIT_RATE = 0.5
"""Share of ruins of a route that keep a run of customers inside the removed string (split string)."""

KEEP_RATE = 0.01
"""Chance to stop growing the kept run of a split string at each customer."""

BLINK_RATE = 0.01
"""Chance to skip each insertion position during the recreate."""


def make_arrays(
    *,
    cost: IntArr,
    time_s: IntArr,
    service_s: IntArr,
    early_s: IntArr,
    late_s: IntArr,
    demand_kg: IntArr,
    demand_l: IntArr,
    allowed: BoolArr,
    start: IntArr,
    end: IntArr,
    capacity_kg: IntArr,
    capacity_l: IntArr,
    shift_start_s: IntArr,
    shift_end_s: IntArr,
    route_limit_s: IntArr,
    fixed_cost: IntArr,
    max_stops: IntArr,
    vclass: IntArr,
    customers: IntArr,
    near: IntArr,
    unload_sites: IntArr | None = None,
    day_kg: IntArr | None = None,
    day_l: IntArr | None = None,
    stop_w: IntArr | None = None,
    break_min_s: IntArr | None = None,
    break_max_s: IntArr | None = None,
    break_s: IntArr | None = None,
) -> tuple:
    """The problem arrays as the tuple the kernels take (see the module docstring), copied and checked.

    Tuple order: cost, time, service, early, late, demand kg, demand l,
    allowed, start, end, capacity kg, capacity l, shift start, shift end,
    route limit, limit binds, fixed cost, most stops, class, near, customers,
    a demand score (both demands as shares of the largest capacities, for the
    recreate's "largest first" order), then the *trip mode* (dump-and-continue,
    :mod:`routing.rr_trips`): a flag (one element, 1 when ``unload_sites`` is
    given), per vehicle its usable sites (``(vehicles, s)``, padded with -1),
    day limits kg and litres, stops per location, break window start/end and
    break length (s; 0 = none). In trip mode the capacities are per trip and
    the early/late arrays also give the sites' opening.

    Raises
    ------
    ValueError
        ``cost``, ``time_s`` are not ``(n, n)`` or ``allowed`` is not ``(n, vehicles)``.
    """
    i64 = lambda a: np.array(a, dtype=np.int64, order="C")  # noqa: E731  (a writable copy: one Numba type)
    n, nv = cost.shape[0], start.shape[0]
    if cost.shape != (n, n) or time_s.shape != (n, n) or allowed.shape != (n, nv):
        raise ValueError("cost, time_s must be (n, n) and allowed (n, vehicles)")
    limit_binds = (route_limit_s < shift_end_s - shift_start_s).astype(np.bool_)
    capkg = np.maximum(capacity_kg, 1).astype(np.float64)
    capl = np.maximum(capacity_l, 1).astype(np.float64)
    score = demand_kg / capkg.max() + demand_l / capl.max()
    trips = unload_sites is not None
    big = np.full(nv, np.iinfo(np.int64).max // 4, dtype=np.int64)
    zero = np.zeros(nv, dtype=np.int64)
    pick = lambda a, default: default if a is None else a  # noqa: E731
    if trips and np.asarray(unload_sites).shape[0] != nv:
        raise ValueError("unload_sites must have one row per vehicle")
    return (
        i64(cost),
        i64(time_s),
        i64(service_s),
        i64(early_s),
        i64(late_s),
        i64(demand_kg),
        i64(demand_l),
        np.array(allowed, dtype=np.bool_, order="C"),
        i64(start),
        i64(end),
        i64(capacity_kg),
        i64(capacity_l),
        i64(shift_start_s),
        i64(shift_end_s),
        i64(route_limit_s),
        limit_binds,
        i64(fixed_cost),
        i64(max_stops),
        i64(vclass),
        i64(near),
        i64(customers),
        np.array(score, dtype=np.float64, order="C"),
        np.array([1 if trips else 0], dtype=np.int64),
        i64(pick(unload_sites, np.full((nv, 1), -1, dtype=np.int64))),
        i64(pick(day_kg, big)),
        i64(pick(day_l, big)),
        i64(pick(stop_w, np.ones(n, dtype=np.int64))),
        i64(pick(break_min_s, zero)),
        i64(pick(break_max_s, zero)),
        i64(pick(break_s, zero)),
    )


# --------------------------------------------------------------------------- state


def new_state(n_locations: int, n_vehicles: int, max_len: int) -> tuple:
    """Empty solution arrays: route, rlen, loads (kg, l), earliest, latest, route cost, vehicle, position."""
    return (
        np.zeros((n_vehicles, max_len), dtype=np.int64),
        np.zeros(n_vehicles, dtype=np.int64),
        np.zeros(n_vehicles, dtype=np.int64),
        np.zeros(n_vehicles, dtype=np.int64),
        np.zeros((n_vehicles, max_len + 2), dtype=np.int64),
        np.zeros((n_vehicles, max_len + 2), dtype=np.int64),
        np.zeros(n_vehicles, dtype=np.int64),
        np.full(n_locations, -1, dtype=np.int64),
        np.full(n_locations, -1, dtype=np.int64),
    )


@njit(cache=True)
def seed(value: int) -> None:
    """Seed Numba's random generator (used by every kernel of this process)."""
    np.random.seed(value)


@njit(cache=True)
def _update_trips(inst, st, k):  # type: ignore[no-untyped-def]
    """Trip mode: day loads, cost and positions of route ``k`` (:func:`routing.rr_trips.simulate`).

    Returns whether the route is feasible (the cost is then meaningless).
    """
    route, rlen, lkg, ll, rcost, wr, wp = st[0], st[1], st[2], st[3], st[6], st[7], st[8]
    n = rlen[k]
    akg = 0
    al = 0
    for i in range(n):
        u = route[k, i]
        akg += inst[5][u]
        al += inst[6][u]
        wr[u] = k
        wp[u] = i
    lkg[k] = akg
    ll[k] = al
    out = np.empty(2 * n + 1, dtype=np.int64)
    c, m = simulate(inst, k, route[k], n, out)
    rcost[k] = c + inst[16][k] if n > 0 else 0
    # Gap g (before customer g, or the end): the visit just before customer g and just after customer g - 1
    # (they differ from the customers when an unload lies between), for the insertion estimate.
    before, after = st[4], st[5]
    before[k, n] = out[m - 1] if m > 0 else inst[8][k]
    after[k, 0] = out[0] if m > 0 else inst[9][k]
    i = 0
    for j in range(m):
        if i < n and out[j] == route[k, i]:
            before[k, i] = out[j - 1] if j > 0 else inst[8][k]
            after[k, i + 1] = out[j + 1] if j + 1 < m else inst[9][k]
            i += 1
    return c >= 0


@njit(cache=True)
def _update(inst, st, k):  # type: ignore[no-untyped-def]
    """Recompute loads, earliest/latest starts, cost and positions of route ``k``; whether it is feasible.

    Without trips every route the kernels keep is feasible by construction.
    """
    if inst[22][0]:
        return _update_trips(inst, st, k)
    cost, tt, svc, early, late, dkg, dl = inst[0], inst[1], inst[2], inst[3], inst[4], inst[5], inst[6]
    vs, ve, shs, she, fixed = inst[8][k], inst[9][k], inst[12][k], inst[13][k], inst[16][k]
    route, rlen, lkg, ll, ea, la, rcost, wr, wp = st
    n = rlen[k]
    prev = vs
    t = shs
    ea[k, 0] = shs
    c = 0
    akg = 0
    al = 0
    for i in range(n):
        u = route[k, i]
        t = max(early[u], t + svc[prev] + tt[prev, u])
        ea[k, i + 1] = t
        c += cost[prev, u]
        akg += dkg[u]
        al += dl[u]
        wr[u] = k
        wp[u] = i
        prev = u
    ea[k, n + 1] = t + svc[prev] + tt[prev, ve]
    c += cost[prev, ve]
    la[k, n + 1] = she
    nxt = ve
    for i in range(n - 1, -1, -1):
        u = route[k, i]
        la[k, i + 1] = min(late[u], la[k, i + 2] - tt[u, nxt] - svc[u])
        nxt = u
    la[k, 0] = min(she, la[k, 1] - tt[vs, nxt] - svc[vs])
    lkg[k] = akg
    ll[k] = al
    rcost[k] = c + fixed if n > 0 else 0
    return True


@njit(cache=True)
def min_span(inst, seq, n, k):  # type: ignore[no-untyped-def]
    """Shortest duration (s) of vehicle ``k`` driving ``seq[:n]``, or -1 if it cannot meet the windows.

    Leaves as late as the windows and the shift end allow (the end time minus
    the departure never grows with a later departure).
    """
    tt, svc, early, late = inst[1], inst[2], inst[3], inst[4]
    vs, ve, shs, she = inst[8][k], inst[9][k], inst[12][k], inst[13][k]
    # Backward: latest departure.
    lat = she
    nxt = ve
    for i in range(n - 1, -1, -1):
        u = seq[i]
        lat = min(late[u], lat - tt[u, nxt] - svc[u])
        nxt = u
    dep = min(she, lat - tt[vs, nxt] - svc[vs])
    if dep < shs:
        return -1
    t = dep
    prev = vs
    for i in range(n):
        u = seq[i]
        t = max(early[u], t + svc[prev] + tt[prev, u])
        if t > late[u]:
            return -1
        prev = u
    t = t + svc[prev] + tt[prev, ve]
    if t > she:
        return -1
    return t - dep


@njit(cache=True)
def feasible_insertion(inst, st, k, gap, u, buf):  # type: ignore[no-untyped-def]
    """Whether customer ``u`` fits into route ``k`` before its ``gap``-th customer (``gap = rlen``: last).

    O(1) from the earliest/latest starts, plus an O(route) simulation when the
    vehicle's route limit binds (``buf`` is scratch space of the route's size + 1).
    """
    tt, svc, early, late, dkg, dl, allowed = inst[1], inst[2], inst[3], inst[4], inst[5], inst[6], inst[7]
    route, rlen, lkg, ll, ea, la = st[0], st[1], st[2], st[3], st[4], st[5]
    if not allowed[u, k]:
        return False
    n = rlen[k]
    if n + 1 > inst[17][k] or lkg[k] + dkg[u] > inst[10][k] or ll[k] + dl[u] > inst[11][k]:
        return False
    prev = inst[8][k] if gap == 0 else route[k, gap - 1]
    nxt = inst[9][k] if gap == n else route[k, gap]
    a = max(early[u], ea[k, gap] + svc[prev] + tt[prev, u])
    if a > late[u]:
        return False
    arr = a + svc[u] + tt[u, nxt]
    an = arr if gap == n else max(early[nxt], arr)
    if an > la[k, gap + 1]:
        return False
    if inst[15][k]:
        m = 0
        for i in range(n + 1):
            if i == gap:
                buf[m] = u
                m += 1
            if i < n:
                buf[m] = route[k, i]
                m += 1
        span = min_span(inst, buf, m, k)
        if span < 0 or span > inst[14][k]:
            return False
    return True


@njit(cache=True)
def _insert(inst, st, k, gap, u):  # type: ignore[no-untyped-def]
    route, rlen = st[0], st[1]
    n = rlen[k]
    for i in range(n, gap, -1):
        route[k, i] = route[k, i - 1]
    route[k, gap] = u
    rlen[k] = n + 1
    _update(inst, st, k)


@njit(cache=True)
def load_routes(inst, st, routes, lengths):  # type: ignore[no-untyped-def]
    """Fill ``st`` with ``routes[k, :lengths[k]]`` (all other customers unassigned)."""
    route, rlen, wr, wp = st[0], st[1], st[7], st[8]
    wr[:] = -1
    wp[:] = -1
    for k in range(route.shape[0]):
        rlen[k] = lengths[k]
        for i in range(lengths[k]):
            route[k, i] = routes[k, i]
        _update(inst, st, k)


@njit(cache=True)
def state_cost(inst, st, penalty):  # type: ignore[no-untyped-def]
    """``(objective units incl. penalty per unassigned customer, unassigned customers)``."""
    cust, wr, rcost = inst[20], st[7], st[6]
    un = 0
    for u in cust:
        if wr[u] < 0:
            un += 1
    return rcost.sum() + penalty * un, un


@njit(cache=True)
def _sync(dst, src, touched):  # type: ignore[no-untyped-def]
    """Copy the ``touched`` routes of ``src`` into ``dst`` (positions of their customers included)."""
    droute, drlen, dwr, dwp = dst[0], dst[1], dst[7], dst[8]
    sroute, srlen, swr, swp = src[0], src[1], src[7], src[8]
    for k in range(touched.shape[0]):
        if touched[k]:
            for i in range(drlen[k]):
                dwr[droute[k, i]] = -1
    for k in range(touched.shape[0]):
        if not touched[k]:
            continue
        n = srlen[k]
        drlen[k] = n
        droute[k, :n] = sroute[k, :n]
        dst[2][k] = src[2][k]
        dst[3][k] = src[3][k]
        dst[4][k, : n + 2] = src[4][k, : n + 2]
        dst[5][k, : n + 2] = src[5][k, : n + 2]
        dst[6][k] = src[6][k]
        for i in range(n):
            u = sroute[k, i]
            dwr[u] = swr[u]
            dwp[u] = swp[u]


@njit(cache=True)
def _copy_all(dst, src):  # type: ignore[no-untyped-def]
    dst[0][:] = src[0]
    dst[1][:] = src[1]
    dst[2][:] = src[2]
    dst[3][:] = src[3]
    dst[4][:] = src[4]
    dst[5][:] = src[5]
    dst[6][:] = src[6]
    dst[7][:] = src[7]
    dst[8][:] = src[8]


# --------------------------------------------------------------------------- ruin


@njit(cache=True)
def _ruin(inst, st, touched, removed):  # type: ignore[no-untyped-def]
    """Remove strings from routes near a random customer; returns how many customers went to ``removed``."""
    near, cust = inst[19], inst[20]
    route, rlen, wr = st[0], st[1], st[7]
    trips = inst[22][0] != 0
    used = 0
    served = 0
    for k in range(rlen.shape[0]):
        if rlen[k] > 0:
            used += 1
            served += rlen[k]
    if used == 0:
        return 0
    ls_max = min(MAX_STRING, served / used)
    ks_max = 4.0 * AVG_REMOVED / (1.0 + ls_max) - 1.0
    ks = int(np.random.random() * ks_max) + 1
    first = cust[np.random.randint(0, cust.shape[0])]
    n_removed = 0
    ruined = 0
    for j in range(-1, near.shape[1]):
        if ruined >= ks:
            break
        c = first if j < 0 else near[first, j]
        k = wr[c]
        if k < 0 or touched[k]:
            continue
        n = rlen[k]
        lmax = min(float(n), ls_max)
        ln = int(np.random.random() * lmax) + 1
        pos = st[8][c]
        keep = 0
        if ln < n and np.random.random() < SPLIT_RATE:
            keep = 1
            while ln + keep < n and np.random.random() > KEEP_RATE:
                keep += 1
        window = ln + keep
        lo = pos - np.random.randint(0, window)
        lo = max(0, min(lo, n - window))
        ks_at = lo + np.random.randint(0, ln + 1) if keep > 0 else lo
        m = 0
        before = route[k, :n].copy() if trips else route[k, :0].copy()
        n_before = n_removed
        for i in range(n):
            u = route[k, i]
            inside = lo <= i < lo + window
            kept = keep > 0 and ks_at <= i < ks_at + keep
            if inside and not kept:
                removed[n_removed] = u
                n_removed += 1
                wr[u] = -1
            else:
                route[k, m] = u
                m += 1
        rlen[k] = m
        touched[k] = True
        if not _update(inst, st, k):  # trips: a shorter route can need other unloads; keep it whole
            route[k, :n] = before
            rlen[k] = n
            n_removed = n_before
            _update(inst, st, k)
        ruined += 1
    return n_removed


# --------------------------------------------------------------------------- recreate


@njit(cache=True)
def _order(inst, items, n):  # type: ignore[no-untyped-def]
    """Sort ``items[:n]`` in place: random, demand down, far first or close first (weights 4:4:2:1)."""
    if n <= 1:
        return
    r = np.random.random() * 11.0
    sub = items[:n].copy()
    np.random.shuffle(sub)
    if r >= 4.0:
        key = np.empty(n, dtype=np.float64)
        depot = inst[8][0]
        for i in range(n):
            u = sub[i]
            if r < 8.0:
                key[i] = -inst[21][u]
            elif r < 10.0:
                key[i] = -float(inst[0][depot, u])
            else:
                key[i] = float(inst[0][depot, u])
        idx = np.argsort(key, kind="mergesort")
        sub = sub[idx]
    items[:n] = sub


@njit(cache=True, inline="always")
def _n_used(rlen):  # type: ignore[no-untyped-def]
    c = 0
    for k in range(rlen.shape[0]):
        if rlen[k] > 0:
            c += 1
    return c


@njit(cache=True, inline="always")
def _delta(inst, st, k, gap, u):  # type: ignore[no-untyped-def]
    cost = inst[0]
    route, rlen = st[0], st[1]
    n = rlen[k]
    prev = inst[8][k] if gap == 0 else route[k, gap - 1]
    nxt = inst[9][k] if gap == n else route[k, gap]
    d = cost[prev, u] + cost[u, nxt] - cost[prev, nxt]
    if n == 0:
        d += inst[16][k]
    return d


@njit(cache=True, inline="always")
def _gap_delta(k, g, u, cost, tt, svc, early, late, route, rlen, ea, la, vs, ve, fixed):  # type: ignore[no-untyped-def]
    """``(cost delta, windows hold)`` of ``u`` before the ``g``-th customer of route ``k`` (arrays passed
    unpacked: extracting them from the tuples on every call costs more than the check itself)."""
    n = rlen[k]
    prev = vs[k] if g == 0 else route[k, g - 1]
    nxt = ve[k] if g == n else route[k, g]
    d = cost[prev, u] + cost[u, nxt] - cost[prev, nxt]
    if n == 0:
        d += fixed[k]
    a = max(early[u], ea[k, g] + svc[prev] + tt[prev, u])
    if a > late[u]:
        return d, False
    arr = a + svc[u] + tt[u, nxt]
    an = arr if g == n else max(early[nxt], arr)
    return d, an <= la[k, g + 1]


@njit(cache=True, inline="always")
def _trip_estimate(inst, st, k, g, u):  # type: ignore[no-untyped-def]
    """Trip mode: arc cost change of ``u`` in gap ``g`` of route ``k`` with its unloads kept where they are.

    The smaller of the detours next to customer ``g`` and next to customer
    ``g - 1`` (the same unless an unload lies between); ``_place_trips``
    simulates a position only when this beats the best so far (a heuristic:
    moved unloads can make the true change smaller).
    """
    cost, route, rlen = inst[0], st[0], st[1]
    n = rlen[k]
    if n == 0:
        return cost[inst[8][k], u] + cost[u, inst[9][k]] - cost[inst[8][k], inst[9][k]] + inst[16][k]
    nxt = inst[9][k] if g == n else route[k, g]
    prv = inst[8][k] if g == 0 else route[k, g - 1]
    a = st[4][k, g]
    b = st[5][k, g]
    return min(cost[a, u] + cost[u, nxt] - cost[a, nxt], cost[prv, u] + cost[u, b] - cost[prv, b])


@njit(cache=True)
def _trip_delta(inst, st, k, g, u, buf, out):  # type: ignore[no-untyped-def]
    """Trip mode: cost change of ``u`` before the ``g``-th customer of route ``k`` (-1, False: infeasible)."""
    route, rlen = st[0], st[1]
    n = rlen[k]
    buf[:g] = route[k, :g]
    buf[g] = u
    buf[g + 1 : n + 1] = route[k, g:n]
    c, _m = simulate(inst, k, buf, n + 1, out)
    if c < 0:
        return -1, False
    return c + inst[16][k] - st[6][k], True


@njit(cache=True, inline="always")
def _candidate(phase, j, u, near, wr, wp, rlen, vclass, allowed, stamp):  # type: ignore[no-untyped-def]
    """The ``j``-th place tried for customer ``u`` in ``phase``: ``(vehicle, first gap, end gap)``.

    Phase 0: the two gaps beside ``u``'s ``j``-th nearest customer, if routed;
    phase 1: empty vehicle ``j``, once per vehicle class (``stamp``) and only if
    allowed; phase 2: every gap of used vehicle ``j``. Vehicle ``-1`` = skip.
    """
    if phase == 0:
        v = near[u, j]
        k = wr[v]
        if k < 0:
            return -1, 0, 0
        return k, wp[v], wp[v] + 2
    if phase == 1:
        if rlen[j] > 0 or stamp[vclass[j]] or not allowed[u, j]:
            return -1, 0, 0
        stamp[vclass[j]] = True
    elif rlen[j] == 0:
        return -1, 0, 0
    return j, 0, rlen[j] + 1


@njit(cache=True)
def _place_trips(inst, st, u, max_routes, touched, buf, stamp, blink):  # type: ignore[no-untyped-def]
    """Trip mode of :func:`_place`: each position is checked by a simulation of the whole route.

    Neighbours' gaps, then one empty vehicle per class; every gap of every
    route only in the greedy start (``blink == 0``), where it is affordable.
    """
    allowed, vclass, near, daykg, dayl = inst[7], inst[18], inst[19], inst[24], inst[25]
    rlen, lkg, ll, wr, wp = st[1], st[2], st[3], st[7], st[8]
    dkg, dl = inst[5][u], inst[6][u]
    nv = rlen.shape[0]
    out = np.empty(2 * buf.shape[0] + 1, dtype=np.int64)
    best_k = -1
    best_g = -1
    best_d = np.int64(0)
    for phase in range(3):
        if phase == 1:
            if _n_used(rlen) >= max_routes:
                continue
            stamp[:] = False
        if phase == 2 and (best_k >= 0 or blink != 0.0):
            break
        top = near.shape[1] if phase == 0 else nv
        for j in range(top):
            k, g_lo, g_hi = _candidate(phase, j, u, near, wr, wp, rlen, vclass, allowed, stamp)
            if k < 0:
                continue
            if not allowed[u, k] or lkg[k] + dkg > daykg[k] or ll[k] + dl > dayl[k]:
                continue
            for g in range(g_lo, g_hi):
                if phase == 0 and blink > 0.0 and np.random.random() < blink:
                    continue
                if best_k >= 0 and _trip_estimate(inst, st, k, g, u) >= best_d:
                    continue
                d, ok = _trip_delta(inst, st, k, g, u, buf, out)
                if ok and (best_k < 0 or d < best_d):
                    best_k, best_g, best_d = k, g, d
    if best_k < 0:
        return False
    _insert(inst, st, best_k, best_g, u)
    touched[best_k] = True
    return True


@njit(cache=True)
def _place(inst, st, u, max_routes, touched, buf, stamp, blink):  # type: ignore[no-untyped-def]
    """Insert ``u`` at its cheapest feasible position (neighbours' gaps, then new routes, then all gaps).

    Same rules as :func:`feasible_insertion`, evaluated with the arrays unpacked once.
    """
    if inst[22][0]:
        return _place_trips(inst, st, u, max_routes, touched, buf, stamp, blink)
    cost, tt, svc, early, late, dkg, dl, allowed = (
        inst[0],
        inst[1],
        inst[2],
        inst[3],
        inst[4],
        inst[5],
        inst[6],
        inst[7],
    )
    vs, ve, capkg, capl, limb, fixed, stops, vclass, near = (
        inst[8],
        inst[9],
        inst[10],
        inst[11],
        inst[15],
        inst[16],
        inst[17],
        inst[18],
        inst[19],
    )
    route, rlen, lkg, ll, ea, la, wr, wp = st[0], st[1], st[2], st[3], st[4], st[5], st[7], st[8]
    nv = rlen.shape[0]
    best_k = -1
    best_g = -1
    best_d = np.int64(0)
    for phase in range(3):
        if phase == 1:
            if _n_used(rlen) >= max_routes:
                continue
            stamp[:] = False
        if phase == 2 and best_k >= 0:
            break
        top = near.shape[1] if phase == 0 else nv
        for j in range(top):
            k, g_lo, g_hi = _candidate(phase, j, u, near, wr, wp, rlen, vclass, allowed, stamp)
            if k < 0:
                continue
            if not allowed[u, k] or rlen[k] + 1 > stops[k]:
                continue
            if lkg[k] + dkg[u] > capkg[k] or ll[k] + dl[u] > capl[k]:
                continue
            for g in range(g_lo, g_hi):
                if phase == 0 and blink > 0.0 and np.random.random() < blink:
                    continue
                d, ok = _gap_delta(k, g, u, cost, tt, svc, early, late, route, rlen, ea, la, vs, ve, fixed)
                if not ok or (best_k >= 0 and d >= best_d):
                    continue
                if limb[k] and not feasible_insertion(inst, st, k, g, u, buf):
                    continue
                best_k, best_g, best_d = k, g, d
    if best_k < 0:
        return False
    _insert(inst, st, best_k, best_g, u)
    touched[best_k] = True
    return True


@njit(cache=True)
def _recreate(inst, st, items, n, max_routes, touched, buf, stamp, blink):  # type: ignore[no-untyped-def]
    """Order ``items[:n]`` (:func:`_order`) and place each; returns how many stayed out."""
    _order(inst, items, n)
    out = 0
    for i in range(n):
        if not _place(inst, st, items[i], max_routes, touched, buf, stamp, blink):
            out += 1
    return out


@njit(cache=True)
def initial(inst, st, max_routes):  # type: ignore[no-untyped-def]
    """Greedy start: every customer unassigned in ``st`` is placed (random order, no blinks)."""
    cust, wr = inst[20], st[7]
    items = np.empty(cust.shape[0], dtype=np.int64)
    n = 0
    for u in cust:
        if wr[u] < 0:
            items[n] = u
            n += 1
    np.random.shuffle(items[:n])
    touched = np.zeros(st[1].shape[0], dtype=np.bool_)
    buf = np.empty(st[0].shape[1] + 1, dtype=np.int64)
    stamp = np.zeros(st[1].shape[0] + 1, dtype=np.bool_)
    out = 0
    for i in range(n):
        if not _place(inst, st, items[i], max_routes, touched, buf, stamp, 0.0):
            out += 1
    return out


# --------------------------------------------------------------------------- searches


@njit(cache=True)
def _unassigned(inst, st, items):  # type: ignore[no-untyped-def]
    cust, wr = inst[20], st[7]
    n = 0
    for u in cust:
        if wr[u] < 0:
            items[n] = u
            n += 1
    return n


@njit(cache=True)
def sa_chunk(inst, cur, cand, best, iterations, t_from, t_to, penalty, max_routes):  # type: ignore[no-untyped-def]
    """``iterations`` ruin-and-recreate steps, annealing from temperature ``t_from`` to ``t_to``.

    ``cur`` is the current solution (``cand`` must equal it on entry; both are
    equal on exit), ``best`` receives every solution better than it (fewest
    unassigned first, then objective). Returns the best's ``(cost, unassigned)``
    with ``penalty`` objective units per unassigned customer.
    """
    nv = cur[1].shape[0]
    touched = np.zeros(nv, dtype=np.bool_)
    items = np.empty(inst[20].shape[0], dtype=np.int64)
    buf = np.empty(cur[0].shape[1] + 1, dtype=np.int64)
    stamp = np.zeros(nv + 1, dtype=np.bool_)
    cur_cost, cur_un = state_cost(inst, cur, penalty)
    best_cost, best_un = state_cost(inst, best, penalty)
    for it in range(iterations):
        frac = it / max(iterations, 1)
        temp = t_from * (t_to / t_from) ** frac if t_from > 0 and t_to > 0 else 0.0
        touched[:] = False
        n = _ruin(inst, cand, touched, items)
        n += _unassigned_not_in(inst, cand, items, n)
        out = _recreate(inst, cand, items, n, max_routes, touched, buf, stamp, BLINK_RATE)
        new = 0
        old = 0
        for k in range(nv):
            if touched[k]:
                new += cand[6][k]
                old += cur[6][k]
        cand_cost = cur_cost - old + new + penalty * (out - cur_un)
        if cand_cost < cur_cost - temp * np.log(np.random.random() + 1e-300):
            _sync(cur, cand, touched)
            cur_cost = cand_cost
            cur_un = out
            if out < best_un or (out == best_un and cand_cost < best_cost):
                _copy_all(best, cur)
                best_cost, best_un = cand_cost, out
        else:
            _sync(cand, cur, touched)
    return best_cost, best_un


@njit(cache=True)
def _unassigned_not_in(inst, st, items, n):  # type: ignore[no-untyped-def]
    """Append customers unassigned in ``st`` that are not in ``items[:n]``; returns how many."""
    cust, wr = inst[20], st[7]
    m = n
    for u in cust:
        if wr[u] < 0:
            found = False
            for i in range(n):
                if items[i] == u:
                    found = True
                    break
            if not found:
                items[m] = u
                m += 1
    return m - n


@njit(cache=True)
def _drop_smallest(inst, st):  # type: ignore[no-untyped-def]
    """Empty the used route with the fewest customers (its customers become unassigned)."""
    rlen, wr = st[1], st[7]
    k_min = -1
    for k in range(rlen.shape[0]):
        if rlen[k] > 0 and (k_min < 0 or rlen[k] < rlen[k_min]):
            k_min = k
    if k_min < 0:
        return -1
    for i in range(rlen[k_min]):
        wr[st[0][k_min, i]] = -1
    rlen[k_min] = 0
    _update(inst, st, k_min)
    return k_min


@njit(cache=True)
def fleet_chunk(inst, cur, cand, best, absence, iterations, penalty, limit):  # type: ignore[no-untyped-def]
    """The fleet phase: search for a solution with one route fewer than ``limit[0]`` routes allow.

    ``cur`` holds a solution using ``limit[0]`` routes or fewer with some
    customers unassigned (``cand`` equal to it on entry and exit). Each step
    ruins and recreates without opening routes beyond ``limit[0]``, adds one to
    the absence counter of every customer left out, and keeps the result when
    it leaves fewer customers out or their absences sum lower. When all are
    served it is offered to ``best`` (kept when cheaper), the smallest route is
    emptied and ``limit[0]`` drops by one. Returns the best's ``(cost, unassigned)``.
    """
    nv = cur[1].shape[0]
    touched = np.zeros(nv, dtype=np.bool_)
    items = np.empty(inst[20].shape[0], dtype=np.int64)
    buf = np.empty(cur[0].shape[1] + 1, dtype=np.int64)
    stamp = np.zeros(nv + 1, dtype=np.bool_)
    best_cost, best_un = state_cost(inst, best, penalty)
    cur_n = _unassigned(inst, cur, items)
    cur_abs = 0
    for i in range(cur_n):
        cur_abs += absence[items[i]]
    for _ in range(iterations):
        if cur_n == 0:
            c, _u = state_cost(inst, cur, penalty)
            if best_un > 0 or c < best_cost:
                _copy_all(best, cur)
                best_cost, best_un = c, 0
            if _n_used(cur[1]) <= 1:
                break
            _drop_smallest(inst, cur)
            _copy_all(cand, cur)
            limit[0] = _n_used(cur[1])
            cur_n = _unassigned(inst, cur, items)
            cur_abs = 0
            for i in range(cur_n):
                cur_abs += absence[items[i]]
        touched[:] = False
        n = _ruin(inst, cand, touched, items)
        n += _unassigned_not_in(inst, cand, items, n)
        _recreate(inst, cand, items, n, limit[0], touched, buf, stamp, BLINK_RATE)
        m = _unassigned(inst, cand, items)
        s = 0
        for i in range(m):
            absence[items[i]] += 1
            s += absence[items[i]]
        if m < cur_n or s < cur_abs:
            _sync(cur, cand, touched)
            cur_n, cur_abs = m, s
        else:
            _sync(cand, cur, touched)
    if cur_n == 0:
        c, _u = state_cost(inst, cur, penalty)
        if best_un > 0 or c < best_cost:
            _copy_all(best, cur)
            best_cost, best_un = c, 0
    return best_cost, best_un


# --------------------------------------------------------------------------- driver

FLEET_SHARE = 0.4
"""Share of the iterations (or of the time) the fleet phase gets when vehicles have a fixed cost."""

T_START = 10.0
"""Start temperature, in mean costs of an arc to one of a customer's 5 nearest customers."""

T_END = 0.1
"""End temperature, same unit as :data:`T_START`."""

CHUNK_S = 0.05
"""Target wall time (s) of one kernel call between deadline checks."""


@dataclass(frozen=True, slots=True)
class SisrResult:
    """The best solution found.

    Attributes
    ----------
    routes : list of list of int
        Per vehicle, the customers (location indices) in visiting order.
    cost : int
        Objective units: fixed costs of used vehicles plus arc costs.
    unassigned : list of int
        Customers no route could take.
    iterations : int
        Ruin-and-recreate steps run (both phases).
    """

    routes: list[list[int]]
    cost: int
    unassigned: list[int]
    iterations: int


def _copy(dst: tuple, src: tuple) -> None:
    for a, b in zip(dst, src, strict=True):
        np.copyto(a, b)


def _clone(src: tuple) -> tuple:
    return tuple(a.copy() for a in src)


def _mean_near_cost(arrays: tuple) -> float:
    cost, near, cust = arrays[0], arrays[19], arrays[20]
    k = min(5, near.shape[1])
    if k == 0 or cust.size == 0:
        return 1.0
    c = cost[cust[:, None], near[cust, :k]]
    return max(1.0, float(np.mean(np.minimum(c, np.percentile(c, 99)))))


def sisr(
    arrays: tuple,
    *,
    seed_value: int = 0,
    max_iterations: int | None = None,
    deadline: float = math.inf,
    fleet: bool = False,
    start_routes: list[list[int]] | None = None,
    report: Callable[[int, int], None] | None = None,
) -> SisrResult:
    """Run the search: a greedy start, the fleet phase (``fleet``), then simulated annealing.

    Stops after ``max_iterations`` steps or at ``deadline`` (``time.time()``),
    whichever comes first. With ``max_iterations`` the phases, the temperature
    and the chunk sizes follow the step count only, so the search is
    deterministic for ``seed_value`` unless the deadline cuts it short; without
    it they follow the clock. ``report(cost, unassigned)`` is called whenever the best improves.
    ``start_routes`` (per vehicle, customers in order) seed the greedy start,
    which places the other customers (in trip mode they must be feasible
    routes). ``arrays`` come from :func:`make_arrays`. In trip mode, when the
    greedy start leaves customers out, annealing at the start temperature
    first serves them (at most half the fleet phase's share) so the fleet
    phase can begin.
    """
    if max_iterations is None and not math.isfinite(deadline):
        raise ValueError("sisr needs max_iterations or a finite deadline")
    n, nv, m = arrays[0].shape[0], arrays[8].shape[0], max(1, arrays[20].shape[0])
    cost = arrays[0]
    penalty = int(2 * cost.max(initial=0) + arrays[16].max(initial=0) + 1)
    seed(seed_value)
    cur = new_state(n, nv, m)
    lengths = np.zeros(nv, dtype=np.int64)
    routes = np.zeros((nv, m), dtype=np.int64)
    for k, r in enumerate(start_routes or []):
        lengths[k] = len(r)
        routes[k, : len(r)] = r
    load_routes(arrays, cur, routes, lengths)
    initial(arrays, cur, nv)
    best, cand = _clone(cur), _clone(cur)
    best_key = state_cost(arrays, best, penalty)
    if report is not None:
        report(int(best_key[0]) - penalty * int(best_key[1]), int(best_key[1]))
    t_begin = time.time()
    total = max_iterations
    done = 0
    scale = _mean_near_cost(arrays)

    def progress(extra: int = 0) -> float:
        """Share of the search done: by steps with ``max_iterations`` (deterministic), else by time."""
        if total is not None:
            return min(1.0, (done + extra) / max(total, 1))
        return min(1.0, (time.time() - t_begin) / max(deadline - t_begin, 1e-9))

    def running() -> bool:
        return time.time() < deadline

    def offer(key: tuple[int, int]) -> None:
        nonlocal best_key
        if (key[1], key[0]) < (best_key[1], best_key[0]):
            best_key = key
            if report is not None:
                report(int(key[0]) - penalty * int(key[1]), int(key[1]))

    def chunk_size(per_it: float) -> int:
        """Steps per kernel call: about :data:`CHUNK_S` of work, or a fixed 1 % of ``max_iterations``."""
        if total is not None:
            return max(1, min(10_000, total // 100))
        return max(1, min(10_000, int(CHUNK_S / max(per_it, 1e-7))))

    per_it = 1e-2 if arrays[22][0] else 1e-4  # a first guess: a trip-mode step simulates whole routes
    share = FLEET_SHARE
    while arrays[22][0] and fleet and best_key[1] > 0 and progress() < share / 2 and running():
        # Trip mode: the greedy start can leave customers out; serve them all before the fleet phase.
        size = chunk_size(per_it) if total is None else min(max(1, total // 100), total // 10 - done)
        if size <= 0:
            break
        t_now = scale * T_START
        t = time.time()
        key = sa_chunk(arrays, cur, cand, best, size, t_now, t_now, penalty, nv)
        per_it = max(1e-7, (time.time() - t) / size)
        done += size
        offer((int(key[0]), int(key[1])))
    if fleet and best_key[1] == 0 and nv > 1:
        fcur = _clone(best)
        _drop_smallest(arrays, fcur)
        fcand = _clone(fcur)
        absence = np.zeros(n, dtype=np.int64)
        limit = np.array([int((fcur[1] > 0).sum())], dtype=np.int64)
        while progress() < share and limit[0] >= 1 and running():
            size = chunk_size(per_it)
            if total is not None:
                size = min(size, math.ceil(share * total) - done)
                if size <= 0:
                    break
            t = time.time()
            key = fleet_chunk(arrays, fcur, fcand, best, absence, size, penalty, limit)
            per_it = max(1e-7, (time.time() - t) / size)
            done += size
            offer((int(key[0]), int(key[1])))
            if (fcur[1] > 0).sum() <= 1 and state_cost(arrays, fcur, penalty)[1] == 0:
                break  # one route serves everyone: nothing left to remove
        _copy(cur, best)
        _copy(cand, best)
    while progress() < 1.0 and running():
        size = chunk_size(per_it)
        if total is not None:
            size = min(size, total - done)
            if size <= 0:
                break
        t_from = scale * T_START * (T_END / T_START) ** progress()
        t_to = scale * T_START * (T_END / T_START) ** progress(size)
        t = time.time()
        key = sa_chunk(arrays, cur, cand, best, size, t_from, t_to, penalty, nv)
        per_it = max(1e-7, (time.time() - t) / size)
        done += size
        offer((int(key[0]), int(key[1])))
    final, un = state_cost(arrays, best, penalty)
    out_routes = [[int(x) for x in best[0][k, : best[1][k]]] for k in range(nv)]
    unassigned = [int(u) for u in arrays[20] if best[7][u] < 0]
    return SisrResult(out_routes, int(final) - penalty * int(un), unassigned, done)


def _toy_arrays(n: int, **trips: IntArr) -> tuple:
    """Kernel arrays of an ``n``-location toy: depot 0, unit arcs, the last two locations customers.

    Two vehicles of capacity 1; ``trips`` are the trip-mode arrays of :func:`make_arrays`, if any.
    """
    unit = np.ones((n, n), dtype=np.int64) - np.eye(n, dtype=np.int64)
    customers = np.arange(n - 2, n)
    demand = np.zeros(n, dtype=np.int64)
    demand[customers] = 1
    other = {int(customers[0]): customers[1], int(customers[1]): customers[0]}
    near = np.array([[other.get(i, customers[0])] for i in range(n)], dtype=np.int64)
    return make_arrays(
        cost=unit,
        time_s=unit,
        service_s=np.zeros(n, dtype=np.int64),
        early_s=np.zeros(n, dtype=np.int64),
        late_s=np.full(n, 100, dtype=np.int64),
        demand_kg=demand,
        demand_l=demand,
        allowed=np.ones((n, 2), dtype=np.bool_),
        start=np.zeros(2, dtype=np.int64),
        end=np.zeros(2, dtype=np.int64),
        capacity_kg=np.array([1, 1]),
        capacity_l=np.array([1, 1]),
        shift_start_s=np.zeros(2, dtype=np.int64),
        shift_end_s=np.full(2, 100, dtype=np.int64),
        route_limit_s=np.full(2, 50, dtype=np.int64),
        fixed_cost=np.array([5, 5]),
        max_stops=np.array([2, 2]),
        vclass=np.array([0, 0]),
        customers=customers,
        near=near,
        **trips,
    )


def warm_up() -> None:
    """Compile every kernel on two-customer instances, plain and with trips (fills Numba's on-disk cache)."""
    sisr(_toy_arrays(3), max_iterations=20, fleet=True)
    trips = _toy_arrays(
        4,
        unload_sites=np.array([[1], [1]]),
        day_kg=np.array([2, 2]),
        day_l=np.array([2, 2]),
        stop_w=np.array([0, 0, 1, 1]),
        break_min_s=np.array([5, 5]),
        break_max_s=np.array([9, 9]),
        break_s=np.array([1, 1]),
    )
    sisr(trips, max_iterations=20, fleet=True)
