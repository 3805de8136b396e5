"""Tests of routing.model: location order, scaling, validation and the pre-solve diagnosis."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.domain import CollectionPoint, Facility, FacilityKind, Stream, TimeWindow
from core.errors import ValidationError
from routing.model import (
    COST_SCALE,
    UNREACHABLE_S,
    FacilitySpec,
    LocationKind,
    ObjectiveWeights,
    RoutingProblem,
    WarmStart,
    arc_cost_matrix,
    build_problem,
    diagnose,
    duration_cost_per_s,
    locations,
    mandatory_penalty,
)
from tests.routing.helpers import at, hm, matrices, with_points


def _problem(district, m=None):
    m = m or matrices(district)
    return build_problem(district, m.time_s, m.dist_m)


def test_locations_order(tiny_city):
    """Locations are depots, then facilities, then points, each in district order."""
    locs = locations(tiny_city)
    assert [loc.id for loc in locs] == ["D", "F", "p1", "p2", "p3", "p4", "p5"]
    assert [loc.kind for loc in locs] == [LocationKind.DEPOT, LocationKind.FACILITY] + [
        LocationKind.POINT
    ] * 5
    assert (locs[2].lat, locs[2].lon) == at(0, 1)


def test_problem_ranges_and_index(tiny_city):
    """depots/facilities/points ranges and index_of follow the location order."""
    p = _problem(tiny_city)
    assert (p.depots, p.facilities, p.points) == (range(1), range(1, 2), range(2, 7))
    assert p.index_of()["p3"] == 4


def test_build_problem_scales_to_integers(tiny_city):
    """Times round up, distances to nearest, demands up, capacities down, money x COST_SCALE."""
    city = replace(
        tiny_city,
        points=(replace(tiny_city.points[0], expected_kg=100.2, expected_l=0.5, penalty=2.5),),
        vehicles=(replace(tiny_city.vehicles[0], capacity_kg=999.9), tiny_city.vehicles[1]),
    )
    m = matrices(city)
    time_s = m.time_s.copy()
    time_s[0, 2] = 100.2
    dist_m = m.dist_m.copy()
    dist_m[0, 2] = 1000.4
    p = build_problem(city, time_s, dist_m)
    assert p.time_s.dtype == np.int64
    assert p.dist_m.dtype == np.int64
    assert (p.time_s[0, 2], p.dist_m[0, 2]) == (101, 1000)
    assert (p.demand_kg[2], p.demand_l[2]) == (101, 1)
    assert p.vehicles[0].capacity_kg == 999
    assert p.penalty == (None, None, 2500)
    assert p.vehicles[0].fixed_cost == 100 * COST_SCALE
    assert p.service_s == (0, 900, 60)
    assert not p.time_s.flags.writeable


def test_build_problem_windows_streams_and_allowed_vehicles(tiny_city):
    """Windows become int pairs; allowed vehicles are those collecting the point's stream."""
    haz = CollectionPoint(
        "haz",
        *at(1, 1),
        stream=Stream.HAZARDOUS,
        expected_kg=1,
        expected_l=1,
        time_windows=(TimeWindow(hm(7), hm(8)), TimeWindow(hm(9), hm(10))),
    )
    p = _problem(with_points(tiny_city, haz))
    i = p.index_of()["haz"]
    assert p.windows[i] == ((hm(7), hm(8)), (hm(9), hm(10)))
    assert p.stream[i] == Stream.HAZARDOUS
    assert p.allowed_vehicles[i] == (1,)
    assert p.allowed_vehicles[p.index_of()["p1"]] == (0, 1)
    assert p.windows[p.index_of()["F"]] == ((0, 86_400),)


