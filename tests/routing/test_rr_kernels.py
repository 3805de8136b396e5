"""SISR kernels (routing.rr_kernels) against slow, obvious Python references on random small instances."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from routing.rr_kernels import (
    _place,
    feasible_insertion,
    fleet_chunk,
    initial,
    load_routes,
    make_arrays,
    min_span,
    new_state,
    seed,
    sisr,
    state_cost,
)

HORIZON = 400


def _instance(rng_seed: int, n_cust: int = 10, n_veh: int = 4, tight: bool = True, n_near: int = 4) -> tuple:
    """Two depots (locations 0, 1), customers 2.., random windows, loads, shifts, limits and licences."""
    rng = np.random.default_rng(rng_seed)
    n = 2 + n_cust
    xy = rng.uniform(0, 40, size=(n, 2))
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    time_s = np.ceil(d).astype(np.int64)
    cost = np.rint(d * 7 + rng.uniform(0, 5, size=(n, n))).astype(np.int64)
    np.fill_diagonal(cost, 0)
    service = np.r_[0, 0, rng.integers(0, 10, size=n_cust)]
    early = np.zeros(n, dtype=np.int64)
    late = np.full(n, HORIZON, dtype=np.int64)
    if tight:
        early[2:] = rng.integers(0, 200, size=n_cust)
        late[2:] = early[2:] + rng.integers(20, 150, size=n_cust)
    dkg = np.r_[0, 0, rng.integers(1, 6, size=n_cust)]
    dl = np.r_[0, 0, rng.integers(1, 6, size=n_cust)]
    allowed = rng.random((n, n_veh)) < 0.8
    allowed[:2] = False
    allowed[2:, 0] = True  # vehicle 0 may serve everyone
    start = rng.integers(0, 2, size=n_veh)
    shs = rng.integers(0, 30, size=n_veh)
    she = HORIZON - rng.integers(0, 60, size=n_veh)
    limit = np.where(rng.random(n_veh) < 0.5, she - shs, rng.integers(120, 250, size=n_veh))
    near = np.zeros((n, min(n_near, n_cust - 1)), dtype=np.int64)
    for u in range(2, n):
        others = [v for v in range(2, n) if v != u]
        near[u] = sorted(others, key=lambda v: cost[u, v] + cost[v, u])[: near.shape[1]]
    return make_arrays(
        cost=cost,
        time_s=time_s,
        service_s=service,
        early_s=early,
        late_s=late,
        demand_kg=dkg,
        demand_l=dl,
        allowed=allowed,
        start=start,
        end=start[::-1].copy(),
        capacity_kg=rng.integers(8, 20, size=n_veh),
        capacity_l=rng.integers(8, 20, size=n_veh),
        shift_start_s=shs,
        shift_end_s=she,
        route_limit_s=limit,
        fixed_cost=rng.integers(0, 3, size=n_veh) * 1000,
        max_stops=rng.integers(3, 8, size=n_veh),
        vclass=np.arange(n_veh),
        customers=np.arange(2, n),
        near=near,
    )


def _ref_route(a: tuple, k: int, route: list[int]) -> tuple[bool, int]:
    """Brute force: try every departure second; feasible if one meets every rule. And the route's cost."""
    cost, tt, svc, early, late, dkg, dl, allowed = a[:8]
    vs, ve, capkg, capl, shs, she, rlim = (int(x[k]) for x in a[8:15])
    fixed, stops = int(a[16][k]), int(a[17][k])
    if not route:
        return True, 0
    ok = (
        all(allowed[u, k] for u in route)
        and sum(int(dkg[u]) for u in route) <= capkg
        and sum(int(dl[u]) for u in route) <= capl
        and len(route) <= stops
    )
    seq = [vs, *route, ve]
    total = fixed + sum(int(cost[i, j]) for i, j in pairwise(seq))
    if not ok:
        return False, total
    for dep in range(shs, she + 1):
        t, good = dep, True
        for i, j in pairwise(seq[:-1]):
            t = max(int(early[j]), t + int(svc[i]) + int(tt[i, j]))
            if t > late[j]:
                good = False
                break
        t = t + int(svc[seq[-2]]) + int(tt[seq[-2], ve])
        if good and t <= she and t - dep <= rlim:
            return True, total
    return False, total


def _routes(st: tuple) -> list[list[int]]:
    return [[int(x) for x in st[0][k, : st[1][k]]] for k in range(st[1].shape[0])]


def _greedy(a: tuple, rng_seed: int) -> tuple:
    n, nv, m = a[0].shape[0], a[8].shape[0], a[20].shape[0]
    st = new_state(n, nv, m)
    load_routes(a, st, np.zeros((nv, m), dtype=np.int64), np.zeros(nv, dtype=np.int64))
    seed(rng_seed)
    initial(a, st, nv)
    return st


@pytest.mark.parametrize("rng_seed", range(12))
def test_insertion_check_matches_brute_force(rng_seed: int) -> None:
    a = _instance(rng_seed)
    st = _greedy(a, rng_seed)
    routes = _routes(st)
    for k, r in enumerate(routes):
        assert _ref_route(a, k, r)[0], f"greedy route {k} {r} infeasible"
    buf = np.empty(st[0].shape[1] + 1, dtype=np.int64)
    agree = feasible = 0
    for k, r in enumerate(routes):
        for u in a[20]:
            if u in r:
                continue
            for gap in range(len(r) + 1):
                got = feasible_insertion(a, st, k, gap, int(u), buf)
                want = _ref_route(a, k, [*r[:gap], int(u), *r[gap:]])[0]
                assert got == want, (k, gap, int(u), r)
                agree += 1
                feasible += int(want)
    assert agree > 0


