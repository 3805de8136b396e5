"""Or-opt on first arc routes: move chains of passes within a trip to where they cost less.

Greedy first routes (:func:`routing.arc_construct.path_scanning`) of a real
day's sweeping hold hundreds of passes per vehicle, more than OR-Tools' local
search can rework in a few seconds. :func:`or_opt` improves them before the
search starts: within each *trip* (the passes between two depot or facility
visits, so every load is unchanged) it moves a chain of 1 to ``max_chain``
consecutive passes (10 by default), in their direction, to the place in the same trip where
the vehicle's cost (``cost_per_distance`` per distance unit + ``cost_per_hour``
per hour of deadhead) drops most, as long as the trip's deadhead time does not
grow (so shifts, breaks and windows that held still hold, barring waiting for
a window; the caller re-checks every route with the solver model).

Plain numpy, no solver. Nodes are solver node numbers of a
:class:`routing.arc_construct.Nodes` table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from routing.arc_construct import Nodes
from routing.arc_model import ArcProblem

__all__ = ["or_opt"]

_EPS = 1e-9


def _improve_trip(
    src: np.ndarray, dst: np.ndarray, cost: np.ndarray, secs: np.ndarray, max_chain: int, max_passes: int
) -> list[int]:
    """Positions ``1..m`` of a trip whose ends (0 and ``m + 1``) stay put, reordered by Or-opt moves.

    ``src``/``dst`` are the graph nodes of positions ``0..m+1``; ``cost`` and ``secs`` the deadhead
    cost and time matrices. First improvement, up to ``max_passes`` sweeps over all chains.
    """
    order = list(range(len(src)))
    m = len(order) - 2
    for _ in range(max_passes):
        moved = False
        for k in range(1, min(max_chain, m) + 1):
            i = 1
            while i + k - 1 <= m:
                s = np.asarray(src)[order]
                d = np.asarray(dst)[order]
                first, last = order[i], order[i + k - 1]
                before, after = d[i - 1], s[i + k]
                gain_c = cost[before, src[first]] + cost[dst[last], after] - cost[before, after]
                gain_t = secs[before, src[first]] + secs[dst[last], after] - secs[before, after]
                # insertion between p and p + 1, for p outside the chain and its left neighbour
                into_c = cost[d[:-1], src[first]] + cost[dst[last], s[1:]] - cost[d[:-1], s[1:]]
                into_t = secs[d[:-1], src[first]] + secs[dst[last], s[1:]] - secs[d[:-1], s[1:]]
                delta_c = into_c - gain_c
                delta_t = into_t - gain_t
                delta_c[i - 1 : i + k] = np.inf  # p in i-1 .. i+k-1 is where the chain is
                delta_c[delta_t > _EPS] = np.inf
                p = int(np.argmin(delta_c))
                if delta_c[p] < -1e-6:
                    chain = order[i : i + k]
                    rest = order[:i] + order[i + k :]
                    at = p + 1 if p < i else p + 1 - k
                    order = rest[:at] + chain + rest[at:]
                    moved = True
                else:
                    i += 1
        if not moved:
            break
    return order[1:-1]


def or_opt(
    problem: ArcProblem,
    nodes: Nodes,
    routes: Sequence[Sequence[int]],
    *,
    max_chain: int = 10,
    max_passes: int = 100,
) -> list[list[int]]:
    """Each route with every trip improved by Or-opt moves (see the module docstring).

    Parameters
    ----------
    problem, nodes
        The problem and its solver node table.
    routes
        Per vehicle, solver node numbers between the depots (service nodes and facility copies).
    max_chain
        Longest chain of consecutive passes moved at once.
    max_passes
        Sweeps over all chains of a trip, at most.

    Returns
    -------
    list of list of int
        The same nodes per vehicle, trips in the same order, passes reordered within their trip.
    """
    dist = np.where(np.isfinite(problem.dist), problem.dist, 1e12)
    time_s = np.where(np.isfinite(problem.time_s), problem.time_s, 1e12)
    out: list[list[int]] = []
    for v, route in zip(problem.vehicles, routes, strict=True):
        cost = v.cost_per_distance * dist + v.cost_per_hour / 3600.0 * time_s
        if not np.any(cost):
            cost = dist
        new: list[int] = []
        trip: list[int] = []
        anchor = v.start
        for i in [*route, -1]:
            if i >= 0 and nodes.task[i] >= 0:
                trip.append(i)
                continue
            end = v.end_node if i < 0 else int(nodes.src[i])
            if len(trip) > 1:
                src = np.array([anchor, *nodes.src[trip], end], dtype=np.int64)
                dst = np.array([anchor, *nodes.dst[trip], end], dtype=np.int64)
                order = _improve_trip(src, dst, cost, time_s, max_chain, max_passes)
                trip = [trip[j - 1] for j in order]
            new += trip
            trip = []
            if i >= 0:
                new.append(i)
                anchor = int(nodes.dst[i])
        out.append(new)
    return out
