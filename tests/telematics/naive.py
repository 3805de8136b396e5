"""Slow, obviously correct twins of ``telematics.kernels``: the oracles for the tests.

Plain Python loops over plain floats; no grid, no Numba. Each function computes
the same quantity as its kernel, by the most direct route.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

R = 6_371_008.8  # the same Earth radius the kernels state (m)


def project(
    lat: Sequence[float], lon: Sequence[float], lat0: float, lon0: float
) -> tuple[list[float], list[float]]:
    """Equirectangular projection, one point at a time, longitude difference wrapped to [-180, 180)."""
    xs, ys = [], []
    for la, lo in zip(lat, lon, strict=True):
        dlon = lo - lon0
        while dlon >= 180.0:
            dlon -= 360.0
        while dlon < -180.0:
            dlon += 360.0
        xs.append(R * math.radians(dlon) * math.cos(math.radians(lat0)))
        ys.append(R * math.radians(la - lat0))
    return xs, ys


def point_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> tuple[float, float]:
    """Distance from p to segment ab and the clamped projection parameter t."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    if len2 == 0.0:
        t = 0.0
    else:
        t = ((px - ax) * dx + (py - ay) * dy) / len2
        t = min(max(t, 0.0), 1.0)
    ex = ax + t * dx - px  # the offset from p to its nearest point on ab
    ey = ay + t * dy - py
    return math.sqrt(ex * ex + ey * ey), t


def nearest(
    px: float,
    py: float,
    ax: Sequence[float],
    ay: Sequence[float],
    bx: Sequence[float],
    by: Sequence[float],
    max_search_m: float,
) -> tuple[float, int, float]:
    """Check every segment; keep the first (lowest id) of the closest; cap at max_search_m."""
    best, best_seg, best_t = math.inf, -1, 0.0
    for s in range(len(ax)):
        d, t = point_segment(px, py, ax[s], ay[s], bx[s], by[s])
        if d < best:
            best, best_seg, best_t = d, s, t
    if best > max_search_m:
        return max_search_m, -1, 0.0
    return best, best_seg, best_t


def distance_to_segments(
    px: Sequence[float],
    py: Sequence[float],
    ax: Sequence[float],
    ay: Sequence[float],
    bx: Sequence[float],
    by: Sequence[float],
    max_search_m: float,
) -> list[float]:
    """Brute force: every point against every segment."""
    return [nearest(x, y, ax, ay, bx, by, max_search_m)[0] for x, y in zip(px, py, strict=True)]


def detour_episodes(
    t_s: Sequence[float],
    dist_m: Sequence[float],
    valid: Sequence[bool],
    enter_m: float,
    exit_m: float,
    min_fixes: int,
    min_duration_s: float,
) -> tuple[list[int], list[int]]:
    """The hysteresis state machine, written out: drop invalid fixes, walk, then filter."""
    usable = [i for i in range(len(t_s)) if valid[i]]
    episodes: list[list[int]] = []
    state = "on_route"
    current: list[int] = []
    for i in usable:
        if state == "on_route":
            if dist_m[i] > enter_m:
                state = "off_route"
                current = [i]
        else:  # off_route
            if dist_m[i] <= exit_m:
                state = "on_route"
                episodes.append(current)
                current = []
            else:
                current.append(i)
    if state == "off_route":
        episodes.append(current)
    starts, ends = [], []
    for ep in episodes:
        if len(ep) >= min_fixes and t_s[ep[-1]] - t_s[ep[0]] >= min_duration_s:
            starts.append(ep[0])
            ends.append(ep[-1])
    return starts, ends


def path_length(x: Sequence[float], y: Sequence[float], i0: int, i1: int) -> float:
    """Sum of straight steps from point i0 to point i1."""
    return sum(math.hypot(x[k + 1] - x[k], y[k + 1] - y[k]) for k in range(i0, i1))
