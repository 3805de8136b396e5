"""Trip mode of the SISR start (routing.rr_trips, rr_start with unloads): slow reference, verified plans."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from core.domain import (
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    Stream,
    TimeWindow,
    Vehicle,
    VehicleKind,
)
from routing import rr_kernels, rr_start
from routing.bench import default_data_dir
from routing.instances import read_instance
from routing.model import RoutingProblem, arc_cost_matrix, build_problem
from tests.routing.helpers import FAST, at, hm, matrices, plan_for, sisr_plan

PARAMS = replace(FAST, solution_limit=20)
"""Deterministic: the SISR start stops after its iteration count, OR-Tools on its solution limit."""

RES, REC = Stream.RESIDUAL, Stream.RECYCLABLES


@pytest.fixture(autouse=True)
def _trips_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rr_start, "TRIPS", True)


def _facility(i: int, x: float, y: float, streams: frozenset[Stream], n_bays: int = 9) -> Facility:
    return Facility(
        f"f{i}",
        f"site {i}",
        FacilityKind.TRANSFER_STATION,
        *at(x, y),
        accepted_streams=streams,
        opening=TimeWindow(hm(6, 30), hm(16)),
        unload_s=600,
        tipping_bays=n_bays,
    )


def _district(
    seed: int,
    n_points: int = 16,
    *,
    capacity_kg: float = 900.0,
    n_vehicles: int = 3,
    lunch: bool = True,
    split_streams: bool = False,
    n_bays: int = 9,
    tight: bool = False,
) -> District:
    """One depot, two sites, random points (some with windows), trucks that need several trips."""
    rng = np.random.default_rng(seed)
    both = frozenset({RES, REC})
    sites = (
        (_facility(0, 1.0, 9.0, frozenset({RES}) if split_streams else both, n_bays)),
        (_facility(1, 9.0, 1.0, frozenset({REC}) if split_streams else both, n_bays)),
    )
    points = []
    for i in range(n_points):
        x, y = rng.uniform(0, 10, size=2)
        start = hm(7) + int(rng.integers(0, 8)) * 1800
        wide = int(rng.integers(1, 3) if tight else rng.integers(3, 8))
        wins = () if i % 3 and not tight else (TimeWindow(start, start + wide * 1800),)
        points.append(
            CollectionPoint(
                id=f"p{i:02d}",
                lat=at(x, y)[0],
                lon=at(x, y)[1],
                stream=REC if split_streams and i % 2 else RES,
                expected_kg=float(rng.integers(100, 400)),
                expected_l=float(rng.integers(100, 900)),
                service_s=int(rng.integers(60, 600)),
                time_windows=wins,
            )
        )
    vehicles = tuple(
        Vehicle(
            id=f"v{k}",
            kind=VehicleKind.COLLECTION_TRUCK,
            depot_id="d0",
            streams=(frozenset({REC}) if k % 2 else frozenset({RES})) if split_streams else both,
            capacity_kg=capacity_kg,
            capacity_l=3000.0,
            shift=TimeWindow(hm(6), hm(17)),
            break_duration_s=1800 if lunch else 0,
            break_window=TimeWindow(hm(11), hm(12)),
            fixed_cost=500.0,
        )
        for k in range(n_vehicles)
    )
    return District("trips", "UTC", (Depot("d0", "depot", *at(5.0, 5.0)),), sites, tuple(points), vehicles)


def _problem(city: District) -> RoutingProblem:
    m = matrices(city, "euclidean")
    return build_problem(city, m.time_s, m.dist_m)


# --------------------------------------------------------------------------- slow reference


def _ref_visits(
    problem: RoutingProblem, cost: np.ndarray, k: int, seq: list[int]
) -> tuple[float, list[int]] | None:
    """Obvious Python version of the trip rule (module docstring of routing.rr_trips): ``(cost, visits)``."""
    if not seq:
        return 0.0, []
    v, tt = problem.vehicles[k], problem.time_s

    def window(loc: int) -> tuple[int, int]:
        return problem.windows[loc][0] if problem.windows[loc] else (0, problem.horizon_s)

    def leg(prev: int, t: int, dest: int, end: bool, done: bool) -> tuple[int, bool] | None:
        arrival = t + int(tt[prev, dest])
        if not done:
            if t >= v.break_start_min_s:
                if t > v.break_start_max_s:
                    return None
                arrival, done = arrival + v.break_s, True
            else:
                start0 = arrival if end else max(arrival, window(dest)[0])
                if not end and start0 > window(dest)[1]:
                    return None
                leave0 = start0 + (0 if end else problem.service_s[dest])
                if leave0 > v.break_start_max_s:
                    arrival, done = max(arrival, v.break_start_min_s) + v.break_s, True
        if end:
            return arrival, done
        start = max(arrival, window(dest)[0])
        return None if start > window(dest)[1] else (start, done)

    dep0 = max(v.shift_start_s, window(seq[0])[0] - int(tt[v.start, seq[0]]))
    done = v.break_s == 0
    if not done and dep0 >= v.break_start_min_s + v.break_s:
        done = True
    elif not done and dep0 > v.break_start_max_s:
        dep0, done = v.break_start_min_s + v.break_s, True
    t, prev, total, out = dep0, v.start, 0.0, []
    trip = [0, 0]
    day = [0, 0, 0]
    for j in seq:
        if trip[0] + problem.demand_kg[j] > v.capacity_kg or trip[1] + problem.demand_l[j] > v.capacity_l:
            if trip == [0, 0]:
                return None
            options = []
            for f in v.unload_at:
                at_f = leg(prev, t, f, False, done)
                if at_f is None or leg(f, at_f[0] + problem.service_s[f], j, False, at_f[1]) is None:
                    continue
                options.append((cost[prev, f] + cost[f, j], v.unload_at.index(f), f, at_f))
            if not options:
                return None
            _, _, f, (start, done) = min(options)
            total += cost[prev, f]
            t, prev, trip = start + problem.service_s[f], f, [0, 0]
            out.append(f)
        day = [day[0] + problem.demand_kg[j], day[1] + problem.demand_l[j], day[2] + problem.stops_at(j)]
        if (
            (v.max_route_kg is not None and day[0] > v.max_route_kg)
            or (v.max_route_l is not None and day[1] > v.max_route_l)
            or (v.max_stops is not None and day[2] > v.max_stops)
        ):
            return None
        got = leg(prev, t, j, False, done)
        if got is None:
            return None
        total += cost[prev, j]
        t, done, prev = got[0] + problem.service_s[j], got[1], j
        trip = [trip[0] + problem.demand_kg[j], trip[1] + problem.demand_l[j]]
        out.append(j)
    ends: list[tuple[int | None, int, int, bool]] = [(None, prev, t, done)] if trip == [0, 0] else []
    for f in v.unload_at if trip != [0, 0] else ():
        at_f = leg(prev, t, f, False, done)
        if at_f is not None:
            ends.append((f, f, at_f[0] + problem.service_s[f], at_f[1]))
    best: tuple[float, list[int]] | None = None
    for site, last, t_last, dn in ends:
        home = leg(last, t_last, v.end, True, dn)
        if home is None or home[0] > v.shift_end_s or home[0] - dep0 > v.route_limit_s:
            continue
        c = total + cost[last, v.end] + (0 if site is None else cost[prev, site])
        if best is None or c < best[0]:
            best = (c, out + ([] if site is None else [site]))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_simulation_matches_the_slow_reference(seed: int) -> None:
    tight = seed % 2 == 0  # narrow windows: many infeasible sequences; wide: many mid-route unloads
    city = _district(seed, n_points=12, capacity_kg=700.0 + 100 * seed, lunch=seed % 3 != 2, tight=tight)
    problem = _problem(city)
    kept = list(problem.points)
    a = rr_start.arrays(problem, kept, PARAMS.weights)
    cost = arc_cost_matrix(problem, 0, PARAMS.weights)
    rng = np.random.default_rng(seed)
    feasible = infeasible = unloads = 0
    for _ in range(150):
        k = int(rng.integers(len(problem.vehicles)))
        seq = [int(x) for x in rng.permutation(kept)[: int(rng.integers(1, 9))]]
        got = rr_start.visits(a, k, seq)
        ref = _ref_visits(problem, cost, k, seq)
        assert (got is None) == (ref is None), (k, seq)
        if ref is not None:
            assert list(got or ()) == ref[1]
            feasible += 1
            unloads += sum(1 for x in ref[1] if x in problem.facilities) > 1
        else:
            infeasible += 1
    assert feasible > 10, "the samples cover feasible sequences"
    assert infeasible > 0, "and infeasible ones"
    assert tight or unloads > 5, "and mid-route unloads"


# --------------------------------------------------------------------------- through solve -> plan -> verify


@pytest.mark.parametrize("seed", [0, 1])
def test_a_truck_that_must_unload_twice(seed: int, caplog: pytest.LogCaptureFixture) -> None:
    city = _district(seed, n_points=10, n_vehicles=1, capacity_kg=900.0, lunch=False)
    assert sum(p.expected_kg for p in city.points) > 2 * 900.0, "three trips at least"
    solved = sisr_plan(city, replace(PARAMS, seed=seed), caplog)
    (route,) = [r for r in solved.plan.routes if r.collections]
    assert len([s for s in route.stops if s.kind == "unload"]) >= 3


def test_the_solver_model_gets_a_node_for_every_unload_of_the_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Even when the model would give each site one unload visit, the start's three unloads are read in."""
    from routing import solve as solve_module

    monkeypatch.setattr(
        solve_module, "unload_copies", lambda problem, kept, extra=None: dict.fromkeys(problem.facilities, 1)
    )
    city = _district(0, n_points=10, n_vehicles=1, capacity_kg=900.0, lunch=False)
    sisr_plan(city, PARAMS, caplog)


