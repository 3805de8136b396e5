"""The seeded demo district sits on real Baltimore streets and is reproducible."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from shapely import LineString, Point, STRtree

from core.city import BALTIMORE_SERVICE_BOX, generate_district
from core.domain import FacilityKind, Stream, VehicleKind
from core.roads import RoadNetwork
from scheduler.pipeline import collection_view

pytestmark = pytest.mark.slow


def test_same_seed_same_district(baltimore: RoadNetwork) -> None:
    """Two runs with one seed give equal districts; another seed gives other points."""
    a = generate_district(baltimore, n_points=50, seed=11)
    assert a == generate_district(baltimore, n_points=50, seed=11)
    assert a.points != generate_district(baltimore, n_points=50, seed=12).points


def test_default_district_shape(baltimore: RoadNetwork) -> None:
    """300 points over four streams, some fixed windows, 4 waste facilities, 1 depot, 8-12 trucks."""
    d = collection_view(generate_district(baltimore))
    assert len(d.points) == 300
    streams = Counter(p.stream for p in d.points)
    assert set(streams) == {Stream.RESIDUAL, Stream.KITCHEN, Stream.RECYCLABLES, Stream.HAZARDOUS}
    assert 30 <= sum(1 for p in d.points if p.time_windows) <= 100
    assert len(d.depots) == 1
    assert len(d.facilities) == 4
    assert 8 <= len(d.vehicles) <= 12
    served = set().union(*(v.streams for v in d.vehicles))
    assert set(streams) <= served
    for stream in streams:
        assert any(stream in f.accepted_streams for f in d.facilities)


def test_points_stand_on_streets_inside_the_box(baltimore: RoadNetwork) -> None:
    """Every point lies inside the service box and within 1 m of a street's geometry."""
    d = generate_district(baltimore, n_points=120, seed=5)
    west, south, east, north = BALTIMORE_SERVICE_BOX
    lat = np.array([p.lat for p in d.points])
    lon = np.array([p.lon for p in d.points])
    assert np.all((lat >= south) & (lat <= north) & (lon >= west) & (lon <= east))
    kx = 111_320.0 * np.cos(np.radians((south + north) / 2))
    ky = 111_320.0
    lines = [LineString(np.column_stack((c[:, 0] * kx, c[:, 1] * ky))) for c, _ in baltimore.edge_lines()]
    tree = STRtree(lines)
    for x, y in zip(lon * kx, lat * ky, strict=True):
        nearest = lines[int(tree.nearest(Point(x, y)))]
        assert nearest.distance(Point(x, y)) < 1.0


def test_street_cleaning_adds_fleet_and_facilities_without_changing_collection(
    baltimore: RoadNetwork,
) -> None:
    """Sweepers, washers, a debris dump and a water point are added; the collection part is unchanged."""
    with_cleaning = generate_district(baltimore, n_points=50, seed=11)
    without = generate_district(baltimore, n_points=50, seed=11, street_cleaning=False)
    assert collection_view(with_cleaning) == without
    kinds = Counter(v.kind for v in with_cleaning.vehicles)
    assert kinds[VehicleKind.SWEEPER] >= 2
    assert kinds[VehicleKind.WASHER] >= 1
    assert any(v.kind == VehicleKind.SWEEPER and v.shift.end_s > 86_400 for v in with_cleaning.vehicles)
    extra = [f for f in with_cleaning.facilities if f not in without.facilities]
    assert {f.kind for f in extra} >= {FacilityKind.WATER_POINT}
    assert any(
        Stream.STREET_DEBRIS in f.accepted_streams and f.kind != FacilityKind.WATER_POINT for f in extra
    )
