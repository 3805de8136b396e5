"""Numba kernels of the enforcement checks: place membership, load state, dwell measures.

Same rules as :mod:`telematics.kernels`: ``@njit(cache=True)``, arrays and
scalars only, no exceptions, every threshold an argument. Coordinates are
local metres (:func:`telematics.kernels.project_equirectangular`), times seconds.

Places are polygons or circles packed in flat arrays (see
:class:`telematics.enforcement.PlaceIndex`): place ``p`` has ``kind[p]`` 0
(polygon, vertices ``vx[vstart[p]:vstart[p+1]]``, an open ring) or 1 (circle
of centre ``cx[p], cy[p]`` and radius ``r[p]``), and optional daily active
windows ``win_lo[k], win_hi[k]`` for ``k`` in ``wstart[p]:wstart[p+1]`` (local
seconds of the day; ``lo > hi`` wraps midnight, ``lo == hi`` is all day; no
window is always active).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from telematics.kernels import point_segment_distance2

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]

DAY_S = 86_400.0

POLYGON = 0
CIRCLE = 1


@njit(cache=True)
def point_in_polygon(px: float, py: float, vx: FloatArray, vy: FloatArray, v0: int, v1: int) -> bool:
    """Even-odd rule (ray cast towards +x) for the open ring ``v0 .. v1-1``.

    Edge ``(a, b)`` is crossed when ``(a_y > p_y) != (b_y > p_y)`` and ``p_x <
    a_x + (p_y - a_y) (b_x - a_x) / (b_y - a_y)``; an odd number of crossings is
    inside. Points exactly on the boundary may fall either way (the callers use
    a margin).
    """
    inside = False
    j = v1 - 1
    for i in range(v0, v1):
        ay = vy[j]
        by = vy[i]
        if (by > py) != (ay > py):
            xc = vx[i] + (py - by) * (vx[j] - vx[i]) / (ay - by)
            if px < xc:
                inside = not inside
        j = i
    return inside


@njit(cache=True)
def polygon_boundary_distance(
    px: float, py: float, vx: FloatArray, vy: FloatArray, v0: int, v1: int
) -> float:
    """Distance (m) from ``p`` to the nearest edge of the closed ring ``v0 .. v1-1``."""
    best = math.inf
    j = v1 - 1
    for i in range(v0, v1):
        d2, _ = point_segment_distance2(px, py, vx[j], vy[j], vx[i], vy[i])
        if d2 < best:
            best = d2
        j = i
    return math.sqrt(best)


@njit(cache=True)
def signed_distance(
    px: float,
    py: float,
    p: int,
    kind: IntArray,
    cx: FloatArray,
    cy: FloatArray,
    r: FloatArray,
    vstart: IntArray,
    vx: FloatArray,
    vy: FloatArray,
) -> float:
    """Signed distance (m) from ``p`` to place ``p``'s boundary: negative inside.

    Circle: ``|p - c| - r``. Polygon: ``-d`` inside, ``+d`` outside, ``d`` the
    distance to the nearest edge.
    """
    if kind[p] == CIRCLE:
        dx = px - cx[p]
        dy = py - cy[p]
        return math.sqrt(dx * dx + dy * dy) - r[p]
    d = polygon_boundary_distance(px, py, vx, vy, vstart[p], vstart[p + 1])
    if point_in_polygon(px, py, vx, vy, vstart[p], vstart[p + 1]):
        return -d
    return d


@njit(cache=True)
def window_active(local_s: float, p: int, wstart: IntArray, win_lo: FloatArray, win_hi: FloatArray) -> bool:
    """Whether place ``p`` is active at local time ``local_s`` (s, taken modulo one day)."""
    if wstart[p] == wstart[p + 1]:
        return True
    t = local_s % DAY_S
    for k in range(wstart[p], wstart[p + 1]):
        lo = win_lo[k]
        hi = win_hi[k]
        if lo == hi:
            return True
        if lo < hi:
            if lo <= t < hi:
                return True
        elif t >= lo or t < hi:
            return True
    return False


@njit(cache=True)
def _place_grid_pass(
    bx0: FloatArray,
    by0: FloatArray,
    bx1: FloatArray,
    by1: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    counts: IntArray,
    cursor: IntArray,
    cell_places: IntArray,
) -> None:
    """Count (``counts`` non-empty) or write the places whose box meets each cell."""
    counting = counts.shape[0] > 0
    for p in range(bx0.shape[0]):
        i0 = max(math.floor((bx0[p] - x0) / cell_m), 0)
        i1 = min(math.floor((bx1[p] - x0) / cell_m), nx - 1)
        j0 = max(math.floor((by0[p] - y0) / cell_m), 0)
        j1 = min(math.floor((by1[p] - y0) / cell_m), ny - 1)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                c = j * nx + i
                if counting:
                    counts[c] += 1
                else:
                    cell_places[cursor[c]] = p
                    cursor[c] += 1


@njit(cache=True)
def build_place_grid(
    bx0: FloatArray, by0: FloatArray, bx1: FloatArray, by1: FloatArray, cell_m: float
) -> tuple[float, float, int, int, IntArray, IntArray]:
    """Index place bounding boxes ``[bx0, bx1] x [by0, by1]`` (m) in a uniform grid, CSR layout.

    The grid's lower-left corner ``(x0, y0)`` is the boxes' lower-left; cell
    ``(i, j)`` (flat ``j * nx + i``) lists, in increasing order, every place whose
    box meets it: ``cell_places[cell_start[c]:cell_start[c + 1]]``. A point
    outside the grid is in no box.
    """
    n = bx0.shape[0]
    if n == 0:
        return 0.0, 0.0, 1, 1, np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    x0 = bx0.min()
    y0 = by0.min()
    nx = int((bx1.max() - x0) / cell_m) + 1
    ny = int((by1.max() - y0) / cell_m) + 1
    cell_start = np.zeros(nx * ny + 1, dtype=np.int64)
    dummy = np.zeros(0, dtype=np.int64)
    _place_grid_pass(bx0, by0, bx1, by1, x0, y0, cell_m, nx, ny, cell_start[1:], dummy, dummy)
    for c in range(nx * ny):
        cell_start[c + 1] += cell_start[c]
    cell_places = np.empty(cell_start[nx * ny], dtype=np.int64)
    cursor = cell_start[:-1].copy()
    _place_grid_pass(bx0, by0, bx1, by1, x0, y0, cell_m, nx, ny, dummy, cursor, cell_places)
    return x0, y0, nx, ny, cell_start, cell_places


@njit(cache=True)
def locate_point(
    px: float,
    py: float,
    local_s: float,
    margin_m: float,
    eligible: BoolArray,
    kind: IntArray,
    cx: FloatArray,
    cy: FloatArray,
    r: FloatArray,
    vstart: IntArray,
    vx: FloatArray,
    vy: FloatArray,
    wstart: IntArray,
    win_lo: FloatArray,
    win_hi: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_places: IntArray,
) -> int:
    """The lowest place ``p`` with ``eligible[p]``, active at ``local_s`` and ``signed_distance <= margin_m``.

    A negative ``margin_m`` asks for points at least ``-margin_m`` inside.
    Candidates come from ``p``'s grid cell (boxes inflated by ``max(margin_m, 0)``
    when the grid was built). Returns -1 when there is none.
    """
    fx = (px - x0) / cell_m
    fy = (py - y0) / cell_m
    if fx < 0.0 or fy < 0.0 or fx >= nx or fy >= ny:
        return -1
    c = int(fy) * nx + int(fx)
    for k in range(cell_start[c], cell_start[c + 1]):
        p = cell_places[k]
        if not eligible[p] or not window_active(local_s, p, wstart, win_lo, win_hi):
            continue
        if signed_distance(px, py, p, kind, cx, cy, r, vstart, vx, vy) <= margin_m:
            return p
    return -1


@njit(cache=True)
def locate_points_serial(
    px: FloatArray,
    py: FloatArray,
    local_s: FloatArray,
    margin_m: float,
    eligible: BoolArray,
    kind: IntArray,
    cx: FloatArray,
    cy: FloatArray,
    r: FloatArray,
    vstart: IntArray,
    vx: FloatArray,
    vy: FloatArray,
    wstart: IntArray,
    win_lo: FloatArray,
    win_hi: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_places: IntArray,
) -> IntArray:
    """:func:`locate_points` on one thread (for short arrays: no thread start-up)."""
    n = px.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = locate_point(
            px[i], py[i], local_s[i], margin_m, eligible, kind, cx, cy, r, vstart, vx, vy,
            wstart, win_lo, win_hi, x0, y0, cell_m, nx, ny, cell_start, cell_places,
        )  # fmt: skip
    return out


@njit(cache=True)
def signed_distances(
    px: FloatArray,
    py: FloatArray,
    p: int,
    kind: IntArray,
    cx: FloatArray,
    cy: FloatArray,
    r: FloatArray,
    vstart: IntArray,
    vx: FloatArray,
    vy: FloatArray,
) -> FloatArray:
    """:func:`signed_distance` from each point to place ``p`` (m, negative inside)."""
    out = np.empty(px.shape[0])
    for i in range(px.shape[0]):
        out[i] = signed_distance(px[i], py[i], p, kind, cx, cy, r, vstart, vx, vy)
    return out


@njit(cache=True, parallel=True)
def locate_points(
    px: FloatArray,
    py: FloatArray,
    local_s: FloatArray,
    margin_m: float,
    eligible: BoolArray,
    kind: IntArray,
    cx: FloatArray,
    cy: FloatArray,
    r: FloatArray,
    vstart: IntArray,
    vx: FloatArray,
    vy: FloatArray,
    wstart: IntArray,
    win_lo: FloatArray,
    win_hi: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_places: IntArray,
) -> IntArray:
    """:func:`locate_point` for every point, in parallel; -1 where no place holds it."""
    n = px.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in prange(n):
        out[i] = locate_point(
            px[i], py[i], local_s[i], margin_m, eligible, kind, cx, cy, r, vstart, vx, vy,
            wstart, win_lo, win_hi, x0, y0, cell_m, nx, ny, cell_start, cell_places,
        )  # fmt: skip
    return out


@njit(cache=True)
def debounce_level(t_s: FloatArray, value: FloatArray, high: float, low: float, hold_s: float) -> Int8Array:
    """A debounced two-level state (loaded 1 / empty 0 / unknown -1) from a noisy sensor.

    Each fix's raw level is 1 when ``value >= high``, 0 when ``value <= low``,
    undecided in between; NaN fixes are skipped (they keep the state). The
    state switches to level ``L`` once consecutive non-NaN fixes have all been
    ``L`` from a fix ``s`` to a fix ``i`` with ``t_i - t_s >= hold_s``; the switch
    is back-dated to ``s``. An undecided fix or one of the other level breaks a
    run, so a one-fix spike or drop never switches. Fixes before the first
    switch are -1; NaN fixes get the state around them.
    """
    n = t_s.shape[0]
    out = np.full(n, -1, dtype=np.int8)
    state = -1
    run_level = -1
    run_start = -1
    for i in range(n):
        v = value[i]
        if math.isnan(v):
            out[i] = state
            continue
        raw = -1
        if v >= high:
            raw = 1
        elif v <= low:
            raw = 0
        if raw == -1 or raw == state:
            run_level = -1
        elif raw != run_level:
            run_level = raw
            run_start = i
        if run_level != -1 and t_s[i] - t_s[run_start] >= hold_s:
            state = run_level
            for k in range(run_start, i):
                out[k] = state
            run_level = -1
        out[i] = state
    return out


@njit(cache=True)
def dwell_measures(
    t_s: FloatArray,
    x_m: FloatArray,
    y_m: FloatArray,
    tipping: FloatArray,
    valid: BoolArray,
    starts: IntArray,
    ends: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Median position (m) and longest tipping (s) of each dwell ``starts[k] .. ends[k]`` (inclusive).

    Only valid fixes count. The median (per axis) ignores a GPS jump the jump
    filter let through. The longest tipping is ``t_last - t_first`` over the
    longest run of consecutive valid fixes with ``tipping > 0.5`` (NaN is not
    tipping), so a single raised fix measures 0 s.
    """
    m = starts.shape[0]
    mx = np.full(m, np.nan)
    my = np.full(m, np.nan)
    tip = np.zeros(m)
    for k in range(m):
        cnt = 0
        for i in range(starts[k], ends[k] + 1):
            if valid[i]:
                cnt += 1
        bx = np.empty(cnt)
        by = np.empty(cnt)
        cnt = 0
        run0 = -1.0
        best = 0.0
        for i in range(starts[k], ends[k] + 1):
            if not valid[i]:
                continue
            bx[cnt] = x_m[i]
            by[cnt] = y_m[i]
            cnt += 1
            if tipping[i] > 0.5:
                if run0 < 0.0:
                    run0 = t_s[i]
                if t_s[i] - run0 > best:
                    best = t_s[i] - run0
            else:
                run0 = -1.0
        if cnt > 0:
            mx[k] = np.median(bx)
            my[k] = np.median(by)
        tip[k] = best
    return mx, my, tip


