"""Search machinery: constructive starts, facility copies, warm start, parallel workers, progress."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass, replace

import pytest

from core.domain import District
from routing.construct import cluster_routes, split_routes
from routing.model import build_problem
from routing.plan import warm_start_from_plan
from routing.search import Job, Report, rank, run_parallel, throttled
from routing.solve import SolveParams, solve, unload_copies
from tests.routing.helpers import FAST, matrices, plan_for, plan_problems, served_by


def _heavy(city: District, kg: float) -> District:
    return replace(city, points=tuple(replace(p, expected_kg=kg) for p in city.points))


def _problem(city: District):
    m = matrices(city)
    return build_problem(city, m.time_s, m.dist_m)


# --------------------------------------------------------------------------- starts


def test_cluster_routes_are_feasible_with_unloads(tiny_city):
    """The sweep-and-grow start places all 300 kg points in 1000 kg trips, each trip ending at F."""
    p = _problem(_heavy(tiny_city, 300.0))
    c = cluster_routes(p, list(p.points))
    assert c.unassigned == ()
    f = p.index_of()["F"]
    used = [r for r in c.routes if r]
    assert sorted(x for r in used for x in r if x != f) == list(p.points)
    for route in used:
        assert route[-1] == f
        load = 0
        for loc in route:
            load = 0 if loc == f else load + p.demand_kg[loc]
            assert load <= 1000


def test_split_routes_inserts_the_cheapest_unload(tiny_city):
    """A given order of five 300 kg points is split into trips: an unload every three points at most."""
    p = _problem(_heavy(tiny_city, 300.0))
    order = list(p.points)
    c = split_routes(p, [order, []])
    f = p.index_of()["F"]
    route = c.routes[0]
    assert [x for x in route if x != f] == order, "the order of the points is kept"
    assert route.count(f) == 2
    assert route[-1] == f
    assert c.routes[1] == ()


def test_split_routes_skips_what_the_vehicle_may_not_serve(tiny_city):
    """Points the vehicle may not take or that are not allowed are left out of its route and reported."""
    p = _problem(tiny_city)
    pts = list(p.points)
    c = split_routes(p, [pts, []], allowed=set(pts[:3]))
    assert [x for x in c.routes[0] if x in p.points] == pts[:3]
    assert c.unassigned == tuple(pts[3:])


def test_unload_copies_are_bounded(tiny_city):
    """Copies of F: enough for the trips five 300 kg points need, far fewer than one per point pair."""
    p = _problem(_heavy(tiny_city, 300.0))
    copies = unload_copies(p, list(p.points))
    # 1500 kg / 1000 kg -> 2 full-or-part trips + 1 part trip per vehicle = 4
    assert copies == {1: 4}
    assert unload_copies(p, list(p.points), extra={1: 9}) == {1: 9}
    no_unload = build_problem(tiny_city, *_matrices(tiny_city), unload=False)
    assert unload_copies(no_unload, list(no_unload.points)) == {1: 0}


def _matrices(city: District):
    m = matrices(city)
    return m.time_s, m.dist_m


# --------------------------------------------------------------------------- warm start


def test_warm_start_keeps_assignments_when_nothing_changed(tiny_city):
    """Re-planning the same day from its own plan gives every point the same vehicle (and no worse cost)."""
    city = replace(
        _heavy(tiny_city, 300.0), vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles)
    )
    first = plan_for(city)
    warm = warm_start_from_plan(first.plan, first.problem, change_penalty=50.0)
    again = plan_for(city, warm_start=warm)
    assert served_by(again.plan) == served_by(first.plan)
    assert again.plan.objective <= first.plan.objective + 1e-6
    assert plan_problems(again.plan, city, again.m) == []


def test_change_penalty_holds_points_on_their_previous_vehicle(tiny_city):
    """Yesterday both trucks drove; today one truck could do it all, but moving points costs 1000 each."""
    two = replace(
        _heavy(tiny_city, 300.0), vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles)
    )
    yesterday = plan_for(two)
    assert len(yesterday.plan.routes) == 2
    today = _heavy(tiny_city, 300.0)
    cold = plan_for(today)
    assert len(cold.plan.routes) == 1, "without history one truck with two trips is cheapest"
    m = matrices(today)
    problem = build_problem(today, m.time_s, m.dist_m)
    warm = plan_for(today, warm_start=warm_start_from_plan(yesterday.plan, problem, change_penalty=1000.0))
    assert served_by(warm.plan) == served_by(yesterday.plan)
    assert warm.plan.objective > cold.plan.objective, "the objective reports route cost, not the penalty"
    assert warm.plan.objective < 1000.0


def test_warm_start_skips_unknown_stops(tiny_city):
    """A previous plan naming points that no longer exist still warm-starts; the new point gets served."""
    first = plan_for(tiny_city)
    smaller = replace(tiny_city, points=tiny_city.points[:3])
    m = matrices(smaller)
    problem = build_problem(smaller, m.time_s, m.dist_m)
    warm = warm_start_from_plan(first.plan, problem)
    assert warm.routes[0] == (2, 3, 4, 1)  # p1, p2, p3 and F in the smaller problem
    s = plan_for(smaller, warm_start=warm)
    assert sorted(served_by(s.plan)) == ["p1", "p2", "p3"]


# --------------------------------------------------------------------------- workers


def test_two_workers_at_least_as_good_as_one(tiny_city):
    """Worker 0 runs the one-worker configuration, so two workers never return a worse plan."""
    city = replace(
        _heavy(tiny_city, 300.0), vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles)
    )
    p = _problem(city)
    one = solve(p, FAST)
    calls: list[tuple[float, float]] = []
    two = solve(p, replace(FAST, workers=2), progress=lambda t, best: calls.append((t, best)))
    assert len(two.dropped) <= len(one.dropped)
    assert two.objective <= one.objective
    assert calls, "progress is relayed from the workers"
    assert [b for _, b in calls] == sorted((b for _, b in calls), reverse=True)
    assert calls[-1][1] == pytest.approx(two.objective / 1000)


def test_portfolio_differs_per_worker(tiny_city):
    """The first worker keeps the settings, the others start from another first solution."""
    p = _problem(tiny_city)
    configs = SolveParams(workers=3, first_solution="savings").portfolio(p)
    assert [c.first_solution for c in configs] == ["savings", "cluster", "sweep"]
    assert all(c.workers == 1 for c in configs)
    assert SolveParams().resolved_first_solution(p) == "cluster"
    no_unload = build_problem(tiny_city, *_matrices(tiny_city), unload=False)
    assert SolveParams().resolved_first_solution(no_unload) == "parallel_cheapest_insertion"
    assert [c.first_solution for c in SolveParams().portfolio(no_unload)] == [
        "parallel_cheapest_insertion",
        "cluster",
    ]


def test_worker_errors_surface(tiny_city):
    """A progress callback that raises in the parent is re-raised after a two-worker solve."""
    p = _problem(tiny_city)

    def boom(t: float, best: float) -> None:
        raise RuntimeError("bar chart on fire")

    with pytest.raises(RuntimeError, match="bar chart on fire"):
        solve(p, replace(FAST, workers=2), progress=boom)


# --------------------------------------------------------------------------- parallel driver


@dataclass(frozen=True)
class _Fake:
    """Stands for a RawAssignment: the driver only reads ``dropped`` and ``objective``."""

    dropped: tuple[int, ...]
    objective: int


def _fake_run(job: Job, report: Report | None) -> _Fake:
    """A search whose result is named by its params: ``(dropped points, objective)``."""
    dropped, objective = job.params
    if report is not None:
        report(0.01, len(dropped), objective / 1000)
    return _Fake(tuple(dropped), objective)


def _dying_run(job: Job, report: Report | None) -> _Fake:
    """Dies in a worker process; in the main process returns objective 7."""
    if mp.current_process().name != "MainProcess":
        os._exit(3)
    return _Fake((), 7)


def _jobs(problem, params_list):
    t0 = time.time()
    return [Job(problem, params, (), {}, None, t0 + 20.0, t0) for params in params_list]


def test_run_parallel_keeps_fewest_dropped_then_cheapest(tiny_city):
    """Three workers: the result with no dropped mandatory point wins over a cheaper one that drops one."""
    p = _problem(tiny_city)
    p1 = p.index_of()["p1"]
    calls: list[float] = []
    best = run_parallel(
        _jobs(p, [((), 300), ((p1,), 100), ((), 200)]), _fake_run, lambda t, cost: calls.append(cost)
    )
    assert best == _Fake((), 200)
    assert calls, "progress is relayed"
    assert calls[-1] == pytest.approx(0.2), "the last report is the best result (fewest dropped first)"
    assert rank(_Fake((p1,), 1), p) > rank(_Fake((), 10**9), p)


def test_run_parallel_falls_back_to_this_process_when_workers_die(tiny_city):
    """Workers that exit without a result: the first job runs here instead."""
    p = _problem(tiny_city)
    assert run_parallel(_jobs(p, [((), 1), ((), 2)]), _dying_run, None) == _Fake((), 7)


def test_throttled_passes_elapsed_and_cost():
    seen: list[tuple[float, float]] = []
    report = throttled(lambda t, c: seen.append((t, c)))
    assert report is not None
    report(1.5, 0, 42.0)
    assert seen == [(1.5, 42.0)]
    assert throttled(None) is None
