"""Hotspots of suspicious stops: H3 cells of ~200 m, greedy disks, ranking, GeoJSON and map."""

from __future__ import annotations

import math
import random
from pathlib import Path

import h3
import pytest

from core.domain import Alert, AlertType
from core.errors import ValidationError
from core.geo import haversine_m
from telematics.hotspots import (
    SuspiciousStop,
    cluster_stops,
    find_hotspots,
    hotspots_document,
    render_hotspots,
    stops_from_alerts,
)

DAY = 86_400.0
T0 = 1_796_112_000.0


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point ``north_m``/``east_m`` metres from (lat, lon)."""
    r = 6_371_008.8
    return lat + math.degrees(north_m / r), lon + math.degrees(east_m / (r * math.cos(math.radians(lat))))


def around(
    rng: random.Random, name: str, lat: float, lon: float, n: int, spread_m: float, vehicles: int, days: int
) -> list[SuspiciousStop]:
    """``n`` stops within ``spread_m`` of a site, by ``vehicles`` vehicles over ``days`` days."""
    out = []
    for k in range(n):
        la, lo = offset(lat, lon, rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m))
        out.append(SuspiciousStop(f"{name}{k}", f"H{k % vehicles}", la, lo, T0 + (k % days) * DAY + 3600 * k))
    return out


def test_recurring_sites_rank_first_and_singletons_are_left_out() -> None:
    """Site A (8 stops, 3 vehicles, 4 days) before B (3 stops); scattered single stops form no hotspot."""
    rng = random.Random(5)
    a = around(rng, "a", 39.29, -76.61, 8, 40.0, 3, 4)
    b = around(rng, "b", 39.27, -76.58, 3, 40.0, 1, 3)
    singles = [
        SuspiciousStop(f"s{k}", "H9", *offset(39.25, -76.65, 1500.0 * k, 900.0 * k), T0 + k) for k in range(5)
    ]
    spots = cluster_stops([*singles, *b, *a])
    assert [s.events for s in spots] == [8, 3]
    top, second = spots
    assert set(top.keys) == {s.key for s in a}
    assert set(second.keys) == {s.key for s in b}
    assert (top.vehicles, top.days) == (3, 4)
    assert float(haversine_m(top.lat, top.lon, 39.29, -76.61)) < 40.0
    assert top.first_utc == min(s.start_utc for s in a)
    assert top.last_utc == max(s.start_utc for s in a)


def test_a_site_on_a_cell_edge_is_one_hotspot() -> None:
    """Stops 20 m either side of a boundary between two cells merge into one hotspot."""
    cell = h3.latlng_to_cell(39.29, -76.61, 9)
    neighbour = next(c for c in h3.grid_ring(cell, 1))
    (la1, lo1), (la2, lo2) = h3.cell_to_latlng(cell), h3.cell_to_latlng(neighbour)
    mid = ((la1 + la2) / 2, (lo1 + lo2) / 2)
    d = float(haversine_m(la1, lo1, la2, lo2))
    north, east = (la2 - la1) * 111_195.0 / d, (lo2 - lo1) * 111_195.0 * math.cos(math.radians(mid[0])) / d
    side_a = [SuspiciousStop(f"a{k}", "H1", *offset(*mid, -20 * north, -20 * east), T0 + k) for k in range(2)]
    side_b = [SuspiciousStop(f"b{k}", "H2", *offset(*mid, 20 * north, 20 * east), T0 + k) for k in range(2)]
    cells = {h3.latlng_to_cell(s.lat, s.lon, 9) for s in side_a + side_b}
    assert len(cells) == 2  # the set-up really straddles the edge
    (spot,) = cluster_stops(side_a + side_b, min_events=3)
    assert spot.events == 4
    assert set(spot.cells) == cells


def test_every_stop_lands_in_at_most_one_hotspot_within_its_disk() -> None:
    """Random stops: hotspots never share a stop, and each stop is within one ring of its hotspot's centre."""
    rng = random.Random(11)
    stops = [
        SuspiciousStop(
            f"k{i}", f"H{i % 5}", 39.28 + rng.uniform(0, 0.03), -76.62 + rng.uniform(0, 0.03), T0 + i
        )
        for i in range(300)
    ]
    spots = cluster_stops(stops, min_events=3)
    seen: set[str] = set()
    by_key = {s.key: s for s in stops}
    for h in spots:
        assert not seen & set(h.keys)
        seen |= set(h.keys)
        assert h.events >= 3
        for key in h.keys:
            s = by_key[key]
            assert h3.grid_distance(h.cell, h3.latlng_to_cell(s.lat, s.lon, 9)) <= 1
    scores = [h.score for h in spots]
    assert scores == sorted(scores, reverse=True)


def test_only_illegal_dumps_count_weighted_by_confidence() -> None:
    """Other alert types are ignored; three sure stops outrank four doubtful ones."""

    def alert(kind: AlertType, lat: float, lon: float, k: int, confidence: float) -> Alert:
        return Alert(kind, f"H{k}", T0 + 60 * k, T0 + 60 * k + 300, lat, lon, confidence=confidence)

    sure = [alert(AlertType.ILLEGAL_DUMP, 39.29, -76.61, k, 0.95) for k in range(3)]
    doubtful = [alert(AlertType.ILLEGAL_DUMP, 39.25, -76.58, k, 0.3) for k in range(4)]
    noise = [alert(AlertType.SPEEDING, 39.22, -76.55, k, 1.0) for k in range(6)]
    assert len(stops_from_alerts([*sure, *noise])) == 3
    spots = find_hotspots([*doubtful, *noise, *sure])
    assert [h.events for h in spots] == [3, 4]
    assert spots[0].score == pytest.approx(2.85)


def test_geojson_document_and_map(tmp_path: Path) -> None:
    """One MultiPolygon feature per hotspot with closed rings, ranked; the PNG is written."""
    rng = random.Random(2)
    spots = cluster_stops(around(rng, "a", 39.29, -76.61, 5, 30.0, 2, 2))
    doc = hotspots_document(spots)
    (f,) = doc["features"]
    assert f["properties"]["rank"] == 1
    assert f["properties"]["events"] == 5
    ring = f["geometry"]["coordinates"][0][0]
    assert ring[0] == ring[-1]
    assert len(ring) == 7
    assert f["properties"]["first"].endswith("Z")
    alerts = [Alert(AlertType.ILLEGAL_DUMP, "H1", T0, T0 + 60, 39.29, -76.61)]
    path = render_hotspots(tmp_path / "m" / "hot.png", spots, alerts)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_raise() -> None:
    """Resolution and min_events are checked."""
    with pytest.raises(ValidationError):
        cluster_stops([], resolution=16)
    with pytest.raises(ValidationError):
        cluster_stops([], min_events=0)
    assert cluster_stops([]) == []