@njit(cache=True)
def _median(buf: FloatArray, k: int) -> float:
    if k == 0:
        return math.nan
    return float(np.median(buf[:k]))


@njit(cache=True)
def median_around(
    t_s: FloatArray,
    value: FloatArray,
    starts: IntArray,
    ends: IntArray,
    window_s: float,
    lo_bound: IntArray,
    hi_bound: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Median sensor value before and after each interval ``starts[k] .. ends[k]``.

    ``before[k]`` is the median of the non-NaN values of the fixes ``i`` with
    ``lo_bound[k] <= i <= starts[k]`` and ``t_s[starts[k]] - window_s <= t_i``;
    ``after[k]`` of those with ``ends[k] <= i <= hi_bound[k]`` and ``t_i <=
    t_s[ends[k]] + window_s``; NaN when there are none. A median ignores a
    one-fix glitch; the bounds keep a neighbouring stop out.
    """
    n = t_s.shape[0]
    m = starts.shape[0]
    before = np.full(m, np.nan)
    after = np.full(m, np.nan)
    buf = np.empty(n)
    for k in range(m):
        s = starts[k]
        e = ends[k]
        cnt = 0
        i = s
        while i >= max(lo_bound[k], 0) and t_s[i] >= t_s[s] - window_s:
            if not math.isnan(value[i]):
                buf[cnt] = value[i]
                cnt += 1
            i -= 1
        before[k] = _median(buf, cnt)
        cnt = 0
        i = e
        while i <= min(hi_bound[k], n - 1) and t_s[i] <= t_s[e] + window_s:
            if not math.isnan(value[i]):
                buf[cnt] = value[i]
                cnt += 1
            i += 1
        after[k] = _median(buf, cnt)
    return before, after


@njit(cache=True)
def centered_speed(
    t_s: FloatArray, x_m: FloatArray, y_m: FloatArray, valid: BoolArray, half_s: float
) -> FloatArray:
    """Speed from positions over a window centred on each fix (m/s), for devices that report none.

    For each valid fix ``i``: ``|p_k - p_j| / (t_k - t_j)`` with ``j`` the first
    valid fix at or after ``t_i - half_s`` and ``k`` the last valid one at or
    before ``t_i + half_s``; NaN when ``t_k == t_j`` or for an invalid fix.
    Averaging over ``2 * half_s`` damps GPS noise (batch only: it looks ahead).
    """
    n = t_s.shape[0]
    out = np.full(n, np.nan)
    j = 0
    k = 0
    for i in range(n):
        if not valid[i]:
            continue
        while j < n and (t_s[j] < t_s[i] - half_s or not valid[j]):
            j += 1
        if k < i:
            k = i
        while k + 1 < n and t_s[k + 1] <= t_s[i] + half_s:
            k += 1
        kk = k
        while kk > i and not valid[kk]:
            kk -= 1
        if j <= kk and t_s[kk] > t_s[j]:
            dx = x_m[kk] - x_m[j]
            dy = y_m[kk] - y_m[j]
            out[i] = math.sqrt(dx * dx + dy * dy) / (t_s[kk] - t_s[j])
    return out


@njit(cache=True)
def join_close_stops(
    t_s: FloatArray,
    x_m: FloatArray,
    y_m: FloatArray,
    starts: IntArray,
    ends: IntArray,
    max_break_s: float,
    move_m: float,
) -> tuple[IntArray, IntArray]:
    """Join consecutive stops less than ``max_break_s`` apart whose facing fixes are within ``move_m``.

    One noisy speed reading splits a long stop in two; the join puts it back.
    Stop ``k + 1`` joins the (joined) stop before it when ``t_s[starts[k + 1]] -
    t_s[ends[k]] <= max_break_s`` and ``|p[starts[k + 1]] - p[ends[k]]| <= move_m``.
    """
    m = starts.shape[0]
    out_s = np.empty(m, dtype=np.int64)
    out_e = np.empty(m, dtype=np.int64)
    k = -1
    move2 = move_m * move_m
    for d in range(m):
        if k >= 0:
            e = out_e[k]
            s = starts[d]
            dx = x_m[s] - x_m[e]
            dy = y_m[s] - y_m[e]
            if t_s[s] - t_s[e] <= max_break_s and dx * dx + dy * dy <= move2:
                out_e[k] = ends[d]
                continue
        k += 1
        out_s[k] = starts[d]
        out_e[k] = ends[d]
    return out_s[: k + 1].copy(), out_e[: k + 1].copy()


@njit(cache=True)
def split_at_moves(
    x_m: FloatArray, y_m: FloatArray, valid: BoolArray, starts: IntArray, ends: IntArray, move_m: float
) -> tuple[IntArray, IntArray]:
    """Split each stop ``starts[k] .. ends[k]`` where consecutive valid fixes are over ``move_m`` apart.

    Sparse fixes can miss the short drive between two stops (a queue, then
    the tipping bay): the pieces are returned as separate stops, in order.
    """
    out_s = np.empty(x_m.shape[0] + 1, dtype=np.int64)
    out_e = np.empty(x_m.shape[0] + 1, dtype=np.int64)
    k = 0
    move2 = move_m * move_m
    for d in range(starts.shape[0]):
        first = starts[d]
        prev = -1
        for i in range(starts[d], ends[d] + 1):
            if not valid[i]:
                continue
            if prev >= 0:
                dx = x_m[i] - x_m[prev]
                dy = y_m[i] - y_m[prev]
                if dx * dx + dy * dy > move2:
                    out_s[k] = first
                    out_e[k] = prev
                    k += 1
                    first = i
            prev = i
        out_s[k] = first
        out_e[k] = ends[d]
        k += 1
    return out_s[:k].copy(), out_e[:k].copy()


@njit(cache=True)
def runs_of(
    flag: BoolArray, t_s: FloatArray, min_fixes: int, min_duration_s: float, split_s: float
) -> IntArray:
    """Maximal runs of consecutive ``flag`` fixes with ``>= min_fixes`` fixes over ``>= min_duration_s``.

    A run is split where consecutive fixes are more than ``split_s`` apart.
    Returns an ``(m, 2)`` array of inclusive ``(first, last)`` fix indices.
    """
    n = flag.shape[0]
    out = np.empty((n + 1, 2), dtype=np.int64)
    k = 0
    first = -1
    for i in range(n + 1):
        end_run = i == n or not flag[i] or (first >= 0 and t_s[i] - t_s[i - 1] > split_s)
        if first >= 0 and end_run:
            last = i - 1
            if last - first + 1 >= min_fixes and t_s[last] - t_s[first] >= min_duration_s:
                out[k, 0] = first
                out[k, 1] = last
                k += 1
            first = -1
        if i < n and flag[i] and first < 0:
            first = i
    return out[:k].copy()
