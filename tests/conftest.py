"""Shared session fixtures: the embedded Baltimore network and one small demo day.

``demo_run`` runs the whole spine once (60 points; the solve stops on a solution limit, so it is
repeatable) into a temporary
database and output folder; scheduler, API and format tests read what it wrote.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.roads import RoadNetwork
from core.settings import DEFAULT_OSM_FILE
from core.store import Store
from routing.solve import SolveParams
from scheduler.demo import DemoResult, run_demo


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Compile (or load from Numba's disk cache) the ruin-and-recreate kernels before any test.

    A first compile takes about 30 s; a solve with a short time limit must not spend it compiling.
    """
    from routing.rr_kernels import warm_up

    warm_up()


@pytest.fixture(scope="session")
def road_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh road-network cache folder for the session."""
    return tmp_path_factory.mktemp("road-cache")


@pytest.fixture(scope="session")
def baltimore(road_cache: Path) -> RoadNetwork:
    """The embedded default city's drive network (downtown Baltimore)."""
    return RoadNetwork.load(DEFAULT_OSM_FILE, road_cache)


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An SQLite file URL for the demo day."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'wastefleet.db'}"


@pytest.fixture(scope="session")
def demo_run(
    baltimore: RoadNetwork, road_cache: Path, demo_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> DemoResult:
    """One small demo day (seed 3, 60 points), stored and written to files.

    The fleet-reducing start variants stop on the clock, so a loaded machine can change the plan;
    ``reduce_fleet="never"`` and a solution limit keep this day the same on every run.
    """
    with Store.open(demo_db_url) as store:
        result = run_demo(
            osm_file=DEFAULT_OSM_FILE,
            cache_dir=road_cache,
            store=store,
            output_dir=tmp_path_factory.mktemp("out"),
            day=date(2026, 12, 1),
            params=SolveParams(time_limit_s=60.0, solution_limit=40, workers=1, reduce_fleet="never"),
            seed=3,
            n_points=60,
        )
    return result