@pytest.mark.parametrize(
    ("which", "edit", "match"),
    [
        ("time_s", lambda a: a[:-1], r"time_s.*shape \(7, 7\)"),
        ("dist_m", lambda a: np.where(np.eye(len(a), k=1) == 1, np.nan, a), "dist_m.*NaN"),
        ("time_s", lambda a: a - 50, "time_s.*>= 0"),
        ("dist_m", lambda a: a + 1, "dist_m.*zero diagonal"),
        ("time_s", lambda a: a * 1e6, "time_s.*use inf"),
        ("time_s", lambda a: "not a matrix", "time_s"),
    ],
)
def test_build_problem_rejects_bad_matrices(tiny_city, which, edit, match):
    """build_problem raises ValidationError naming the bad matrix and what is wrong."""
    m = matrices(tiny_city)
    args = {"time_s": m.time_s, "dist_m": m.dist_m}
    args[which] = edit(args[which].copy())
    with pytest.raises(ValidationError, match=match):
        build_problem(tiny_city, **args)


def test_routing_problem_validates_itself(tiny_city):
    """A RoutingProblem built by hand with inconsistent lengths is rejected, naming the field."""
    p = _problem(tiny_city)
    with pytest.raises(ValidationError, match="demand_kg"):
        replace(p, demand_kg=p.demand_kg[:-1])
    with pytest.raises(ValidationError, match="windows"):
        replace(p, windows=((), (), ((10, 5),), (), (), (), ()))
    with pytest.raises(ValidationError, match="start"):
        replace(p, vehicles=(replace(p.vehicles[0], start=3), p.vehicles[1]))
    assert isinstance(replace(p), RoutingProblem)


def test_inf_is_no_road_path(tiny_city):
    """inf in the matrices means no road path: unreachable sentinel, and the point is diagnosed."""
    m = matrices(tiny_city)
    time_s, dist_m = m.time_s.copy(), m.dist_m.copy()
    i = m.index_of["p5"]
    time_s[:, i] = time_s[i, :] = np.inf
    dist_m[:, i] = dist_m[i, :] = np.inf
    time_s[i, i] = dist_m[i, i] = 0
    p = build_problem(tiny_city, time_s, dist_m)
    assert p.time_s[0, i] == UNREACHABLE_S
    [u] = diagnose(p)
    assert u.point_id == "p5"
    assert "no road path" in u.reason


def test_arc_cost_matrix_units(tiny_city):
    """1 km at 100 s costs 1.0 * 1 + 36 * 100/3600 = 2.0 currency = 2000 objective units."""
    p = _problem(tiny_city)
    cost = arc_cost_matrix(p, 0)
    assert cost[0, 2] == 2000
    assert cost.dtype == np.int64


def test_mandatory_penalty_exceeds_any_plan(tiny_city):
    """The mandatory penalty is above fixed costs plus every route any vehicle could drive."""
    p = _problem(tiny_city)
    # fixed 100 + 150; a route has at most 6 arcs; the longest arc (F-p2) is 5 km = 10.0
    assert mandatory_penalty(p) > (100 + 150 + 2 * 6 * 10) * COST_SCALE


def test_mandatory_penalty_capped_with_a_warning(tiny_city):
    """Absurd costs cap the mandatory penalty so the objective cannot overflow, with a warning."""
    city = replace(tiny_city, vehicles=tuple(replace(v, fixed_cost=1e15) for v in tiny_city.vehicles))
    p = _problem(city)
    with pytest.warns(UserWarning, match="mandatory penalty capped"):
        penalty = mandatory_penalty(p)
    assert penalty * (len(p.points) + 1) < 2**63


def test_diagnose_clean_city(tiny_city):
    """Every tiny_city point can be served: no diagnosis."""
    assert diagnose(_problem(tiny_city)) == []


def test_diagnose_no_vehicle_for_stream(tiny_city):
    """A point of a stream no vehicle collects is ruled out, naming the stream."""
    sofa = CollectionPoint("sofa", *at(1, 1), stream=Stream.BULKY, expected_kg=1, expected_l=1)
    [u] = diagnose(_problem(with_points(tiny_city, sofa)))
    assert u.point_id == "sofa"
    assert u.reason.startswith("no vehicle may serve stream 'bulky'")


