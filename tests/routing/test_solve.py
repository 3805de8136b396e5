"""Tests of routing.solve: parameters, optimality on small instances, constraints, unserved points.

Facility capacity, breaks, warm start and workers are in ``test_unload.py`` and ``test_search.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

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
from core.errors import ValidationError
from routing.model import ObjectiveWeights, build_problem
from routing.solve import REASON_NO_FIT, SolveParams, solve
from routing.verify import plan_cost
from tests.routing.helpers import (
    FAST,
    at,
    hm,
    matrices,
    plan_for,
    plan_problems,
    served_by,
    stop_ids,
    with_points,
)

# --------------------------------------------------------------------------- params


def test_params_defaults():
    """Defaults: automatic start + guided local search, 10 s, no solution limit, two workers, money cost."""
    p = SolveParams()
    assert (p.first_solution, p.metaheuristic, p.time_limit_s, p.solution_limit, p.log_search, p.workers) == (
        "auto",
        "guided_local_search",
        10.0,
        None,
        False,
        2,
    )
    assert p.weights == ObjectiveWeights(vehicles=1.0, distance=1.0, travel_time=1.0, duration=0.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"time_limit_s": float("inf")}, "time_limit_s"),
        ({"solution_limit": 0}, "solution_limit"),
        ({"solution_limit": 2.5}, "solution_limit"),
        ({"first_solution": "christofides"}, "first_solution"),
        ({"metaheuristic": "annealing"}, "metaheuristic"),
        ({"log_search": "yes"}, "log_search"),
        ({"workers": 0}, "workers"),
        ({"workers": True}, "workers"),
        ({"weights": {"distance": 1.0}}, "weights"),
    ],
)
def test_params_reject_bad_values(kwargs, field):
    """SolveParams validates itself and names the offending field."""
    with pytest.raises(ValidationError, match=field):
        SolveParams(**kwargs)


def test_params_from_toml(tmp_path):
    """SolveParams loads from TOML; unknown keys are rejected by name."""
    good = tmp_path / "good.toml"
    good.write_text('time_limit_s = 3.5\nsolution_limit = 10\nfirst_solution = "savings"\n')
    assert SolveParams.from_toml(good) == SolveParams(
        time_limit_s=3.5, solution_limit=10, first_solution="savings"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("bogus = 1\n")
    with pytest.raises(ValidationError, match="bogus"):
        SolveParams.from_toml(bad)
    weighted = tmp_path / "weighted.toml"
    weighted.write_text("workers = 1\n[weights]\nvehicles = 5.0\nduration = 0.5\n")
    assert SolveParams.from_toml(weighted).weights == ObjectiveWeights(vehicles=5.0, duration=0.5)
    weighted.write_text("[weights]\nfuel = 1.0\n")
    with pytest.raises(ValidationError, match="fuel"):
        SolveParams.from_toml(weighted)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"distance": -1.0}, "distance"),
        ({"travel_time": float("nan")}, "travel_time"),
        ({"vehicles": 0.0, "distance": 0.0, "travel_time": 0.0}, "vehicles"),
    ],
)
def test_objective_weights_reject_bad_values(kwargs, field):
    """ObjectiveWeights are finite, >= 0 and not all zero; the error names the field."""
    with pytest.raises(ValidationError, match=field):
        ObjectiveWeights(**kwargs)


# --------------------------------------------------------------------------- optimality


def test_tiny_city_optimum(tiny_city):
    """tiny_city: the cheaper truck alone drives D-p1..p5-F-D, 10 km, objective 120, all served."""
    s = plan_for(tiny_city)
    assert [r.vehicle_id for r in s.plan.routes] == ["truck-1"]
    assert s.plan.objective == pytest.approx(120.0)
    assert s.plan.distance_m == pytest.approx(10000.0)
    assert s.plan.unserved == ()
    assert s.assignment.dropped == ()
    assert stop_ids(s.plan, "truck-1") == ["D", "p1", "p2", "p3", "p4", "p5", "F", "D"]
    assert plan_problems(s.plan, tiny_city, s.m) == []


def _euclid_district() -> District:
    """One truck, one depot, five points in general position (Euclidean toy metric)."""
    xy = {"a": (3.0, 7.0), "b": (8.0, 2.0), "c": (6.0, 6.5), "d": (1.0, 9.0), "e": (9.5, 8.0)}
    return District(
        name="euclid",
        timezone="UTC",
        depots=(Depot("D", "Depot", *at(0, 0)),),
        facilities=(),
        points=tuple(
            CollectionPoint(pid, *at(x, y), stream=Stream.RESIDUAL, expected_kg=10, expected_l=10)
            for pid, (x, y) in xy.items()
        ),
        vehicles=(
            Vehicle(
                "solo",
                VehicleKind.COLLECTION_TRUCK,
                "D",
                frozenset({Stream.RESIDUAL}),
                capacity_kg=1000,
                capacity_l=1000,
                cost_per_km=1.3,
                cost_per_hour=20.0,
            ),
        ),
    )


def test_single_vehicle_order_matches_brute_force():
    """On 5 points the solver's order is the optimum of all 120 orders (or its reverse)."""
    district = _euclid_district()
    m = matrices(district, "euclidean")
    v = district.vehicles[0]

    def cost(order: tuple[str, ...]) -> float:
        ids = ("D", *order, "D")
        return sum(
            v.cost_per_km * m.dist_m[m.index_of[a], m.index_of[b]] / 1000
            + v.cost_per_hour * m.time_s[m.index_of[a], m.index_of[b]] / 3600
            for a, b in itertools.pairwise(ids)
        )

    ranked = sorted(itertools.permutations(p.id for p in district.points), key=cost)
    best = ranked[0]
    assert cost(ranked[2]) > cost(best) + 0.01, "instance must have a unique optimum up to reversal"

    s = plan_for(district, metric="euclidean")
    order = tuple(st.ref_id for st in s.plan.routes[0].collections)
    assert order in (best, best[::-1])
    assert plan_cost(s.plan, district, m.time_s, m.dist_m, m.index_of) == pytest.approx(
        v.fixed_cost + cost(best), abs=0.01
    )


