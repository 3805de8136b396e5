"""A believable collection district generated on a real road network.

:func:`generate_district` places depots, facilities, collection points and a
mixed fleet on the streets of a loaded :class:`core.roads.RoadNetwork`. It is
seeded, so the same seed on the same network gives the same district. The
embedded default city is downtown Baltimore (``core/data/baltimore.osm.bz2``,
(c) OpenStreetMap contributors, ODbL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.domain import (
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    Stream,
    TimeWindow,
    Vehicle,
    VehicleKind,
)
from core.errors import ValidationError
from core.roads import RoadNetwork

H = 3600
"""Seconds in an hour."""

STREET_CLASSES = ("residential", "living_street", "unclassified", "tertiary", "secondary")
"""OSM highway classes on which bins stand (no motorways, no trunk roads)."""


@dataclass(frozen=True, slots=True)
class StreamProfile:
    """How one stream looks at the kerb: share of points, amount range and bulk density."""

    share: float
    kg_range: tuple[float, float]
    kg_per_l: float
    service_s_range: tuple[int, int]


STREAM_PROFILES: dict[Stream, StreamProfile] = {
    Stream.RESIDUAL: StreamProfile(0.42, (60.0, 320.0), 0.15, (45, 150)),
    Stream.KITCHEN: StreamProfile(0.25, (40.0, 220.0), 0.45, (40, 120)),
    Stream.RECYCLABLES: StreamProfile(0.28, (20.0, 140.0), 0.05, (40, 120)),
    Stream.HAZARDOUS: StreamProfile(0.05, (5.0, 40.0), 0.8, (120, 300)),
}
"""Shares sum to 1. Densities are loose kerbside densities (kg per litre)."""

FIXED_WINDOWS = (
    TimeWindow(7 * H, 9 * H),
    TimeWindow(9 * H, 11 * H),
    TimeWindow(13 * H, 15 * H),
)
"""Fixed-time collection slots offered to businesses and markets."""

BALTIMORE_SERVICE_BOX = (-76.6081, 39.2586, -76.5288, 39.3065)
"""West, south, east, north of the shipped Baltimore extract's declared area (degrees)."""

BALTIMORE_CORE_BOX = (-76.5883, 39.2778, -76.5645, 39.2921)
"""West, south, east, north of the demo district's core area (degrees): streets swept and washed daily."""


def _pick_node(network: RoadNetwork, lat: float, lon: float) -> tuple[float, float]:
    """The road node nearest to ``(lat, lon)``, returned as its ``(lat, lon)``."""
    idx, _ = network.nearest_nodes([lat], [lon])
    i = int(idx[0])
    return float(network.lat[i]), float(network.lon[i])


def _street_samples(
    network: RoadNetwork,
    box: tuple[float, float, float, float],
    count: int,
    rng: np.random.Generator,
    max_from_node_m: float = 30.0,
) -> np.ndarray:
    """``count`` kerbside positions ``(lat, lon)`` spread along streets inside ``box``.

    Edges are drawn with probability proportional to their length, then a
    position is taken along the chosen edge's geometry within
    ``max_from_node_m`` (m) of one of its ends, so the point's road node is near.
    """
    west, south, east, north = box
    lines: list[np.ndarray] = []
    for coords, highway in network.edge_lines():
        if highway not in STREET_CLASSES or len(coords) < 2:
            continue
        inside = (
            (coords[:, 0] >= west)
            & (coords[:, 0] <= east)
            & (coords[:, 1] >= south)
            & (coords[:, 1] <= north)
        )
        if inside.all():
            lines.append(coords)
    if not lines:
        raise ValidationError("district generator", "box", f"holds no residential streets: {box}")
    lat_m = 111_320.0
    lon_m = lat_m * np.cos(np.radians((south + north) / 2))
    seg_len = [np.hypot(np.diff(c[:, 0]) * lon_m, np.diff(c[:, 1]) * lat_m) for c in lines]
    lengths = np.array([s.sum() for s in seg_len])
    chosen = rng.choice(len(lines), size=count, replace=len(lines) < count, p=lengths / lengths.sum())
    out = np.empty((count, 2))
    for k, li in enumerate(chosen):
        coords, segs = lines[li], seg_len[li]
        cum = np.concatenate(([0.0], np.cumsum(segs)))
        # near one end of the edge: the planner snaps a point to its nearest road node
        near = min(max_from_node_m, cum[-1] / 2) * rng.uniform(0.1, 1.0)
        at = near if rng.random() < 0.5 else cum[-1] - near
        j = int(np.clip(np.searchsorted(cum, at, side="right") - 1, 0, len(segs) - 1))
        frac = 0.0 if segs[j] == 0 else (at - cum[j]) / segs[j]
        lon, lat = coords[j] + frac * (coords[j + 1] - coords[j])
        out[k] = (lat, lon)
    return out