@pytest.mark.parametrize(
    ("kg", "litres", "match"),
    [
        (1500, 10, "1500 kg above every compatible vehicle's capacity (largest 1000 kg)"),
        (10, 9000, "9000 l above every compatible vehicle's capacity (largest 8000 l)"),
    ],
)
def test_diagnose_demand_above_capacity(tiny_city, kg, litres, match):
    """Demand above every compatible vehicle's capacity is ruled out, per dimension."""
    big = CollectionPoint("big", *at(1, 1), stream=Stream.RESIDUAL, expected_kg=kg, expected_l=litres)
    [u] = diagnose(_problem(with_points(tiny_city, big)))
    assert match in u.reason


def test_diagnose_no_vehicle_carries_both_dimensions(tiny_city):
    """Fits truck-1 by kg and truck-2 by litres, but no single truck carries both."""
    city = replace(
        tiny_city,
        vehicles=(
            replace(tiny_city.vehicles[0], capacity_kg=2000.0, capacity_l=4000.0),
            replace(tiny_city.vehicles[1], capacity_kg=1000.0, capacity_l=8000.0),
        ),
    )
    odd = CollectionPoint("odd", *at(1, 1), stream=Stream.RESIDUAL, expected_kg=1500, expected_l=6000)
    [u] = diagnose(_problem(with_points(city, odd)))
    assert "no compatible vehicle carries both 1500 kg and 6000 l" in u.reason


def test_diagnose_unreachable_window(tiny_city):
    """Shift 06:00 + 100 s travel > window end 06:00:30: ruled out with both times in the reason."""
    early = CollectionPoint(
        "early",
        *at(1, 0),
        stream=Stream.RESIDUAL,
        expected_kg=1,
        expected_l=1,
        time_windows=(TimeWindow(hm(6), hm(6, 0, 30)),),
    )
    [u] = diagnose(_problem(with_points(tiny_city, early)))
    assert u.reason.startswith(
        "time window unreachable: vehicle 'truck-1' leaving at 06:00:00 arrives 06:01:40"
    )
    assert "after the window end 06:00:30" in u.reason
    assert "(and 1 more compatible vehicles)" in u.reason


def test_diagnose_cannot_return_by_shift_end(tiny_city):
    """Serving at 14:59:30 + 60 s, 200 s to F, 900 s unloading, 300 s back ends after the 15:00 shift end."""
    late = CollectionPoint(
        "late",
        *at(1, 0),
        stream=Stream.RESIDUAL,
        expected_kg=1,
        expected_l=1,
        time_windows=(TimeWindow(hm(14, 59, 30), hm(16)),),
    )
    [u] = diagnose(_problem(with_points(tiny_city, late)))
    assert u.reason.startswith("cannot return by shift end")
    assert "and unloading at 'F' is back at 15:23:50" in u.reason


def test_diagnose_route_duration_limit(tiny_city):
    """A point 10 km out needs 1000 + 60 + 700 + 900 + 300 = 2960 s with its unload; 40 min rule it out."""
    city = replace(tiny_city, vehicles=tuple(replace(v, max_duration_s=2400) for v in tiny_city.vehicles))
    far = CollectionPoint("far", *at(10, 0), stream=Stream.RESIDUAL, expected_kg=1, expected_l=1)
    [u] = diagnose(_problem(with_points(city, far)))
    assert "route duration limit" in u.reason
    assert "2960 s" in u.reason


def test_diagnose_window_reachable_by_waiting(tiny_city):
    """A late window is fine: the truck leaves later (or waits); nothing is ruled out."""
    noon = CollectionPoint(
        "noon",
        *at(1, 0),
        stream=Stream.RESIDUAL,
        expected_kg=1,
        expected_l=1,
        time_windows=(TimeWindow(hm(12), hm(12, 5)),),
    )
    city = replace(tiny_city, vehicles=tuple(replace(v, max_duration_s=2000) for v in tiny_city.vehicles))
    assert diagnose(_problem(with_points(city, noon))) == []


# --------------------------------------------------------------------------- unloading


def _kitchen(pid: str = "k1", x: float = 1, y: float = 1) -> CollectionPoint:
    return CollectionPoint(pid, *at(x, y), stream=Stream.KITCHEN, expected_kg=50, expected_l=100)


