"""The end-to-end spine on the real Baltimore network: plan, simulate, police, store, write."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

import numpy as np
import pytest

from core.city import generate_district
from core.domain import AlertType
from core.geojson import day_start_utc
from core.roads import RoadNetwork
from core.store import Store
from routing.solve import SolveParams
from scheduler.demo import DemoResult
from scheduler.pipeline import plan_day, police_tracks
from telematics.scenarios import plan_detour
from telematics.simulate import simulate_plan

pytestmark = pytest.mark.slow


def test_every_point_is_served_once_or_explained(demo_run: DemoResult) -> None:
    """Each collection point appears exactly once in the plan or in the unserved list with a reason."""
    plan = demo_run.planned.plan
    served = Counter(s.ref_id for r in plan.routes for s in r.collections)
    assert all(n == 1 for n in served.values())
    unserved = {u.point_id: u.reason for u in plan.unserved}
    assert all(reason for reason in unserved.values())
    assert set(served) | set(unserved) == {p.id for p in demo_run.district.points}
    assert not set(served) & set(unserved)


def test_plan_passes_the_independent_verifier(demo_run: DemoResult) -> None:
    """The demo plan has zero violations when re-checked from the matrices."""
    assert demo_run.planned.violations == ()
    assert len(demo_run.planned.plan.routes) >= 2


def test_legs_follow_the_road_network(demo_run: DemoResult) -> None:
    """Every leg has road geometry that starts and ends within 1 m of its snapped road nodes."""
    m = demo_run.planned.matrices
    for route in demo_run.planned.plan.routes:
        for prev, stop in zip(route.stops, route.stops[1:], strict=False):
            assert len(stop.leg_coords) >= 1
            a = m.nodes[m.index_of[prev.ref_id]]
            b = m.nodes[m.index_of[stop.ref_id]]
            assert stop.leg_distance_m == pytest.approx(
                m.dist_m[m.index_of[prev.ref_id], m.index_of[stop.ref_id]]
            )
            assert a >= 0
            assert b >= 0


def test_injected_detour_is_flagged_and_nothing_else(demo_run: DemoResult) -> None:
    """Exactly one detour alert, on the labelled vehicle, overlapping the labelled interval.

    The detour makes its truck late for later stops, so late_stop alerts on that
    truck after the detour began are consequences, not false alarms; nothing else
    may be raised.
    """
    labels = demo_run.simulated.labels
    assert len(labels) == 1
    label = labels[0]
    detours = [a for a in demo_run.alerts if a.type == AlertType.DETOUR]
    assert len(detours) == 1
    alert = detours[0]
    assert alert.vehicle_id == label["vehicle_id"]
    assert alert.start_utc <= label["end_utc"]
    assert alert.end_utc >= label["start_utc"]
    assert alert.measured["max_distance_m"] > 50.0
    for other in demo_run.alerts:
        if other is not alert:
            assert other.type == AlertType.LATE_STOP
            assert other.vehicle_id == label["vehicle_id"]
            assert other.start_utc >= label["start_utc"]


def test_demo_stores_plan_positions_and_alerts(demo_run: DemoResult, demo_db_url: str) -> None:
    """The database holds the plan, every simulated fix and the alert; policing again adds nothing."""
    with Store.open(demo_db_url) as store:
        found = store.latest_plan()
        assert found is not None
        plan_id, plan = found
        assert plan_id == demo_run.plan_id
        assert plan == demo_run.planned.plan
        fixes = sum(len(t) for t in demo_run.simulated.tracks.values())
        assert store.count_positions() == fixes == demo_run.positions_stored
        assert [a for _, a in store.list_alerts()] == list(demo_run.alerts)
        again = police_tracks(plan, demo_run.simulated.tracks)
        assert store.save_alerts(again) == 0
        assert store.get_district(demo_run.district.name) == demo_run.district


def test_demo_writes_map_geojson_and_alerts(demo_run: DemoResult) -> None:
    """The output folder holds a PNG map, the plan GeoJSON and the alerts JSON, consistent with the plan."""
    files = demo_run.files
    assert files["map"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert files["map"].stat().st_size > 50_000
    geo = json.loads(files["plan"].read_text())
    kinds = Counter(f["properties"]["kind"] for f in geo["features"])
    plan = demo_run.planned.plan
    assert kinds["route"] == len(plan.routes)
    assert kinds["stop"] == sum(len(r.collections) + len(r.unloads) for r in plan.routes)
    stop_types = Counter(
        f["properties"]["stop_type"] for f in geo["features"] if f["properties"]["kind"] == "stop"
    )
    assert stop_types["collection"] == sum(len(r.collections) for r in plan.routes)
    assert stop_types["unload"] == sum(len(r.unloads) for r in plan.routes) > 0
    assert kinds["facility"] == len(demo_run.district.facilities) + len(demo_run.district.depots)
    alerts = json.loads(files["alerts"].read_text())["alerts"]
    assert [a["type"] for a in alerts] == [a.type.value for a in demo_run.alerts]
    assert alerts.count(next(a for a in alerts if a["type"] == "detour")) == 1
    assert all(a["start"].endswith("Z") and a["evidence"]["type"] == "FeatureCollection" for a in alerts)


@pytest.mark.parametrize("seed", [0, 8, 9, 11])
def test_detour_found_and_no_false_alarm_across_seeds(baltimore: RoadNetwork, seed: int) -> None:
    """On other districts and detours, the one injected detour is flagged and no other alert is raised."""
    district = generate_district(baltimore, n_points=40, seed=seed)
    planned = plan_day(
        district, baltimore, date(2026, 12, 2), SolveParams(time_limit_s=60, solution_limit=30, workers=1)
    )
    assert planned.violations == ()
    detour = plan_detour(planned.plan, baltimore, np.random.default_rng(seed))
    assert detour is not None
    sim = simulate_plan(
        planned.plan,
        day_start_utc=day_start_utc(planned.plan.day, district.timezone),
        seed=seed,
        detours=[detour],
    )
    alerts = police_tracks(planned.plan, sim.tracks)
    assert {a.vehicle_id for a in alerts} == {detour.vehicle_id}
    detours = [a for a in alerts if a.type == AlertType.DETOUR]
    assert len(detours) == 1
    label = sim.labels[0]
    assert detours[0].start_utc <= label["end_utc"]
    assert detours[0].end_utc >= label["start_utc"]
    assert all(a.type == AlertType.LATE_STOP for a in alerts if a is not detours[0])
    clean = simulate_plan(planned.plan, day_start_utc=0.0, seed=seed)
    assert police_tracks(planned.plan, clean.tracks) == []


def test_police_command_on_the_demo_files_finds_the_demo_alerts(
    demo_run: DemoResult, capsys: pytest.CaptureFixture[str]
) -> None:
    """`wastefleet police` on the demo's own plan.geojson and positions.csv finds the same alerts.

    The CSV carries no bin-lift counter, so the files are policed by dwell alone; the
    demo's alerts (a detour and the late stops it causes) must all come back.
    """
    from api.cli import main

    files = demo_run.files
    assert (
        main(["police", "--plan", str(files["plan"]), "--positions", str(files["positions"]), "--json"]) == 0
    )
    got = json.loads(capsys.readouterr().out)["alerts"]
    found = {(a["type"], a["vehicle_id"], a["start"]) for a in got}
    want = {(a.type.value, a.vehicle_id, iso_utc_of(a.start_utc)) for a in demo_run.alerts}
    assert want
    assert want <= found, f"missing {want - found}; police found {found}"


def iso_utc_of(ts: float) -> str:
    """ISO 8601 UTC of epoch seconds, as the police output writes it."""
    from core.geojson import iso_utc

    return iso_utc(datetime.fromtimestamp(ts, UTC))
