"""A small synthetic street grid for the sweeping tests, with a district of sweepers and washers.

Nodes ``(row, col)``, 4 columns x 3 rows, 100 m apart (about), OSM id
``1000 + 10 * row + col``; driving at 10 m/s::

    row 2   o ---> o ---> o ---> o      secondary, one-way eastbound
            |      |      |      |      (columns: tertiary, two-way)
    row 1   o ---- o ---- o ---- o      residential, two-way
            |      |      |      |
    row 0   D ==== o ==== o ==== o      primary, two-way (D = depot)

The dump ``DUMP`` stands at (0, 3) and the water point ``WATER`` at (2, 3).
"""

from __future__ import annotations

import math

import networkx as nx

from core.domain import Depot, District, Facility, FacilityKind, Stream, TimeWindow, Vehicle, VehicleKind
from core.roads import RoadNetwork

LAT0, LON0 = 39.28, -76.58
STEP_M = 100.0
SPEED_MPS = 10.0
ROWS = {0: "primary", 1: "residential", 2: "secondary"}
ONE_WAY_ROWS = {2}
H = 3600


def osm_id(row: int, col: int) -> int:
    """The OSM id of grid node ``(row, col)``."""
    return 1000 + 10 * row + col


def latlon(row: float, col: float) -> tuple[float, float]:
    """``(lat, lon)`` of a grid position (rows go north, columns east, ``STEP_M`` apart)."""
    dlat = row * STEP_M / 111_195.0
    dlon = col * STEP_M / (111_195.0 * math.cos(math.radians(LAT0)))
    return LAT0 + dlat, LON0 + dlon


def _add(g: nx.MultiDiGraph, a: int, b: int, highway: str, oneway: bool) -> None:
    (la, lo), (lb, lob) = (g.nodes[a]["y"], g.nodes[a]["x"]), (g.nodes[b]["y"], g.nodes[b]["x"])
    length = math.hypot((lb - la) * 111_195.0, (lob - lo) * 111_195.0 * math.cos(math.radians(LAT0)))
    data = {"highway": highway, "oneway": oneway, "length": length, "travel_time": length / SPEED_MPS}
    g.add_edge(a, b, **data)
    if not oneway:
        g.add_edge(b, a, **data)


def grid_network() -> RoadNetwork:
    """The grid above as a :class:`RoadNetwork`."""
    g = nx.MultiDiGraph()
    for r in range(3):
        for c in range(4):
            lat, lon = latlon(r, c)
            g.add_node(osm_id(r, c), y=lat, x=lon)
    for r, highway in ROWS.items():
        for c in range(3):
            _add(g, osm_id(r, c), osm_id(r, c + 1), highway, r in ONE_WAY_ROWS)
    for c in range(4):
        for r in range(2):
            _add(g, osm_id(r, c), osm_id(r + 1, c), "tertiary", False)
    return RoadNetwork(g)


def node(network: RoadNetwork, row: int, col: int) -> int:
    """The node index of grid node ``(row, col)``."""
    return int(list(network.osm_ids).index(osm_id(row, col)))


def grid_district(
    *,
    sweepers: tuple[tuple[str, TimeWindow], ...] = (("SW-DAY", TimeWindow(6 * H, 14 * H)),),
    washer_tank_l: float = 10_000.0,
    hopper_kg: float = 1_000.0,
) -> District:
    """A depot, a dump, a water point, the given sweepers (id, shift) and one washer."""
    common = {"depot_id": "D", "streams": frozenset({Stream.STREET_DEBRIS}), "break_duration_s": 0}
    vehicles = [
        Vehicle(vid, VehicleKind.SWEEPER, capacity_kg=hopper_kg, capacity_l=2_000.0, shift=shift, **common)
        for vid, shift in sweepers
    ]
    vehicles.append(
        Vehicle("WASH", VehicleKind.WASHER, capacity_kg=9_000.0, capacity_l=washer_tank_l,
                shift=TimeWindow(6 * H, 14 * H), **common)
    )  # fmt: skip
    always = TimeWindow(0, 2 * 86_400)
    debris = frozenset({Stream.STREET_DEBRIS})
    return District(
        name="grid",
        timezone="America/New_York",
        depots=(Depot("D", "Depot", *latlon(0, 0)),),
        facilities=(
            Facility(
                "DUMP",
                "Dump",
                FacilityKind.DISPOSAL_SITE,
                *latlon(0, 3),
                accepted_streams=debris,
                opening=always,
                unload_s=300,
            ),
            Facility(
                "WATER",
                "Water",
                FacilityKind.WATER_POINT,
                *latlon(2, 3),
                accepted_streams=debris,
                opening=always,
                unload_s=300,
            ),
        ),
        points=(),
        vehicles=tuple(vehicles),
    )
