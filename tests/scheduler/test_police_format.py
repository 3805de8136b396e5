"""The police interchange format: PLAN.geojson reader and POSITIONS.csv; errors name line/feature, field."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest

from core.domain import (
    Depot,
    District,
    Facility,
    FacilityKind,
    Plan,
    PlanStop,
    Position,
    Route,
    StopKind,
    Stream,
    TimeWindow,
    Vehicle,
    VehicleKind,
)
from core.errors import ValidationError
from core.geojson import day_start_utc, plan_to_geojson
from core.plan_reader import plan_from_geojson
from telematics.positions_csv import HEADER, format_positions_csv, parse_positions_csv

DAY = date(2026, 12, 1)
TZ = "America/New_York"


def _line(lat0: float, lon0: float, n: int, step: float = 0.001) -> tuple[tuple[float, float], ...]:
    return tuple((lat0, lon0 + step * k) for k in range(n))


def small_plan() -> tuple[Plan, District]:
    """One truck: depot -> P1 -> P2 (windowed) -> F1 (unload) -> depot, along a straight street."""
    road = _line(39.29, -76.62, 12)
    depot = Depot("D1", "Depot", 39.2902, -76.6201)
    f1 = Facility("F1", "TS", FacilityKind.TRANSFER_STATION, 39.2901, -76.6110, frozenset({Stream.RESIDUAL}))
    stops = (
        PlanStop(StopKind.DEPOT_START, "D1", depot.lat, depot.lon, 25200, 25200, 25200, 0, 0),
        PlanStop(
            StopKind.COLLECTION, "P1", 39.2901, -76.6170, 25300, 25300, 25360, 100, 400, leg_coords=road[0:4]
        ),
        PlanStop(
            StopKind.COLLECTION,
            "P2",
            39.2899,
            -76.6150,
            25400,
            25450,
            25500,
            200,
            800,
            leg_coords=road[3:6],
            window=TimeWindow(25000, 26000),
        ),
        PlanStop(StopKind.UNLOAD, "F1", f1.lat, f1.lon, 25700, 25700, 26300, 0, 0, leg_coords=road[5:10]),
        PlanStop(
            StopKind.DEPOT_END,
            "D1",
            depot.lat,
            depot.lon,
            27000,
            27000,
            27000,
            0,
            0,
            leg_coords=tuple(reversed(road[0:10])),
        ),
    )
    vehicle = Vehicle("T1", VehicleKind.COLLECTION_TRUCK, "D1", frozenset({Stream.RESIDUAL}), 9000, 60000)
    district = District("d", TZ, (depot,), (f1,), (), (vehicle,))
    return Plan("d", DAY, (Route("T1", stops),)), district


def exported() -> dict[str, Any]:
    """The small plan through our own export and JSON text."""
    plan, district = small_plan()
    return json.loads(json.dumps(plan_to_geojson(plan, district)))


# --------------------------------------------------------------------------- PLAN.geojson


def test_export_then_read_gives_back_the_routes_the_checks_use() -> None:
    """Stops, stands (leg ends), windows and service times come back; corridor and yards are equal."""
    from telematics.checks import stop_targets, yard_points
    from telematics.corridor import route_coords

    plan, _ = small_plan()
    ip = plan_from_geojson(exported())
    assert ip.rejected == ()
    assert ip.timezone == TZ
    assert ip.plan.day == DAY
    assert ip.day_start_utc == day_start_utc(DAY, TZ)
    (route,) = ip.plan.routes
    (original,) = plan.routes
    assert route_coords(route) == route_coords(original)
    assert yard_points(route) == yard_points(original)
    assert stop_targets(route, ip.day_start_utc) == stop_targets(original, ip.day_start_utc)
    assert ip.vehicle_kinds == {"T1": VehicleKind.COLLECTION_TRUCK}
    assert {f.id: f.facility_kind for f in ip.facilities} == {"D1": "depot", "F1": "transfer_station"}


def test_stops_without_path_index_snap_to_the_nearest_vertex_in_order() -> None:
    """A plan made elsewhere (no path_index, depot_id or eta) still gives the same stands."""
    from telematics.checks import stop_targets

    data = exported()
    for f in data["features"]:
        for key in ("path_index", "depot_id", "eta", "distance_m", "duration_s"):
            f["properties"].pop(key, None)
    data.pop("properties")
    ip = plan_from_geojson(data, timezone=TZ)
    plan, _ = small_plan()
    got = stop_targets(ip.plan.routes[0], ip.day_start_utc)
    want = stop_targets(plan.routes[0], ip.day_start_utc)
    assert [t.stand for t in got] == [t.stand for t in want]
    assert [t.window_end_utc for t in got] == [t.window_end_utc for t in want]
    assert ip.plan.day == DAY  # from the first time in the file, in the given zone


def test_bad_features_are_rejected_by_index_and_field_and_the_rest_kept() -> None:
    """A stop with a bad seq, a route without a kind, a stop of an unknown vehicle, an unknown kind."""
    data = exported()
    good = copy.deepcopy(data["features"])
    stop = next(f for f in good if f["properties"]["kind"] == "stop")
    bad_seq = copy.deepcopy(stop)
    bad_seq["properties"]["seq"] = "first"
    orphan = copy.deepcopy(stop)
    orphan["properties"]["vehicle_id"] = "T9"
    route = next(f for f in good if f["properties"]["kind"] == "route")
    kindless = copy.deepcopy(route)
    kindless["properties"]["vehicle_id"] = "T2"
    kindless["properties"]["vehicle_kind"] = "tank"
    data["features"] = [*good, bad_seq, orphan, kindless, {"type": "Feature", "properties": {"kind": "x"}}]
    n = len(good)
    ip = plan_from_geojson(data)
    assert [(r.where, r.field) for r in ip.rejected] == [
        (f"features[{n}]", "properties.seq"),
        (f"features[{n + 1}]", "properties.vehicle_id"),
        (f"features[{n + 2}]", "properties.vehicle_kind"),
        (f"features[{n + 3}]", "properties.kind"),
    ]
    assert len(ip.plan.routes[0].collections) == 2


def test_unusable_files_raise() -> None:
    """Not a FeatureCollection, an unknown zone, or no usable route at all."""
    with pytest.raises(ValidationError):
        plan_from_geojson({"type": "Feature"})
    with pytest.raises(ValidationError) as err:
        plan_from_geojson(exported(), timezone="Mars/Olympus")
    assert err.value.field == "properties.timezone"
    data = exported()
    data["features"] = [f for f in data["features"] if f["properties"]["kind"] != "route"]
    with pytest.raises(ValidationError):
        plan_from_geojson(data)


def test_hauler_route_and_segment_speeds() -> None:
    """A hauler's route runs origin -> destination over its line; speeds are checked per segment."""
    line = [[-76.62 + 0.001 * k, 39.29] for k in range(6)]
    data: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": line[0]},
                "properties": {"kind": "facility", "id": "C1", "facility_kind": "construction_site"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": line[-1]},
                "properties": {
                    "kind": "facility",
                    "id": "S1",
                    "facility_kind": "spoil_field",
                    "approved_for_spoil": True,
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "kind": "route",
                    "vehicle_id": "H1",
                    "vehicle_kind": "muck_hauler",
                    "origin_facility": "C1",
                    "destination_facility": "S1",
                    "segment_speed_kph": [30, 30, None, 50, 50],
                    "start": "2026-12-02T03:00:00Z",
                    "end": "2026-12-02T11:00:00Z",
                },
            },
        ],
    }
    ip = plan_from_geojson(data)
    assert ip.hauls == {"H1": ("C1", "S1")}
    assert ip.segment_speed_kph["H1"] == (30.0, 30.0, None, 50.0, 50.0)
    (route,) = ip.plan.routes
    assert [s.kind for s in route.stops] == [StopKind.DEPOT_START, StopKind.UNLOAD]
    assert route.stops[1].leg_coords[-1] == (39.29, line[-1][0])
    assert ip.plan.day == date(2026, 12, 2)
    data["features"][2]["properties"]["segment_speed_kph"] = [30, 30]
    with pytest.raises(ValidationError) as err:  # its only route rejected: nothing to police
        plan_from_geojson(data)
    assert "features[2] (id 'H1'): field 'properties.segment_speed_kph'" in str(err.value)


