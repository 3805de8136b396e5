"""Split, local search and a small memetic search for capacity-only arc routing (CARP), in Numba.

Used by :mod:`routing.arc_solve` as a first-solution phase when a problem is a
plain CARP: one depot, identical vehicles with one capacity dimension, no
times, no facilities, every task mandatory, symmetric deadheads. OR-Tools'
node-based moves struggle when capacity is tight (many short trips); the
classic CARP toolbox does better there, and OR-Tools' guided local search
then continues from the result.

Encoding
--------
Task ``t`` served from ``tu[t]`` to ``tv[t]`` is *arc* ``2 t``; served the
other way it is arc ``2 t + 1`` (``forward`` tasks are never flipped: the
kernels take a ``flippable`` flag per task). A solution is a 2-D array
``routes[r, k]`` of arcs with ``lengths[r]`` arcs used in row ``r``; each row
is one trip depot -> arcs -> depot. Its cost is the service costs plus the
deadheads ``D[end(a_k), start(a_k+1)]`` including the legs from and to the
depot (distance unit of ``D``).

- :func:`split_tour` (Beasley / Lacomme-Prins-Ramdane-Cherif split): the best
  cut of an ordered list of tasks into at most ``max_routes`` trips, each
  trip's directions chosen optimally by dynamic programming;
- :func:`local_search`: first-improvement descent over relocate (with flip),
  or-opt (2 and 3 consecutive arcs, kept or reversed), inter-route swap,
  intra-route 2-opt (segment reversal) and inter-route 2-opt* (both variants),
  until no move improves; trip pairs already checked since their last change
  are skipped; capacity is hard (``pen = inf``) or soft (``pen`` per unit of
  excess);
- :func:`memetic`: a population of giant tours, order crossover, split, local
  search with an adaptive capacity penalty and repair, worst-replacement,
  restarts on stagnation (Prins 2004; penalty rule of Vidal et al. 2012).

Every kernel is ``@njit(cache=True)``; :func:`routes_cost` is the plain
reference cost used by the tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["CarpArrays", "local_search", "memetic", "routes_cost", "split_tour", "warm_up"]

_TOL = 1e-9
"""A move must save more than this (distance unit) to count as an improvement."""

_HARD = 1e15
"""Cost of any capacity excess under a hard limit (``pen = inf``)."""

IntArr = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.float64]


@njit(cache=True)
def _start(a: int, tu: IntArr, tv: IntArr, depot: int) -> int:
    if a < 0:
        return depot
    return tu[a >> 1] if (a & 1) == 0 else tv[a >> 1]


@njit(cache=True)
def _end(a: int, tu: IntArr, tv: IntArr, depot: int) -> int:
    if a < 0:
        return depot
    return tv[a >> 1] if (a & 1) == 0 else tu[a >> 1]


@njit(cache=True)
def _excess_cost(load: float, cap: float, pen: float) -> float:
    """Penalty of a trip carrying ``load``: ``pen * (load - cap)`` above the capacity, else 0.

    ``pen = inf`` is a hard limit (a huge finite cost, so differences stay defined).
    """
    over = load - cap
    if over <= _TOL:
        return 0.0
    if pen == np.inf:
        return _HARD
    return pen * over


@njit(cache=True)
def routes_cost(
    routes: IntArr, lengths: IntArr, tu: IntArr, tv: IntArr, tc: FloatArr, dist: FloatArr, depot: int
) -> float:
    """Total cost of the trips: service costs + deadheads, depot legs included (distance unit)."""
    total = 0.0
    for r in range(routes.shape[0]):
        if lengths[r] == 0:
            continue
        at = depot
        for k in range(lengths[r]):
            a = routes[r, k]
            total += dist[at, _start(a, tu, tv, depot)] + tc[a >> 1]
            at = _end(a, tu, tv, depot)
        total += dist[at, depot]
    return total


@njit(cache=True)
def split_tour(
    tour: IntArr,
    tu: IntArr,
    tv: IntArr,
    tc: FloatArr,
    tq: FloatArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    cap: float,
    max_routes: int,
    pen: float = np.inf,
    soft_cap: float = 0.0,
) -> tuple[float, IntArr, IntArr]:
    """Best cut of the task order ``tour`` into at most ``max_routes`` trips of demand <= ``cap``.

    Returns ``(cost, routes, lengths)``; ``cost`` is ``inf`` (and the arrays
    empty) when no cut fits. Trip ``tour[s..e]`` costs, with its directions
    chosen by a two-state dynamic programme over the arcs, ``min over
    directions of D[depot, start] + sum(service + deadhead) + D[end, depot]``.
    With a finite ``pen`` trips may carry up to ``soft_cap`` (>= ``cap``) at
    ``pen`` per unit above ``cap``, and ``cost`` includes those penalties.
    """
    n = tour.shape[0]
    inf = np.inf
    trip = np.full((n, n), inf)
    limit = cap if pen == np.inf else max(cap, soft_cap)
    for s in range(n):
        load = 0.0
        f = np.full(2, inf)
        for e in range(s, n):
            t = tour[e]
            load += tq[t]
            if load > limit + _TOL:
                break
            g = np.full(2, inf)
            for o in range(2):
                if o == 1 and not flippable[t]:
                    continue
                a = 2 * t + o
                st = _start(a, tu, tv, depot)
                if e == s:
                    g[o] = dist[depot, st] + tc[t]
                else:
                    p = tour[e - 1]
                    for po in range(2):
                        if f[po] < inf:
                            c = f[po] + dist[_end(2 * p + po, tu, tv, depot), st] + tc[t]
                            if c < g[o]:
                                g[o] = c
            f = g
            best = inf
            for o in range(2):
                if f[o] < inf:
                    c = f[o] + dist[_end(2 * t + o, tu, tv, depot), depot]
                    if c < best:
                        best = c
            trip[s, e] = best + _excess_cost(load, cap, pen)
    value = np.full((max_routes + 1, n + 1), inf)
    pred = np.full((max_routes + 1, n + 1), -1, dtype=np.int64)
    value[0, 0] = 0.0
    for k in range(1, max_routes + 1):
        for s in range(n):
            if value[k - 1, s] == inf:
                continue
            for e in range(s, n):
                c = trip[s, e]
                if c == inf:
                    break
                v = value[k - 1, s] + c
                if v < value[k, e + 1]:
                    value[k, e + 1] = v
                    pred[k, e + 1] = s
    best_k = -1
    best = inf
    for k in range(max_routes + 1):
        if value[k, n] < best - _TOL:
            best = value[k, n]
            best_k = k
    if best_k < 0:
        return inf, np.zeros((0, 0), dtype=np.int64), np.zeros(0, dtype=np.int64)
    routes = np.full((max_routes, n), -1, dtype=np.int64)
    lengths = np.zeros(max_routes, dtype=np.int64)
    e = n
    k = best_k
    while k > 0:
        s = pred[k, e]
        _orient_trip(tour, s, e, tu, tv, tc, flippable, dist, depot, routes[k - 1])
        lengths[k - 1] = e - s
        e = s
        k -= 1
    return best, routes, lengths


@njit(cache=True)
def _orient_trip(
    tour: IntArr,
    s: int,
    e: int,
    tu: IntArr,
    tv: IntArr,
    tc: FloatArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    out: IntArr,
) -> None:
    """Best directions of the trip ``tour[s:e]``, written as arcs to ``out[0 : e - s]``."""
    m = e - s
    inf = np.inf
    f = np.full((m, 2), inf)
    choice = np.zeros((m, 2), dtype=np.int64)
    for i in range(m):
        t = tour[s + i]
        for o in range(2):
            if o == 1 and not flippable[t]:
                continue
            st = _start(2 * t + o, tu, tv, depot)
            if i == 0:
                f[i, o] = dist[depot, st] + tc[t]
            else:
                p = tour[s + i - 1]
                for po in range(2):
                    if f[i - 1, po] < inf:
                        c = f[i - 1, po] + dist[_end(2 * p + po, tu, tv, depot), st] + tc[t]
                        if c < f[i, o]:
                            f[i, o] = c
                            choice[i, o] = po
    best_o = 0
    best = inf
    for o in range(2):
        if f[m - 1, o] < inf:
            c = f[m - 1, o] + dist[_end(2 * tour[e - 1] + o, tu, tv, depot), depot]
            if c < best:
                best = c
                best_o = o
    o = best_o
    for i in range(m - 1, -1, -1):
        out[i] = 2 * tour[s + i] + o
        o = choice[i, o]


@njit(cache=True)
def _arc(routes: IntArr, lengths: IntArr, r: int, k: int) -> int:
    """Arc at position ``k`` of row ``r``; -1 (the depot) outside the trip."""
    if k < 0 or k >= lengths[r]:
        return -1
    return routes[r, k]


@njit(cache=True)
def _loads(routes: IntArr, lengths: IntArr, tq: FloatArr) -> FloatArr:
    out = np.zeros(routes.shape[0])
    for r in range(routes.shape[0]):
        for k in range(lengths[r]):
            out[r] += tq[routes[r, k] >> 1]
    return out


@njit(cache=True)
def _dirty(clean: npt.NDArray[np.bool_], r: int) -> None:
    """Trip ``r`` changed: every move involving it must be looked at again."""
    clean[:, r, :] = False
    clean[:, :, r] = False


@njit(cache=True)
def _first_empty(lengths: IntArr) -> int:
    for r in range(lengths.shape[0]):
        if lengths[r] == 0:
            return r
    return -1


@njit(cache=True)
def _try_relocate(
    routes: IntArr,
    lengths: IntArr,
    load: FloatArr,
    tu: IntArr,
    tv: IntArr,
    tq: FloatArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    cap: float,
    pen: float,
    clean: npt.NDArray[np.bool_],
) -> bool:
    """Move one arc (either direction) to an improving place; apply the first found.

    Trip pairs whose moves were all checked since they last changed (``clean[0]``) are skipped;
    only the first empty trip is tried as a target.
    """
    nr = routes.shape[0]
    empty = _first_empty(lengths)
    for r1 in range(nr):
        for r2 in range(nr):
            if clean[0, r1, r2] or (r2 != r1 and lengths[r2] == 0 and r2 != empty):
                continue
            for i in range(lengths[r1]):
                a = routes[r1, i]
                q = tq[a >> 1]
                p = _end(_arc(routes, lengths, r1, i - 1), tu, tv, depot)
                nx = _start(_arc(routes, lengths, r1, i + 1), tu, tv, depot)
                gain = dist[p, _start(a, tu, tv, depot)] + dist[_end(a, tu, tv, depot), nx] - dist[p, nx]
                dpen = 0.0
                if r2 != r1:
                    dpen = (
                        _excess_cost(load[r1] - q, cap, pen)
                        + _excess_cost(load[r2] + q, cap, pen)
                        - _excess_cost(load[r1], cap, pen)
                        - _excess_cost(load[r2], cap, pen)
                    )
                    if dpen >= _HARD / 2:
                        continue
                m = lengths[r2] if r2 != r1 else lengths[r1] - 1
                for j in range(m + 1):
                    if r2 != r1:
                        pa = _arc(routes, lengths, r2, j - 1)
                        na = _arc(routes, lengths, r2, j)
                    else:
                        kp = j - 1 if j - 1 < i else j
                        kn = j if j < i else j + 1
                        pa = _arc(routes, lengths, r1, kp) if j - 1 >= 0 else -1
                        na = _arc(routes, lengths, r1, kn) if j < m else -1
                    pe = _end(pa, tu, tv, depot)
                    ns = _start(na, tu, tv, depot)
                    for o in range(2):
                        if o == 1 and not flippable[a >> 1]:
                            continue
                        b = (a & ~1) | o
                        if r2 == r1 and j == i and b == a:
                            continue
                        add = (
                            dist[pe, _start(b, tu, tv, depot)]
                            + dist[_end(b, tu, tv, depot), ns]
                            - dist[pe, ns]
                        )
                        if add - gain + dpen < -_TOL:
                            # remove from r1
                            for k in range(i, lengths[r1] - 1):
                                routes[r1, k] = routes[r1, k + 1]
                            lengths[r1] -= 1
                            load[r1] -= q
                            # insert into r2 at j (positions of the route without the arc)
                            for k in range(lengths[r2], j, -1):
                                routes[r2, k] = routes[r2, k - 1]
                            routes[r2, j] = b
                            lengths[r2] += 1
                            load[r2] += q
                            _dirty(clean, r1)
                            _dirty(clean, r2)
                            return True
            clean[0, r1, r2] = True
    return False


@njit(cache=True)
def _try_relocate_chain(
    routes: IntArr,
    lengths: IntArr,
    load: FloatArr,
    tu: IntArr,
    tv: IntArr,
    tq: FloatArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    cap: float,
    pen: float,
    chain: int,
    clean: npt.NDArray[np.bool_],
    op: int,
) -> bool:
    """Move ``chain`` consecutive arcs to another trip, kept or reversed (or-opt); apply the first gain."""
    nr = routes.shape[0]
    empty = _first_empty(lengths)
    for r1 in range(nr):
        for r2 in range(nr):
            if r2 == r1 or clean[op, r1, r2] or (lengths[r2] == 0 and r2 != empty):
                continue
            for i in range(lengths[r1] - chain + 1):
                a_first = routes[r1, i]
                a_last = routes[r1, i + chain - 1]
                q = 0.0
                for k in range(i, i + chain):
                    q += tq[routes[r1, k] >> 1]
                dpen = (
                    _excess_cost(load[r1] - q, cap, pen)
                    + _excess_cost(load[r2] + q, cap, pen)
                    - _excess_cost(load[r1], cap, pen)
                    - _excess_cost(load[r2], cap, pen)
                )
                if dpen >= _HARD / 2:
                    continue
                p = _end(_arc(routes, lengths, r1, i - 1), tu, tv, depot)
                nx = _start(_arc(routes, lengths, r1, i + chain), tu, tv, depot)
                s0 = _start(a_first, tu, tv, depot)
                e0 = _end(a_last, tu, tv, depot)
                gain = dist[p, s0] + dist[e0, nx] - dist[p, nx]
                can_flip = _all_flippable(routes, r1, i, i + chain, flippable)
                for j in range(lengths[r2] + 1):
                    pe = _end(_arc(routes, lengths, r2, j - 1), tu, tv, depot)
                    ns = _start(_arc(routes, lengths, r2, j), tu, tv, depot)
                    base = dist[pe, ns]
                    for rev in range(2):
                        if rev == 1 and not can_flip:
                            continue
                        if rev == 0:
                            add = dist[pe, s0] + dist[e0, ns] - base
                        else:
                            add = dist[pe, e0] + dist[s0, ns] - base
                        if add - gain + dpen < -_TOL:
                            seg = routes[r1, i : i + chain].copy()
                            if rev == 1:
                                seg = seg[::-1] ^ 1
                            for k in range(i, lengths[r1] - chain):
                                routes[r1, k] = routes[r1, k + chain]
                            lengths[r1] -= chain
                            load[r1] -= q
                            for k in range(lengths[r2] - 1, j - 1, -1):
                                routes[r2, k + chain] = routes[r2, k]
                            routes[r2, j : j + chain] = seg
                            lengths[r2] += chain
                            load[r2] += q
                            _dirty(clean, r1)
                            _dirty(clean, r2)
                            return True
            clean[op, r1, r2] = True
    return False


@njit(cache=True)
def _try_swap(
    routes: IntArr,
    lengths: IntArr,
    load: FloatArr,
    tu: IntArr,
    tv: IntArr,
    tq: FloatArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    cap: float,
    pen: float,
    clean: npt.NDArray[np.bool_],
) -> bool:
    """Exchange two arcs of different trips (each in its best direction); apply the first improvement."""
    nr = routes.shape[0]
    for r1 in range(nr):
        for r2 in range(r1 + 1, nr):
            if clean[3, r1, r2]:
                continue
            for i in range(lengths[r1]):
                a = routes[r1, i]
                qa = tq[a >> 1]
                p1 = _end(_arc(routes, lengths, r1, i - 1), tu, tv, depot)
                n1 = _start(_arc(routes, lengths, r1, i + 1), tu, tv, depot)
                old1 = dist[p1, _start(a, tu, tv, depot)] + dist[_end(a, tu, tv, depot), n1]
                for j in range(lengths[r2]):
                    b = routes[r2, j]
                    qb = tq[b >> 1]
                    dpen = (
                        _excess_cost(load[r1] - qa + qb, cap, pen)
                        + _excess_cost(load[r2] - qb + qa, cap, pen)
                        - _excess_cost(load[r1], cap, pen)
                        - _excess_cost(load[r2], cap, pen)
                    )
                    if dpen >= _HARD / 2:
                        continue
                    p2 = _end(_arc(routes, lengths, r2, j - 1), tu, tv, depot)
                    n2 = _start(_arc(routes, lengths, r2, j + 1), tu, tv, depot)
                    old2 = dist[p2, _start(b, tu, tv, depot)] + dist[_end(b, tu, tv, depot), n2]
                    best_b, new1 = -1, np.inf
                    for o in range(2):
                        if o == 1 and not flippable[b >> 1]:
                            continue
                        bb = (b & ~1) | o
                        c = dist[p1, _start(bb, tu, tv, depot)] + dist[_end(bb, tu, tv, depot), n1]
                        if c < new1:
                            new1, best_b = c, bb
                    best_a, new2 = -1, np.inf
                    for o in range(2):
                        if o == 1 and not flippable[a >> 1]:
                            continue
                        aa = (a & ~1) | o
                        c = dist[p2, _start(aa, tu, tv, depot)] + dist[_end(aa, tu, tv, depot), n2]
                        if c < new2:
                            new2, best_a = c, aa
                    if new1 + new2 - old1 - old2 + dpen < -_TOL:
                        routes[r1, i] = best_b
                        routes[r2, j] = best_a
                        load[r1] += qb - qa
                        load[r2] += qa - qb
                        _dirty(clean, r1)
                        _dirty(clean, r2)
                        return True
            clean[3, r1, r2] = True
    return False


@njit(cache=True)
def _try_two_opt(
    routes: IntArr,
    lengths: IntArr,
    tu: IntArr,
    tv: IntArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    clean: npt.NDArray[np.bool_],
) -> bool:
    """Reverse a segment of one trip (arcs flipped; needs symmetric deadheads); apply the first gain."""
    for r in range(routes.shape[0]):
        if clean[4, r, r]:
            continue
        m = lengths[r]
        for i in range(m):
            if not flippable[routes[r, i] >> 1]:
                continue
            p = _end(_arc(routes, lengths, r, i - 1), tu, tv, depot)
            for j in range(i + 1, m):
                if not flippable[routes[r, j] >> 1]:
                    break
                n = _start(_arc(routes, lengths, r, j + 1), tu, tv, depot)
                ai, aj = routes[r, i], routes[r, j]
                old = dist[p, _start(ai, tu, tv, depot)] + dist[_end(aj, tu, tv, depot), n]
                new = dist[p, _end(aj, tu, tv, depot)] + dist[_start(ai, tu, tv, depot), n]
                if new - old < -_TOL:
                    lo, hi = i, j
                    while lo < hi:
                        x = routes[r, lo]
                        routes[r, lo] = routes[r, hi] ^ 1
                        routes[r, hi] = x ^ 1
                        lo += 1
                        hi -= 1
                    if lo == hi:
                        routes[r, lo] ^= 1
                    _dirty(clean, r)
                    return True
        clean[4, r, r] = True
    return False


@njit(cache=True)
def _all_flippable(routes: IntArr, r: int, lo: int, hi: int, flippable: npt.NDArray[np.bool_]) -> bool:
    for k in range(lo, hi):  # noqa: SIM110 - Numba has no generators
        if not flippable[routes[r, k] >> 1]:
            return False
    return True


@njit(cache=True)
def _try_two_opt_star(
    routes: IntArr,
    lengths: IntArr,
    load: FloatArr,
    tu: IntArr,
    tv: IntArr,
    tq: FloatArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    cap: float,
    pen: float,
    clean: npt.NDArray[np.bool_],
) -> bool:
    """Exchange the ends of two trips (straight or crossed with reversal); apply the first improvement."""
    nr = routes.shape[0]
    width = routes.shape[1]
    for r1 in range(nr):
        if lengths[r1] == 0:
            continue
        for r2 in range(r1 + 1, nr):
            if lengths[r2] == 0 or clean[5, r1, r2]:
                continue
            pre1 = 0.0
            for i in range(-1, lengths[r1]):
                if i >= 0:
                    pre1 += tq[routes[r1, i] >> 1]
                suf1 = load[r1] - pre1
                x1 = _end(_arc(routes, lengths, r1, i), tu, tv, depot)
                y1 = _start(_arc(routes, lengths, r1, i + 1), tu, tv, depot)
                pre2 = 0.0
                for j in range(-1, lengths[r2]):
                    if j >= 0:
                        pre2 += tq[routes[r2, j] >> 1]
                    suf2 = load[r2] - pre2
                    x2 = _end(_arc(routes, lengths, r2, j), tu, tv, depot)
                    y2 = _start(_arc(routes, lengths, r2, j + 1), tu, tv, depot)
                    old = dist[x1, y1] + dist[x2, y2]
                    old_pen = _excess_cost(load[r1], cap, pen) + _excess_cost(load[r2], cap, pen)
                    # straight: r1[:i+1] + r2[j+1:], r2[:j+1] + r1[i+1:]
                    dpen = _excess_cost(pre1 + suf2, cap, pen) + _excess_cost(pre2 + suf1, cap, pen) - old_pen
                    if dpen < _HARD / 2:
                        new = dist[x1, y2] + dist[x2, y1]
                        if new - old + dpen < -_TOL:
                            tail1 = routes[r1, i + 1 : lengths[r1]].copy()
                            tail2 = routes[r2, j + 1 : lengths[r2]].copy()
                            n1 = i + 1 + tail2.shape[0]
                            n2 = j + 1 + tail1.shape[0]
                            if n1 <= width and n2 <= width:
                                routes[r1, i + 1 : n1] = tail2
                                routes[r2, j + 1 : n2] = tail1
                                lengths[r1], lengths[r2] = n1, n2
                                load[r1], load[r2] = pre1 + suf2, pre2 + suf1
                                _dirty(clean, r1)
                                _dirty(clean, r2)
                                return True
                    # crossed: r1[:i+1] + rev(r2[:j+1]), rev(r1[i+1:]) + r2[j+1:]
                    dpen = _excess_cost(pre1 + pre2, cap, pen) + _excess_cost(suf1 + suf2, cap, pen) - old_pen
                    if dpen < _HARD / 2:
                        new = dist[x1, x2] + dist[y1, y2]
                        if new - old + dpen < -_TOL:
                            if not (
                                _all_flippable(routes, r2, 0, j + 1, flippable)
                                and _all_flippable(routes, r1, i + 1, lengths[r1], flippable)
                            ):
                                continue
                            head2 = routes[r2, 0 : j + 1][::-1] ^ 1
                            tail1 = routes[r1, i + 1 : lengths[r1]][::-1] ^ 1
                            tail2 = routes[r2, j + 1 : lengths[r2]].copy()
                            n1 = i + 1 + head2.shape[0]
                            n2 = tail1.shape[0] + tail2.shape[0]
                            if n1 <= width and n2 <= width:
                                routes[r1, i + 1 : n1] = head2
                                routes[r2, 0 : tail1.shape[0]] = tail1
                                routes[r2, tail1.shape[0] : n2] = tail2
                                lengths[r1], lengths[r2] = n1, n2
                                load[r1], load[r2] = pre1 + pre2, suf1 + suf2
                                _dirty(clean, r1)
                                _dirty(clean, r2)
                                return True
            clean[5, r1, r2] = True
    return False


@njit(cache=True)
def local_search(
    routes: IntArr,
    lengths: IntArr,
    tu: IntArr,
    tv: IntArr,
    tc: FloatArr,
    tq: FloatArr,
    flippable: npt.NDArray[np.bool_],
    dist: FloatArr,
    depot: int,
    cap: float,
    pen: float = np.inf,
) -> float:
    """Descend (in place) until no relocate, swap, 2-opt or 2-opt* move improves; returns the cost.

    ``routes`` needs ``width`` >= the number of tasks so any trip fits a row.
    The capacity is a hard limit with ``pen = inf`` (a feasible solution stays
    feasible); otherwise excess costs ``pen`` per unit and moves may trade
    distance for excess (the returned cost is the distance only).
    """
    load = _loads(routes, lengths, tq)
    nr = routes.shape[0]
    clean = np.zeros((6, nr, nr), dtype=np.bool_)  # per move kind and trip pair: nothing improves
    while True:
        if _try_relocate(routes, lengths, load, tu, tv, tq, flippable, dist, depot, cap, pen, clean):
            continue
        if _try_two_opt(routes, lengths, tu, tv, flippable, dist, depot, clean):
            continue
        if _try_relocate_chain(
            routes, lengths, load, tu, tv, tq, flippable, dist, depot, cap, pen, 2, clean, 1
        ):
            continue
        if _try_relocate_chain(
            routes, lengths, load, tu, tv, tq, flippable, dist, depot, cap, pen, 3, clean, 2
        ):
            continue
        if _try_swap(routes, lengths, load, tu, tv, tq, flippable, dist, depot, cap, pen, clean):
            continue
        if _try_two_opt_star(routes, lengths, load, tu, tv, tq, flippable, dist, depot, cap, pen, clean):
            continue
        break
    return routes_cost(routes, lengths, tu, tv, tc, dist, depot)


@njit(cache=True)
def _order_crossover(p1: IntArr, p2: IntArr, i: int, j: int) -> IntArr:
    """OX: child keeps ``p1[i..j]`` in place and fills the rest with ``p2``'s order from ``j + 1``."""
    n = p1.shape[0]
    child = np.full(n, -1, dtype=np.int64)
    used = np.zeros(n, dtype=np.bool_)
    for k in range(i, j + 1):
        child[k] = p1[k]
        used[p1[k]] = True
    pos = (j + 1) % n
    for k in range(n):
        g = p2[(j + 1 + k) % n]
        if not used[g]:
            child[pos] = g
            used[g] = True
            pos = (pos + 1) % n
    return child


