"""Slow, obviously correct twins of ``telematics.kernels``: the oracles for the tests.

Plain Python loops over plain floats; no grid, no Numba. Each function computes
the same quantity as its kernel, by the most direct route.
"""

from __future__ import annotations

import itertools
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
    rejoin_s: float = 0.0,
) -> tuple[list[int], list[int]]:
    """The hysteresis state machine, written out: drop invalid fixes, walk, then filter.

    Back on route ends an episode only ``rejoin_s`` or more after its last off-route fix.
    """
    usable = [i for i in range(len(t_s)) if valid[i]]
    episodes: list[list[int]] = []
    state = "on_route"
    current: list[int] = []
    for i in usable:
        if state == "on_route":
            if dist_m[i] > enter_m:
                state = "off_route"
                current = [i]
        elif dist_m[i] <= exit_m:
            if t_s[i] - t_s[current[-1]] >= rejoin_s:
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


def nearest_kept(
    px: float,
    py: float,
    ax: Sequence[float],
    ay: Sequence[float],
    bx: Sequence[float],
    by: Sequence[float],
    keep: Sequence[bool],
    cap_m: float,
) -> tuple[float, int, float]:
    """Brute force over the kept segments only; lowest id on ties; capped at cap_m."""
    best, best_seg, best_t = math.inf, -1, 0.0
    for s in range(len(ax)):
        if not keep[s]:
            continue
        d, t = point_segment(px, py, ax[s], ay[s], bx[s], by[s])
        if d < best:
            best, best_seg, best_t = d, s, t
    if best > cap_m:
        return cap_m, -1, 0.0
    return best, best_seg, best_t


def runs(
    t_s: Sequence[float],
    flag: Sequence[bool],
    valid: Sequence[bool],
    min_duration_s: float,
    release_s: float = 0.0,
    split_s: float = math.inf,
) -> list[tuple[int, int, int]]:
    """Maximal runs of flagged valid fixes, as (first, last, closing fix or -1).

    Invalid fixes are dropped first. A run ends at its last flagged fix once an
    unflagged fix comes at least ``release_s`` after it, or when the next
    flagged fix comes more than ``split_s`` after it (that fix starts a new
    run); runs shorter than ``min_duration_s`` (first to last flagged fix) are
    dropped.
    """
    usable = [i for i in range(len(t_s)) if valid[i]]
    out: list[tuple[int, int, int]] = []
    current: list[int] = []

    def finish(closer: int) -> None:
        if t_s[current[-1]] - t_s[current[0]] >= min_duration_s:
            out.append((current[0], current[-1], closer))

    for i in usable:
        if flag[i]:
            if current and t_s[i] - t_s[current[-1]] > split_s:
                finish(i)
                current = []
            current.append(i)
        elif current and t_s[i] - t_s[current[-1]] >= release_s:
            finish(i)
            current = []
    if current:
        finish(-1)
    return out


def dwells(
    t_s: Sequence[float],
    speed: Sequence[float],
    valid: Sequence[bool],
    stop_mps: float,
    min_dwell_s: float,
    split_s: float = math.inf,
) -> list[tuple[int, int, int]]:
    """Dwells: runs of valid fixes at or below stop_mps (NaN is moving), split at silences over split_s."""
    slow = [not math.isnan(v) and v <= stop_mps for v in speed]
    return runs(t_s, slow, valid, min_dwell_s, split_s=split_s)


def speeding(
    t_s: Sequence[float],
    speed: Sequence[float],
    limit: Sequence[float],
    valid: Sequence[bool],
    tolerance_frac: float,
    tolerance_mps: float,
    min_duration_s: float,
    release_s: float,
) -> list[tuple[int, int, int]]:
    """Speeding runs: speed above limit * (1 + frac) + abs (NaN never over), with release."""
    over = [
        not (math.isnan(v) or math.isnan(lim)) and v > lim * (1.0 + tolerance_frac) + tolerance_mps
        for v, lim in zip(speed, limit, strict=True)
    ]
    return runs(t_s, over, valid, min_duration_s, release_s)


def gaps(
    t_s: Sequence[float],
    x: Sequence[float],
    y: Sequence[float],
    speed: Sequence[float],
    work: Sequence[float],
    valid: Sequence[bool],
    max_gap_s: float,
    moving_mps: float,
    far_m: float,
) -> list[tuple[int, int]]:
    """Pairs of consecutive valid fixes over max_gap_s apart: moving at an end, far apart, or work done."""
    usable = [i for i in range(len(t_s)) if valid[i]]
    out = []
    for p, i in itertools.pairwise(usable):
        if t_s[i] - t_s[p] <= max_gap_s:
            continue
        moving = any(not math.isnan(speed[k]) and speed[k] > moving_mps for k in (p, i))
        worked = not (math.isnan(work[i]) or math.isnan(work[p])) and work[i] - work[p] >= 1.0
        if moving or worked or math.hypot(x[i] - x[p], y[i] - y[p]) > far_m:
            out.append((p, i))
    return out