# --------------------------------------------------------------------------- POSITIONS.csv


def test_positions_csv_round_trip_is_exact() -> None:
    """format -> parse returns equal positions; empty cells are no sensor."""
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
    fixes = [
        Position("T1", t0, 39.29, -76.61, speed_mps=3.25, accuracy_m=6.0, load_kg=1200.5, body_tipping=False),
        Position("T1", t0 + 2.5, 39.2900001, -76.6100002, heading_deg=92.0),
        Position("H1", t0 + 7, 39.3, -76.6, body_tipping=True, load_kg=0.0),
    ]
    text = format_positions_csv(fixes)
    assert text.splitlines()[0] == ",".join(HEADER)
    by_device_time = sorted(fixes, key=lambda p: (p.device_id, p.ts_utc))
    for columnar in (True, False):
        back = parse_positions_csv(text, columnar=columnar)
        assert back.issues == []
        assert back.positions == by_device_time


def test_columnar_and_line_by_line_reads_agree_on_a_large_clean_file() -> None:
    """30 devices' fixes out of order, with repeats: the same tracks and duplicate count both ways."""
    rng = random.Random(4)
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
    fixes = [
        Position(
            f"V{rng.randrange(30)}",
            t0 + rng.randrange(20_000) + rng.choice([0.0, 0.5, 0.25]),
            rng.uniform(-89, 89),
            rng.uniform(-179, 179),
            speed_mps=rng.choice([None, rng.uniform(0, 30)]),
            heading_deg=rng.choice([None, rng.uniform(0, 359)]),
            accuracy_m=rng.choice([None, rng.uniform(1, 50)]),
            load_kg=rng.choice([None, rng.uniform(-50, 30000)]),
            body_tipping=rng.choice([None, True, False]),
        )
        for _ in range(3000)
    ]
    text = format_positions_csv(fixes + fixes[:40])
    fast = parse_positions_csv(text)
    slow = parse_positions_csv(text, columnar=False)
    assert fast.columnar
    assert not slow.columnar
    assert fast.duplicates == slow.duplicates >= 40
    assert sorted(fast.tracks) == sorted(slow.tracks)
    for vid, track in fast.tracks.items():
        other = slow.tracks[vid]
        for name in (
            "ts_utc",
            "lat",
            "lon",
            "speed_mps",
            "heading_deg",
            "accuracy_m",
            "load_kg",
            "body_tipping",
        ):
            assert np.array_equal(getattr(track, name), getattr(other, name), equal_nan=True), (vid, name)


