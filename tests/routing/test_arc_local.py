"""Numba CARP kernels (routing.arc_local) against slow, obvious Python references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from routing.arc_local import CarpArrays, memetic, routes_cost
from routing.arc_verify import floyd_warshall


def _instance(seed: int, n_nodes: int = 7, n_tasks: int = 6, cap: float = 7.0) -> CarpArrays:
    """A random connected undirected graph; the first ``n_tasks`` edges are required."""
    rng = np.random.default_rng(seed)
    edges = [(i, i + 1, float(rng.integers(1, 10))) for i in range(n_nodes - 1)]  # a path keeps it connected
    while len(edges) < n_tasks + 3:
        u, v = (int(x) for x in rng.choice(n_nodes, size=2, replace=False))
        edges.append((u, v, float(rng.integers(1, 10))))
    rng.shuffle(edges)
    dist = floyd_warshall(n_nodes, edges)
    req = edges[:n_tasks]
    return CarpArrays(
        np.array([u for u, _, _ in req]),
        np.array([v for _, v, _ in req]),
        np.array([c for _, _, c in req]),
        rng.integers(1, 4, size=n_tasks).astype(float),
        np.ones(n_tasks, dtype=bool),
        dist,
        0,
        cap,
        n_tasks,
    )


def _ends(a: int, arr: CarpArrays) -> tuple[int, int]:
    t = a >> 1
    u, v = int(arr.tu[t]), int(arr.tv[t])
    return (u, v) if a % 2 == 0 else (v, u)


def _cost(trips: list[list[int]], arr: CarpArrays) -> float:
    """Plain reference cost: service + deadheads, depot legs included."""
    total = 0.0
    for trip in trips:
        at = arr.depot
        for a in trip:
            s, e = _ends(a, arr)
            total += arr.dist[at, s] + arr.tc[a >> 1]
            at = e
        total += arr.dist[at, arr.depot] if trip else 0.0
    return total


def _feasible(trips: list[list[int]], arr: CarpArrays) -> bool:
    return all(sum(arr.tq[a >> 1] for a in trip) <= arr.cap + 1e-9 for trip in trips)


def _trips(routes: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
    return [[int(a) for a in routes[r, : lengths[r]]] for r in range(routes.shape[0]) if lengths[r]]


@pytest.mark.parametrize("seed", range(4))
def test_split_matches_brute_force_over_cuts_and_directions(seed: int) -> None:
    arr = _instance(seed)
    n = arr.n_tasks
    tour = np.random.default_rng(100 + seed).permutation(n)
    best = np.inf
    for cuts in itertools.product((False, True), repeat=n - 1):
        trips_t: list[list[int]] = [[int(tour[0])]]
        for k, cut in enumerate(cuts, start=1):
            if cut:
                trips_t.append([])
            trips_t[-1].append(int(tour[k]))
        for dirs in itertools.product((0, 1), repeat=n):
            it = iter(dirs)
            trips = [[2 * t + next(it) for t in trip] for trip in trips_t]
            if _feasible(trips, arr):
                best = min(best, _cost(trips, arr))
    cost, routes, lengths = arr.split(tour)
    trips = _trips(routes, lengths)
    assert cost == pytest.approx(best)
    assert _cost(trips, arr) == pytest.approx(cost)
    assert _feasible(trips, arr)
    assert [a >> 1 for trip in trips for a in trip] == [int(t) for t in tour]


def test_split_respects_the_trip_limit_and_reports_no_fit() -> None:
    arr = _instance(1)
    tight = CarpArrays(arr.tu, arr.tv, arr.tc, arr.tq, arr.flippable, arr.dist, 0, arr.cap, 1)
    cost, _, _ = tight.split(np.arange(arr.n_tasks))
    if arr.tq.sum() > arr.cap:
        assert cost == np.inf
    else:
        assert np.isfinite(cost)


def _relocate_neighbours(trips: list[list[int]], arr: CarpArrays) -> list[list[list[int]]]:
    out = []
    for r1, trip in enumerate(trips):
        for i, a in enumerate(trip):
            base = [list(t) for t in trips] + [[]]
            del base[r1][i]
            for r2 in range(len(base)):
                for j in range(len(base[r2]) + 1):
                    for o in (0, 1) if arr.flippable[a >> 1] else (0,):
                        cand = [list(t) for t in base]
                        cand[r2].insert(j, (a & ~1) | o)
                        if _feasible(cand, arr):
                            out.append(cand)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_local_search_ends_in_a_relocate_optimum_and_keeps_capacity(seed: int) -> None:
    arr = _instance(seed, n_nodes=9, n_tasks=9, cap=8.0)
    cost0, routes, lengths = arr.split(np.random.default_rng(seed).permutation(arr.n_tasks))
    cost = arr.improve(routes, lengths)
    trips = _trips(routes, lengths)
    assert cost <= cost0 + 1e-9
    assert cost == pytest.approx(_cost(trips, arr))
    assert cost == pytest.approx(routes_cost(routes, lengths, arr.tu, arr.tv, arr.tc, arr.dist, arr.depot))
    assert _feasible(trips, arr)
    assert sorted(a >> 1 for trip in trips for a in trip) == list(range(arr.n_tasks))
    best_neighbour = min(_cost(c, arr) for c in _relocate_neighbours(trips, arr))
    assert best_neighbour >= cost - 1e-9


def test_forward_tasks_are_never_flipped() -> None:
    arr = _instance(5, n_nodes=8, n_tasks=8, cap=9.0)
    fixed = CarpArrays(
        arr.tu, arr.tv, arr.tc, arr.tq, np.zeros(arr.n_tasks, dtype=bool), arr.dist, 0, arr.cap, arr.n_tasks
    )
    cost, trips = memetic(fixed, deadline=float("inf"), seed=0, max_iterations=30)
    assert all(a % 2 == 0 for trip in trips for a in trip)
    assert cost == pytest.approx(_cost(trips, fixed))


def test_memetic_is_deterministic_on_an_iteration_limit_and_beats_a_random_split() -> None:
    arr = _instance(7, n_nodes=10, n_tasks=12, cap=9.0)
    a = memetic(arr, deadline=float("inf"), seed=3, max_iterations=40)
    b = memetic(arr, deadline=float("inf"), seed=3, max_iterations=40)
    assert a == b
    cost, trips = a
    assert _feasible(trips, arr)
    assert cost == pytest.approx(_cost(trips, arr))
    random_cost, _, _ = arr.split(np.random.default_rng(0).permutation(arr.n_tasks))
    assert cost <= random_cost