def jumps(
    t_s: Sequence[float],
    x: Sequence[float],
    y: Sequence[float],
    max_speed_mps: float,
    slack_m: float,
    confirm_fixes: int,
) -> list[bool]:
    """The jump rule, written out with a list of pending outliers."""

    def reachable(a: int, b: int) -> bool:
        return math.hypot(x[b] - x[a], y[b] - y[a]) <= max_speed_mps * (t_s[b] - t_s[a]) + slack_m

    out = [False] * len(t_s)
    good: int | None = None
    pending: list[int] = []  # consecutive outliers, each reachable from the previous one
    for i in range(len(t_s)):
        if good is None or reachable(good, i):
            good, pending = i, []
            continue
        pending = [*pending, i] if pending and reachable(pending[-1], i) else [i]
        if len(pending) >= confirm_fixes:
            good, pending = i, []
        else:
            out[i] = True
    return out


def implied_speed(
    t_s: Sequence[float], x: Sequence[float], y: Sequence[float], valid: Sequence[bool], window_s: float
) -> list[float]:
    """Distance from the earliest valid fix within window_s before, over the time between."""
    out = []
    for i in range(len(t_s)):
        earlier = [j for j in range(i) if valid[j] and t_s[j] >= t_s[i] - window_s]
        if not valid[i] or not earlier or t_s[i] <= t_s[earlier[0]]:
            out.append(math.nan)
            continue
        j = earlier[0]
        out.append(math.hypot(x[i] - x[j], y[i] - y[j]) / (t_s[i] - t_s[j]))
    return out


def coverage(
    t_s: Sequence[float],
    x: Sequence[float],
    y: Sequence[float],
    speed: Sequence[float],
    brooms: Sequence[float],
    valid: Sequence[bool],
    ax: Sequence[float],
    ay: Sequence[float],
    bx: Sequence[float],
    by: Sequence[float],
    bins: Sequence[int],
    match_m: float,
    min_cos: float,
    min_mps: float,
    max_mps: float,
    max_pair_s: float,
    min_step_m: float,
) -> list[list[bool]]:
    """Covered bins per directed segment: anchor-to-fix pairs against every segment.

    The anchor moves to the fix when the pair matched a segment, or when the
    pair is no sweeping pair at all; a pair too short or matching nothing keeps it.
    """
    covered = [[False] * nb for nb in bins]

    def sweeping(i: int) -> bool:
        return brooms[i] > 0.5 and min_mps <= speed[i] <= max_mps

    anchor: int | None = None
    for i in (k for k in range(len(t_s)) if valid[k]):
        p = anchor
        if p is None or not (sweeping(p) and sweeping(i) and 0.0 < t_s[i] - t_s[p] <= max_pair_s):
            anchor = i
            continue
        mx, my = x[i] - x[p], y[i] - y[p]
        mlen = math.sqrt(mx * mx + my * my)
        if mlen < min_step_m:
            continue  # too close to tell the direction: keep the anchor
        matched = False
        for s in range(len(ax)):
            dsx, dsy = bx[s] - ax[s], by[s] - ay[s]
            slen = math.sqrt(dsx * dsx + dsy * dsy)
            if slen == 0.0 or mx * dsx + my * dsy < min_cos * mlen * slen:
                continue
            dp, up = point_segment(x[p], y[p], ax[s], ay[s], bx[s], by[s])
            di, ui = point_segment(x[i], y[i], ax[s], ay[s], bx[s], by[s])
            if dp > match_m or di > match_m or ui <= up:
                continue
            matched = True
            nb = bins[s]
            for b in range(nb):
                if up <= (b + 0.5) / nb <= ui:
                    covered[s][b] = True
        if matched:
            anchor = i  # else keep the anchor and try a longer baseline
    return covered


def max_value_near(
    px: float,
    py: float,
    ax: Sequence[float],
    ay: Sequence[float],
    bx: Sequence[float],
    by: Sequence[float],
    values: Sequence[float],
    radius_m: float,
) -> float:
    """The largest value of the segments within radius_m (NaN values ignored); NaN when none."""
    found = [
        values[s]
        for s in range(len(ax))
        if point_segment(px, py, ax[s], ay[s], bx[s], by[s])[0] <= radius_m and not math.isnan(values[s])
    ]
    return max(found) if found else math.nan