@pytest.mark.parametrize(
    "first_solution",
    ["auto", "cluster", "sweep", "parallel_cheapest_insertion", "savings", "path_cheapest_arc"],
)
def test_every_first_solution_strategy_reaches_tiny_optimum(tiny_city, first_solution):
    """Each supported first-solution method (plus GLS) finds the tiny_city optimum, unloads included."""
    s = plan_for(tiny_city, replace(FAST, first_solution=first_solution))
    assert s.plan.objective == pytest.approx(120.0)
    assert s.assignment.first_solution == SolveParams(first_solution=first_solution).resolved_first_solution(
        s.problem
    )


@pytest.mark.parametrize("first_solution", ["cluster", "parallel_cheapest_insertion", "savings"])
def test_first_solution_strategies_without_facilities(first_solution):
    """Without facilities (a plain VRP) every start still reaches the brute-force optimum order."""
    district = _euclid_district()
    s = plan_for(district, replace(FAST, first_solution=first_solution), metric="euclidean")
    assert s.problem.unload is False
    assert len(s.plan.routes[0].unloads) == 0
    assert len(s.plan.routes[0].collections) == 5


def test_solve_is_deterministic(tiny_city):
    """Same problem, same params with a solution limit -> same routes and objective."""
    m = matrices(tiny_city)
    problem = build_problem(tiny_city, m.time_s, m.dist_m)
    a, b = solve(problem, FAST), solve(problem, FAST)
    assert (a.routes, a.times_s, a.objective) == (b.routes, b.times_s, b.objective)


# --------------------------------------------------------------------------- constraints


def test_day_limit_forces_two_vehicles(tiny_city):
    """300 kg per point and at most 1000 kg per truck per day: one truck cannot take all five."""
    city = replace(
        tiny_city,
        points=tuple(replace(p, expected_kg=300.0) for p in tiny_city.points),
        vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles),
    )
    s = plan_for(city)
    assert sorted(r.vehicle_id for r in s.plan.routes) == ["truck-1", "truck-2"]
    assert len(served_by(s.plan)) == 5
    for route in s.plan.routes:
        assert sum(st.load_kg for st in route.stops if st.kind == "collection") >= 0
        assert len(route.collections) <= 3
    assert plan_problems(s.plan, city, s.m) == []


def test_max_stops_limits_a_route(tiny_city):
    """max_stops = 3 on both trucks: no route has more than three collection stops, all five served."""
    city = replace(tiny_city, vehicles=tuple(replace(v, max_stops=3) for v in tiny_city.vehicles))
    s = plan_for(city)
    assert [len(r.collections) <= 3 for r in s.plan.routes] == [True, True]
    assert len(served_by(s.plan)) == 5


