"""Decomposition: grouping routes by angle, independence check, and a decomposed solve end to end."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import pytest

import routing.solve as solve_module
from core.domain import District
from core.errors import ValidationError
from routing.decompose import independent_routes, route_groups
from routing.fleet import plan_cost
from routing.model import build_problem
from routing.search import Job
from routing.solve import SolveParams
from routing.verify import verify_plan
from tests.routing.helpers import FAST, at, matrices, plan_for, plan_problems


def _problem(city: District):
    m = matrices(city)
    return build_problem(city, m.time_s, m.dist_m)


def test_route_groups_follow_the_angle_around_the_depot(tiny_city):
    """p1/p2 lie north of the depot (90 deg), p4/p5 north-east (27-45 deg): east first, then north."""
    p = _problem(tiny_city)
    ix = p.index_of()
    north = (ix["p1"], ix["p2"], ix["F"])
    east = (ix["p5"], ix["p4"], ix["F"])
    assert route_groups(p, [north, east], 1) == [[1], [0]]
    assert route_groups(p, [north, east], 1, offset=1) == [[0], [1]]
    assert route_groups(p, [north, east], 2) == [[1, 0]]
    assert route_groups(p, [north, ()], 3) == [[0]], "vehicles without points are left out"
    assert route_groups(p, [(), ()], 3) == []


def test_independent_routes_needs_enough_bays_and_no_tonnage(tiny_city):
    """One bay for two trucks couples the routes; enough bays and no tonnage limit make them independent."""
    assert not independent_routes(_problem(tiny_city))
    roomy = replace(tiny_city, facilities=tuple(replace(f, tipping_bays=2) for f in tiny_city.facilities))
    assert independent_routes(_problem(roomy))
    capped = replace(roomy, facilities=tuple(replace(f, daily_capacity_kg=5000.0) for f in roomy.facilities))
    assert not independent_routes(_problem(capped))


@pytest.fixture
def small_decomposition(monkeypatch):
    """Decompose from one point on, one route per group, so the tiny city goes through it."""
    monkeypatch.setattr(solve_module, "DECOMPOSE_FROM", 1)
    monkeypatch.setattr(solve_module, "GROUP_SIZE", 1)


def test_decomposed_solve_serves_everything_and_passes_the_verifier(tiny_city, small_decomposition, caplog):
    """Two trucks needed (1000 kg a day each), routes solved one by one: feasible, all points served."""
    city = replace(
        tiny_city,
        points=tuple(replace(q, expected_kg=300.0) for q in tiny_city.points),
        facilities=tuple(replace(f, tipping_bays=2) for f in tiny_city.facilities),
        vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles),
    )
    with caplog.at_level(logging.INFO, logger="routing.solve"):
        solved = plan_for(city, replace(FAST, time_limit_s=3.0))
    assert any("decomposition round" in r.getMessage() for r in caplog.records), "the decomposed path ran"
    assert solved.assignment.status == "success"
    assert solved.assignment.dropped == ()
    assert sum(1 for r in solved.plan.routes if len(r.stops) > 2) == 2
    assert plan_problems(solved.plan, city, solved.m) == []
    m = solved.m
    index_of = {loc.id: i for i, loc in enumerate(solved.problem.locations)}
    assert list(verify_plan(solved.plan, city, m.time_s, m.dist_m, index_of)) == []


def test_decomposed_solve_reports_a_dropped_optional_point(tiny_city, small_decomposition):
    """An optional far-away point worth almost nothing is left out by a group's search and reported."""
    far = at(0, 6)  # 4 km north of p2: 8 km of detour at 2.0 per km against a penalty of 0.001
    city = replace(
        tiny_city,
        points=tuple(
            replace(q, penalty=0.001, lat=far[0], lon=far[1]) if q.id == "p5" else q for q in tiny_city.points
        ),
        facilities=tuple(replace(f, tipping_bays=2) for f in tiny_city.facilities),
        vehicles=tuple(replace(v, max_route_kg=300.0) for v in tiny_city.vehicles),
    )
    solved = plan_for(city, replace(FAST, time_limit_s=3.0))
    p5 = solved.problem.index_of()["p5"]
    assert solved.assignment.dropped == (p5,)
    assert solved.assignment.reasons[p5].startswith("optional")
    assert [u.point_id for u in solved.plan.unserved] == ["p5"]


def test_portfolio_decomposes_in_worker_zero_only_below_large(tiny_city):
    """Under LARGE points the second worker searches the whole plan; explicit settings pass through."""
    p = _problem(tiny_city)
    auto = SolveParams(workers=2).portfolio(p)
    assert [c.decompose for c in auto] == ["auto", "never"]
    always = SolveParams(workers=2, decompose="always").portfolio(p)
    assert [c.decompose for c in always] == ["always", "always"]
    with pytest.raises(ValidationError, match="decompose"):
        SolveParams(decompose="sometimes")


def test_decompose_never_searches_the_whole_plan(tiny_city, small_decomposition, caplog):
    """``decompose="never"`` skips the group phase even where it would apply."""
    city = replace(
        tiny_city,
        facilities=tuple(replace(f, tipping_bays=2) for f in tiny_city.facilities),
        vehicles=tuple(replace(v, max_route_kg=300.0) for v in tiny_city.vehicles),
    )
    with caplog.at_level(logging.INFO, logger="routing.solve"):
        solved = plan_for(city, replace(FAST, decompose="never"))
    assert not any("decomposition round" in r.getMessage() for r in caplog.records)
    assert solved.assignment.dropped == ()


def _two_routes(city: District):
    """A job for ``city`` (2 bays) and a start: truck-1 serves p1, p2; truck-2 serves p3, p4, p5."""
    city = replace(city, facilities=tuple(replace(f, tipping_bays=2) for f in city.facilities))
    p = _problem(city)
    ix, f = p.index_of(), p.index_of()["F"]
    routes = [(ix["p1"], ix["p2"], f), (ix["p3"], ix["p4"], ix["p5"], f)]
    now = time.time()
    job = Job(p, replace(FAST, time_limit_s=3.0), tuple(p.points), {}, None, now + 3.0, now)
    return p, job, routes


def test_a_group_loses_a_vehicle_when_the_other_can_take_its_points(tiny_city):
    """One truck can serve all five points: the smaller route's vehicle goes, at a lower cost."""
    p, job, routes = _two_routes(tiny_city)
    fewer = solve_module._shrink_group(job, [0, 1], routes, 2.0)
    assert fewer is not None
    assert fewer[0] == (), "truck-1 had the fewer points"
    assert sorted(loc for loc in fewer[1] if loc in p.points) == list(p.points)
    assert plan_cost(p, fewer, job.params.weights) < plan_cost(p, routes, job.params.weights)


def test_a_group_keeps_its_vehicles_when_the_day_limit_binds(tiny_city):
    """300 kg a day per truck and five 100 kg points: two trucks stay."""
    city = replace(tiny_city, vehicles=tuple(replace(v, max_route_kg=300.0) for v in tiny_city.vehicles))
    _, job, routes = _two_routes(city)
    assert solve_module._shrink_group(job, [0, 1], routes, 1.0) is None