@pytest.mark.parametrize("rng_seed", range(10))
def test_recreate_takes_the_cheapest_feasible_gap(rng_seed: int) -> None:
    """With every customer a neighbour and no blinks, a placement costs the brute-force cheapest insertion."""
    a = _instance(rng_seed, n_cust=9, n_near=8)
    st = _greedy(a, rng_seed)
    rng = np.random.default_rng(rng_seed)
    nv = a[8].shape[0]
    out = [int(u) for u in rng.permutation(a[20])[:3]]
    routes = [[u for u in r if u not in out] for r in _routes(st)]
    lengths = np.array([len(r) for r in routes], dtype=np.int64)
    arr = np.zeros_like(st[0])
    for k, r in enumerate(routes):
        arr[k, : len(r)] = r
    load_routes(a, st, arr, lengths)
    touched = np.zeros(nv, dtype=bool)
    buf = np.empty(st[0].shape[1] + 1, dtype=np.int64)
    stamp = np.zeros(nv + 1, dtype=bool)
    for u in out:
        before = [_ref_route(a, k, r)[1] for k, r in enumerate(routes)]
        options = [
            _ref_route(a, k, [*r[:g], u, *r[g:]])[1] - before[k]
            for k, r in enumerate(routes)
            for g in range(len(r) + 1)
            if _ref_route(a, k, [*r[:g], u, *r[g:]])[0]
        ]
        placed = _place(a, st, u, nv, touched, buf, stamp, 0.0)
        assert placed == bool(options)
        routes = _routes(st)
        if options:
            after = sum(_ref_route(a, k, r)[1] for k, r in enumerate(routes))
            assert after - sum(before) == min(options)


@pytest.mark.parametrize("rng_seed", range(8))
def test_min_span_matches_brute_force(rng_seed: int) -> None:
    a = _instance(rng_seed, tight=True)
    rng = np.random.default_rng(rng_seed)
    tt, svc, early, late = a[1], a[2], a[3], a[4]
    for _ in range(20):
        k = int(rng.integers(0, a[8].shape[0]))
        seq = rng.permutation(a[20])[: int(rng.integers(1, 4))]
        vs, ve, shs, she = (int(x[k]) for x in (a[8], a[9], a[12], a[13]))
        best = -1
        for dep in range(shs, she + 1):
            t, prev, good = dep, vs, True
            for u in seq:
                t = max(int(early[u]), t + int(svc[prev]) + int(tt[prev, u]))
                good = good and t <= late[u]
                prev = int(u)
            t += int(svc[prev]) + int(tt[prev, ve])
            if good and t <= she and (best < 0 or t - dep < best):
                best = t - dep
        assert min_span(a, seq.astype(np.int64), len(seq), k) == best


@pytest.mark.parametrize("rng_seed", range(8))
def test_search_returns_feasible_routes_with_their_cost(rng_seed: int) -> None:
    a = _instance(rng_seed, n_cust=12)
    res = sisr(a, seed_value=rng_seed, max_iterations=400, fleet=bool(rng_seed % 2))
    seen = [u for r in res.routes for u in r] + res.unassigned
    assert sorted(seen) == sorted(int(u) for u in a[20])
    total = 0
    for k, r in enumerate(res.routes):
        ok, c = _ref_route(a, k, r)
        assert ok, (k, r)
        total += c
    assert res.cost == total
    assert res.iterations == 400


def test_search_improves_on_the_greedy_start() -> None:
    a = _instance(3, n_cust=14, tight=False)
    st = _greedy(a, 0)
    penalty = 10**9
    greedy_cost, greedy_un = state_cost(a, st, penalty)
    res = sisr(a, seed_value=0, max_iterations=2000)
    assert len(res.unassigned) <= greedy_un
    assert res.cost + penalty * len(res.unassigned) < greedy_cost


def test_same_seed_same_result() -> None:
    a = _instance(5, n_cust=12)
    one = sisr(a, seed_value=7, max_iterations=300, fleet=True)
    two = sisr(a, seed_value=7, max_iterations=300, fleet=True)
    assert one == two


def test_fleet_phase_removes_routes() -> None:
    """One customer per route at the start: the fleet phase serves everyone with fewer routes."""
    a = _instance(11, n_cust=6, n_veh=6, tight=False)
    a = (*a[:7], np.ones_like(a[7]), *a[8:])  # everyone may serve everyone
    a = (*a[:10], np.full(6, 100), np.full(6, 100), *a[12:16], np.full(6, 5000), np.full(6, 10), *a[18:])
    a = (*a[:14], a[13] - a[12], *a[15:])  # route limit = shift
    n, nv, m = a[0].shape[0], 6, 6
    cur = new_state(n, nv, m)
    routes = np.zeros((nv, m), dtype=np.int64)
    routes[:, 0] = a[20]
    load_routes(a, cur, routes, np.ones(nv, dtype=np.int64))
    for k, r in enumerate(_routes(cur)):
        assert _ref_route(a, k, r)[0]
    best = tuple(x.copy() for x in cur)
    seed(0)
    from routing.rr_kernels import _drop_smallest

    _drop_smallest(a, cur)
    cand = tuple(x.copy() for x in cur)
    limit = np.array([5], dtype=np.int64)
    cost, un = fleet_chunk(a, cur, cand, best, np.zeros(n, dtype=np.int64), 300, 10**9, limit)
    used = sum(1 for r in _routes(best) if r)
    assert un == 0
    assert used < 6
    assert limit[0] < 5
    assert sorted(u for r in _routes(best) for u in r) == sorted(int(u) for u in a[20])
    assert cost == sum(_ref_route(a, k, r)[1] for k, r in enumerate(_routes(best)))
    for k, r in enumerate(_routes(best)):
        assert _ref_route(a, k, r)[0]
