"""Tests of routing.verify: solver output passes, and each kind of broken plan is caught."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from core.domain import CollectionPoint, Depot, District, Plan, PlanStop, Route, Stream, TimeWindow
from routing.verify import plan_cost, verify_plan
from tests.routing.helpers import Solved, at, hm, plan_for, with_points


def _check(s: Solved, district: District, plan: Plan | None = None) -> list[str]:
    return verify_plan(plan or s.plan, district, s.m.time_s, s.m.dist_m, s.m.index_of)


def _with_window(city: District, pid: str, *windows: TimeWindow) -> District:
    return replace(
        city, points=tuple(replace(p, time_windows=windows) if p.id == pid else p for p in city.points)
    )


def _heavier(city: District, kg: float) -> District:
    return replace(city, points=tuple(replace(p, expected_kg=kg) for p in city.points))


def _hazardous(city: District) -> District:
    return with_points(
        city, CollectionPoint("haz", *at(1, 1), stream=Stream.HAZARDOUS, expected_kg=20, expected_l=20)
    )


def _two_depots(city: District) -> District:
    """truck-2 moves to a second depot at (2, 3); a third depot at (9, 9) has no vehicle."""
    return replace(
        _heavier(city, 300.0),
        depots=(*city.depots, Depot("D2", "North", *at(2, 3)), Depot("D3", "Idle", *at(9, 9))),
        vehicles=(city.vehicles[0], replace(city.vehicles[1], depot_id="D2")),
    )


SCENARIOS: dict[str, Callable[[District], District]] = {
    "tiny": lambda c: c,
    "two trucks": lambda c: _heavier(c, 300.0),
    "fleet too small": lambda c: _heavier(c, 600.0),
    "window": lambda c: _with_window(c, "p4", TimeWindow(hm(6), hm(6, 7))),
    "two windows": lambda c: _with_window(c, "p3", TimeWindow(hm(6), hm(6, 1)), TimeWindow(hm(8), hm(8, 30))),
    "hazardous": _hazardous,
    "no vehicle": lambda c: with_points(
        c, CollectionPoint("sofa", *at(1, 1), stream=Stream.BULKY, expected_kg=1, expected_l=1)
    ),
    "two depots": _two_depots,
    "route limit": lambda c: replace(c, vehicles=tuple(replace(v, max_duration_s=900) for v in c.vehicles)),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_solver_plans_have_no_violations(tiny_city, scenario):
    """Whatever the constraints, the solve -> plan chain produces a plan the checker accepts."""
    city = SCENARIOS[scenario](tiny_city)
    s = plan_for(city)
    assert _check(s, city) == []


def test_routes_start_and_end_at_their_own_depot(tiny_city):
    """With two depots each truck leaves from and returns to its own; the idle depot is unused."""
    city = _two_depots(tiny_city)
    s = plan_for(city)
    ends = {r.vehicle_id: (r.stops[0].ref_id, r.stops[-1].ref_id) for r in s.plan.routes}
    assert ends == {"truck-1": ("D", "D"), "truck-2": ("D2", "D2")}


def test_plan_cost_matches_objective(tiny_city):
    """plan_cost recomputes tiny_city's 116 from the matrices, equal to Plan.objective."""
    s = plan_for(tiny_city)
    assert plan_cost(s.plan, tiny_city, s.m.time_s, s.m.dist_m, s.m.index_of) == pytest.approx(116.0)
    assert s.plan.objective == pytest.approx(116.0)


def test_plan_cost_counts_optional_penalties(tiny_city):
    """An unserved optional point adds its penalty to the recomputed cost."""
    far = CollectionPoint("far", *at(20, 0), stream=Stream.RESIDUAL, expected_kg=1, expected_l=1, penalty=5.0)
    city = with_points(tiny_city, far)
    s = plan_for(city)
    assert plan_cost(s.plan, city, s.m.time_s, s.m.dist_m, s.m.index_of) == pytest.approx(s.plan.objective)


def _replace_route(plan: Plan, k: int, route: Route) -> Plan:
    return replace(plan, routes=(*plan.routes[:k], route, *plan.routes[k + 1 :]))


def _shift(stop: PlanStop, dt: int) -> PlanStop:
    return replace(
        stop, arrival_s=stop.arrival_s + dt, start_s=stop.start_s + dt, departure_s=stop.departure_s + dt
    )


