"""Dump-and-continue: unload trips, the stream-facility rule, tipping bays and daily tonnage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.domain import CollectionPoint, District, Facility, FacilityKind, StopKind, Stream, Vehicle
from routing.plan import plan_kpis
from tests.routing.helpers import at, plan_for, plan_problems, served_by, stop_ids, with_points


def _heavy(city: District, kg: float) -> District:
    return replace(city, points=tuple(replace(p, expected_kg=kg) for p in city.points))


def test_truck_must_unload_twice(tiny_city):
    """Five 300 kg points, 1000 kg body: one truck, two trips, an unload after each (never over 1000 kg)."""
    city = _heavy(tiny_city, 300.0)
    s = plan_for(city)
    assert [r.vehicle_id for r in s.plan.routes] == ["truck-1"], "a second trip beats a second truck"
    [route] = s.plan.routes
    assert len(route.unloads) == 2
    assert route.stops[-2].kind == StopKind.UNLOAD, "the last visit before the depot is an unload"
    assert max(st.load_kg for st in route.stops) <= 1000.0
    assert len(served_by(s.plan)) == 5
    assert plan_problems(s.plan, city, s.m) == []


def test_litres_also_reset_at_an_unload(tiny_city):
    """Volume binds (3000 l per point, 8000 l body): two trips although the weight would fit one."""
    city = replace(tiny_city, points=tuple(replace(p, expected_l=3000.0) for p in tiny_city.points))
    s = plan_for(city)
    [route] = s.plan.routes
    assert len(route.unloads) >= 2
    assert max(st.load_l for st in route.stops) <= 8000.0
    assert plan_problems(s.plan, city, s.m) == []


def _kitchen_city(tiny_city: District) -> District:
    """tiny_city + three kitchen points, a kitchen truck, and a kitchen plant K far north (0, 5)."""
    kitchen = [
        CollectionPoint(f"k{i}", *at(x, 1), stream=Stream.KITCHEN, expected_kg=80, expected_l=200)
        for i, x in enumerate((1, 2, 3), start=1)
    ]
    plant = Facility("K", "Kitchen plant", FacilityKind.KITCHEN_WASTE_PLANT, *at(0, 5), {Stream.KITCHEN})
    truck = Vehicle(
        "kit",
        kind=tiny_city.vehicles[0].kind,
        depot_id="D",
        streams={Stream.KITCHEN},
        capacity_kg=1000.0,
        capacity_l=8000.0,
    )
    return replace(
        with_points(tiny_city, *kitchen),
        facilities=(*tiny_city.facilities, plant),
        vehicles=(*tiny_city.vehicles, truck),
    )


def test_stream_only_one_facility_accepts(tiny_city):
    """Kitchen waste goes to the far kitchen plant K (the only one taking it), residual to the near F."""
    city = _kitchen_city(tiny_city)
    s = plan_for(city)
    kit = stop_ids(s.plan, "kit")
    assert kit[-2:] == ["K", "D"]
    assert "F" not in kit
    assert {served_by(s.plan)[f"k{i}"] for i in (1, 2, 3)} == {"kit"}
    residual = [r for r in s.plan.routes if r.vehicle_id != "kit"]
    assert all(u.ref_id == "F" for r in residual for u in r.unloads)
    assert plan_problems(s.plan, city, s.m) == []


def test_stream_without_facility_is_diagnosed_and_rest_planned(tiny_city):
    """Without the kitchen plant the kitchen points are unserved with the diagnosis; residual is planned."""
    city = replace(_kitchen_city(tiny_city), facilities=tiny_city.facilities)
    s = plan_for(city)
    assert {u.point_id: u.reason for u in s.plan.unserved} == dict.fromkeys(
        ("k1", "k2", "k3"), "no facility accepts stream 'kitchen'"
    )
    assert sorted(served_by(s.plan)) == ["p1", "p2", "p3", "p4", "p5"]


def _two_trucks(tiny_city: District, bays: int) -> District:
    """Both trucks needed (day limit 1000 kg, 300 kg points); F with ``bays`` tipping bays."""
    return replace(
        _heavy(tiny_city, 300.0),
        facilities=(replace(tiny_city.facilities[0], tipping_bays=bays),),
        vehicles=tuple(replace(v, max_route_kg=1000.0) for v in tiny_city.vehicles),
    )


def _unload_intervals(plan) -> list[tuple[int, int]]:
    return sorted((u.start_s, u.departure_s) for r in plan.routes for u in r.unloads)


def test_two_trucks_compete_for_one_tipping_bay(tiny_city):
    """One bay: the two trucks' 15-minute unloads at F do not overlap; with two bays they would."""
    one_bay = _two_trucks(tiny_city, 1)
    s = plan_for(one_bay)
    assert sorted(r.vehicle_id for r in s.plan.routes) == ["truck-1", "truck-2"]
    (_, a_end), (b_start, _) = _unload_intervals(s.plan)
    assert a_end <= b_start, "unload intervals overlap at a one-bay facility"
    assert plan_kpis(s.plan, one_bay)["facilities"]["F"]["peak_bays"] == 1
    assert plan_problems(s.plan, one_bay, s.m) == []

    free = plan_for(_two_trucks(tiny_city, 2))
    (_, a_end), (b_start, _) = _unload_intervals(free.plan)
    assert b_start < a_end, "with two bays both trucks unload at once (so one bay is what separates them)"


