"""``wastefleet police``: a plan round-trips through PLAN.geojson + POSITIONS.csv to the same alerts.

Labelled simulated days (telematics.scenarios) are policed twice: directly
(scheduler.pipeline.police_tracks on the Plan object and the simulated tracks)
and through the interchange files (our export, then the reader, POSITIONS.csv,
then scheduler.police). The alerts must be the same, measured values included.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import telematics.enforcement
from api.cli import main
from core.domain import (
    Alert,
    AlertType,
    Depot,
    District,
    Facility,
    FacilityKind,
    Plan,
    Position,
    StopKind,
    Stream,
    Vehicle,
    VehicleKind,
)
from core.enforcement import Permit, SiteKind
from core.enforcement_io import tickets_to_csv, to_geojson
from core.geojson import plan_to_geojson
from core.plan_reader import plan_from_geojson
from core.roads import RoadNetwork
from scheduler.pipeline import police_tracks
from scheduler.police import EnforcementInputs, alerts_document, police_interchange
from telematics.enforcement import police_enforcement
from telematics.enforcement_sim import HaulerDay, build_hauler_day
from telematics.positions_csv import read_positions_csv, write_positions_csv
from telematics.scenarios import DISTRICT_TZ, SWEEPER_ID, Scenario, build_scenario
from telematics.simulate import to_positions

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def district_of(plan: Plan) -> District:
    """The district a quick plan was made for: its depot, transfer station and trucks."""
    first = plan.routes[0].stops
    unload = next(s for s in first if s.kind == StopKind.UNLOAD)
    return District(
        plan.district,
        DISTRICT_TZ,
        (Depot("D1", "Depot", first[0].lat, first[0].lon),),
        (
            Facility(
                "F1",
                "TS",
                FacilityKind.TRANSFER_STATION,
                unload.lat,
                unload.lon,
                frozenset({Stream.RESIDUAL}),
            ),
        ),
        (),
        tuple(
            Vehicle(
                r.vehicle_id, VehicleKind.COLLECTION_TRUCK, "D1", frozenset({Stream.RESIDUAL}), 9000, 60000
            )
            for r in plan.routes
        ),
    )


def write_files(sc: Scenario, folder: Path) -> tuple[Path, Path]:
    """PLAN.geojson (our export) and POSITIONS.csv (the simulated trucks) of a scenario."""
    plan_path = folder / "plan.geojson"
    plan_path.write_text(json.dumps(plan_to_geojson(sc.plan, district_of(sc.plan))))
    fixes = [p for p in to_positions(sc.sim) if p.device_id != SWEEPER_ID]
    return plan_path, write_positions_csv(fixes, folder / "positions.csv")


def direct_alerts(sc: Scenario) -> list[Alert]:
    """The trucks' alerts from the plan object itself, from what POSITIONS.csv carries (no lift counter)."""
    tracks = {k: dataclasses.replace(v, bin_lifts=None) for k, v in sc.sim.tracks.items() if k != SWEEPER_ID}
    return police_tracks(sc.plan, tracks, day_start_utc=sc.day_start_utc)