def test_weights_trade_fixed_cost_for_distance(tiny_city):
    """truck-1 is cheap to use but dear per km, truck-2 the reverse: the weights decide which one drives.

    Default weights: truck-1 costs 100 + 10 km * 10 = 200, truck-2 150 + 10 * 1 = 160 -> truck-2.
    Fixed cost weighted 10x: 1000 + 100 = 1100 against 1500 + 10 = 1510 -> truck-1.
    """
    city = replace(
        tiny_city,
        vehicles=(
            replace(tiny_city.vehicles[0], cost_per_km=10.0, cost_per_hour=0.0),
            replace(tiny_city.vehicles[1], cost_per_km=1.0, cost_per_hour=0.0),
        ),
    )
    money = plan_for(city)
    fleet = plan_for(city, replace(FAST, weights=ObjectiveWeights(vehicles=10.0)))
    assert [r.vehicle_id for r in money.plan.routes] == ["truck-2"]
    assert money.plan.objective == pytest.approx(160.0)
    assert [r.vehicle_id for r in fleet.plan.routes] == ["truck-1"]
    assert fleet.plan.objective == pytest.approx(1100.0)


def test_time_window_forces_order(tiny_city):
    """p4 must be served by 06:07: the truck drives there first (4 km, arrives 06:06:40)."""
    points = tuple(
        replace(p, time_windows=(TimeWindow(hm(6), hm(6, 7)),)) if p.id == "p4" else p
        for p in tiny_city.points
    )
    s = plan_for(replace(tiny_city, points=points))
    route = s.plan.routes[0]
    first = route.collections[0]
    assert first.ref_id == "p4"
    assert first.start_s == hm(6) + 400
    assert first.window == TimeWindow(hm(6), hm(6, 7))
    assert s.plan.unserved == ()


def test_multiple_windows_use_the_reachable_one(tiny_city):
    """Two windows with a gap: the first is unreachable, so service starts when the second opens."""
    windows = (TimeWindow(hm(6), hm(6, 1)), TimeWindow(hm(8), hm(8, 30)))
    points = tuple(replace(p, time_windows=windows) if p.id == "p3" else p for p in tiny_city.points)
    s = plan_for(replace(tiny_city, points=points))
    stop = next(st for st in s.plan.routes[0].collections if st.ref_id == "p3")
    assert stop.window == windows[1]
    assert windows[1].start_s <= stop.start_s <= windows[1].end_s
    i = s.assignment.routes[0].index(s.m.index_of["p3"])
    assert s.assignment.times_s[0][i] >= hm(8), "the gap 06:01-08:00 must be removed from the cumul"


def test_hazardous_point_served_by_licensed_truck(tiny_city):
    """Only truck-2 may take hazardous waste (and unloads it at the hazardous site), though it costs more."""
    haz = CollectionPoint("haz", *at(1, 1), stream=Stream.HAZARDOUS, expected_kg=20, expected_l=20)
    site = Facility("H", "Hazardous site", FacilityKind.HAZARDOUS_WASTE_SITE, *at(0, 3), {Stream.HAZARDOUS})
    city = replace(
        with_points(tiny_city, haz),
        facilities=(*tiny_city.facilities, site),
        vehicles=(tiny_city.vehicles[0], replace(tiny_city.vehicles[1], streams={Stream.HAZARDOUS})),
    )
    s = plan_for(city)
    assert served_by(s.plan)["haz"] == "truck-2"
    assert stop_ids(s.plan, "truck-2") == ["D", "haz", "H", "D"]
    assert s.plan.unserved == ()


def test_no_vehicle_for_stream_reported_rest_planned(tiny_city):
    """A bulky-waste point nobody may collect is unserved with its reason; the other 5 are planned."""
    bulky = CollectionPoint("sofa", *at(1, 1), stream=Stream.BULKY, expected_kg=40, expected_l=900)
    s = plan_for(with_points(tiny_city, bulky))
    assert [u.point_id for u in s.plan.unserved] == ["sofa"]
    assert "no vehicle may serve stream 'bulky'" in s.plan.unserved[0].reason
    assert sorted(served_by(s.plan)) == ["p1", "p2", "p3", "p4", "p5"]
    assert s.plan.objective == pytest.approx(120.0)


