"""The SISR start (routing.rr_start) through the normal solve -> plan -> verify path, and its subset."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from core.domain import CollectionPoint, Depot, District, Stream, TimeWindow, Vehicle, VehicleKind
from core.errors import ValidationError
from routing import rr_start
from routing.model import ObjectiveWeights, build_problem
from routing.solve import SolveParams
from tests.routing.helpers import FAST, at, hm, matrices, plan_for, sisr_plan

PARAMS = replace(FAST, solution_limit=20)
"""Deterministic: the SISR start stops after its iteration count, OR-Tools on its solution limit."""


def _district(seed: int, n_points: int = 24) -> District:
    """Two depots, two streams, one window per point (some none), a mixed fleet without breaks."""
    rng = np.random.default_rng(seed)
    depots = (Depot("d0", "north", *at(2.0, 8.0)), Depot("d1", "south", *at(8.0, 2.0)))
    points = []
    for i in range(n_points):
        x, y = rng.uniform(0, 10, size=2)
        start = hm(7) + int(rng.integers(0, 5)) * 1800
        wins = () if i % 4 == 0 else (TimeWindow(start, start + int(rng.integers(2, 6)) * 1800),)
        points.append(
            CollectionPoint(
                id=f"p{i:02d}",
                lat=at(x, y)[0],
                lon=at(x, y)[1],
                stream=Stream.RESIDUAL if i % 3 else Stream.RECYCLABLES,
                expected_kg=float(rng.integers(50, 300)),
                expected_l=float(rng.integers(100, 600)),
                service_s=int(rng.integers(60, 400)),
                time_windows=wins,
            )
        )
    both = frozenset({Stream.RESIDUAL, Stream.RECYCLABLES})
    vehicles = tuple(
        Vehicle(
            id=f"v{k}",
            kind=VehicleKind.COLLECTION_TRUCK,
            depot_id=f"d{k % 2}",
            streams=both if k % 3 else frozenset({Stream.RESIDUAL}),
            capacity_kg=1200.0 + 300 * k,
            capacity_l=2500.0 + 500 * (k % 2),
            shift=TimeWindow(hm(6) + 1800 * (k % 2), hm(15) - 1800 * (k % 3)),
            break_duration_s=0,
            max_duration_s=hm(6) if k == 1 else None,
            fixed_cost=100.0 + 20 * k,
            max_stops=9 if k == 2 else None,
        )
        for k in range(6)
    )
    return District("rr", "UTC", depots, (), tuple(points), vehicles)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solve_with_the_sisr_start_gives_verified_plans(seed: int, caplog: pytest.LogCaptureFixture) -> None:
    sisr_plan(_district(seed), replace(PARAMS, seed=seed), caplog)


def test_solution_limited_solve_is_deterministic() -> None:
    """The SISR start stops on its iteration count and OR-Tools on its solution limit: same plan twice."""
    city = _district(3)
    one = plan_for(city, PARAMS, metric="euclidean").assignment
    two = plan_for(city, PARAMS, metric="euclidean").assignment
    assert one.routes == two.routes
    assert one.objective == two.objective


def _problem(city: District):  # type: ignore[no-untyped-def]
    m = matrices(city, "euclidean")
    return build_problem(city, m.time_s, m.dist_m)


def test_construct_is_deterministic_and_respects_licences() -> None:
    problem = _problem(_district(4))
    kept = list(problem.points)
    one = rr_start.construct(problem, kept, PARAMS, math.inf, max_iterations=300)
    two = rr_start.construct(problem, kept, PARAMS, math.inf, max_iterations=300)
    assert one == two
    assert sorted([p for r in one.routes for p in r] + list(one.unassigned)) == kept
    for k, route in enumerate(one.routes):
        assert all(k in problem.serving_vehicles(p) for p in route)


def test_applies_only_to_the_supported_subset() -> None:
    city = _district(0)
    problem = _problem(city)
    assert rr_start.applies(problem, PARAMS)
    assert not rr_start.applies(problem, replace(PARAMS, weights=ObjectiveWeights(duration=1.0)))
    with_break = replace(city, vehicles=tuple(replace(v, break_duration_s=1800) for v in city.vehicles))
    assert not rr_start.applies(_problem(with_break), PARAMS)
    p0 = city.points[1]
    two_windows = replace(p0, time_windows=(TimeWindow(hm(7), hm(8)), TimeWindow(hm(10), hm(11))))
    assert not rr_start.applies(_problem(replace(city, points=(two_windows, *city.points[2:]))), PARAMS)
    optional = replace(p0, penalty=50.0)
    assert not rr_start.applies(_problem(replace(city, points=(optional, *city.points[2:]))), PARAMS)
    rates = replace(city, vehicles=(replace(city.vehicles[0], cost_per_km=2.0), *city.vehicles[1:]))
    assert not rr_start.applies(_problem(rates), PARAMS)


def test_seed_is_validated_and_differs_per_worker() -> None:
    with pytest.raises(ValidationError):
        SolveParams(seed=-1)
    problem = _problem(_district(0))
    assert [c.seed for c in SolveParams(seed=5, workers=2).portfolio(problem)] == [5, 6]


def test_merged_points_under_a_stop_limit_are_not_for_the_kernels(tiny_city):
    """The kernels count one stop per point: a merged point that counts as three keeps them out."""
    m = matrices(tiny_city)
    plain = build_problem(tiny_city, m.time_s, m.dist_m, unload=False)
    plain = replace(plain, vehicles=tuple(replace(v, break_s=0) for v in plain.vehicles))
    assert rr_start.applies(plain, SolveParams())
    limited = replace(plain, vehicles=tuple(replace(v, max_stops=10) for v in plain.vehicles))
    assert rr_start.applies(limited, SolveParams())
    weights = tuple(
        3 if loc == plain.points.start else limited.stops_at(loc) for loc in range(len(plain.locations))
    )
    assert not rr_start.applies(replace(limited, stops=weights), SolveParams())
