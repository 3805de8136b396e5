"""pytest-benchmark timings of street sweeping (``make bench``; not in ``testpaths``).

Segment extraction from the shipped Baltimore network, and the demo's core-area sweeping and
washing plans with a fixed solution limit (every round does the same search), verified
independently. Coverage and km swept/deadheaded go to ``extra_info``.

``test_sweeping_at_scale`` (issue #5) plans sweeping at the size of a real day with a 30 s time
limit and one worker, one round each: the 288 secondary passes of a 4 x 2.4 km box, and the
whole service area's main roads (1,543 passes) with the demo fleet (two day sweepers, one night
sweeper) and with fleets sized for it (three day and three or four night sweepers). Run it alone:
``pytest benchmarks/test_sweeping_benchmarks.py -k scale --benchmark-only
--benchmark-json=scale.json``; coverage, km swept/deadheaded, dumps and sweepers used are in
each benchmark's ``extra_info``.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
import shapely
from pytest_benchmark.fixture import BenchmarkFixture

from core.city import BALTIMORE_SERVICE_BOX, generate_district
from core.domain import District, VehicleKind
from core.roads import RoadNetwork
from core.settings import DEFAULT_OSM_FILE
from routing.solve import SolveParams
from routing.sweep_segments import ClassRule, StreetSegment, SweepRules, street_segments
from routing.sweeping import SweepResult, plan_sweeping
from scheduler.sweeping import StreetCleaning, demo_street_cleaning, plan_street_cleaning


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    return RoadNetwork.load(DEFAULT_OSM_FILE, Path(tmp_path_factory.mktemp("roads")))


def test_street_segments(benchmark: BenchmarkFixture, network: RoadNetwork) -> None:
    """Every street of the extract as segments between intersections."""
    segments: list[StreetSegment] = benchmark(street_segments, network)
    assert len(segments) > 1000
    benchmark.extra_info["segments"] = len(segments)


@pytest.mark.parametrize("activity", ["sweep", "wash"])
def test_core_area_plan(benchmark: BenchmarkFixture, network: RoadNetwork, activity: str) -> None:
    """The demo's core-area plan of one activity, solution-limited, verified."""
    district = generate_district(network, n_points=10, seed=3)
    full = demo_street_cleaning(SolveParams(time_limit_s=120.0, solution_limit=40, workers=1))
    cleaning = StreetCleaning({activity: full.activities[activity]}, full.params)
    segments = street_segments(network)

    def plan_once() -> SweepResult:
        return plan_street_cleaning(district, network, date(2026, 12, 7), cleaning, segments=segments)[
            activity
        ]

    result = benchmark.pedantic(plan_once, rounds=3, iterations=1, warmup_rounds=0)
    assert result.violations == ()
    plan = result.plan
    benchmark.extra_info.update(
        {
            "tasks": len(result.tasks),
            "coverage": round(plan.coverage(), 4),
            "swept_km": round(plan.swept_m / 1000, 2),
            "deadhead_km": round(plan.deadhead_m / 1000, 2),
            "solution_limit": 40,
        }
    )


_W, _S, _DX, _DY = BALTIMORE_SERVICE_BOX[0], BALTIMORE_SERVICE_BOX[1], 0.0793, 0.0479
SECONDARY_BOX = (_W + 0.1 * _DX, _S + 0.3 * _DY, _W + 0.6 * _DX, _S + 0.8 * _DY)
"""The box of issue #5's report: 288 secondary passes (both sides) on 2026-12-07."""


def _sized(district: District, day: int, night: int) -> District:
    """The district with ``day`` more copies of its first day sweeper and ``night`` of its night one."""
    sweepers = [v for v in district.vehicles if v.kind == VehicleKind.SWEEPER]
    day_one = next(v for v in sweepers if v.shift.start_s < 12 * 3600)
    night_one = next(v for v in sweepers if v.shift.start_s >= 12 * 3600)
    extra = [dataclasses.replace(day_one, id=f"SWD-X{i}") for i in range(day)]
    extra += [dataclasses.replace(night_one, id=f"SWN-X{i}") for i in range(night)]
    return dataclasses.replace(district, vehicles=district.vehicles + tuple(extra))


@pytest.mark.parametrize(
    ("case", "more_day", "more_night"),
    [("secondary", 0, 0), ("area-demo-fleet", 0, 0), ("area-6", 1, 2), ("area-7", 1, 3)],
)
def test_sweeping_at_scale(
    benchmark: BenchmarkFixture, network: RoadNetwork, case: str, more_day: int, more_night: int
) -> None:
    """A real day's sweeping at 30 s, verified (arc solution and drivable plan); figures printed."""
    district = _sized(generate_district(network, n_points=60, seed=3), more_day, more_night)
    if case == "secondary":
        rules = SweepRules({"secondary": ClassRule()}, area=shapely.box(*SECONDARY_BOX))
    else:
        rules = demo_street_cleaning(SolveParams(), BALTIMORE_SERVICE_BOX).activities["sweep"]
    segments = street_segments(network)
    params = SolveParams(time_limit_s=30.0, workers=1)

    def plan_once() -> SweepResult:
        return plan_sweeping(district, network, date(2026, 12, 7), rules, "sweep", params, segments=segments)

    result = benchmark.pedantic(plan_once, rounds=1, iterations=1, warmup_rounds=0)
    assert result.violations == ()
    plan = result.plan
    info = {
        "tasks": len(result.tasks),
        "coverage": round(plan.coverage(), 4),
        "swept_km": round(plan.swept_m / 1000, 1),
        "deadhead_km": round(plan.deadhead_m / 1000, 1),
        "dumps": sum(r.dumps for r in plan.routes),
        "sweepers_used": len(plan.routes),
        "sweepers": sum(1 for v in district.vehicles if v.kind == VehicleKind.SWEEPER),
    }
    benchmark.extra_info.update(info)