def test_problem_unloads_when_the_district_has_facilities(tiny_city):
    """unload defaults to 'the district has facilities'; sites mirror the facilities; it can be forced off."""
    p = _problem(tiny_city)
    assert p.unload is True
    assert p.sites == (FacilitySpec(loc=1, accepted_streams=frozenset({Stream.RESIDUAL}), bays=1),)
    assert [v.unload_at for v in p.vehicles] == [(1,), (1,)]
    assert p.allowed_vehicles[1] == (0, 1)
    m = matrices(tiny_city)
    off = build_problem(tiny_city, m.time_s, m.dist_m, unload=False)
    assert off.unload is False
    assert [v.unload_at for v in off.vehicles] == [(), ()]
    no_facility = replace(tiny_city, facilities=())
    assert _problem(no_facility).unload is False


def test_unload_rule_every_stream_carried(tiny_city):
    """A truck may unload only where every stream it carries (that occurs today) is accepted."""
    with_kitchen = with_points(tiny_city, _kitchen())
    city = replace(
        with_kitchen,
        vehicles=(
            replace(tiny_city.vehicles[0], streams={Stream.RESIDUAL, Stream.KITCHEN}),
            tiny_city.vehicles[1],
        ),
    )
    p = _problem(city)
    # truck-1 now carries residual + kitchen; F takes residual only
    assert p.vehicles[0].unload_at == ()
    assert p.vehicles[1].unload_at == (1,)
    assert p.carried_streams(0) == {Stream.RESIDUAL, Stream.KITCHEN}
    # on a day without kitchen points the same truck may use F again
    assert _problem(replace(city, points=tiny_city.points)).vehicles[0].unload_at == (1,)


def test_site_closed_during_the_shift_is_not_usable(tiny_city):
    """A facility open only before the shift starts is not in any vehicle's unload sites."""
    night = Facility(
        "N",
        "Night yard",
        FacilityKind.TRANSFER_STATION,
        *at(1, 0),
        {Stream.RESIDUAL},
        opening=TimeWindow(0, hm(5)),
    )
    p = _problem(replace(tiny_city, facilities=(*tiny_city.facilities, night)))
    assert [v.unload_at for v in p.vehicles] == [(1,), (1,)]
    assert p.allowed_vehicles[2] == ()


def test_facility_capacity_fields_are_scaled(tiny_city):
    """Tipping bays are kept, daily tonnage rounds down to whole kg, inf means unlimited (None)."""
    big = replace(tiny_city.facilities[0], tipping_bays=3, daily_capacity_kg=1234.9)
    p = _problem(replace(tiny_city, facilities=(big,)))
    assert (p.sites[0].bays, p.sites[0].daily_capacity_kg) == (3, 1234)


def test_vehicle_break_and_day_limits_are_scaled(tiny_city):
    """Break window and duration, day limits and max stops reach the VehicleSpec as integers."""
    v = replace(tiny_city.vehicles[0], max_route_kg=2500.7, max_route_l=9000.2, max_stops=40)
    p = _problem(replace(tiny_city, vehicles=(v, tiny_city.vehicles[1])))
    spec = p.vehicles[0]
    assert (spec.break_start_min_s, spec.break_start_max_s, spec.break_s) == (hm(11), hm(12), 3600)
    assert (spec.max_route_kg, spec.max_route_l, spec.max_stops) == (2500, 9000, 40)
    assert p.vehicles[1].max_route_kg is None
    no_break = _problem(
        replace(tiny_city, vehicles=tuple(replace(x, break_duration_s=0) for x in tiny_city.vehicles))
    )
    assert no_break.vehicles[0].break_s == 0


def test_routing_problem_rejects_bad_sites(tiny_city):
    """sites must follow the facilities; unload_at must name facilities."""
    p = _problem(tiny_city)
    with pytest.raises(ValidationError, match="sites"):
        replace(p, sites=(replace(p.sites[0], loc=0),))
    with pytest.raises(ValidationError, match="sites"):
        replace(p, sites=())
    with pytest.raises(ValidationError, match="unload_at"):
        replace(p, vehicles=(replace(p.vehicles[0], unload_at=(2,)), p.vehicles[1]))


