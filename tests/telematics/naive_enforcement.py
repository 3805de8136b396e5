"""Slow, obvious reference versions of the enforcement kernels (plain Python and shapely)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from shapely.geometry import Point, Polygon


def window_active(local_s: float, windows: list[tuple[float, float]]) -> bool:
    """No windows: always; else inside any ``[lo, hi)`` (wrapping when lo > hi, all day when equal)."""
    if not windows:
        return True
    t = local_s % 86_400.0
    return any(
        lo == hi or (lo < hi and lo <= t < hi) or (lo > hi and (t >= lo or t < hi)) for lo, hi in windows
    )


def signed_distance(x: float, y: float, place: dict[str, Any]) -> float:
    """Shapely: circle ``|p - c| - r``; polygon minus/plus the distance to its boundary."""
    if place["kind"] == "circle":
        return math.hypot(x - place["cx"], y - place["cy"]) - place["r"]
    poly = Polygon(place["xy"])
    d = poly.exterior.distance(Point(x, y))
    return -d if poly.contains(Point(x, y)) else d


def locate(
    x: float, y: float, local_s: float, margin_m: float, places: list[dict[str, Any]], eligible: list[bool]
) -> int:
    """The lowest eligible, active place within ``margin_m``, by brute force; -1 when none."""
    for p, place in enumerate(places):
        if not eligible[p] or not window_active(local_s, place["windows"]):
            continue
        if signed_distance(x, y, place) <= margin_m:
            return p
    return -1


def debounce_level(t: list[float], v: list[float], high: float, low: float, hold_s: float) -> list[int]:
    """Switch to a level after its value held for ``hold_s`` over consecutive non-NaN fixes; back-dated."""
    out = [-1] * len(t)
    state = -1
    for i in range(len(t)):
        if math.isnan(v[i]):
            out[i] = state
            continue
        level = 1 if v[i] >= high else 0 if v[i] <= low else -1
        if level not in (-1, state):
            # the run of this level ending at i, over non-NaN fixes only
            j = i
            k = i - 1
            while k >= 0:
                if math.isnan(v[k]):
                    k -= 1
                    continue
                lk = 1 if v[k] >= high else 0 if v[k] <= low else -1
                if lk != level:
                    break
                j = k
                k -= 1
            if t[i] - t[j] >= hold_s:
                state = level
                for m in range(j, i):
                    out[m] = state
        out[i] = state
    return out


def runs(
    flag: list[bool], t: list[float], min_fixes: int, min_s: float, split_s: float
) -> list[tuple[int, int]]:
    """Maximal runs of True, split at time gaps over ``split_s``, kept when long enough."""
    out = []
    i = 0
    n = len(flag)
    while i < n:
        if not flag[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and flag[j + 1] and t[j + 1] - t[j] <= split_s:
            j += 1
        if j - i + 1 >= min_fixes and t[j] - t[i] >= min_s:
            out.append((i, j))
        i = j + 1
    return out


def median_around(t: list[float], v: list[float], s: int, e: int, window_s: float) -> tuple[float, float]:
    """Median of the non-NaN values in ``[t_s - w, t_s]`` and in ``[t_e, t_e + w]``."""
    before = [v[i] for i in range(len(t)) if t[s] - window_s <= t[i] <= t[s] and not math.isnan(v[i])]
    after = [v[i] for i in range(len(t)) if t[e] <= t[i] <= t[e] + window_s and not math.isnan(v[i])]
    med = lambda xs: float(np.median(xs)) if xs else math.nan  # noqa: E731
    return med(before), med(after)


def longest_tipping(t: list[float], tip: list[float], valid: list[bool], s: int, e: int) -> float:
    """Longest ``t_last - t_first`` over runs of consecutive valid fixes with tipping > 0.5."""
    best = 0.0
    run0: float | None = None
    for i in range(s, e + 1):
        if not valid[i]:
            continue
        if tip[i] > 0.5:
            run0 = t[i] if run0 is None else run0
            best = max(best, t[i] - run0)
        else:
            run0 = None
    return best


def split_at_moves(
    x: list[float], y: list[float], valid: list[bool], starts: list[int], ends: list[int], move_m: float
) -> list[tuple[int, int]]:
    """Cut each stop before every valid fix over ``move_m`` from the previous valid fix."""
    out = []
    for s, e in zip(starts, ends, strict=True):
        idx = [i for i in range(s, e + 1) if valid[i]]
        cuts = [b for a, b in itertools.pairwise(idx) if math.hypot(x[b] - x[a], y[b] - y[a]) > move_m]
        bounds = [s, *cuts]
        for k, first in enumerate(bounds):
            if k + 1 < len(bounds):
                nxt = bounds[k + 1]
                last = max(i for i in idx if i < nxt)
            else:
                last = e
            out.append((first, last))
    return out


def join_close_stops(
    t: list[float],
    x: list[float],
    y: list[float],
    starts: list[int],
    ends: list[int],
    break_s: float,
    move_m: float,
) -> list[tuple[int, int]]:
    """Merge each stop into the one before when the break between them is short in time and space."""
    out: list[list[int]] = []
    for s, e in zip(starts, ends, strict=True):
        if out:
            pe = out[-1][1]
            if t[s] - t[pe] <= break_s and math.hypot(x[s] - x[pe], y[s] - y[pe]) <= move_m:
                out[-1][1] = e
                continue
        out.append([s, e])
    return [(s, e) for s, e in out]


def centered_speed(
    t: list[float], x: list[float], y: list[float], valid: list[bool], half_s: float
) -> list[float]:
    """Displacement between the first and last valid fixes within ``half_s`` of each valid fix, per second."""
    out = []
    for i in range(len(t)):
        inside = [k for k in range(len(t)) if valid[k] and abs(t[k] - t[i]) <= half_s]
        if not valid[i] or t[inside[-1]] == t[inside[0]]:
            out.append(math.nan)
            continue
        j, k = inside[0], inside[-1]
        out.append(math.hypot(x[k] - x[j], y[k] - y[j]) / (t[k] - t[j]))
    return out
