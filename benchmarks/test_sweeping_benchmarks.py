"""pytest-benchmark timings of street sweeping (``make bench``; not in ``testpaths``).

Segment extraction from the shipped Baltimore network, and the demo's core-area sweeping and
washing plans with a fixed solution limit (every round does the same search), verified
independently. Coverage and km swept/deadheaded go to ``extra_info``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from core.city import generate_district
from core.roads import RoadNetwork
from core.settings import DEFAULT_OSM_FILE
from routing.solve import SolveParams
from routing.sweep_segments import StreetSegment, street_segments
from routing.sweeping import SweepResult
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
