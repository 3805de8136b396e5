"""Tests of routing.plan: stops, schedule, loads, legs, unserved points and KPIs."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from core.domain import CollectionPoint, StopKind, Stream, TimeWindow
from core.errors import ValidationError
from routing.plan import plan_kpis, to_plan
from tests.routing.helpers import DAY, at, hm, plan_for, straight_leg, with_points


def test_plan_stops_times_and_loads(tiny_city):
    """tiny_city: D, 5 collections, the unload at F, D; times add up leg by leg; loads grow then reset."""
    s = plan_for(tiny_city)
    assert (s.plan.district, s.plan.day, s.plan.solver_status) == ("tiny", DAY, s.assignment.status)
    [route] = s.plan.routes  # truck-2 is unused and left out
    kinds = [st.kind for st in route.stops]
    assert kinds == [StopKind.DEPOT_START, *[StopKind.COLLECTION] * 5, StopKind.UNLOAD, StopKind.DEPOT_END]
    assert route.stops[0].ref_id == route.stops[-1].ref_id == "D"
    assert route.stops[0].departure_s == hm(6)
    for prev, stop in itertools.pairwise(route.stops):
        assert stop.arrival_s == prev.departure_s + stop.leg_time_s
    for stop in route.collections:
        assert stop.start_s == stop.arrival_s  # no windows: no waiting
        assert stop.departure_s == stop.start_s + 60
        assert stop.window is None
    assert route.stops[-1].arrival_s == hm(6) + 1000 + 5 * 60 + 900
    assert [st.load_kg for st in route.stops] == [0, 100, 200, 300, 400, 500, 0, 0]
    assert [st.load_l for st in route.stops] == [0, 500, 1000, 1500, 2000, 2500, 0, 0]
    assert route.breaks == ()


def test_unload_stop_semantics(tiny_city):
    """An UNLOAD stop names the facility, has its opening as window, lasts unload_s and empties the truck."""
    opening = TimeWindow(hm(6, 30), hm(18))
    city = replace(tiny_city, facilities=(replace(tiny_city.facilities[0], opening=opening, unload_s=600),))
    [route] = plan_for(city).plan.routes
    [unload] = route.unloads
    assert (unload.kind, unload.ref_id, unload.window) == (StopKind.UNLOAD, "F", opening)
    assert unload.start_s == hm(6, 30), "no unload before the opening"
    assert unload.arrival_s <= unload.start_s
    assert route.stops[0].departure_s == hm(6, 13, 20), "leaves later rather than wait at the gate"
    assert unload.departure_s == unload.start_s + 600
    assert (unload.load_kg, unload.load_l) == (0.0, 0.0)
    assert route.stops[route.stops.index(unload) - 1].load_kg == 500.0
    assert (route.stops[-1].kind, route.stops[-1].load_kg) == (StopKind.DEPOT_END, 0.0)


def test_plan_legs_come_from_the_leg_callable(tiny_city):
    """Each stop carries its leg from the previous stop (coords, distance, time); the start has none."""
    s = plan_for(tiny_city)
    stops = s.plan.routes[0].stops
    assert (stops[0].leg_coords, stops[0].leg_distance_m, stops[0].leg_time_s) == ((), 0.0, 0)
    for prev, stop in itertools.pairwise(stops):
        assert stop.leg_coords == ((prev.lat, prev.lon), (stop.lat, stop.lon))
        i, j = s.m.index_of[prev.ref_id], s.m.index_of[stop.ref_id]
        assert stop.leg_distance_m == s.m.dist_m[i, j]
        assert stop.leg_time_s == s.m.time_s[i, j]
    assert s.plan.distance_m == pytest.approx(10000.0)


def test_departure_delayed_instead_of_waiting(tiny_city):
    """A lone point with a 09:00 window: the truck leaves at 08:58:20 rather than waiting from 06:01:40."""
    nine = CollectionPoint(
        "nine",
        *at(1, 0),
        stream=Stream.RESIDUAL,
        expected_kg=10,
        expected_l=10,
        time_windows=(TimeWindow(hm(9), hm(9, 30)),),
    )
    s = plan_for(replace(tiny_city, points=(nine,)))
    [route] = s.plan.routes
    assert route.stops[0].departure_s == hm(8, 58, 20)
    stop = route.collections[0]
    assert (stop.arrival_s, stop.start_s, stop.window) == (hm(9), hm(9), nine.time_windows[0])
    assert route.duration_s == 100 + 60 + 200 + 900 + 300


def test_plan_waits_only_where_leaving_later_would_be_late(tiny_city):
    """p1 closes 06:03, p2 opens 07:00: leave 06:01:20 to serve p1 at 06:03, then wait at p2 until 07:00.

    The solver picks the departure that makes the route shortest; the plan keeps it and never
    pushes it so late that p1 is missed.
    """
    p1, p2 = tiny_city.points[0], tiny_city.points[1]
    city = replace(
        tiny_city,
        points=(
            replace(p1, time_windows=(TimeWindow(hm(6), hm(6, 3)),)),
            replace(p2, time_windows=(TimeWindow(hm(7), hm(8)),)),
        ),
    )
    [route] = plan_for(city).plan.routes
    assert [st.ref_id for st in route.stops] == ["D", "p1", "p2", "F", "D"]
    assert route.stops[0].departure_s == hm(6, 1, 20)
    assert (route.stops[1].start_s, route.stops[1].departure_s) == (hm(6, 3), hm(6, 4))
    assert (route.stops[2].arrival_s, route.stops[2].start_s) == (hm(6, 5, 40), hm(7))


def test_unserved_points_carry_reasons(tiny_city):
    """Points the diagnosis rules out appear in Plan.unserved with the diagnosis as reason."""
    sofa = CollectionPoint("sofa", *at(1, 1), stream=Stream.BULKY, expected_kg=40, expected_l=900)
    s = plan_for(with_points(tiny_city, sofa))
    [u] = s.plan.unserved
    assert u.point_id == "sofa"
    assert u.reason == s.assignment.reasons[s.m.index_of["sofa"]]


def test_to_plan_rejects_a_problem_of_another_district(tiny_city):
    """to_plan refuses a problem built from a different district."""
    s = plan_for(tiny_city)
    other = replace(tiny_city, points=tiny_city.points[:-1])
    with pytest.raises(ValidationError, match="problem"):
        to_plan(other, DAY, s.problem, s.assignment, straight_leg(s.m))


def test_plan_kpis(tiny_city):
    """KPIs of tiny_city: 10 km, 2200 s, 500 kg residual, one unload, peak 500 of 1000 kg; F took 500 kg."""
    s = plan_for(tiny_city)
    kpis = plan_kpis(s.plan, tiny_city)
    assert list(kpis["vehicles"]) == ["truck-1"]
    one = kpis["vehicles"]["truck-1"]
    assert (one["stops"], one["unloads"]) == (5, 1)
    assert one["km"] == pytest.approx(10.0)
    assert one["hours"] == pytest.approx(2200 / 3600)
    assert (one["kg"], one["litres"]) == (500.0, 2500.0)
    assert one["kg_by_stream"] == {"residual": 500.0}
    assert one["kg_utilisation"] == pytest.approx(0.5)
    assert kpis["total"] == one
    assert kpis["unserved"] == 0
    assert kpis["facilities"] == {
        "F": {"unloads": 1, "kg": 500.0, "daily_capacity_kg": math.inf, "peak_bays": 1, "bays": 1}
    }


def test_plan_kpis_total_over_two_routes(tiny_city):
    """Totals sum both trucks; utilisation is summed peak over summed capacity; F sees both unloads."""
    city = replace(
        tiny_city,
        points=tuple(replace(p, expected_kg=300.0) for p in tiny_city.points),
        vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles),
    )
    kpis = plan_kpis(plan_for(city).plan, city)
    assert len(kpis["vehicles"]) == 2
    assert kpis["total"]["kg"] == 1500.0
    assert kpis["total"]["stops"] == 5
    assert kpis["total"]["unloads"] == 2
    assert kpis["total"]["kg_utilisation"] == pytest.approx(1500 / 2000)
    assert kpis["facilities"]["F"]["kg"] == 1500.0
    assert kpis["facilities"]["F"]["peak_bays"] == 1


def test_peak_bays_counts_overlapping_unloads(tiny_city):
    """plan_kpis reports the most unloads overlapping in time at a facility (touching intervals do not)."""
    s = plan_for(tiny_city)
    [route] = s.plan.routes
    [unload] = route.unloads
    twin = replace(route, vehicle_id="truck-2")
    later = replace(
        route,
        vehicle_id="truck-2",
        stops=tuple(
            replace(
                st,
                start_s=unload.departure_s,
                departure_s=unload.departure_s + 900,
                arrival_s=unload.departure_s,
            )
            if st is route.unloads[0]
            else st
            for st in route.stops
        ),
    )
    assert plan_kpis(replace(s.plan, routes=(route, twin)), tiny_city)["facilities"]["F"]["peak_bays"] == 2
    assert plan_kpis(replace(s.plan, routes=(route, later)), tiny_city)["facilities"]["F"]["peak_bays"] == 1