def test_diagnose_stream_without_facility(tiny_city):
    """A kitchen point with a kitchen truck but no facility taking kitchen waste is ruled out, naming why."""
    truck = replace(tiny_city.vehicles[1], id="kit", streams={Stream.KITCHEN})
    city = replace(with_points(tiny_city, _kitchen()), vehicles=(*tiny_city.vehicles, truck))
    [u] = diagnose(_problem(city))
    assert u.point_id == "k1"
    assert u.reason == "no facility accepts stream 'kitchen'"


def test_diagnose_no_facility_takes_the_mixed_load(tiny_city):
    """Kitchen accepted somewhere, but its only truck also carries residual: no site takes both."""
    plant = Facility("K", "Kitchen plant", FacilityKind.KITCHEN_WASTE_PLANT, *at(0, 3), {Stream.KITCHEN})
    truck = replace(tiny_city.vehicles[1], id="mix", streams={Stream.KITCHEN, Stream.RESIDUAL})
    city = replace(
        with_points(tiny_city, _kitchen()),
        facilities=(*tiny_city.facilities, plant),
        vehicles=(*tiny_city.vehicles, truck),
    )
    [u] = diagnose(_problem(city))
    assert u.point_id == "k1"
    assert u.reason.startswith("no open facility accepts stream 'kitchen' for the vehicles that serve it")
    assert "'mix' carries kitchen, residual and no facility accepts all of them" in u.reason
    # residual points are still served by the other trucks: nothing else ruled out
    assert [x.point_id for x in diagnose(_problem(city))] == ["k1"]


def test_diagnose_demand_above_day_limit(tiny_city):
    """A 900 kg point fits the 1000 kg body but not a 500 kg day limit: ruled out by capacity."""
    city = replace(tiny_city, vehicles=tuple(replace(v, max_route_kg=500.0) for v in tiny_city.vehicles))
    heavy = CollectionPoint("heavy", *at(1, 1), stream=Stream.RESIDUAL, expected_kg=900, expected_l=10)
    [u] = diagnose(_problem(with_points(city, heavy)))
    assert "900 kg above every compatible vehicle's capacity (largest 500 kg)" in u.reason


def test_diagnose_unload_after_closing(tiny_city):
    """F closes at 08:00; a point served from 09:00 cannot be unloaded anywhere that day."""
    early_f = replace(tiny_city.facilities[0], opening=TimeWindow(hm(5), hm(8)))
    late = CollectionPoint(
        "late",
        *at(1, 1),
        stream=Stream.RESIDUAL,
        expected_kg=5,
        expected_l=5,
        time_windows=(TimeWindow(hm(9), hm(10)),),
    )
    city = with_points(replace(tiny_city, facilities=(early_f,)), late)
    [u] = diagnose(_problem(city))
    assert u.point_id == "late"
    assert u.reason.startswith("cannot unload: vehicle 'truck-1' serving at 09:00:00 reaches every facility")


def test_weights_scale_arc_and_duration_costs(tiny_city):
    """ObjectiveWeights multiply the per-km and per-hour parts; duration is charged per second."""
    p = _problem(tiny_city)
    assert arc_cost_matrix(p, 0, ObjectiveWeights(distance=2.0, travel_time=0.0))[0, 2] == 2000
    assert arc_cost_matrix(p, 0, ObjectiveWeights(distance=0.0, travel_time=1.0))[0, 2] == 1000
    assert duration_cost_per_s(p, 0, ObjectiveWeights(duration=1.0)) == 10  # 36 per hour = 0.01 per s
    assert duration_cost_per_s(p, 0) == 0


def test_warm_start_rejects_negative_penalty():
    """A WarmStart's change penalty is >= 0."""
    with pytest.raises(ValidationError, match="change_penalty"):
        WarmStart(((),), change_penalty=-1)