class CarpArrays:
    """The arrays every kernel takes, for one plain-CARP problem (see the module docstring).

    Attributes
    ----------
    tu, tv : numpy.ndarray
        ``int64`` task ends (graph nodes).
    tc, tq : numpy.ndarray
        ``float64`` service cost and demand per task.
    flippable : numpy.ndarray
        ``bool`` per task: may be served head -> tail (``either``).
    dist : numpy.ndarray
        ``float64`` ``(n, n)`` symmetric deadhead distances.
    depot : int
        Depot node.
    cap : float
        Capacity per trip.
    max_routes : int
        Most trips (vehicles).
    """

    def __init__(
        self,
        tu: IntArr,
        tv: IntArr,
        tc: FloatArr,
        tq: FloatArr,
        flippable: npt.NDArray[np.bool_],
        dist: FloatArr,
        depot: int,
        cap: float,
        max_routes: int,
    ) -> None:
        self.tu = np.ascontiguousarray(tu, dtype=np.int64)
        self.tv = np.ascontiguousarray(tv, dtype=np.int64)
        self.tc = np.ascontiguousarray(tc, dtype=np.float64)
        self.tq = np.ascontiguousarray(tq, dtype=np.float64)
        self.flippable = np.ascontiguousarray(flippable, dtype=np.bool_)
        self.dist = np.ascontiguousarray(dist, dtype=np.float64)
        self.depot = int(depot)
        self.cap = float(cap)
        self.max_routes = int(max_routes)

    @property
    def n_tasks(self) -> int:
        return int(self.tu.shape[0])

    def split(self, tour: IntArr, pen: float = np.inf) -> tuple[float, IntArr, IntArr]:
        """:func:`split_tour` of a task order (soft capacity up to twice ``cap`` with a finite ``pen``)."""
        a = self
        return split_tour(
            np.ascontiguousarray(tour, dtype=np.int64),
            a.tu,
            a.tv,
            a.tc,
            a.tq,
            a.flippable,
            a.dist,
            a.depot,
            a.cap,
            a.max_routes,
            pen,
            2.0 * a.cap,
        )

    def improve(self, routes: IntArr, lengths: IntArr, pen: float = np.inf) -> float:
        """:func:`local_search` in place; returns the cost (distance, penalties left out)."""
        a = self
        return float(
            local_search(routes, lengths, a.tu, a.tv, a.tc, a.tq, a.flippable, a.dist, a.depot, a.cap, pen)
        )

    def excess(self, routes: IntArr, lengths: IntArr) -> float:
        """Total demand above the capacity over all trips (0 = feasible)."""
        loads = _loads(routes, lengths, self.tq)
        return float(np.clip(loads - self.cap, 0.0, None).sum())