def test_tonnage_limit_forces_the_second_facility(tiny_city):
    """F takes at most 500 kg a day; 750 kg are collected, so the rest goes to the farther G."""
    far = Facility("G", "Far landfill", FacilityKind.LANDFILL, *at(0, 6), {Stream.RESIDUAL})
    city = replace(
        _heavy(tiny_city, 150.0),
        facilities=(replace(tiny_city.facilities[0], daily_capacity_kg=500.0), far),
    )
    s = plan_for(city)
    kpis = plan_kpis(s.plan, city)["facilities"]
    assert kpis["F"]["kg"] <= 500.0
    assert kpis["G"]["kg"] > 0
    assert kpis["F"]["kg"] + kpis["G"]["kg"] == pytest.approx(750.0)
    assert plan_problems(s.plan, city, s.m) == []

    unlimited = plan_for(replace(city, facilities=(tiny_city.facilities[0], far)))
    assert plan_kpis(unlimited.plan, city)["facilities"]["G"]["unloads"] == 0, (
        "G is only used because F is full"
    )


def test_zero_load_route_needs_no_unload(tiny_city):
    """A route that collects nothing (zero-demand points) returns empty without visiting a facility."""
    city = replace(
        tiny_city, points=tuple(replace(p, expected_kg=0.0, expected_l=0.0) for p in tiny_city.points)
    )
    s = plan_for(city)
    [route] = s.plan.routes
    assert route.unloads == ()
    assert len(route.collections) == 5


def test_every_route_of_a_larger_day_is_sound(tiny_city):
    """Twelve heavier points, two depots' worth of trucks, two facilities: every rule holds on every route."""
    extra = [
        CollectionPoint(
            f"q{i}", *at(x, y), stream=Stream.RESIDUAL, expected_kg=220, expected_l=900, service_s=90
        )
        for i, (x, y) in enumerate([(4, 1), (4, 3), (5, 2), (1, 4), (3, 4), (5, 4), (6, 1)], start=1)
    ]
    west = Facility("W", "West", FacilityKind.TRANSFER_STATION, *at(0, 4), {Stream.RESIDUAL}, tipping_bays=1)
    city = replace(
        with_points(_heavy(tiny_city, 250.0), *extra),
        facilities=(replace(tiny_city.facilities[0], daily_capacity_kg=1500.0), west),
    )
    s = plan_for(city)
    assert s.plan.unserved == ()
    assert plan_problems(s.plan, city, s.m) == []