def _comparable(a: Alert) -> tuple[Any, ...]:
    return (
        a.key,
        a.type,
        a.vehicle_id,
        a.start_utc,
        a.end_utc,
        a.lat,
        a.lon,
        a.stop_id,
        sorted(a.measured.items()),
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_plan_round_trips_through_the_interchange_files(
    baltimore: RoadNetwork, tmp_path: Path, seed: int
) -> None:
    """Export -> files -> police gives exactly the alerts of policing the plan directly."""
    sc = build_scenario(baltimore, seed, day=date(2026, 12, 1))
    plan_path, positions_path = write_files(sc, tmp_path)
    ip = plan_from_geojson(json.loads(plan_path.read_text()))
    fixes = read_positions_csv(positions_path)
    assert ip.rejected == ()
    assert fixes.issues == []
    via_files = police_interchange(ip, fixes.positions)
    direct = direct_alerts(sc)
    assert direct, "the labelled day should raise alerts"
    assert sorted(map(_comparable, via_files)) == sorted(map(_comparable, direct))


def test_cli_police_json_is_the_documented_shape(
    baltimore: RoadNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints exactly {"alerts": [...]} with the named fields and ISO 8601 UTC times."""
    sc = build_scenario(baltimore, 1, day=date(2026, 12, 1))
    plan_path, positions_path = write_files(sc, tmp_path)
    assert main(["police", "--plan", str(plan_path), "--positions", str(positions_path), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert list(body) == ["alerts"]
    assert len(body["alerts"]) == len(direct_alerts(sc))
    for entry in body["alerts"]:
        assert {"type", "vehicle_id", "start", "end", "lat", "lon", "stop_id", "confidence"} <= set(entry)
        assert AlertType(entry["type"])
        assert ISO_Z.match(entry["start"])
        assert ISO_Z.match(entry["end"])
        assert 0.0 <= entry["confidence"] <= 1.0


def test_cli_police_reports_bad_lines_and_still_polices(
    baltimore: RoadNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken line in POSITIONS.csv is named on stderr; the good lines still give the same alerts."""
    sc = build_scenario(baltimore, 2, day=date(2026, 12, 1))
    plan_path, positions_path = write_files(sc, tmp_path)
    lines = positions_path.read_text().splitlines()
    lines.insert(5, "T1,2026-12-01T12:00:00Z,not-a-lat,-76.6,1,,5,,")
    positions_path.write_text("\n".join(lines) + "\n")
    assert main(["police", "--plan", str(plan_path), "--positions", str(positions_path), "--json"]) == 0
    captured = capsys.readouterr()
    assert "line 6: field 'lat'" in captured.err
    assert len(json.loads(captured.out)["alerts"]) == len(direct_alerts(sc))
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("id,time,lat,lon\n")
    assert main(["police", "--plan", str(plan_path), "--positions", str(bad_header)]) == 2
    assert "header" in capsys.readouterr().out


def test_enforcement_checks_get_the_plan_facilities_as_sites(
    baltimore: RoadNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a permit given, police_enforcement runs on every track with the facilities as approved sites."""
    sc = build_scenario(baltimore, 0, day=date(2026, 12, 1))
    plan_path, positions_path = write_files(sc, tmp_path)
    ip = plan_from_geojson(json.loads(plan_path.read_text()))
    fixes = read_positions_csv(positions_path).positions
    seen: dict[str, Any] = {}
    extra = Alert(
        AlertType.ILLEGAL_DUMP, "T1", 1.0e9, 1.0e9 + 300, 39.29, -76.61, confidence=0.9, signals=("x",)
    )

    def fake(tracks: Any, **kw: Any) -> list[Alert]:
        seen.update(kw, tracks=tracks)
        return [extra]

    monkeypatch.setattr(telematics.enforcement, "police_enforcement", fake)
    permit = Permit("PM1", "T1", date(2026, 12, 1), date(2026, 12, 1), (), ("F1",))
    without = police_interchange(ip, fixes)
    assert not seen  # no enforcement records: the enforcement checks do not run
    alerts = police_interchange(ip, fixes, EnforcementInputs(permits=(permit,)))
    assert sorted(seen["tracks"]) == sorted(r.vehicle_id for r in sc.plan.routes)
    sites = {s.id: (s.kind, s.approved_for_disposal) for s in seen["sites"]}
    assert sites.pop("D1") == (SiteKind.DEPOT, False)
    assert sites.pop("F1") == (SiteKind.TRANSFER_STATION, True)
    collected = {s.ref_id for r in sc.plan.routes for s in r.collections}
    assert sites == dict.fromkeys(collected, (SiteKind.COLLECTION_POINT, False))
    assert seen["permits"] == (permit,)
    assert seen["day"] == date(2026, 12, 1)
    assert seen["timezone"] == DISTRICT_TZ
    assert len(alerts) == len(without) + 1
    doc = alerts_document([extra])
    assert doc["alerts"][0]["confidence"] == 0.9
    assert doc["alerts"][0]["signals"] == ["x"]


def hauler_files(hd: HaulerDay, folder: Path) -> dict[str, Path]:
    """A labelled hauler night as interchange files: a plan with one idle truck, positions, records."""
    line = [[s.centre[1], s.centre[0]] for s in hd.sites[:2]]
    plan = {
        "type": "FeatureCollection",
        "properties": {"district": "night", "day": hd.day.isoformat(), "timezone": hd.timezone},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {"kind": "route", "vehicle_id": "IDLE", "vehicle_kind": "collection_truck"},
            },
        ],
    }
    fixes = []
    for vid, tr in hd.tracks.items():
        for k in range(len(tr)):
            tip = tr.body_tipping[k]
            fixes.append(
                Position(
                    vid,
                    float(tr.ts_utc[k]),
                    float(tr.lat[k]),
                    float(tr.lon[k]),
                    speed_mps=None if math.isnan(tr.speed_mps[k]) else float(tr.speed_mps[k]),
                    load_kg=None if math.isnan(tr.load_kg[k]) else float(tr.load_kg[k]),
                    body_tipping=None if math.isnan(tip) else bool(tip),
                )
            )
    paths = {
        "plan": folder / "plan.geojson",
        "positions": write_positions_csv(fixes, folder / "positions.csv"),
        "sites": folder / "sites.geojson",
        "zones": folder / "zones.geojson",
        "permits": folder / "permits.geojson",
        "tickets": folder / "tickets.csv",
    }
    paths["plan"].write_text(json.dumps(plan))
    paths["sites"].write_text(json.dumps(to_geojson(hd.sites)))
    paths["zones"].write_text(json.dumps(to_geojson(hd.zones)))
    paths["permits"].write_text(json.dumps(to_geojson(hd.permits)))
    paths["tickets"].write_text(tickets_to_csv(hd.tickets))
    return paths


@pytest.mark.parametrize("seed", [0, 1])
def test_hauler_night_through_the_files_gives_the_enforcement_alerts(
    baltimore: RoadNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    """police with --sites/--zones/--permits/--tickets prints exactly what police_enforcement finds."""
    hd = build_hauler_day(baltimore, seed)
    paths = hauler_files(hd, tmp_path)
    args = ["police", "--json", *(x for k, p in paths.items() for x in (f"--{k}", str(p)))]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # every record and line accepted
    got = json.loads(captured.out)["alerts"]
    direct = police_enforcement(
        hd.tracks,
        sites=hd.sites,
        zones=hd.zones,
        permits=hd.permits,
        tickets=hd.tickets,
        day=hd.day,
        timezone=hd.timezone,
        vehicle_kinds=hd.kinds,
    )
    assert direct
    assert {AlertType.ILLEGAL_DUMP, AlertType.WEIGHT_DISCREPANCY} <= {a.type for a in direct}
    # The haulers have no plan route, so only the enforcement checks see them. POSITIONS.csv keeps
    # timestamps to the microsecond, so measured values may differ in the sixth decimal of a second.
    want = alerts_document(direct)["alerts"]
    assert [{k: v for k, v in a.items() if k != "measured"} for a in got] == [
        {k: v for k, v in a.items() if k != "measured"} for a in want
    ]
    for g, w in zip(got, want, strict=True):
        assert g["measured"] == pytest.approx(w["measured"], abs=1e-3)


def straight_plan(**route_props: Any) -> dict[str, Any]:
    """A 2 km route due east from a depot, as PLAN.geojson."""
    line = [[-76.62 + 0.0023 * k, 39.29] for k in range(11)]  # about 200 m a segment
    props = {"kind": "route", "vehicle_id": "V1", "vehicle_kind": "collection_truck", **route_props}
    return {
        "type": "FeatureCollection",
        "properties": {"timezone": "UTC", "day": "2026-12-01"},
        "features": [
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line}, "properties": props}
        ],
    }


def drive(speed_mps: float, north_m: float = 0.0, vid: str = "V1") -> list[Position]:
    """V1 driving the straight route east at ``speed_mps``, ``north_m`` north of it, a fix a second."""
    t0 = 1_796_112_000.0
    lat = 39.29 + math.degrees(north_m / 6_371_008.8)
    metres_per_deg = 6_371_008.8 * math.cos(math.radians(39.29)) * math.pi / 180
    n = int(1900 / speed_mps)
    return [
        Position(
            vid, t0 + k, lat, -76.62 + speed_mps * k / metres_per_deg, speed_mps=speed_mps, accuracy_m=5.0
        )
        for k in range(n)
    ]


def test_segment_speed_limits_from_the_plan_are_enforced() -> None:
    """54 km/h on 30 km/h segments is speeding; on 80 km/h segments (or without limits) it is not."""
    slow = plan_from_geojson(straight_plan(segment_speed_kph=[30] * 10))
    fast = plan_from_geojson(straight_plan(segment_speed_kph=[80] * 10))
    none = plan_from_geojson(straight_plan())
    fixes = drive(15.0)
    assert {a.type for a in police_interchange(slow, fixes)} == {AlertType.SPEEDING}
    assert police_interchange(fast, fixes) == []
    assert police_interchange(none, fixes) == []


def test_hauler_routes_get_detour_checks_unless_a_permit_gives_the_corridor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hauler 300 m off its planned line is a detour; a permit corridor leaves that to enforcement."""
    monkeypatch.setattr(telematics.enforcement, "police_enforcement", lambda tracks, **kw: [])
    data = straight_plan(vehicle_kind="muck_hauler")
    ip = plan_from_geojson(data)
    off = drive(10.0, north_m=300.0)
    assert {a.type for a in police_interchange(ip, off)} == {AlertType.DETOUR}
    corridor = (((39.29, -76.62), (39.29, -76.597)),)
    permit = Permit("PM", "V1", date(2026, 12, 1), date(2026, 12, 1), (), ("S",), (), corridor)
    assert police_interchange(ip, off, EnforcementInputs(permits=(permit,))) == []


def test_a_route_without_two_distinct_points_and_speed_limits_is_policed_without_a_corridor() -> None:
    """A degenerate route line (one repeated point) with segment_speed_kph does not stop the run."""
    data = straight_plan(segment_speed_kph=[30])
    data["features"][0]["geometry"]["coordinates"] = [[-76.62, 39.29], [-76.62, 39.29]]
    ip = plan_from_geojson(data)
    alerts = police_interchange(ip, drive(15.0))
    assert AlertType.DETOUR not in {a.type for a in alerts}
