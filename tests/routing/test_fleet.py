"""Fleet reduction: which route to empty, cheapest feasible reinsertion, shrinking a start, urgent seeds."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from core.domain import District, Stream, TimeWindow
from routing.construct import Construction, cluster_routes
from routing.fleet import plan_cost, reinsert, removal_order, shrink
from routing.model import ObjectiveWeights, arc_cost_matrix, build_problem
from routing.solve import SolveParams, solve
from tests.routing.helpers import FAST, hm, matrices


def _heavy(city: District, kg: float) -> District:
    return replace(city, points=tuple(replace(p, expected_kg=kg) for p in city.points))


def _problem(city: District):
    m = matrices(city)
    return build_problem(city, m.time_s, m.dist_m)


def _trip_loads(problem, route, f):
    """kg on board before each unload at ``f`` along ``route`` (location indices between the depots)."""
    loads, load = [], 0
    for loc in route:
        if loc == f:
            loads.append(load)
            load = 0
        else:
            load += problem.demand_kg[loc]
    assert load == 0, "the route must end with an unload"
    return loads


def test_removal_order_fewest_points_first_and_only_movable(tiny_city):
    """The smaller route comes first; a route whose point no other used vehicle may serve is not offered."""
    p = _problem(tiny_city)
    ix = p.index_of()
    f = ix["F"]
    routes = [(ix["p1"], ix["p2"], ix["p3"], f), (ix["p4"], ix["p5"], f)]
    assert removal_order(p, routes) == [1, 0]
    assert removal_order(p, [routes[0], ()]) == [], "one used vehicle: nothing to empty into"
    hazardous = replace(
        tiny_city,
        facilities=tuple(
            replace(fa, accepted_streams=frozenset({Stream.RESIDUAL, Stream.HAZARDOUS}))
            for fa in tiny_city.facilities
        ),
        points=tuple(replace(q, stream=Stream.HAZARDOUS) if q.id == "p5" else q for q in tiny_city.points),
    )
    ph = _problem(hazardous)
    assert ph.serving_vehicles(ix["p5"]) == (1,)
    assert removal_order(ph, routes) == [0], "only truck-2 may serve p5, so its route stays"


def test_reinsert_opens_a_second_trip_when_the_first_is_full(tiny_city):
    """300 kg points, 1000 kg trips: p4 and p5 join truck-1 after an extra unload, every point served."""
    p = _problem(_heavy(tiny_city, 300.0))
    ix = p.index_of()
    f = ix["F"]
    routes = [(ix["p1"], ix["p2"], ix["p3"], f), ()]
    c = reinsert(p, routes, [ix["p4"], ix["p5"]], copies={f: 4})
    assert c.unassigned == ()
    assert c.routes[1] == (), "no vehicle is added"
    route = c.routes[0]
    assert sorted(x for x in route if x != f) == sorted(ix[q] for q in ("p1", "p2", "p3", "p4", "p5"))
    loads = _trip_loads(p, route, f)
    assert len(loads) == 2
    assert max(loads) <= 1000


def test_reinsert_picks_the_cheapest_position(tiny_city):
    """p3 (1,2) goes between p2 (0,2) and p4 (2,2): zero detour on the grid, cheaper than anywhere else."""
    p = _problem(tiny_city)
    ix = p.index_of()
    f = ix["F"]
    c = reinsert(p, [(ix["p1"], ix["p2"], ix["p4"], ix["p5"], f), ()], [ix["p3"]])
    assert c.unassigned == ()
    assert c.routes[0] == (ix["p1"], ix["p2"], ix["p3"], ix["p4"], ix["p5"], f)


def test_reinsert_leaves_out_a_point_whose_window_cannot_be_met(tiny_city):
    """A window closing 05:00, before the shift starts (06:00): no position works, the point is reported."""
    early = replace(
        tiny_city,
        points=tuple(
            replace(q, time_windows=(TimeWindow(hm(4), hm(5)),)) if q.id == "p5" else q
            for q in tiny_city.points
        ),
    )
    p = build_problem(early, *(lambda m: (m.time_s, m.dist_m))(matrices(early)))
    ix = p.index_of()
    f = ix["F"]
    c = reinsert(p, [(ix["p1"], ix["p2"], ix["p3"], ix["p4"], f), ()], [ix["p5"]])
    assert c.unassigned == (ix["p5"],)
    assert ix["p5"] not in c.routes[0]


def test_reinsert_respects_the_shift_end(tiny_city):
    """A shift that ends 10 minutes after the start: a second point cannot be added to the route."""
    short = replace(
        tiny_city,
        vehicles=tuple(replace(v, shift=TimeWindow(hm(6), hm(6, 10))) for v in tiny_city.vehicles),
    )
    p = _problem(short)
    ix = p.index_of()
    f = ix["F"]
    # D-p1-F-D = 1 + 3 + 3 km = 700 s driving + 60 s service + 900 s unload > 600 s: even one does not fit.
    c = reinsert(p, [(ix["p1"], f), ()], [ix["p2"]])
    assert ix["p2"] in c.unassigned


def test_shrink_empties_the_smaller_route(tiny_city):
    """Two routes that one truck can drive: shrink leaves one route serving all five points."""
    p = _problem(tiny_city)
    ix = p.index_of()
    f = ix["F"]
    start = Construction(((ix["p1"], ix["p2"], f), (ix["p3"], ix["p4"], ix["p5"], f)), ())
    small = shrink(p, start)
    used = [r for r in small.routes if r]
    assert len(used) == 1
    assert sorted(x for x in used[0] if x != f) == sorted(ix[q] for q in ("p1", "p2", "p3", "p4", "p5"))
    assert plan_cost(p, small.routes, ObjectiveWeights()) < plan_cost(p, start.routes, ObjectiveWeights())


def test_plan_cost_is_fixed_costs_plus_arcs(tiny_city):
    """plan_cost of one route = weighted fixed cost + the arc cost matrix summed over its legs."""
    p = _problem(tiny_city)
    ix = p.index_of()
    route = (ix["p1"], ix["p2"], ix["F"])
    w = ObjectiveWeights(vehicles=2.0)
    c = arc_cost_matrix(p, 0, w)
    legs = [p.vehicles[0].start, *route, p.vehicles[0].end]
    expected = round(2.0 * p.vehicles[0].fixed_cost) + sum(int(c[a, b]) for a, b in pairwise(legs))
    assert plan_cost(p, [route, ()], w) == expected
    assert plan_cost(p, [(), ()], w) == 0


def test_urgent_seed_opens_a_route_with_the_earliest_deadline(tiny_city):
    """With urgent seeds the first route starts at the point whose window closes first (p4, 06:30)."""
    city = replace(
        tiny_city,
        points=tuple(
            replace(q, time_windows=(TimeWindow(hm(6), hm(6, 30)),)) if q.id == "p4" else q
            for q in tiny_city.points
        ),
    )
    p = _problem(city)
    ix = p.index_of()
    urgent = cluster_routes(p, list(p.points), urgent=True)
    first = next(r for r in urgent.routes if r)
    assert first[0] == ix["p4"]
    assert urgent.unassigned == ()
    plain = cluster_routes(p, list(p.points))
    assert next(r for r in plain.routes if r)[0] != ix["p4"], "angular seeding starts elsewhere"


# --------------------------------------------------------------------------- in the search


def test_reduce_fleet_is_validated():
    with pytest.raises(Exception, match="reduce_fleet"):
        SolveParams(reduce_fleet="sometimes")


@pytest.mark.parametrize("mode", ["never", "start", "always"])
def test_fleet_modes_serve_everything_with_one_truck(tiny_city, mode):
    """Every mode plans the tiny city with one truck (its optimum); the fleet phase never loses points."""
    p = _problem(_heavy(tiny_city, 300.0))
    r = solve(p, replace(FAST, reduce_fleet=mode))
    assert r.dropped == ()
    assert sum(1 for route in r.routes if len(route) > 2) == 1


def test_fleet_phase_is_never_worse_than_without(tiny_city):
    """The phase keeps a smaller fleet only when the objective improves."""
    p = _problem(_heavy(tiny_city, 300.0))
    never = solve(p, replace(FAST, reduce_fleet="never", metaheuristic="greedy_descent"))
    always = solve(p, replace(FAST, reduce_fleet="always", metaheuristic="greedy_descent"))
    assert always.objective <= never.objective
    assert len(always.dropped) <= len(never.dropped)


def test_reinsert_is_deterministic(tiny_city):
    p = _problem(_heavy(tiny_city, 300.0))
    ix = p.index_of()
    f = ix["F"]
    routes = [(ix["p1"], ix["p2"], ix["p3"], f), ()]
    a = reinsert(p, routes, [ix["p4"], ix["p5"]], copies={f: 4})
    b = reinsert(p, routes, [ix["p4"], ix["p5"]], copies={f: 4})
    assert a == b
    assert np.all(np.asarray(p.demand_kg)[[ix["p4"], ix["p5"]]] == 300)