def test_demand_above_capacity_reported(tiny_city):
    """A 5 t point exceeds every truck (1000 kg): reported with the capacity reason, rest planned."""
    heavy = CollectionPoint("heavy", *at(1, 1), stream=Stream.RESIDUAL, expected_kg=5000, expected_l=100)
    s = plan_for(with_points(tiny_city, heavy))
    assert [u.point_id for u in s.plan.unserved] == ["heavy"]
    assert "5000 kg above every compatible vehicle's capacity (largest 1000 kg)" in s.plan.unserved[0].reason
    assert len(served_by(s.plan)) == 5


def test_unreachable_window_reported(tiny_city):
    """A window closing 30 s after the shift starts, 100 s away, is reported unreachable; rest planned."""
    early = CollectionPoint(
        "early",
        *at(1, 0),
        stream=Stream.RESIDUAL,
        expected_kg=10,
        expected_l=10,
        time_windows=(TimeWindow(hm(6), hm(6, 0, 30)),),
    )
    s = plan_for(with_points(tiny_city, early))
    assert [u.point_id for u in s.plan.unserved] == ["early"]
    assert "time window unreachable" in s.plan.unserved[0].reason
    assert "06:01:40" in s.plan.unserved[0].reason
    assert len(served_by(s.plan)) == 5


def test_mandatory_points_beyond_fleet_capacity_reported_as_no_fit(tiny_city):
    """Five 600 kg points, two trucks collecting 1000 kg a day: 2 served, 3 'could not fit', no failure."""
    city = replace(
        tiny_city,
        points=tuple(replace(p, expected_kg=600.0) for p in tiny_city.points),
        vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles),
    )
    s = plan_for(city)
    assert len(served_by(s.plan)) == 2
    assert len(s.plan.unserved) == 3
    assert all(u.reason.startswith(REASON_NO_FIT) for u in s.plan.unserved)
    assert all("all 2 vehicles that may serve it are in use" in u.reason for u in s.plan.unserved)
    assert s.plan.objective < 1000, "the internal mandatory penalty is not part of the objective"


def test_optional_point_dropped_when_not_worth_it(tiny_city):
    """An optional point 20 km out with penalty 5 is left out; its penalty is in the objective."""
    far = CollectionPoint("far", *at(20, 0), stream=Stream.RESIDUAL, expected_kg=1, expected_l=1, penalty=5.0)
    s = plan_for(with_points(tiny_city, far))
    assert [u.point_id for u in s.plan.unserved] == ["far"]
    assert "optional" in s.plan.unserved[0].reason
    assert s.plan.objective == pytest.approx(125.0)


def test_optional_point_served_when_worth_it(tiny_city):
    """The same point with penalty 1000 is served (detour 40 km * 2.0 = 80 < 1000)."""
    far = CollectionPoint(
        "far", *at(20, 0), stream=Stream.RESIDUAL, expected_kg=1, expected_l=1, penalty=1000.0
    )
    s = plan_for(with_points(tiny_city, far))
    assert "far" in served_by(s.plan)
    assert s.plan.unserved == ()


# --------------------------------------------------------------------------- progress


def test_progress_reports_elapsed_and_best_objective(tiny_city):
    """progress(elapsed_s, best) is called on improvements only: elapsed grows, best strictly falls."""
    m = matrices(tiny_city)
    problem = build_problem(tiny_city, m.time_s, m.dist_m)
    calls: list[tuple[float, float]] = []
    a = solve(problem, FAST, progress=lambda t, best: calls.append((t, best)))
    assert calls
    times = [t for t, _ in calls]
    bests = [b for _, b in calls]
    assert times == sorted(times)
    assert all(later < earlier for earlier, later in itertools.pairwise(bests))
    assert bests[-1] == pytest.approx(a.objective / 1000)


def test_progress_exception_is_reraised(tiny_city):
    """An exception in the progress callback surfaces after the search instead of being swallowed."""
    m = matrices(tiny_city)
    problem = build_problem(tiny_city, m.time_s, m.dist_m)

    def boom(t: float, best: float) -> None:
        raise RuntimeError("printer on fire")

    with pytest.raises(RuntimeError, match="printer on fire"):
        solve(problem, FAST, progress=boom)