def _fleet(depot_id: str) -> tuple[Vehicle, ...]:
    """A mixed fleet of 10 collection vehicles (capacities in kg and loose litres)."""
    day = TimeWindow(6 * H, 15 * H)
    lunch = TimeWindow(11 * H, 12 * H)
    rows: list[tuple[str, frozenset[Stream], float, float, float]] = [
        # id prefix, streams, capacity kg, capacity litres (loose, after compaction), fixed cost
        ("RES", frozenset({Stream.RESIDUAL}), 9_000.0, 60_000.0, 180.0),
        ("RES", frozenset({Stream.RESIDUAL}), 9_000.0, 60_000.0, 180.0),
        ("RES", frozenset({Stream.RESIDUAL}), 9_000.0, 60_000.0, 180.0),
        ("RES", frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}), 7_000.0, 50_000.0, 160.0),
        ("KIT", frozenset({Stream.KITCHEN}), 6_000.0, 14_000.0, 150.0),
        ("KIT", frozenset({Stream.KITCHEN}), 6_000.0, 14_000.0, 150.0),
        ("REC", frozenset({Stream.RECYCLABLES}), 4_000.0, 80_000.0, 140.0),
        ("REC", frozenset({Stream.RECYCLABLES}), 4_000.0, 80_000.0, 140.0),
        # A truck body holds one mixed load and unloads where every stream on board is accepted:
        # the small truck mixes residual and recyclables, which TS-NORTH takes together.
        ("SML", frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}), 2_500.0, 16_000.0, 90.0),
        ("HAZ", frozenset({Stream.HAZARDOUS}), 1_500.0, 3_000.0, 220.0),
    ]
    vehicles = []
    counts: dict[str, int] = {}
    for prefix, streams, kg, litres, fixed in rows:
        counts[prefix] = counts.get(prefix, 0) + 1
        vehicles.append(
            Vehicle(
                id=f"{prefix}-{counts[prefix]:02d}",
                kind=VehicleKind.COLLECTION_TRUCK,
                depot_id=depot_id,
                streams=streams,
                capacity_kg=kg,
                capacity_l=litres,
                shift=day,
                break_window=lunch,
                break_duration_s=3600,
                max_duration_s=9 * H,
                fixed_cost=fixed,
                cost_per_km=1.2,
                cost_per_hour=35.0,
                max_speed_mps=60 / 3.6,
            )
        )
    return tuple(vehicles)


def _street_fleet(depot_id: str) -> tuple[Vehicle, ...]:
    """Two day sweepers, one night sweeper and two water-washers.

    Sweepers: ``capacity_kg`` is the debris hopper (kg), ``capacity_l`` its volume (l).
    Washers: ``capacity_l`` is the water tank (l), ``capacity_kg`` the payload (kg).
    """
    day, lunch = TimeWindow(6 * H, 15 * H), TimeWindow(10 * H, 12 * H)
    night, night_break = TimeWindow(21 * H, 30 * H), TimeWindow(25 * H, 26 * H)
    rows = [
        # id, kind, capacity kg, capacity litres, shift, break window, fixed cost, cost per km
        ("SWP-01", VehicleKind.SWEEPER, 800.0, 2_000.0, day, lunch, 120.0, 1.5),
        ("SWP-02", VehicleKind.SWEEPER, 800.0, 2_000.0, day, lunch, 120.0, 1.5),
        ("SWN-01", VehicleKind.SWEEPER, 800.0, 2_000.0, night, night_break, 140.0, 1.5),
        ("WSH-01", VehicleKind.WASHER, 9_000.0, 8_000.0, day, lunch, 110.0, 1.4),
        ("WSH-02", VehicleKind.WASHER, 9_000.0, 8_000.0, day, lunch, 110.0, 1.4),
    ]
    return tuple(
        Vehicle(
            vid,
            kind,
            depot_id=depot_id,
            streams=frozenset({Stream.STREET_DEBRIS}),
            capacity_kg=kg,
            capacity_l=litres,
            shift=shift,
            break_window=brk,
            break_duration_s=1800,
            fixed_cost=fixed,
            cost_per_km=per_km,
            max_speed_mps=50 / 3.6,
        )
        for vid, kind, kg, litres, shift, brk, fixed, per_km in rows
    )


def _street_facilities(at: Callable[[float, float], tuple[float, float]]) -> tuple[Facility, ...]:
    """A debris dump and a water point, open day and night.

    The water point accepts no stream: washers refill there, nobody unloads.
    """
    always = TimeWindow(0, 2 * 86_400)
    debris = frozenset({Stream.STREET_DEBRIS})
    return (
        Facility("DUMP-1", "Street-debris dump", FacilityKind.DISPOSAL_SITE, *at(0.45, 0.3),
                 accepted_streams=debris, opening=always, unload_s=600, tipping_bays=2),
        Facility("WATER-1", "Water point", FacilityKind.WATER_POINT, *at(0.45, 0.5),
                 accepted_streams=frozenset(), opening=always, unload_s=900, tipping_bays=1),
    )  # fmt: skip