def test_the_break_moves_a_stop_after_lunch(caplog: pytest.LogCaptureFixture) -> None:
    """Points open late in the morning: the route spans lunch, takes the break and serves some after it."""
    base = _district(3, n_points=8, n_vehicles=1, capacity_kg=5000.0)
    points = tuple(replace(p, time_windows=(TimeWindow(hm(10, 30), hm(14)),)) for p in base.points)
    city = replace(base, points=points)
    solved = sisr_plan(city, PARAMS, caplog)
    (route,) = [r for r in solved.plan.routes if r.collections]
    assert len(route.breaks) == 1
    brk = route.breaks[0]
    after = [s for s in route.collections if s.arrival_s >= brk.start_s + brk.duration_s]
    assert after, "some stops come after the break"


def test_a_stream_only_one_facility_accepts(caplog: pytest.LogCaptureFixture) -> None:
    city = _district(5, n_points=14, n_vehicles=4, capacity_kg=800.0, split_streams=True)
    solved = sisr_plan(city, PARAMS, caplog)
    accepts = {f.id: f.accepted_streams for f in city.facilities}
    streams = {p.id: p.stream for p in city.points}
    for route in solved.plan.routes:
        carried = {streams[s.ref_id] for s in route.collections}
        for s in route.stops:
            if s.kind == "unload":
                assert carried <= accepts[s.ref_id]


