"""Evidence packets: track window, stop, sensors, permit, nearest place, nearby vehicles, map, stable id."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from core.domain import Alert, AlertType, Position
from core.enforcement import DailyWindow, Permit, Site, SiteKind
from core.errors import NotFoundError
from core.geo import haversine_m
from core.store import Store
from scheduler.evidence import evidence_id, evidence_packet, site_distance_m, write_packet

T0 = 1_796_112_000.0  # 2026-12-01T08:00:00Z
LAT, LON = 39.29, -76.61


def offset(north_m: float, east_m: float, lat: float = LAT, lon: float = LON) -> tuple[float, float]:
    """A point ``north_m``/``east_m`` metres from (lat, lon)."""
    r = 6_371_008.8
    return lat + math.degrees(north_m / r), lon + math.degrees(east_m / (r * math.cos(math.radians(lat))))


def visit(
    vid: str, t_stop: float, stop_s: float, north_m: float, *, load: bool = False, every_s: float = 10.0
) -> list[Position]:
    """Drive 45 min north at 10 m/s to a point ``north_m`` north of the site, stop there, drive on."""
    fixes = []
    t = t_stop - 2700.0
    while t < t_stop + stop_s + 2700.0:
        if t < t_stop:
            la, lo = offset(north_m - 10.0 * (t_stop - t), 0.0)
            speed = 10.0
        elif t <= t_stop + stop_s:
            la, lo = offset(north_m, 0.0)
            speed = 0.0
        else:
            la, lo = offset(north_m + 10.0 * (t - t_stop - stop_s), 0.0)
            speed = 10.0
        tipping = load and t_stop + 60 <= t <= t_stop + 300
        kg = (9000.0 if t < t_stop + 200 else 500.0) if load else None
        fixes.append(
            Position(vid, t, la, lo, speed_mps=speed, load_kg=kg, body_tipping=tipping if load else None)
        )
        t += every_s
    return fixes


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """H1 dumps for 10 min at T0; H2 stops 120 m away an hour later; H3 600 m away; H4 3 h later."""
    with Store.open(f"sqlite:///{tmp_path / 'e.db'}") as s:
        s.add_positions(visit("H1", T0, 600.0, 0.0, load=True))
        s.add_positions(visit("H2", T0 + 3600, 300.0, 120.0))
        s.add_positions(visit("H3", T0 + 600, 300.0, 600.0))
        s.add_positions(visit("H4", T0 + 3 * 3600, 300.0, 50.0))
        alert = Alert(
            AlertType.ILLEGAL_DUMP,
            "H1",
            T0 + 60,
            T0 + 600,
            LAT,
            LON,
            confidence=0.9,
            signals=("stop_outside_places", "body_tipping", "load_drop"),
        )
        other = Alert(AlertType.ILLEGAL_DUMP, "H2", T0 + 3600, T0 + 3900, *offset(120.0, 0.0), confidence=0.6)
        s.save_alerts([alert, other])
        s.save_sites(
            [
                Site(
                    "S1",
                    SiteKind.SPOIL_FIELD,
                    lat=offset(0, 900)[0],
                    lon=offset(0, 900)[1],
                    radius_m=100.0,
                    approved_for_disposal=True,
                ),
                Site(
                    "C1",
                    SiteKind.CONSTRUCTION_SITE,
                    polygon=(offset(-400, -50), offset(-400, 50), offset(-300, 0)),
                ),
            ]
        )
        s.save_permits(
            [
                Permit("OLD", "H1", date(2026, 11, 1), date(2026, 11, 30), ("C1",), ("S1",)),
                Permit(
                    "NOW",
                    "H1",
                    date(2026, 12, 1),
                    date(2026, 12, 31),
                    ("C1",),
                    ("S1",),
                    (DailyWindow(22 * 3600, 6 * 3600),),
                ),
            ]
        )
        yield s


def key(store: Store) -> str:
    """The key of H1's alert."""
    return next(r.key for r in store.list_alert_records(vehicle_id="H1"))


