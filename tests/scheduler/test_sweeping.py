"""Street cleaning glue: stored sweeping plans drive the GPS coverage check; the demo plans sweeping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pytest

from core.domain import District, Plan
from core.store import Store
from core.sweep_plan import SweepingPlan
from routing.solve import SolveParams
from routing.sweep_segments import ClassRule, Sides, SweepRules
from routing.sweeping import plan_sweeping
from scheduler.demo import DemoResult
from scheduler.pipeline import police_day
from scheduler.sweeping import as_route, stored_sweep_plans, sweep_paths
from telematics.simulate import SimulatedTrack, simulate_plan
from tests.routing.sweep_grid import grid_district, grid_network

DAY = date(2026, 12, 1)
RULES = SweepRules(
    {"primary": ClassRule(), "secondary": ClassRule(), "tertiary": ClassRule(sides=Sides.EITHER)}
)


def _brooms(track: SimulatedTrack, intervals: list[tuple[int, int]]) -> SimulatedTrack:
    """The track with brooms down inside ``intervals`` (s since midnight = UTC here) and up elsewhere."""
    down = np.zeros(len(track))
    for a, b in intervals:
        down[(track.ts_utc >= a) & (track.ts_utc <= b)] = 1.0
    return replace(track, brooms_down=down)


@dataclass(frozen=True)
class Stored:
    store: Store
    plan_id: int
    plan: SweepingPlan
    district: District


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    """A grid sweeping plan saved in a fresh store."""
    district = grid_district()
    params = SolveParams(time_limit_s=20, solution_limit=60, workers=1)
    plan = plan_sweeping(district, grid_network(), DAY, RULES, "sweep", params).plan
    with Store.open(f"sqlite:///{tmp_path_factory.mktemp('sweep') / 's.db'}") as store:
        yield Stored(store, store.save_sweep_plan(plan), plan, district)


def test_stored_plan_gives_one_checker_plan_per_sweeper(stored: Stored) -> None:
    """The checker plans hold exactly the planned passes, in their direction, at their length."""
    store, plan_id, plan = stored.store, stored.plan_id, stored.plan
    plans = stored_sweep_plans(store, plan_id)
    assert set(plans) == {r.vehicle_id for r in plan.routes}
    for vid, sp in plans.items():
        route = next(r for r in plan.routes if r.vehicle_id == vid)
        assert sp.planned_m == pytest.approx(route.swept_m, rel=0.01)
        assert len(sweep_paths(store.sweep_passes(plan_id))[vid]) == len(route.services)


def test_stored_plan_drives_gps_coverage(stored: Stored) -> None:
    """A sweeper driving its stored plan with brooms down is covered; lifting them on one pass loses it."""
    store, plan_id, route, district = stored.store, stored.plan_id, stored.plan.routes[0], stored.district
    day_plan = Plan(district.name, DAY, (as_route(route, district.depots[0]),))
    sim = simulate_plan(day_plan, day_start_utc=0.0, interval_s=1.0, noise_m=(2.0, 3.0), seed=4)
    track = sim.tracks[route.vehicle_id]
    sweeps = sweep_paths(store.sweep_passes(plan_id, route.vehicle_id))
    services = list(route.services)
    full = _brooms(track, [(v.start_s, v.end_s) for v in services])
    empty_plan = Plan(district.name, DAY, ())
    result = police_day(empty_plan, {route.vehicle_id: full}, sweeps=sweeps)[route.vehicle_id]
    assert result.coverage is not None
    assert result.coverage > 0.9
    assert not result.alerts
    skipped = services[len(services) // 2]
    partial = _brooms(track, [(v.start_s, v.end_s) for v in services if v is not skipped])
    result2 = police_day(empty_plan, {route.vehicle_id: partial}, sweeps=sweeps)[route.vehicle_id]
    assert result2.coverage is not None
    share = skipped.length_m / route.swept_m
    assert result.coverage - result2.coverage == pytest.approx(share, abs=0.03)
    brooms_up = _brooms(track, [])
    result3 = police_day(empty_plan, {route.vehicle_id: brooms_up}, sweeps=sweeps)[route.vehicle_id]
    assert result3.coverage == 0.0
    assert [a.type.value for a in result3.alerts] == ["coverage_shortfall"]


@pytest.mark.slow
def test_demo_plans_stores_and_draws_street_cleaning(demo_run: DemoResult, demo_db_url: str) -> None:
    """The demo sweeps and washes the core area, stores both plans and writes sweeping.geojson."""
    assert set(demo_run.cleaning) == {"sweep", "wash"}
    for activity, result in demo_run.cleaning.items():
        plan = result.plan
        assert plan.activity == activity
        assert result.violations == ()
        assert len(result.tasks) > 20
        assert plan.coverage() >= 0.8
        night = [v for r in plan.routes for v in r.services if v.highway == "primary" and activity == "sweep"]
        assert all(22 * 3600 <= v.start_s <= 30 * 3600 for v in night)
    with Store.open(demo_db_url) as store:
        for activity, plan_id in demo_run.sweep_plan_ids.items():
            assert store.get_sweep_plan(plan_id) == demo_run.cleaning[activity].plan
    geo = json.loads(demo_run.files["sweeping"].read_text())
    kinds = {f["properties"]["kind"] for f in geo["features"]}
    assert {"swept", "deadhead", "dump", "refill"} <= kinds
    assert set(geo["properties"]) == {"sweep", "wash"}


@pytest.mark.slow
def test_demo_sweeper_driving_its_stored_plan_is_covered(demo_run: DemoResult, demo_db_url: str) -> None:
    """On the Baltimore demo, each sweeper simulated along its stored plan (breaks included) is covered."""
    plan = demo_run.cleaning["sweep"].plan
    depot = demo_run.district.depots[0]
    with Store.open(demo_db_url) as store:
        sweeps = sweep_paths(store.sweep_passes(demo_run.sweep_plan_ids["sweep"]))
    assert set(sweeps) == {r.vehicle_id for r in plan.routes}
    for route in plan.routes:
        day_plan = Plan(plan.district, plan.day, (as_route(route, depot),))
        sim = simulate_plan(day_plan, day_start_utc=0.0, interval_s=2.0, noise_m=(3.0, 6.0), seed=1)
        track = _brooms(sim.tracks[route.vehicle_id], [(v.start_s, v.end_s) for v in route.services])
        result = police_day(Plan(plan.district, plan.day, ()), {route.vehicle_id: track}, sweeps=sweeps)
        coverage = result[route.vehicle_id].coverage
        assert coverage is not None
        assert coverage > 0.9
