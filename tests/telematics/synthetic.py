"""Hand-checkable synthetic roads, plans and detours for the telematics tests.

Everything is laid out in metres on a local plane around ``ORIGIN`` (Baltimore)
and converted to degrees with the plain equirectangular formula. The "road" is
straight-ish: ``y = 15 sin(x / 400)`` m, vertices every 50 m, running east from
the depot at ``x = 0``. A route drives out to its stops and back on the same road.
"""

from __future__ import annotations

import itertools
import math
from datetime import date

from core.domain import Plan, PlanStop, Route, StopKind

ORIGIN = (39.29, -76.61)
R = 6_371_008.8
DAY = date(2025, 3, 4)
DAY_START_UTC = 1_741_064_400.0  # 2025-03-04 00:00 US/Eastern (05:00 UTC)


def to_latlon(x: float, y: float) -> tuple[float, float]:
    """Metres east/north of ORIGIN to (lat, lon) degrees."""
    lat0, lon0 = ORIGIN
    lat = lat0 + math.degrees(y / R)
    lon = lon0 + math.degrees(x / (R * math.cos(math.radians(lat0))))
    return lat, lon


def road_y(x: float) -> float:
    """The straight-ish road: y (m) at x (m)."""
    return 15.0 * math.sin(x / 400.0)


def road_xy(
    x_from: float, x_to: float, *, y_shift: float = 0.0, step: float = 50.0
) -> list[tuple[float, float]]:
    """Road vertices from x_from to x_to (either direction), both ends included."""
    n = max(1, math.ceil(abs(x_to - x_from) / step))
    xs = [x_from + (x_to - x_from) * k / n for k in range(n + 1)]
    return [(x, road_y(x) + y_shift) for x in xs]


def length_m(xy: list[tuple[float, float]]) -> float:
    """Polyline length (m)."""
    return sum(math.dist(a, b) for a, b in itertools.pairwise(xy))


def make_route(
    vehicle_id: str,
    stop_xs: list[float],
    *,
    y_shift: float = 0.0,
    speed_mps: float = 8.0,
    service_s: int = 120,
    start_s: int = 7 * 3600,
) -> Route:
    """Depot at x = 0, collections at ``stop_xs`` (ascending), back to the depot.

    Legs follow the road (shifted north by ``y_shift`` m); each is driven at
    ``speed_mps``; each collection takes ``service_s``.
    """
    xs = [0.0, *stop_xs, 0.0]
    depot = to_latlon(0.0, road_y(0.0) + y_shift)
    stops = [PlanStop(StopKind.DEPOT_START, "depot", *depot, start_s, start_s, start_s, 0.0, 0.0)]
    t = float(start_s)
    for k in range(1, len(xs)):
        leg = road_xy(xs[k - 1], xs[k], y_shift=y_shift)
        leg_m = length_m(leg)
        leg_s = round(leg_m / speed_mps)
        t += leg_s
        last = k == len(xs) - 1
        kind = StopKind.DEPOT_END if last else StopKind.COLLECTION
        dwell = 0 if last else service_s
        arrival = int(t)
        stops.append(
            PlanStop(
                kind,
                "depot" if last else f"p{k}",
                *to_latlon(*leg[-1]),
                arrival,
                arrival,
                arrival + dwell,
                0.0,
                0.0,
                leg_distance_m=leg_m,
                leg_time_s=leg_s,
                leg_coords=tuple(to_latlon(x, y) for x, y in leg),
            )
        )
        t += dwell
    return Route(vehicle_id, tuple(stops))


def make_plan(*routes: Route) -> Plan:
    """A plan holding ``routes``."""
    return Plan("synthetic", DAY, tuple(routes))


def bump_via(
    x_from: float, x_to: float, a: float, b: float, *, height: float = 400.0
) -> tuple[tuple[float, float], ...]:
    """A rectangular detour: along the road from x_from to a, north to ``height`` m,
    east to b, back south to the road, then along the road to x_to."""
    xy = road_xy(x_from, a)
    xy += [(a, height), (b, height)]
    xy += road_xy(b, x_to)
    return tuple(to_latlon(x, y) for x, y in xy)
