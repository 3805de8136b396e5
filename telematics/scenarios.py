"""Labelled violation scenarios built on the real road network (for the simulator).

A detour here is a real drivable path: from the start of a planned leg to a road
node well away from the whole planned route, then on to the leg's end.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial import cKDTree

from core.domain import Plan, StopKind
from core.roads import RoadNetwork
from telematics.simulate import DetourSpec

EARTH_RADIUS_M = 6_371_008.8


def _local_xy(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Equirectangular metres about ``(lat0, lon0)``; ``(n, 2)``."""
    k = np.pi / 180.0 * EARTH_RADIUS_M
    return np.column_stack(((lon - lon0) * k * np.cos(np.radians(lat0)), (lat - lat0) * k))


def _densify(xy: np.ndarray, step_m: float) -> np.ndarray:
    """The polyline ``xy`` resampled so no two consecutive points are over ``step_m`` apart."""
    out = [xy[:1]]
    for a, b in itertools.pairwise(xy):
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / step_m)))
        t = np.arange(1, n + 1)[:, None] / n
        out.append(a + t * (b - a))
    return np.vstack(out)


def plan_detour(
    plan: Plan,
    network: RoadNetwork,
    rng: np.random.Generator,
    *,
    vehicle_id: str | None = None,
    min_offset_m: float = 400.0,
    max_offset_m: float = 1000.0,
    min_leg_m: float = 400.0,
) -> DetourSpec | None:
    """A detour for one route of ``plan``: a leg replaced by a real path via a far node.

    Parameters
    ----------
    plan
        The plan to perturb.
    network
        The road network the plan was made on.
    rng
        Random generator (decides vehicle, leg and via node).
    vehicle_id
        Route to perturb; default: the longest route.
    min_offset_m, max_offset_m
        The via node lies at least ``min_offset_m`` from every point of the
        vehicle's planned path and at most ``max_offset_m`` from the leg's middle.
    min_leg_m
        Only legs at least this long are considered (m).

    Returns
    -------
    DetourSpec or None
        ``None`` when no leg of the route admits such a detour.
    """
    routes = [r for r in plan.routes if vehicle_id is None or r.vehicle_id == vehicle_id]
    if not routes:
        return None
    route = max(routes, key=lambda r: r.distance_m)
    coords = np.array([c for s in route.stops for c in s.leg_coords])
    if len(coords) < 2:
        return None
    lat0, lon0 = float(coords[:, 0].mean()), float(coords[:, 1].mean())
    route_xy = _densify(_local_xy(coords[:, 0], coords[:, 1], lat0, lon0), step_m=10.0)
    nodes_xy = _local_xy(network.lat, network.lon, lat0, lon0)
    far_from_route = cKDTree(route_xy).query(nodes_xy)[0] >= min_offset_m
    # keep clear of the depot yard at both ends, where the corridor check looks away
    for end in (route.stops[0], route.stops[-1]):
        end_xy = _local_xy(np.array([end.lat]), np.array([end.lon]), lat0, lon0)
        far_from_route &= np.hypot(*(nodes_xy - end_xy).T) >= max_offset_m
    legs = [
        i
        for i, s in enumerate(route.stops)
        if i > 0 and s.kind == StopKind.COLLECTION and s.leg_distance_m >= min_leg_m
    ]
    rng.shuffle(legs)
    for i in legs:
        leg = np.array(route.stops[i].leg_coords)
        mid = leg[len(leg) // 2 : len(leg) // 2 + 1]
        mid_xy = _local_xy(mid[:, 0], mid[:, 1], lat0, lon0)
        near_mid = np.hypot(*(nodes_xy - mid_xy).T) <= max_offset_m
        candidates = np.flatnonzero(far_from_route & near_mid)
        if len(candidates) == 0:
            continue
        via = int(rng.choice(candidates))
        prev, stop = route.stops[i - 1], route.stops[i]
        ends, _ = network.nearest_nodes([prev.lat, stop.lat], [prev.lon, stop.lon])
        out = network.route(int(ends[0]), via)
        back = network.route(via, int(ends[1]))
        via_coords = ((prev.lat, prev.lon), *out.coords, *back.coords[1:], (stop.lat, stop.lon))
        return DetourSpec(vehicle_id=route.vehicle_id, stop_index=i, via_coords=tuple(via_coords))
    return None
