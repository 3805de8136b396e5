"""Decomposition of a large plan into groups of neighbouring routes, improved one group at a time.

Pure Python and NumPy. On thousands of points one OR-Tools model of the whole
day (with unload copies and breaks) makes every local-search move slow; a model
of two or three neighbouring routes with only their points is small and fast.
:func:`routing.solve.run_job` improves such groups in turn with the rest of the
plan fixed (:func:`route_groups` says which), which is exact as long as routes
do not interact: :func:`independent_routes` checks that no facility's tipping
bays or daily tonnage can bind across routes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from routing.model import RoutingProblem

__all__ = ["independent_routes", "route_groups"]


def independent_routes(problem: RoutingProblem) -> bool:
    """Whether routes share only roads: no facility with fewer bays than vehicles or a tonnage limit."""
    n = len(problem.vehicles)
    return all(
        s.daily_capacity_kg is None and (s.bays >= n or problem.service_s[s.loc] == 0) for s in problem.sites
    )


def route_groups(
    problem: RoutingProblem, routes: Sequence[Sequence[int]], size: int, offset: int = 0
) -> list[list[int]]:
    """Vehicles with a route, in groups of ``size`` neighbours by the polar angle of their points' centroid.

    The angle is taken around each route's start depot (lat/lon scaled
    locally); routes are sorted by it, rotated by ``offset`` (so successive
    rounds cut the circle at other places) and cut into consecutive groups.

    Parameters
    ----------
    problem : RoutingProblem
        The problem.
    routes : sequence of sequence of int
        Per vehicle, the location indices it visits (depots and unloads allowed).
    size : int
        Routes per group (>= 1); the last group may be smaller.
    offset : int
        Rotation of the angular order before cutting.
    """
    keyed = []
    for k, route in enumerate(routes):
        pts = [loc for loc in route if loc in problem.points]
        if not pts:
            continue
        depot = problem.locations[problem.vehicles[k].start]
        lat = float(np.mean([problem.locations[p].lat for p in pts]))
        lon = float(np.mean([problem.locations[p].lon for p in pts]))
        angle = math.atan2(lat - depot.lat, (lon - depot.lon) * math.cos(math.radians(depot.lat)))
        keyed.append((angle, k))
    order = [k for _, k in sorted(keyed)]
    if not order:
        return []
    shift = offset % len(order)
    order = order[shift:] + order[:shift]
    size = max(1, size)
    return [order[i : i + size] for i in range(0, len(order), size)]