def _tour_of(routes: IntArr, lengths: IntArr) -> IntArr:
    """The giant tour (task order) of a solution: its trips one after the other."""
    parts = [routes[r, : lengths[r]] >> 1 for r in range(routes.shape[0]) if lengths[r]]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def memetic(
    arrays: CarpArrays,
    *,
    deadline: float,
    seed: int = 0,
    max_iterations: int | None = None,
    population: int = 12,
    restart_after: int = 300,
    start_tours: list[IntArr] | None = None,
    lower_bound: float = 0.0,
    report: Callable[[float], None] | None = None,
) -> tuple[float, list[list[int]]]:
    """Population search over giant tours: OX crossover, split, local search, worst replacement.

    Offspring are split and improved with a *soft* capacity: excess costs a
    penalty per unit, adapted so that about half of them come out feasible
    (Vidal et al.'s HGS rule; tight instances need to cross infeasible
    space). An infeasible offspring is repaired by the same descent with 10x
    and 100x the penalty; only feasible solutions enter the population (distinct
    costs). Deterministic for a given ``seed`` when it stops on
    ``max_iterations`` (offspring) rather than on ``deadline``
    (``time.time()``). Stops early at ``lower_bound``. When the best has not
    improved for ``restart_after`` offspring, all but the best are replaced by
    fresh random tours.

    Parameters
    ----------
    report : callable, optional
        ``report(cost)`` on every improvement of the best cost.

    Returns
    -------
    (float, list of list of int)
        Best cost and its trips as arcs (``2 t`` tail -> head, ``2 t + 1`` head -> tail).
    """
    rng = np.random.default_rng(seed)
    n = arrays.n_tasks
    if n == 0:
        return 0.0, []
    pen = [max(1.0, float(arrays.tc.mean() + arrays.dist.mean()) / max(float(arrays.tq.mean()), 1e-9))]
    feasible_log: list[bool] = []

    def make(tour: IntArr, soft: bool) -> tuple[float, IntArr, IntArr] | None:
        p = pen[0] if soft else np.inf
        cost, routes, lengths = arrays.split(tour, p)
        if not np.isfinite(cost):
            return None
        cost = arrays.improve(routes, lengths, p)
        if soft:
            ok = arrays.excess(routes, lengths) <= _TOL
            feasible_log.append(ok)
            for factor in (10.0, 100.0):
                if ok:
                    break
                cost = arrays.improve(routes, lengths, p * factor)
                ok = arrays.excess(routes, lengths) <= _TOL
            if not ok:
                return None
            if len(feasible_log) >= 50:
                share = sum(feasible_log) / len(feasible_log)
                feasible_log.clear()
                if share < 0.4:
                    pen[0] *= 1.2
                elif share > 0.6:
                    pen[0] = max(0.1, pen[0] * 0.85)
        return cost, routes, lengths

    pop: list[tuple[float, IntArr]] = []
    best: tuple[float, IntArr, IntArr] | None = None

    def offer(made: tuple[float, IntArr, IntArr] | None) -> bool:
        nonlocal best
        if made is None:
            return False
        cost, routes, lengths = made
        if best is None or cost < best[0] - _TOL:
            best = (cost, routes.copy(), lengths.copy())
            if report is not None:
                report(cost)
        tour = _tour_of(routes, lengths)
        if any(abs(c - cost) < _TOL for c, _ in pop):
            return False
        if len(pop) < population:
            pop.append((cost, tour))
            return True
        worst = max(range(len(pop)), key=lambda k: pop[k][0])
        if cost < pop[worst][0] - _TOL:
            pop[worst] = (cost, tour)
            return True
        return False

    for tour in start_tours or []:
        offer(make(np.asarray(tour, dtype=np.int64), False))
    tries = 0
    while len(pop) < population and tries < 4 * population and (time.time() < deadline or not pop):
        offer(make(rng.permutation(n).astype(np.int64), False))
        tries += 1
    if not pop:
        return np.inf, []
    it = 0
    stale = 0
    while time.time() < deadline and (max_iterations is None or it < max_iterations):
        if best is not None and best[0] <= lower_bound + _TOL:
            break
        it += 1
        k1, k2 = rng.integers(len(pop), size=2)
        k3, k4 = rng.integers(len(pop), size=2)
        p1 = pop[k1 if pop[k1][0] <= pop[k2][0] else k2][1]
        p2 = pop[k3 if pop[k3][0] <= pop[k4][0] else k4][1]
        i, j = sorted(rng.integers(n, size=2))
        before = best[0] if best is not None else np.inf
        offer(make(_order_crossover(p1, p2, int(i), int(j)), True))
        if best is not None and best[0] < before - _TOL:
            stale = 0
        else:
            stale += 1
        if stale > restart_after and best is not None:
            stale = 0
            keep = _tour_of(best[1], best[2])
            pop[:] = [(best[0], keep)]
            while len(pop) < population and time.time() < deadline:
                if not offer(make(rng.permutation(n).astype(np.int64), False)):
                    break
    assert best is not None
    cost, routes, lengths = best
    return cost, [[int(a) for a in routes[r, : lengths[r]]] for r in range(routes.shape[0]) if lengths[r]]


def warm_up() -> None:
    """Compile every kernel on a three-task instance (fills Numba's on-disk cache; about 10-60 s once).

    Benchmark scripts call it before timing anything, so the first instance's
    budget is not spent compiling.
    """
    dist = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    arrays = CarpArrays(
        np.array([0, 1, 0]),
        np.array([1, 2, 2]),
        np.array([1.0, 1.0, 2.0]),
        np.array([1.0, 1.0, 1.0]),
        np.ones(3, dtype=np.bool_),
        dist,
        0,
        2.0,
        3,
    )
    memetic(arrays, deadline=float("inf"), seed=0, max_iterations=3, population=3)