def test_positions_csv_names_bad_lines_and_keeps_good_ones() -> None:
    """Bad lines are skipped with line number and field; a bad sensor value only drops the value."""
    text = (
        ",".join(HEADER) + "\n"
        "T1,2026-12-01T12:00:00Z,39.29,-76.61,3.0,,5,,\n"
        "T1,2026-12-01T12:00:05Z,95.0,-76.61,3.0,,5,,\n"
        "T1,noon,39.29,-76.61,3.0,,5,,\n"
        ",2026-12-01T12:00:10Z,39.29,-76.61,3.0,,5,,\n"
        "T1,2026-12-01T12:00:15Z,39.29,-76.61,fast,,5,,maybe\n"
        "T1,2026-12-01T12:00:20Z,39.29\n"
        "T1,2026-12-01T12:00:00Z,39.29,-76.61,3.0,,5,,\n"
    )
    out = parse_positions_csv(text)
    assert not out.columnar  # bad lines: read line by line to name them
    assert [p.ts_utc for p in out.positions] == [
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp(),
        datetime(2026, 12, 1, 12, 0, 15, tzinfo=UTC).timestamp(),
    ]
    assert out.positions[1].speed_mps is None
    assert out.positions[1].body_tipping is None
    assert out.duplicates == 1
    assert [(i.line, i.field, i.kept) for i in out.issues] == [
        (3, "lat", False),
        (4, "timestamp", False),
        (5, "device_id", False),
        (6, "speed_mps", True),
        (6, "body_tipping", True),
        (7, "line", False),
    ]
    assert str(out.issues[0]).startswith("line 3: field 'lat'")


def test_positions_csv_needs_the_exact_header() -> None:
    """Another header (even a reordered one) is refused naming the header."""
    with pytest.raises(ValidationError) as err:
        parse_positions_csv("device_id,lat,lon,timestamp\nT1,1,2,2026-12-01T00:00:00Z\n")
    assert err.value.field == "header"


def test_a_stop_passed_twice_matches_its_first_close_pass() -> None:
    """Out on one street and back 8 m closer to P1: without path_index, P1 is still served on the way out."""
    out = [[-76.62 + 0.0005 * k, 39.29] for k in range(11)]
    back = [[lon, 39.29 + 0.0001] for lon, _ in reversed(out)]  # about 11 m north
    line = out + back
    p1 = [-76.62 + 0.0005 * 3, 39.29 + 0.00015]  # 17 m north of the way out, 6 m from the way back
    p2 = [-76.62 + 0.0005 * 10, 39.29]

    def stop(seq: int, sid: str, xy: list[float]) -> dict[str, Any]:
        props = {
            "kind": "stop",
            "vehicle_id": "T1",
            "stop_id": sid,
            "seq": seq,
            "stop_type": "collection",
            "service_s": 60,
            "eta": f"2026-12-01T12:{10 * seq:02d}:00Z",
        }
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": xy}, "properties": props}

    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {"kind": "route", "vehicle_id": "T1", "vehicle_kind": "collection_truck"},
            },
            stop(1, "P1", p1),
            stop(2, "P2", p2),
        ],
    }
    ip = plan_from_geojson(data)
    assert ip.rejected == ()
    legs = [s.leg_coords for s in ip.plan.routes[0].collections]
    assert legs[0][-1] == (39.29, out[3][0])
    assert legs[1][-1] == (39.29, out[10][0])
