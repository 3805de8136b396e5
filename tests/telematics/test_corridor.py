"""RouteCorridor and check_detours: validation, measures, evidence, yard and accuracy rules.

The hand-made tracks here are noise-free and laid out in metres around
``synthetic.ORIGIN``: the planned route runs east along y = 0 from x = 0 to
x = 2000 m, and a truck at 10 m/s takes one fix every 5 s.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.testing as npt
import pytest

from core.domain import AlertType
from core.errors import ValidationError
from telematics.corridor import MAX_GRID_CELLS, RouteCorridor, check_detours, route_coords
from tests.telematics import naive
from tests.telematics.synthetic import ORIGIN, make_route, to_latlon

ROUTE = [to_latlon(x, 0.0) for x in range(0, 2001, 100)]


def corridor() -> RouteCorridor:
    return RouteCorridor.from_coords(ROUTE, *ORIGIN)


def track(xy: list[tuple[float, float]], dt: float = 5.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ts_utc, lat, lon) of fixes at these metre positions, ``dt`` seconds apart."""
    ll = np.array([to_latlon(x, y) for x, y in xy])
    ts = 1_700_000_000.0 + dt * np.arange(len(xy))
    return ts, ll[:, 0].copy(), ll[:, 1].copy()


# Along the road to x = 800, out on a 100 m rectangle to x = 1000, back, on to 1500.
BOX = [(800.0, 60.0), (800.0, 100.0), (850.0, 100.0), (900.0, 100.0), (950.0, 100.0), (1000.0, 100.0)]
BOX += [(1000.0, 60.0)]
BOX_TRACK = (
    [(float(x), 0.0) for x in range(300, 801, 50)] + BOX + [(float(x), 0.0) for x in range(1000, 1501, 50)]
)
FIRST_OFF = 11  # index of (800, 60) in BOX_TRACK


def test_detour_measures_on_a_hand_made_box() -> None:
    """A 100 m box detour gives one alert with the exact max distance, duration, length and fix count."""
    ts, lat, lon = track(BOX_TRACK)
    alerts = check_detours(corridor(), ts, lat, lon, vehicle_id="T1", min_duration_s=30.0)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.type == AlertType.DETOUR
    assert a.vehicle_id == "T1"
    assert a.start_utc == ts[FIRST_OFF]
    assert a.end_utc == ts[FIRST_OFF + 6]
    assert a.measured["max_distance_m"] == pytest.approx(100.0, abs=1e-6)
    assert a.measured["duration_s"] == 30.0
    assert a.measured["fixes"] == 7.0
    assert a.measured["off_route_m"] == pytest.approx(40 + 4 * 50 + 40, abs=1e-6)
    # The alert sits at the first farthest fix, (800, 100).
    assert (a.lat, a.lon) == (lat[FIRST_OFF + 1], lon[FIRST_OFF + 1])


def test_detour_evidence_is_geojson_of_the_track_piece_in_lon_lat_order() -> None:
    """Evidence is a FeatureCollection whose LineString lists the off-route fixes as [lon, lat]."""
    ts, lat, lon = track(BOX_TRACK)
    (a,) = check_detours(corridor(), ts, lat, lon, vehicle_id="T1", min_duration_s=30.0)
    ev: dict[str, Any] = a.evidence
    assert ev["type"] == "FeatureCollection"
    (feature,) = ev["features"]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "LineString"
    coords = feature["geometry"]["coordinates"]
    piece = slice(FIRST_OFF, FIRST_OFF + 7)
    npt.assert_allclose(coords, np.column_stack((lon[piece], lat[piece])), atol=1e-7)
    props = feature["properties"]
    assert props["vehicle_id"] == "T1"
    assert props["alert_type"] == "detour"
    assert props["ts_utc"] == ts[piece].tolist()
    assert props["max_distance_m"] == a.measured["max_distance_m"]
    npt.assert_allclose(props["distance_m"], [60, 100, 100, 100, 100, 100, 60], atol=0.01)


def test_detour_shorter_than_min_duration_is_not_reported() -> None:
    """The same 30 s box is no detour under the default 60 s minimum."""
    ts, lat, lon = track(BOX_TRACK)
    assert check_detours(corridor(), ts, lat, lon, vehicle_id="T1") == []
    slow_ts = 1_700_000_000.0 + 10.0 * np.arange(len(BOX_TRACK))  # same path at half the speed: 60 s
    assert len(check_detours(corridor(), slow_ts, lat, lon, vehicle_id="T1")) == 1