def test_solution_limited_solve_is_deterministic() -> None:
    """The SISR start stops on its iteration count and OR-Tools on its solution limit: same plan twice."""
    city = _district(8, n_points=14, capacity_kg=800.0)
    one = plan_for(city, PARAMS, metric="euclidean").assignment
    two = plan_for(city, PARAMS, metric="euclidean").assignment
    assert one.routes == two.routes
    assert one.objective == two.objective


# --------------------------------------------------------------------------- the adapter


def test_construct_is_deterministic_and_feasible_by_the_reference() -> None:
    problem = _problem(_district(7, n_points=20, capacity_kg=800.0))
    kept = list(problem.points)
    one = rr_start.construct(problem, kept, PARAMS, math.inf, max_iterations=400)
    two = rr_start.construct(problem, kept, PARAMS, math.inf, max_iterations=400)
    assert one == two
    assert one.unassigned == ()
    cost = arc_cost_matrix(problem, 0, PARAMS.weights)
    served = []
    for k, route in enumerate(one.routes):
        customers = [x for x in route if x in problem.points]
        served += customers
        ref = _ref_visits(problem, cost, k, customers)
        assert ref is not None
        assert tuple(ref[1]) == route
    assert sorted(served) == kept


def test_applies_to_unload_problems_with_independent_routes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    city = _district(0)
    assert rr_start.applies(_problem(city), PARAMS)
    shared_bays = _district(0, n_bays=1)  # three trucks, one bay: routes wait for each other
    assert not rr_start.applies(_problem(shared_bays), PARAMS)
    monkeypatch.setattr(rr_start, "TRIPS", False)
    assert not rr_start.applies(_problem(city), PARAMS)


@pytest.mark.parametrize("tick_s", [1e-6, 1.0])
def test_construct_does_not_depend_on_the_clock(tick_s: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """With an iteration limit, a slow clock and a fast one give the same routes (chunks follow steps).

    WCVRPTW 102 (99 customers, two disposal sites, lunch break): small instances hide the effect.
    """
    path = default_data_dir() / "wcvrptw" / "102_stop.txt"
    if not path.exists():
        pytest.skip(f"benchmark data not found: {path}")
    inst = read_instance("wcvrptw", path)
    problem = build_problem(inst.district, inst.time_s, inst.dist_m)
    kept = list(problem.points)
    expected = rr_start.construct(problem, kept, PARAMS, math.inf, max_iterations=1500)
    now = [1_000.0]

    def clock() -> float:
        now[0] += tick_s
        return now[0]

    monkeypatch.setattr(rr_kernels.time, "time", clock)
    assert rr_start.construct(problem, kept, PARAMS, math.inf, max_iterations=1500) == expected