def generate_district(
    network: RoadNetwork,
    *,
    n_points: int = 300,
    seed: int = 7,
    name: str = "baltimore-downtown",
    box: tuple[float, float, float, float] = BALTIMORE_SERVICE_BOX,
    timezone: str = "America/New_York",
    window_share: float = 0.2,
    street_cleaning: bool = True,
) -> District:
    """Place a believable collection district on ``network``.

    Parameters
    ----------
    network
        The loaded road network; every place is put on or next to one of its streets.
    n_points
        Number of collection points (bins, bin banks, businesses).
    seed
        Seed of the random generator; the same seed gives the same district.
    box
        ``(west, south, east, north)`` in degrees; points are placed inside it.
    window_share
        Fraction of points with a fixed-time collection window.
    street_cleaning
        Also add a street-debris dump, a water point, three sweepers (one on
        nights) and two water-washers. They use no random draws, so the
        collection part is the same with or without them.

    Returns
    -------
    District
        One depot, two transfer stations, a kitchen-waste plant, a hazardous-waste
        site, ``n_points`` points and 10 collection trucks (plus the street-cleaning
        facilities and fleet).
    """
    if n_points < 1:
        raise ValidationError("district generator", "n_points", f"must be >= 1, got {n_points}")
    rng = np.random.default_rng(seed)
    west, south, east, north = box

    def at(fx: float, fy: float) -> tuple[float, float]:
        return _pick_node(network, south + fy * (north - south), west + fx * (east - west))

    depot = Depot("DEPOT-1", "Sanitation depot", *at(0.22, 0.18))
    facilities = (
        Facility(
            "TS-NORTH",
            "North transfer station",
            FacilityKind.TRANSFER_STATION,
            *at(0.75, 0.85),
            accepted_streams=frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}),
            opening=TimeWindow(5 * H, 18 * H),
            unload_s=900,
            tipping_bays=2,
            daily_capacity_kg=60_000.0,
        ),
        Facility(
            "TS-SOUTH",
            "South transfer station",
            FacilityKind.TRANSFER_STATION,
            *at(0.55, 0.1),
            accepted_streams=frozenset({Stream.RESIDUAL}),
            opening=TimeWindow(6 * H, 16 * H),
            unload_s=900,
            tipping_bays=1,
            daily_capacity_kg=40_000.0,
        ),
        Facility(
            "KWP-1",
            "Kitchen-waste plant",
            FacilityKind.KITCHEN_WASTE_PLANT,
            *at(0.9, 0.4),
            accepted_streams=frozenset({Stream.KITCHEN, Stream.RESTAURANT_FOOD}),
            opening=TimeWindow(6 * H, 17 * H),
            unload_s=1200,
            tipping_bays=1,
            daily_capacity_kg=25_000.0,
        ),
        Facility(
            "HAZ-1",
            "Hazardous-waste site",
            FacilityKind.HAZARDOUS_WASTE_SITE,
            *at(0.1, 0.6),
            accepted_streams=frozenset({Stream.HAZARDOUS}),
            opening=TimeWindow(8 * H, 16 * H),
            unload_s=1800,
            tipping_bays=1,
            daily_capacity_kg=5_000.0,
        ),
    )
    streams = list(STREAM_PROFILES)
    shares = np.array([STREAM_PROFILES[s].share for s in streams])
    kinds = rng.choice(len(streams), size=n_points, p=shares / shares.sum())
    places = _street_samples(network, box, n_points, rng)
    points = []
    for i in range(n_points):
        stream = streams[int(kinds[i])]
        prof = STREAM_PROFILES[stream]
        kg = float(np.round(rng.uniform(*prof.kg_range), 1))
        windows: tuple[TimeWindow, ...] = ()
        if rng.random() < window_share:
            windows = (FIXED_WINDOWS[int(rng.integers(len(FIXED_WINDOWS)))],)
        points.append(
            CollectionPoint(
                id=f"P{i + 1:04d}",
                lat=float(np.round(places[i, 0], 6)),
                lon=float(np.round(places[i, 1], 6)),
                stream=stream,
                expected_kg=kg,
                expected_l=float(np.round(kg / prof.kg_per_l)),
                service_s=int(rng.integers(*prof.service_s_range)),
                time_windows=windows,
            )
        )
    street_facilities = _street_facilities(at) if street_cleaning else ()
    street_fleet = _street_fleet(depot.id) if street_cleaning else ()
    return District(
        name=name,
        timezone=timezone,
        depots=(depot,),
        facilities=(*facilities, *street_facilities),
        points=tuple(points),
        vehicles=(*_fleet(depot.id), *street_fleet),
    )