def test_poor_accuracy_fixes_are_skipped() -> None:
    """Fixes worse than max_accuracy_m neither raise nor count toward a detour, nor appear in evidence."""
    ts, lat, lon = track(BOX_TRACK)
    acc = np.full(len(ts), 10.0)
    acc[FIRST_OFF + 3] = 31.0
    (a,) = check_detours(corridor(), ts, lat, lon, acc, vehicle_id="T1", min_duration_s=30.0)
    assert a.measured["fixes"] == 6.0
    assert len(a.evidence["features"][0]["geometry"]["coordinates"]) == 6
    assert a.measured["off_route_m"] == pytest.approx(40 + 50 + 100 + 50 + 40, abs=1e-6)
    acc[FIRST_OFF : FIRST_OFF + 7] = 50.0  # every off-route fix is poor
    assert check_detours(corridor(), ts, lat, lon, acc, vehicle_id="T1", min_duration_s=30.0) == []
    assert len(check_detours(corridor(), ts, lat, lon, acc, vehicle_id="T1", min_duration_s=30.0,
                             max_accuracy_m=50.0)) == 1  # fmt: skip


def test_depot_yard_zones_are_ignored() -> None:
    """An excursion within ignore_end_m of the route's start or end is no detour; elsewhere it is."""
    for x_base in (20.0, 1950.0):
        xy = [(x_base, 0.0)] + [(x_base, 100.0)] * 20 + [(x_base, 0.0)]
        ts, lat, lon = track(xy)
        assert check_detours(corridor(), ts, lat, lon, vehicle_id="T1") == []
        assert len(check_detours(corridor(), ts, lat, lon, vehicle_id="T1", ignore_end_m=50.0)) == 1


def test_reaching_the_yard_ends_a_detour() -> None:
    """A detour that returns straight into the depot yard ends at the last fix outside it.

    Fix 20 at (50, 200) is 206 m from the route's start, fix 21 at (0, 100) is in the yard.
    """
    xy = [(1000.0, 0.0)] + [(1000.0 - 50 * k, 200.0) for k in range(20)] + [(0.0, 100.0), (0.0, 0.0)]
    xy += [(0.0, 0.0)] * 30 + [(600.0, 300.0)] * 20  # later, a second detour
    ts, lat, lon = track(xy)
    alerts = check_detours(corridor(), ts, lat, lon, vehicle_id="T1")
    assert [(a.start_utc, a.end_utc) for a in alerts] == [(ts[1], ts[20]), (ts[53], ts[72])]


def test_empty_track_gives_no_alerts() -> None:
    """Zero fixes is valid input and yields no alert."""
    assert check_detours(corridor(), [], [], [], vehicle_id="T1") == []


def test_corridor_distance_matches_naive() -> None:
    """RouteCorridor.distance_m equals projecting then brute-forcing every segment."""
    rng = np.random.default_rng(0)
    route = [to_latlon(x, y) for x, y in rng.normal(0, 500, (40, 2))]
    c = RouteCorridor.from_coords(route, *ORIGIN, cell_m=35.0)
    lat = rng.uniform(39.27, 39.31, 500)
    lon = rng.uniform(-76.64, -76.58, 500)
    rx, ry = naive.project([p[0] for p in route], [p[1] for p in route], *ORIGIN)
    px, py = naive.project(lat.tolist(), lon.tolist(), *ORIGIN)
    expect = naive.distance_to_segments(px, py, rx[:-1], ry[:-1], rx[1:], ry[1:], 5000.0)
    npt.assert_allclose(c.distance_m(lat, lon), expect, rtol=1e-9, atol=1e-6)


def test_from_route_uses_the_route_road_path() -> None:
    """from_route builds the corridor of route_coords: depot, then every leg's road points."""
    route = make_route("T1", [500.0, 1000.0])
    coords = route_coords(route)
    assert coords[0] == (route.stops[0].lat, route.stops[0].lon)
    assert coords[-1] == route.stops[-1].leg_coords[-1]
    assert all(a != b for a, b in itertools.pairwise(coords))  # no repeated points
    c = RouteCorridor.from_route(route, *ORIGIN)
    npt.assert_allclose(c.project(*np.array(coords).T)[0], c.x)
    assert c.n_segments == len(coords) - 1