def test_catches_overload(tiny_city):
    """Checked against 450 kg trucks, the 500 kg tiny_city route is overloaded at its last collection."""
    s = plan_for(tiny_city)
    small = replace(tiny_city, vehicles=tuple(replace(v, capacity_kg=450.0) for v in tiny_city.vehicles))
    violations = _check(s, small)
    last = s.plan.routes[0].collections[-1].ref_id
    assert violations == [f"vehicle 'truck-1' stop 5 ('{last}'): load 500 kg above capacity 450 kg"]


def test_catches_late_service(tiny_city):
    """The whole route one hour later: p4 (window 06:00-06:07) is served outside its window."""
    city = _with_window(tiny_city, "p4", TimeWindow(hm(6), hm(6, 7)))
    s = plan_for(city)
    route = s.plan.routes[0]
    late = _replace_route(s.plan, 0, replace(route, stops=tuple(_shift(st, 3600) for st in route.stops)))
    [violation] = _check(s, city, late)
    assert "'p4'" in violation
    assert "07:06:40" in violation
    assert "outside its window(s) 06:00:00-06:07:00" in violation


def test_catches_point_served_twice(tiny_city):
    """Appending truck-1's first point to truck-2's route is reported as served twice."""
    city = _heavier(tiny_city, 300.0)
    s = plan_for(city)
    one, two = s.plan.routes
    dup = one.collections[0]
    stops = (*two.stops[:-1], _shift(dup, 0), two.stops[-1])
    broken = _replace_route(s.plan, 1, replace(two, stops=stops))
    violations = _check(s, city, broken)
    assert f"point '{dup.ref_id}' served 2 times (by '{one.vehicle_id}', '{two.vehicle_id}')" in violations


def test_catches_wrong_stream(tiny_city):
    """Handing the licensed truck's route to truck-1 puts hazardous waste on an unlicensed truck."""
    city = _hazardous(tiny_city)
    s = plan_for(city)
    [route] = s.plan.routes
    assert route.vehicle_id == "truck-2"
    broken = _replace_route(s.plan, 0, replace(route, vehicle_id="truck-1"))
    violations = _check(s, city, broken)
    haz_pos = [st.ref_id for st in route.stops].index("haz")
    assert violations == [
        f"vehicle 'truck-1' stop {haz_pos} ('haz'): vehicle may not serve stream 'hazardous' "
        "(it serves recyclables, residual)"
    ]


def test_catches_missing_mandatory_point(tiny_city):
    """Dropping a stop without listing the point as unserved is reported."""
    s = plan_for(tiny_city)
    route = s.plan.routes[0]
    gone = route.stops[3]
    broken = _replace_route(
        s.plan, 0, replace(route, stops=tuple(st for st in route.stops if st is not gone))
    )
    assert f"mandatory point '{gone.ref_id}' is neither served nor listed unserved" in _check(
        s, tiny_city, broken
    )


def test_catches_arrival_faster_than_the_road(tiny_city):
    """Moving one stop 50 s earlier makes its arrival earlier than departure + travel time."""
    s = plan_for(tiny_city)
    route = s.plan.routes[0]
    stops = list(route.stops)
    stops[2] = _shift(stops[2], -50)
    [violation] = _check(s, tiny_city, _replace_route(s.plan, 0, replace(route, stops=tuple(stops))))
    assert violation.startswith(f"vehicle 'truck-1' stop 2 ('{stops[2].ref_id}'): arrival")
    assert "travel 100 s" in violation


def test_catches_route_duration_and_shift_end(tiny_city):
    """A 600 s route limit and a 06:10 shift end are both broken by the 1100 s route."""
    s = plan_for(tiny_city)
    strict = replace(
        tiny_city,
        vehicles=tuple(
            replace(v, max_duration_s=600, shift=TimeWindow(hm(6), hm(6, 10))) for v in tiny_city.vehicles
        ),
    )
    violations = _check(s, strict)
    assert "vehicle 'truck-1': route takes 1100 s, above its limit of 600 s" in violations
    assert "vehicle 'truck-1': back at the depot at 06:18:20, after its shift ends at 06:10:00" in violations


def test_catches_route_not_ending_at_depot(tiny_city):
    """A route that ends at the facility instead of the truck's depot is reported."""
    s = plan_for(tiny_city)
    route = s.plan.routes[0]
    end = replace(route.stops[-1], ref_id="F")
    broken = _replace_route(s.plan, 0, replace(route, stops=(*route.stops[:-1], end)))
    violations = _check(s, tiny_city, broken)
    assert any("must be depot_end at the vehicle's depot 'D', got depot_end at 'F'" in v for v in violations)
