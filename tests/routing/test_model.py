"""Tests of routing.model: location order, scaling, validation and the pre-solve diagnosis."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.domain import CollectionPoint, Stream, TimeWindow
from core.errors import ValidationError
from routing.model import (
    COST_SCALE,
    UNREACHABLE_S,
    LocationKind,
    RoutingProblem,
    arc_cost_matrix,
    build_problem,
    diagnose,
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
    """Serving at 14:59:30 + 60 s + 100 s back ends after the 15:00 shift end."""
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
    assert "back at 15:02:10" in u.reason


def test_diagnose_route_duration_limit(tiny_city):
    """A point 10 km out needs 2060 s alone; a 30 min route limit rules it out."""
    city = replace(tiny_city, vehicles=tuple(replace(v, max_duration_s=1800) for v in tiny_city.vehicles))
    far = CollectionPoint("far", *at(10, 0), stream=Stream.RESIDUAL, expected_kg=1, expected_l=1)
    [u] = diagnose(_problem(with_points(city, far)))
    assert "route duration limit" in u.reason
    assert "2060 s" in u.reason


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
    city = replace(tiny_city, vehicles=tuple(replace(v, max_duration_s=900) for v in tiny_city.vehicles))
    assert diagnose(_problem(with_points(city, noon))) == []