def test_packet_holds_every_part(store: Store) -> None:
    """Track window, stop duration, sensors, permit in force, nearest place, nearby vehicles, map."""
    k = key(store)
    packet = evidence_packet(store, k)
    assert packet["id"] == evidence_id(k)
    assert packet["alert"]["status"] == "new"
    assert packet["alert"]["signals"] == ["stop_outside_places", "body_tipping", "load_drop"]
    (track, *_) = packet["track"]["features"]
    times = track["properties"]["time"]
    assert times[0] == "2026-12-01T07:31:00Z"  # alert start - 30 min
    assert times[-1] == "2026-12-01T08:40:00Z"  # alert end + 30 min
    assert len(track["geometry"]["coordinates"]) == len(times)
    assert packet["stop"]["duration_s"] == 600.0
    assert float(haversine_m(packet["stop"]["lat"], packet["stop"]["lon"], LAT, LON)) < 1.0
    timeline = packet["sensor_timeline"]
    assert timeline["time"] == times
    assert 9000.0 in timeline["load_kg"]
    assert 500.0 in timeline["load_kg"]
    assert True in timeline["body_tipping"]
    assert packet["permit_in_force"]["id"] == "NOW"
    nearest = packet["nearest_approved_place"]
    assert nearest["id"] == "C1"
    assert nearest["distance_m"] == pytest.approx(300.0, abs=2.0)
    (nearby,) = packet["nearby_vehicles"]
    assert nearby["vehicle_id"] == "H2"
    assert nearby["duration_s"] == 300.0
    assert nearby["distance_m"] == pytest.approx(120.0, abs=1.0)
    assert nearby["alert_keys"] == [r.key for r in store.list_alert_records(vehicle_id="H2")]
    assert base64.b64decode(packet["map_png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "OpenStreetMap" in packet["attribution"]
    json.dumps(packet, allow_nan=False)


def test_packet_id_is_stable_and_history_is_included(store: Store) -> None:
    """The same alert gives the same id after a status change; the change shows in the history."""
    k = key(store)
    first = evidence_packet(store, k, picture=False)
    store.change_alert_status(k, "acknowledged", officer="Chen", note="on it")
    second = evidence_packet(store, k, picture=False)
    assert first["id"] == second["id"] == evidence_id(k)
    assert evidence_id(k) != evidence_id(k + "x")
    assert second["alert"]["status"] == "acknowledged"
    assert [(h["officer"], h["to"]) for h in second["history"]] == [("Chen", "acknowledged")]
    assert "map_png_base64" not in first
    with pytest.raises(NotFoundError):
        evidence_packet(store, "no-such-key")


def test_write_packet_puts_the_png_beside_the_json(store: Store, tmp_path: Path) -> None:
    """FILE.json and FILE.png; the JSON still embeds the picture."""
    written = write_packet(evidence_packet(store, key(store)), tmp_path / "out" / "case.json")
    assert [p.name for p in written] == ["case.json", "case.png"]
    body = json.loads((tmp_path / "out" / "case.json").read_text())
    assert base64.b64decode(body["map_png_base64"]) == (tmp_path / "out" / "case.png").read_bytes()


def test_site_distance_is_zero_inside_and_to_the_edge_outside() -> None:
    """Circle: centre distance minus radius; polygon: 0 inside, distance to the nearest edge outside."""
    circle = Site("S", SiteKind.LANDFILL, lat=LAT, lon=LON, radius_m=100.0)
    assert site_distance_m(circle, *offset(50.0, 0.0)) == 0.0
    assert site_distance_m(circle, *offset(0.0, 250.0)) == pytest.approx(150.0, abs=0.5)
    square = Site(
        "Q",
        SiteKind.OTHER,
        polygon=(offset(-100, -100), offset(-100, 100), offset(100, 100), offset(100, -100)),
    )
    assert site_distance_m(square, LAT, LON) == 0.0
    assert site_distance_m(square, *offset(0.0, 160.0)) == pytest.approx(60.0, abs=0.5)
    assert site_distance_m(square, *offset(130.0, 140.0)) == pytest.approx(50.0, abs=0.5)


def test_permit_in_force_follows_night_runs_past_midnight() -> None:
    """A 22:00-06:00 permit of 1 December covers 02:00 on 2 December (local), not noon on 2 December."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from scheduler.evidence import permit_in_force

    tz = "America/New_York"
    night = Permit(
        "N", "H1", date(2026, 12, 1), date(2026, 12, 1), ("C1",), ("S1",), (DailyWindow(22 * 3600, 6 * 3600),)
    )
    day_permit = Permit(
        "D", "H1", date(2026, 12, 2), date(2026, 12, 2), ("C1",), ("S1",), (DailyWindow(8 * 3600, 18 * 3600),)
    )

    def at(day: int, hour: int) -> float:
        return datetime(2026, 12, day, hour, tzinfo=ZoneInfo(tz)).timestamp()

    assert permit_in_force([night], at(1, 23), tz) == night
    assert permit_in_force([night], at(2, 2), tz) == night
    assert permit_in_force([night], at(2, 12), tz) is None
    assert permit_in_force([night, day_permit], at(2, 12), tz) == day_permit
    assert permit_in_force([day_permit, night], at(2, 2), tz) == night  # its hours allow 02:00
    assert permit_in_force([night], at(2, 2), "UTC") is None  # 07:00 UTC on 2 December: outside
