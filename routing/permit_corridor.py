"""Plan a haulage permit's approved corridor on the road network, avoiding restricted zones.

The corridor is the fastest road path from each origin site to each approved
disposal site and back, where every edge with an end inside a restricted zone
costs ``1 + zone_penalty`` times its travel time: a zone is crossed only when
there is no reasonable way around it. Paths are ``(lat, lon)`` polylines that
follow the edges' real shape, ready for :attr:`core.enforcement.Permit.corridor`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
from shapely import contains_xy
from shapely.geometry import Polygon

from core.enforcement import LatLon, RestrictedZone, Site
from core.errors import RoadNetworkError, ValidationError
from core.roads import RoadNetwork

DEFAULT_ZONE_PENALTY = 20.0
"""Extra travel-time factor of an edge touching a restricted zone (20: 21 times slower)."""


def zone_nodes(network: RoadNetwork, zones: Sequence[RestrictedZone]) -> frozenset[int]:
    """OSM ids of the network's nodes inside any of ``zones``."""
    inside = np.zeros(network.osm_ids.shape[0], dtype=bool)
    for z in zones:
        poly = Polygon([(lon, lat) for lat, lon in z.polygon])
        inside |= np.asarray(contains_xy(poly, network.lon, network.lat), dtype=bool)
    return frozenset(int(i) for i in network.osm_ids[inside].tolist())


def plan_path(
    network: RoadNetwork,
    origin: LatLon,
    destination: LatLon,
    *,
    avoid: frozenset[int] = frozenset(),
    zone_penalty: float = DEFAULT_ZONE_PENALTY,
) -> tuple[LatLon, ...]:
    """The fastest road path between the nodes nearest ``origin`` and ``destination`` (lat, lon).

    Edges with an end in ``avoid`` (OSM node ids, see :func:`zone_nodes`) cost
    ``1 + zone_penalty`` times their travel time.

    Raises
    ------
    ValidationError : a negative or non-finite penalty.
    RoadNetworkError : no road path.
    """
    if not (isinstance(zone_penalty, int | float) and math.isfinite(zone_penalty) and zone_penalty >= 0):
        raise ValidationError(
            "plan_path", "zone_penalty", f"must be a finite number >= 0, got {zone_penalty!r}"
        )
    idx, _ = network.nearest_nodes([origin[0], destination[0]], [origin[1], destination[1]])
    src, dst = (int(network.osm_ids[i]) for i in idx.tolist())
    factor = 1.0 + float(zone_penalty)

    def cost(u: int, v: int, edges: dict[Any, dict[str, Any]]) -> float:
        w = min(float(d["travel_time"]) for d in edges.values())
        return w * factor if (u in avoid or v in avoid) else w

    try:
        nodes = nx.shortest_path(network.graph, src, dst, weight=cost)
    except nx.NetworkXNoPath:
        raise RoadNetworkError(f"no road path from OSM node {src} to {dst}") from None
    coords: list[LatLon] = [(float(network.graph.nodes[src]["y"]), float(network.graph.nodes[src]["x"]))]
    for u, v in itertools.pairwise(nodes):
        edges = network.graph.get_edge_data(u, v)
        data = min(edges.values(), key=lambda d: float(d["travel_time"]))
        coords.extend(_edge_coords(network, u, v, data)[1:])
    return tuple(coords)


def _edge_coords(network: RoadNetwork, u: int, v: int, data: dict[str, Any]) -> list[LatLon]:
    """``(lat, lon)`` of edge ``u -> v`` from ``u`` to ``v``, following its geometry when it has one."""
    a = (float(network.graph.nodes[u]["y"]), float(network.graph.nodes[u]["x"]))
    b = (float(network.graph.nodes[v]["y"]), float(network.graph.nodes[v]["x"]))
    geom = data.get("geometry")
    if geom is None:
        return [a, b]
    pts = [(float(lat), float(lon)) for lon, lat in list(geom.coords)]
    if (pts[0][0] - b[0]) ** 2 + (pts[0][1] - b[1]) ** 2 < (pts[0][0] - a[0]) ** 2 + (pts[0][1] - a[1]) ** 2:
        pts.reverse()
    pts[0], pts[-1] = a, b
    return pts


def permit_corridor(
    network: RoadNetwork,
    origins: Sequence[Site],
    disposals: Sequence[Site],
    *,
    zones: Sequence[RestrictedZone] = (),
    zone_penalty: float = DEFAULT_ZONE_PENALTY,
) -> tuple[tuple[LatLon, ...], ...]:
    """A permit's corridor: for each origin and each disposal site, the path there and the path back.

    Raises
    ------
    ValidationError : no origin or no disposal site.
    RoadNetworkError : a pair of sites with no road path.
    """
    if not origins:
        raise ValidationError("permit_corridor", "origins", "must name at least one site")
    if not disposals:
        raise ValidationError("permit_corridor", "disposals", "must name at least one site")
    avoid = zone_nodes(network, zones)
    lines: list[tuple[LatLon, ...]] = []
    for o in origins:
        for d in disposals:
            for a, b in ((o.centre, d.centre), (d.centre, o.centre)):
                path = plan_path(network, a, b, avoid=avoid, zone_penalty=zone_penalty)
                if len(path) >= 2:
                    lines.append(path)
    return tuple(lines)
