"""Permit corridors on the embedded Baltimore network: fastest paths that steer round restricted zones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely import contains_xy
from shapely.geometry import Polygon

from core.enforcement import RestrictedZone, Site, SiteKind
from core.errors import ValidationError
from core.geo import haversine_m
from core.roads import RoadNetwork
from routing.permit_corridor import permit_corridor, plan_path, zone_nodes


def _far_pair(network: RoadNetwork) -> tuple[int, int]:
    """Two nodes about 4 km apart inside the network."""
    lat, lon = network.lat, network.lon
    a = int(np.argmin(np.abs(lat - np.median(lat)) + np.abs(lon - np.quantile(lon, 0.2))))
    b = int(np.argmin(np.abs(lat - np.median(lat)) + np.abs(lon - np.quantile(lon, 0.8))))
    return a, b


def _zone_on(path: tuple[tuple[float, float], ...], half_m: float = 120.0) -> RestrictedZone:
    lat, lon = path[len(path) // 2]
    dlat = half_m / 111_195.0
    dlon = dlat / math.cos(math.radians(lat))
    ring = (
        (lat - dlat, lon - dlon),
        (lat - dlat, lon + dlon),
        (lat + dlat, lon + dlon),
        (lat + dlat, lon - dlon),
    )
    return RestrictedZone("Z", "school", ring)


def _length(path: tuple[tuple[float, float], ...]) -> float:
    p = np.array(path)
    return float(haversine_m(p[:-1, 0], p[:-1, 1], p[1:, 0], p[1:, 1]).sum())


def test_without_zones_the_path_is_the_fastest_road_path(baltimore: RoadNetwork) -> None:
    a, b = _far_pair(baltimore)
    start = (float(baltimore.lat[a]), float(baltimore.lon[a]))
    end = (float(baltimore.lat[b]), float(baltimore.lon[b]))
    path = plan_path(baltimore, start, end)
    fastest = baltimore.route(a, b)
    assert path[0] == start
    assert path[-1] == end
    assert _length(path) == pytest.approx(fastest.length_m, rel=1e-6)


def test_a_zone_on_the_fastest_path_is_avoided(baltimore: RoadNetwork) -> None:
    a, b = _far_pair(baltimore)
    start = (float(baltimore.lat[a]), float(baltimore.lon[a]))
    end = (float(baltimore.lat[b]), float(baltimore.lon[b]))
    plain = plan_path(baltimore, start, end)
    zone = _zone_on(plain)
    poly = Polygon([(lo, la) for la, lo in zone.polygon])
    avoid = zone_nodes(baltimore, [zone])
    assert avoid  # the zone holds road nodes of the plain path
    around = plan_path(baltimore, start, end, avoid=avoid)
    pts = np.array(around)
    assert not np.asarray(contains_xy(poly, pts[:, 1], pts[:, 0])).any()
    assert _length(around) > _length(plain)
    # without a penalty the zone is driven through again
    assert plan_path(baltimore, start, end, avoid=avoid, zone_penalty=0.0) == plain


def test_permit_corridor_goes_there_and_back(baltimore: RoadNetwork) -> None:
    a, b = _far_pair(baltimore)
    o = Site(
        "C1",
        SiteKind.CONSTRUCTION_SITE,
        lat=float(baltimore.lat[a]),
        lon=float(baltimore.lon[a]),
        radius_m=80,
    )
    d = Site(
        "S1", SiteKind.SPOIL_FIELD, lat=float(baltimore.lat[b]), lon=float(baltimore.lon[b]), radius_m=150
    )
    lines = permit_corridor(baltimore, [o], [d])
    assert len(lines) == 2
    assert lines[0][0] == o.centre
    assert lines[0][-1] == d.centre
    assert lines[1][0] == d.centre
    assert lines[1][-1] == o.centre
    with pytest.raises(ValidationError, match="disposals"):
        permit_corridor(baltimore, [o], [])
    with pytest.raises(ValidationError, match="zone_penalty"):
        plan_path(baltimore, o.centre, d.centre, zone_penalty=-1.0)