def test_huge_route_gets_coarser_cells() -> None:
    """A route spanning hundreds of km keeps the grid within MAX_GRID_CELLS and stays exact."""
    c = RouteCorridor.from_coords([(0.0, 0.0), (3.0, 3.0), (3.0, 0.0)], cell_m=1.0)
    assert c.nx * c.ny <= MAX_GRID_CELLS
    assert c.cell_m > 1.0
    d = c.distance_m([1.5], [0.0], max_search_m=1e6)
    assert d[0] == pytest.approx(1.5 * 6_371_008.8 * np.pi / 180 / np.sqrt(2), rel=1e-3)


GOOD = track(BOX_TRACK)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": np.where(np.arange(len(GOOD[0])) == 3, np.nan, GOOD[1])}, "lat"),
        ({"lon": GOOD[2][:-1]}, "lon"),
        ({"ts_utc": GOOD[0][::-1]}, "ts_utc"),
        ({"ts_utc": GOOD[0].astype(str)}, "ts_utc"),
        ({"lat": np.stack((GOOD[1], GOOD[1]))}, "lat"),
        ({"lat": GOOD[1] + 60.0}, "lat"),
        ({"accuracy_m": np.full(len(GOOD[0]), True)}, "accuracy_m"),
        ({"accuracy_m": np.full(len(GOOD[0]), np.inf)}, "accuracy_m"),
        ({"accuracy_m": np.full(len(GOOD[0]), -1.0)}, "accuracy_m"),
        ({"vehicle_id": ""}, "vehicle_id"),
        ({"exit_m": 60.0}, "exit_m"),
        ({"enter_m": -1.0}, "enter_m"),
        ({"min_fixes": 0}, "min_fixes"),
        ({"min_fixes": 2.5}, "min_fixes"),
        ({"min_duration_s": float("nan")}, "min_duration_s"),
        ({"max_accuracy_m": -5.0}, "max_accuracy_m"),
        ({"ignore_end_m": -5.0}, "ignore_end_m"),
        ({"max_search_m": 50.0}, "max_search_m"),
        ({"corridor": ROUTE}, "corridor"),
    ],
)
def test_check_detours_rejects_bad_input_naming_the_argument(change: dict[str, Any], field: str) -> None:
    """Malformed arrays and thresholds raise ValidationError naming the argument."""
    kwargs: dict[str, Any] = {
        "corridor": corridor(),
        "ts_utc": GOOD[0],
        "lat": GOOD[1],
        "lon": GOOD[2],
        "accuracy_m": None,
        "vehicle_id": "T1",
    } | change
    with pytest.raises(ValidationError, match=f"field '{field}'"):
        check_detours(**kwargs)


def test_integer_and_list_inputs_are_accepted() -> None:
    """Integer timestamps and plain lists are converted, not rejected."""
    ts, lat, lon = track(BOX_TRACK, dt=10.0)
    alerts = check_detours(corridor(), ts.astype(np.int64), lat.tolist(), lon.tolist(), vehicle_id="T1")
    assert len(alerts) == 1


@pytest.mark.parametrize(
    ("coords", "kwargs", "field"),
    [
        ([(39.29, -76.61)], {}, "coords_latlon"),
        ([(39.29, -76.61), (139.0, -76.61)], {}, "coords_latlon"),
        ([(39.29, -76.61), (np.nan, -76.61)], {}, "coords_latlon"),
        ([(1.0, 2.0, 3.0), (1.0, 2.0, 3.0)], {}, "coords_latlon"),
        (ROUTE, {"cell_m": 0.0}, "cell_m"),
        (ROUTE, {"lat0": 95.0}, "lat0"),
        (ROUTE, {"lat0": 39.0, "lon0": 200.0}, "lon0"),
    ],
)
def test_from_coords_rejects_bad_input(coords: Any, kwargs: dict[str, Any], field: str) -> None:
    """Too few points, bad coordinates, origins or cell sizes raise ValidationError naming the argument."""
    with pytest.raises(ValidationError, match=f"field '{field}'"):
        RouteCorridor.from_coords(coords, **kwargs)
