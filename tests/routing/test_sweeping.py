"""Sweeping and washing plans on a small synthetic grid: directions, night windows, refills, dumps."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from core.domain import TimeWindow
from core.errors import ValidationError
from core.roads import RoadNetwork
from core.sweep_plan import SweepingPlan, SweepVisitKind
from routing import sweeping
from routing.arc_model import ArcProblem, ArcSolution, Direction
from routing.solve import SolveParams
from routing.sweep_segments import ClassRule, Sides, StreetSegment, SweepRules, street_segments, sweep_tasks
from routing.sweeping import DEFAULT_PROFILES, Activity, SweepResult, build_sweep_problem, plan_sweeping
from tests.routing.sweep_grid import LAT0, grid_district, grid_network, node

H = 3600
DAY = date(2026, 12, 1)
PARAMS = SolveParams(time_limit_s=20.0, solution_limit=60, workers=1)
RULES = SweepRules(
    {
        "primary": ClassRule(),
        "secondary": ClassRule(),
        "tertiary": ClassRule(sides=Sides.EITHER),
        "residential": ClassRule(sides=Sides.EITHER),
    }
)
NIGHT = TimeWindow(21 * H, 30 * H)


@pytest.fixture(scope="module")
def net() -> RoadNetwork:
    return grid_network()


@pytest.fixture(scope="module")
def segs(net: RoadNetwork) -> list[StreetSegment]:
    return street_segments(net)


@pytest.fixture(scope="module")
def day_sweep(net: RoadNetwork, segs: list[StreetSegment]) -> SweepResult:
    return plan_sweeping(grid_district(), net, DAY, RULES, Activity.SWEEP, PARAMS, segments=segs)


def _services(plan: SweepingPlan) -> list[tuple[str, object]]:
    return [(r.vehicle_id, v) for r in plan.routes for v in r.services]


def test_every_task_is_served_once_in_an_allowed_direction(net: RoadNetwork, day_sweep: SweepResult) -> None:
    """Full coverage; forward tasks run tail -> head, either tasks one way or the other, geometry to match."""
    plan = day_sweep.plan
    tasks = {t.id: t for t in day_sweep.tasks}
    served = Counter(v.ref_id for r in plan.routes for v in r.services)
    assert set(served) == set(tasks)
    assert set(served.values()) == {1}
    assert plan.left_out == ()
    assert plan.coverage() == pytest.approx(1.0)
    osm = net.osm_ids
    for r in plan.routes:
        for v in r.services:
            t = tasks[v.ref_id]
            ends = (int(osm[t.tail]), int(osm[t.head]))
            if t.direction == Direction.FORWARD:
                assert (v.from_osm, v.to_osm) == ends
            else:
                assert (v.from_osm, v.to_osm) in (ends, ends[::-1])
            a = int(list(osm).index(v.from_osm))
            b = int(list(osm).index(v.to_osm))
            assert v.coords[0] == (net.lat[a], net.lon[a])
            assert v.coords[-1] == (net.lat[b], net.lon[b])
            assert v.length_m == pytest.approx(t.length_m)
            assert v.end_s - v.start_s == pytest.approx(t.length_m / (5 / 3.6), abs=1)


def test_legs_join_up_and_follow_the_road_network(net: RoadNetwork, day_sweep: SweepResult) -> None:
    """Each deadhead leg starts where the vehicle stood and ends where the work starts, at road length."""
    depot = (net.lat[0], net.lon[0])
    for r in day_sweep.plan.routes:
        here = depot
        for v in r.visits:
            if v.deadhead_coords:
                assert v.deadhead_coords[0] == pytest.approx(here)
                assert v.deadhead_coords[-1] == pytest.approx(v.coords[0])
                kx = 111_195 * math.cos(math.radians(LAT0))
                length = sum(
                    math.dist((a[0] * 111_195, a[1] * kx), (b[0] * 111_195, b[1] * kx))
                    for a, b in zip(v.deadhead_coords, v.deadhead_coords[1:], strict=False)
                )
                assert v.deadhead_m == pytest.approx(length, rel=0.01)
            else:
                assert v.deadhead_m == 0.0
                assert v.coords[0] == pytest.approx(here)
            here = v.coords[-1]
            assert v.arrival_s <= v.start_s <= v.end_s
        assert here == pytest.approx(depot)
        times = [x for v in r.visits for x in (v.arrival_s, v.end_s)]
        assert times == sorted(times)
    index = {int(o): i for i, o in enumerate(net.osm_ids)}
    _, dist = net.matrices(range(len(net.osm_ids)), range(len(net.osm_ids)))
    for r in day_sweep.plan.routes:
        here = 0
        for v in r.visits:
            assert v.deadhead_m == pytest.approx(dist[here, index[v.from_osm]])
            here = index[v.to_osm]


def test_hopper_is_emptied_when_full_and_before_going_home(
    net: RoadNetwork, segs: list[StreetSegment]
) -> None:
    """A 15 kg hopper (60 kg/km, 100 m blocks: 6 kg each) forces dumps; the load never exceeds it."""
    district = grid_district(hopper_kg=15.0)
    plan = plan_sweeping(district, net, DAY, RULES, "sweep", PARAMS, segments=segs).plan
    assert plan.coverage() == pytest.approx(1.0)
    per_block = DEFAULT_PROFILES[district.vehicles[0].kind].debris_kg_per_km * 0.1
    total = sum(v.length_m for _, v in _services(plan)) / 100 * per_block
    dumps = sum(r.dumps for r in plan.routes)
    assert dumps >= math.ceil(total / 15.0)
    for r in plan.routes:
        load = 0.0
        for v in r.visits:
            if v.kind == SweepVisitKind.SERVICE:
                load += per_block * v.length_m / 100.0
                assert v.load_kg == pytest.approx(load)
            elif v.kind == SweepVisitKind.DUMP:
                assert v.ref_id == "DUMP"
                load = 0.0
                assert v.load_kg == 0.0
            assert v.load_kg <= 15.0 + 1e-6
        assert r.visits[-2].kind == SweepVisitKind.DUMP
        assert r.visits[-1].kind == SweepVisitKind.DEPOT_END


def test_water_refill_is_inserted_when_the_tank_would_run_dry(
    net: RoadNetwork, segs: list[StreetSegment]
) -> None:
    """A 400 l tank washes under 300 m (1500 l/km): refills at the water point, never above the tank."""
    small = plan_sweeping(grid_district(washer_tank_l=400.0), net, DAY, RULES, "wash", PARAMS, segments=segs)
    plan = small.plan
    assert plan.coverage() == pytest.approx(1.0)
    need = 1.5 * plan.swept_m
    refills = sum(r.refills for r in plan.routes)
    assert refills >= math.ceil(need / 400.0) - 1
    for r in plan.routes:
        for v in r.visits:
            assert v.water_l <= 400.0 + 1e-6
            if v.kind == SweepVisitKind.REFILL:
                assert v.ref_id == "WATER"
                assert v.water_l == 0.0
                assert v.end_s - v.start_s == 300
    big = plan_sweeping(grid_district(washer_tank_l=10_000.0), net, DAY, RULES, "wash", PARAMS, segments=segs)
    assert sum(r.refills for r in big.plan.routes) == 0  # a visit costs its time: none when not needed


def test_night_only_segments_are_never_swept_by_day(net: RoadNetwork, segs: list[StreetSegment]) -> None:
    """Primary blocks (night only) start inside 22:00-06:00; with a day-only fleet they are left out."""
    rules = SweepRules({**RULES.classes, "primary": ClassRule(night_only=True)})
    district = grid_district(sweepers=(("SW-DAY", TimeWindow(6 * H, 14 * H)), ("SW-NIGHT", NIGHT)))
    plan = plan_sweeping(district, net, DAY, rules, "sweep", PARAMS, segments=segs).plan
    assert plan.coverage() == pytest.approx(1.0)
    primary = [(vid, v) for vid, v in _services(plan) if v.highway == "primary"]  # type: ignore[attr-defined]
    assert len(primary) == 6
    for vid, v in primary:
        assert vid == "SW-NIGHT"
        assert 22 * H <= v.start_s <= 30 * H  # type: ignore[attr-defined]
    day_only = plan_sweeping(grid_district(), net, DAY, rules, "sweep", PARAMS, segments=segs).plan
    left = {t.highway for t in day_only.left_out}
    assert left == {"primary"}
    assert len(day_only.left_out) == 6
    assert all(t.reason.startswith("window 22:00-06:00") for t in day_only.left_out)
    assert day_only.coverage_by_class()["primary"] == 0.0
    assert day_only.coverage_by_class()["secondary"] == 1.0


def test_no_vehicle_of_the_kind_leaves_every_task_out(net: RoadNetwork, segs: list[StreetSegment]) -> None:
    """A district without washers plans no washing and says why for each task."""
    district = grid_district()
    no_washer = type(district)(
        district.name, district.timezone, district.depots, district.facilities, (), district.vehicles[:1]
    )
    result = plan_sweeping(no_washer, net, DAY, RULES, "wash", PARAMS, segments=segs)
    assert result.plan.routes == ()
    assert len(result.plan.left_out) == len(result.tasks) > 0
    assert {t.reason for t in result.plan.left_out} == {"no washer in the fleet"}
    assert result.plan.coverage() == 0.0
    with pytest.raises(ValidationError, match="washer"):
        build_sweep_problem(no_washer, net, result.tasks, Activity.WASH)


def test_vehicles_pay_per_hour_and_facilities_sit_on_their_road_node(
    net: RoadNetwork, segs: list[StreetSegment]
) -> None:
    """The arc problem carries each vehicle's hourly cost; a facility is its own road node, no surcharge."""
    district = grid_district()
    tasks = sweep_tasks(segs, RULES, DAY)
    problem = build_sweep_problem(district, net, tasks, Activity.SWEEP)
    sweeper = district.vehicles[0]
    assert problem.arc.vehicles[0].cost_per_hour == sweeper.cost_per_hour > 0
    (dump,) = problem.arc.facilities
    assert int(problem.road_nodes[dump.node]) == node(net, 0, 3)
    assert len(set(problem.road_nodes.tolist())) == len(problem.road_nodes)
    a, b = node(net, 0, 2), node(net, 0, 3)
    local = {int(n): i for i, n in enumerate(problem.road_nodes.tolist())}
    _, dist = net.matrices([a], [b])
    assert problem.arc.dist[local[a], dump.node] == pytest.approx(dist[0, 0])


def test_the_arc_solution_is_checked_against_its_problem(
    net: RoadNetwork, segs: list[StreetSegment], monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan_sweeping runs verify_arc too: a solver answer with a wrong deadhead total is reported."""
    real = sweeping.solve_arc

    def tampered(problem: ArcProblem, params: SolveParams, **kwargs: Any) -> ArcSolution:
        solution = real(problem, params, **kwargs)
        first = replace(solution.routes[0], deadhead_dist=solution.routes[0].deadhead_dist + 50.0)
        return replace(solution, routes=(first, *solution.routes[1:]))

    monkeypatch.setattr(sweeping, "solve_arc", tampered)
    result = plan_sweeping(grid_district(), net, DAY, RULES, "sweep", PARAMS, segments=segs)
    assert result.plan.coverage() == pytest.approx(1.0)
    (line,) = result.violations
    assert line.startswith("arc solution: route of 'SW-DAY': deadhead distance")
