"""Numba kernels for the GPS compliance checks: pure functions of arrays and scalars.

Rules for this module (stumpy / pynndescent style):

* every function is ``@njit(cache=True)`` and takes only NumPy arrays and scalars;
* no I/O, no logging, no globals except the constants below, no exceptions for bad
  data: the public wrappers (``telematics.corridor``) validate inputs first;
* every threshold is an argument, so nothing is frozen at compile time;
* each docstring states the formula and the units.

Coordinates are projected to a local plane in metres with
:func:`project_equirectangular` before any distance is taken; every other kernel
works in those metres and in seconds.

Sections: projection; point-to-segment distance with a uniform grid index;
episode detection (hysteresis); track measures.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG R1) used by every projection and great-circle formula (m)."""

_GRID_SLACK = 1e-9
"""Relative slack on geometric comparisons, so rounding never drops a candidate."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- projection


@njit(cache=True)
def project_equirectangular(
    lat: FloatArray, lon: FloatArray, lat0: float, lon0: float
) -> tuple[FloatArray, FloatArray]:
    """Project degrees to a local east/north plane in metres around ``(lat0, lon0)``.

    ``x = R * rad(wrap(lon - lon0)) * cos(rad(lat0))`` and ``y = R * rad(lat - lat0)``
    with ``R = EARTH_RADIUS_M = 6_371_008.8 m`` and ``wrap`` mapping a longitude
    difference into ``[-180, 180)`` degrees, so tracks across the antimeridian stay
    continuous. East-west scale is exact on the origin's parallel; its relative
    error elsewhere is about ``tan(lat0) * |lat - lat0|`` (radians): 0.25 % at
    20 km north or south of an origin at 39 degrees N. Fine within one city.

    Parameters
    ----------
    lat, lon : float64 arrays, degrees (latitude first).
    lat0, lon0 : origin, degrees.

    Returns
    -------
    x_m, y_m : float64 arrays, metres east and north of the origin.
    """
    n = lat.shape[0]
    x = np.empty(n, dtype=np.float64)
    y = np.empty(n, dtype=np.float64)
    k_lat = math.radians(1.0) * EARTH_RADIUS_M
    k_lon = k_lat * math.cos(math.radians(lat0))
    for i in range(n):
        dlon = (lon[i] - lon0 + 180.0) % 360.0 - 180.0
        x[i] = dlon * k_lon
        y[i] = (lat[i] - lat0) * k_lat
    return x, y


@njit(cache=True)
def unproject_equirectangular(
    x: FloatArray, y: FloatArray, lat0: float, lon0: float
) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`project_equirectangular`: metres east/north to degrees.

    ``lat = lat0 + deg(y / R)`` and ``lon = wrap(lon0 + deg(x / (R * cos(rad(lat0)))))``
    with ``R = EARTH_RADIUS_M`` and ``wrap`` into ``[-180, 180)`` degrees.

    Returns
    -------
    lat, lon : float64 arrays, degrees.
    """
    n = x.shape[0]
    lat = np.empty(n, dtype=np.float64)
    lon = np.empty(n, dtype=np.float64)
    k_lat = math.radians(1.0) * EARTH_RADIUS_M
    k_lon = k_lat * math.cos(math.radians(lat0))
    for i in range(n):
        lat[i] = lat0 + y[i] / k_lat
        lon[i] = (lon0 + x[i] / k_lon + 180.0) % 360.0 - 180.0
    return lat, lon


# --------------------------------------------------------------------------- distance to segments


@njit(cache=True)
def point_segment_distance2(
    px: float, py: float, ax: float, ay: float, bx: float, by: float
) -> tuple[float, float]:
    """Squared distance from point ``p`` to segment ``ab`` and the projection parameter.

    ``t = clamp(((p - a) . (b - a)) / |b - a|^2, 0, 1)`` (``t = 0`` when ``a == b``),
    ``q = a + t (b - a)`` and ``d^2 = |p - q|^2``. All coordinates in metres.

    Returns
    -------
    d2 : float, squared distance (m^2).
    t : float in [0, 1], where the nearest point lies along ``ab``.
    """
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    t = 0.0
    if len2 > 0.0:
        t = ((px - ax) * dx + (py - ay) * dy) / len2
        if t < 0.0:
            t = 0.0
        elif t > 1.0:
            t = 1.0
    qx = ax + t * dx - px
    qy = ay + t * dy - py
    return qx * qx + qy * qy, t


@njit(cache=True)
def _grid_pass(
    seg_ax: FloatArray,
    seg_ay: FloatArray,
    seg_bx: FloatArray,
    seg_by: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    reach2: float,
    counts: IntArray,
    cursor: IntArray,
    cell_segs: IntArray,
) -> None:
    """One pass of :func:`build_segment_grid` over each segment's candidate cells.

    A cell with centre ``c`` takes segment ``s`` when ``dist(c, s)^2 <= reach2``.
    With a non-empty ``counts`` the pass counts segments per cell; otherwise it
    writes segment ids to ``cell_segs[cursor[c]]`` and advances ``cursor[c]``.
    """
    counting = counts.shape[0] > 0
    for s in range(seg_ax.shape[0]):
        ax = seg_ax[s]
        ay = seg_ay[s]
        bx = seg_bx[s]
        by = seg_by[s]
        i0 = max(int((min(ax, bx) - x0) / cell_m) - 1, 0)
        i1 = min(int((max(ax, bx) - x0) / cell_m) + 1, nx - 1)
        j0 = max(int((min(ay, by) - y0) / cell_m) - 1, 0)
        j1 = min(int((max(ay, by) - y0) / cell_m) + 1, ny - 1)
        for j in range(j0, j1 + 1):
            cy = y0 + (j + 0.5) * cell_m
            for i in range(i0, i1 + 1):
                cx = x0 + (i + 0.5) * cell_m
                d2, _ = point_segment_distance2(cx, cy, ax, ay, bx, by)
                if d2 <= reach2:
                    c = j * nx + i
                    if counting:
                        counts[c] += 1
                    else:
                        cell_segs[cursor[c]] = s
                        cursor[c] += 1


@njit(cache=True)
def build_segment_grid(
    seg_ax: FloatArray, seg_ay: FloatArray, seg_bx: FloatArray, seg_by: FloatArray, cell_m: float
) -> tuple[float, float, int, int, IntArray, IntArray]:
    """Index segments in a uniform grid of square cells, in CSR layout.

    The grid covers the bounding box of all segment endpoints with origin
    ``(x0, y0)`` = its lower-left corner; cell ``(i, j)`` is
    ``[x0 + i*cell_m, x0 + (i+1)*cell_m) x [y0 + j*cell_m, y0 + (j+1)*cell_m)``,
    flat id ``c = j * nx + i``, with ``nx = floor((xmax - x0) / cell_m) + 1``.
    A segment is listed in cell ``c`` when its distance to the cell centre is at
    most the half-diagonal ``cell_m / sqrt(2)``: a superset of the cells it
    touches, which is all the exact search in :func:`nearest_segment` needs.
    Segment ids of cell ``c`` are ``cell_segs[cell_start[c]:cell_start[c + 1]]``.

    Parameters
    ----------
    seg_ax, seg_ay, seg_bx, seg_by : float64 arrays, segment endpoints ``a`` and ``b`` (m).
    cell_m : cell side (m), > 0.

    Returns
    -------
    x0, y0 : grid origin (m).
    nx, ny : number of cells along x and y (each >= 1).
    cell_start : int64 array of ``nx * ny + 1`` offsets into ``cell_segs``.
    cell_segs : int64 array of segment ids, grouped by cell.
    """
    n = seg_ax.shape[0]
    if n == 0:
        return 0.0, 0.0, 1, 1, np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    x0 = min(seg_ax.min(), seg_bx.min())
    y0 = min(seg_ay.min(), seg_by.min())
    x1 = max(seg_ax.max(), seg_bx.max())
    y1 = max(seg_ay.max(), seg_by.max())
    nx = int((x1 - x0) / cell_m) + 1
    ny = int((y1 - y0) / cell_m) + 1
    reach2 = 0.5 * cell_m * cell_m * (1.0 + _GRID_SLACK) + 1e-12
    cell_start = np.zeros(nx * ny + 1, dtype=np.int64)
    dummy = np.zeros(0, dtype=np.int64)
    # Two passes over the same candidate cells: count, then fill.
    _grid_pass(seg_ax, seg_ay, seg_bx, seg_by, x0, y0, cell_m, nx, ny, reach2, cell_start[1:], dummy, dummy)
    for c in range(nx * ny):
        cell_start[c + 1] += cell_start[c]
    cell_segs = np.empty(cell_start[nx * ny], dtype=np.int64)
    cursor = cell_start[:-1].copy()
    _grid_pass(seg_ax, seg_ay, seg_bx, seg_by, x0, y0, cell_m, nx, ny, reach2, dummy, cursor, cell_segs)
    return x0, y0, nx, ny, cell_start, cell_segs


@njit(cache=True)
def _scan_cell(
    px: float,
    py: float,
    seg_ax: FloatArray,
    seg_ay: FloatArray,
    seg_bx: FloatArray,
    seg_by: FloatArray,
    cell_start: IntArray,
    cell_segs: IntArray,
    c: int,
    best2: float,
    best_seg: int,
    best_t: float,
) -> tuple[float, int, float]:
    """Fold the segments of grid cell ``c`` into the running best ``(d^2, seg, t)``.

    A segment replaces the best when its squared distance is smaller, or equal
    with a lower segment id (so ties resolve to the lowest id, as brute force does).
    """
    for k in range(cell_start[c], cell_start[c + 1]):
        s = cell_segs[k]
        d2, t = point_segment_distance2(px, py, seg_ax[s], seg_ay[s], seg_bx[s], seg_by[s])
        if d2 < best2 or (d2 == best2 and s < best_seg):
            best2 = d2
            best_seg = s
            best_t = t
    return best2, best_seg, best_t


@njit(cache=True)
def nearest_segment(
    px: float,
    py: float,
    seg_ax: FloatArray,
    seg_ay: FloatArray,
    seg_bx: FloatArray,
    seg_by: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_segs: IntArray,
    max_search_m: float,
) -> tuple[float, int, float]:
    """Exact distance from one point to the nearest indexed segment, by ring search.

    Let ``(ip, jp)`` be the (possibly virtual, outside the grid) cell of ``p`` and
    ``m`` the distance from ``p`` to the nearest edge of that cell. Every point of
    a cell in Chebyshev ring ``r >= 1`` around ``(ip, jp)`` is at least
    ``lb(r) = (r - 1) * cell_m + m`` from ``p``. Rings are searched outward, from
    the first ring that meets the grid, until ``lb(r)`` exceeds the best distance
    found, exceeds ``max_search_m``, or the grid is exhausted. Within the cap the
    result equals brute force over all segments.

    Parameters
    ----------
    px, py : the point (m).
    seg_* : segment endpoints (m), as given to :func:`build_segment_grid`.
    x0, y0, cell_m, nx, ny, cell_start, cell_segs : the grid from :func:`build_segment_grid`.
    max_search_m : search cap (m); a point farther than this from every segment
        gets exactly ``max_search_m``.

    Returns
    -------
    dist_m : float, distance to the nearest segment, or ``max_search_m`` (m).
    seg : int, index of the nearest segment (lowest index on ties), -1 when capped.
    t : float in [0, 1], position of the nearest point along that segment (0 when capped).
    """
    best2 = math.inf
    best_seg = -1
    best_t = 0.0
    if cell_segs.shape[0] == 0:
        return max_search_m, -1, 0.0
    fx = (px - x0) / cell_m
    fy = (py - y0) / cell_m
    ip = math.floor(fx)
    jp = math.floor(fy)
    # Distance from p to the nearest edge of its own (possibly virtual) cell (m).
    m = min(fx - ip, ip + 1.0 - fx, fy - jp, jp + 1.0 - fy) * cell_m
    # Rings closer than r cannot meet the grid.
    r = max(0, -ip, ip - (nx - 1), -jp, jp - (ny - 1))
    slack = _GRID_SLACK * cell_m
    while True:
        lb = 0.0 if r == 0 else (r - 1) * cell_m + m - slack
        if lb > max_search_m or (lb > 0.0 and lb * lb > best2):
            break
        ilo = ip - r
        ihi = ip + r
        jlo = jp - r
        jhi = jp + r
        for j in range(max(jlo, 0), min(jhi, ny - 1) + 1):
            if j in (jlo, jhi):
                # Top or bottom row of the ring: every cell of it inside the grid.
                for i in range(max(ilo, 0), min(ihi, nx - 1) + 1):
                    best2, best_seg, best_t = _scan_cell(
                        px,
                        py,
                        seg_ax,
                        seg_ay,
                        seg_bx,
                        seg_by,
                        cell_start,
                        cell_segs,
                        j * nx + i,
                        best2,
                        best_seg,
                        best_t,
                    )
            else:
                # Middle rows: only the left and right cells of the ring.
                if 0 <= ilo < nx:
                    best2, best_seg, best_t = _scan_cell(
                        px,
                        py,
                        seg_ax,
                        seg_ay,
                        seg_bx,
                        seg_by,
                        cell_start,
                        cell_segs,
                        j * nx + ilo,
                        best2,
                        best_seg,
                        best_t,
                    )
                if ihi != ilo and 0 <= ihi < nx:
                    best2, best_seg, best_t = _scan_cell(
                        px,
                        py,
                        seg_ax,
                        seg_ay,
                        seg_bx,
                        seg_by,
                        cell_start,
                        cell_segs,
                        j * nx + ihi,
                        best2,
                        best_seg,
                        best_t,
                    )
        if ilo <= 0 and ihi >= nx - 1 and jlo <= 0 and jhi >= ny - 1:
            break  # the whole grid has been searched
        r += 1
    dist = math.sqrt(best2)
    if dist > max_search_m:
        return max_search_m, -1, 0.0
    return dist, best_seg, best_t


@njit(cache=True)
def distance_to_segments(
    px: FloatArray,
    py: FloatArray,
    seg_ax: FloatArray,
    seg_ay: FloatArray,
    seg_bx: FloatArray,
    seg_by: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_segs: IntArray,
    max_search_m: float,
) -> FloatArray:
    """Distance from each point to the nearest segment, capped at ``max_search_m``.

    ``dist_m[k] = min(max_search_m, min_s |p_k - segment_s|)``, computed with the
    grid ring search of :func:`nearest_segment` (exact within the cap).

    Parameters
    ----------
    px, py : float64 arrays, the points (m).
    Other arguments as for :func:`nearest_segment`.

    Returns
    -------
    dist_m : float64 array (m).
    """
    n = px.shape[0]
    out = np.empty(n, dtype=np.float64)
    for k in range(n):
        d, _, _ = nearest_segment(
            px[k],
            py[k],
            seg_ax,
            seg_ay,
            seg_bx,
            seg_by,
            x0,
            y0,
            cell_m,
            nx,
            ny,
            cell_start,
            cell_segs,
            max_search_m,
        )
        out[k] = d
    return out


@njit(cache=True)
def nearest_on_segments(
    px: FloatArray,
    py: FloatArray,
    seg_ax: FloatArray,
    seg_ay: FloatArray,
    seg_bx: FloatArray,
    seg_by: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_segs: IntArray,
    max_search_m: float,
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Like :func:`distance_to_segments`, also returning which segment and where on it.

    Returns
    -------
    dist_m : float64 array (m), capped at ``max_search_m``.
    seg : int64 array, nearest segment id, -1 where capped.
    t : float64 array in [0, 1], position along that segment (chainage =
        segment start chainage + t * segment length).
    """
    n = px.shape[0]
    dist = np.empty(n, dtype=np.float64)
    seg = np.empty(n, dtype=np.int64)
    tt = np.empty(n, dtype=np.float64)
    for k in range(n):
        d, s, t = nearest_segment(
            px[k],
            py[k],
            seg_ax,
            seg_ay,
            seg_bx,
            seg_by,
            x0,
            y0,
            cell_m,
            nx,
            ny,
            cell_start,
            cell_segs,
            max_search_m,
        )
        dist[k] = d
        seg[k] = s
        tt[k] = t
    return dist, seg, tt


# --------------------------------------------------------------------------- episodes


@njit(cache=True)
def detour_episodes(
    t_s: FloatArray,
    dist_m: FloatArray,
    valid: BoolArray,
    enter_m: float,
    exit_m: float,
    min_fixes: int,
    min_duration_s: float,
) -> tuple[IntArray, IntArray]:
    """Off-route episodes by hysteresis on the distance to the route.

    Walking the valid fixes in order (``valid[i] == False`` fixes are skipped:
    they neither start, extend nor end an episode): an episode starts at the
    first fix with ``dist_m > enter_m`` and ends before the first later fix with
    ``dist_m <= exit_m`` (``exit_m <= enter_m``), or at the last valid fix. Its
    off-route fixes are its valid fixes, all with ``dist_m > exit_m``. It is kept
    when it has ``>= min_fixes`` of them and ``t_s[end] - t_s[start] >=
    min_duration_s``. Duplicate timestamps count as separate fixes.

    Parameters
    ----------
    t_s : float64 array, fix times (s), non-decreasing.
    dist_m : float64 array, distance to the route (m).
    valid : bool array, fixes to use.
    enter_m, exit_m : start and end thresholds (m).
    min_fixes : fewest off-route fixes of a kept episode.
    min_duration_s : shortest kept episode, first to last off-route fix (s).

    Returns
    -------
    start_idx, end_idx : int64 arrays, first and last off-route fix of each kept
        episode (inclusive indices into the input arrays).
    """
    n = t_s.shape[0]
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    k = 0
    inside = False
    first = -1
    last = -1
    count = 0
    for i in range(n):
        if not valid[i]:
            continue
        d = dist_m[i]
        if not inside:
            if d > enter_m:
                inside = True
                first = i
                last = i
                count = 1
        elif d <= exit_m:
            inside = False
            if count >= min_fixes and t_s[last] - t_s[first] >= min_duration_s:
                starts[k] = first
                ends[k] = last
                k += 1
        else:
            last = i
            count += 1
    if inside and count >= min_fixes and t_s[last] - t_s[first] >= min_duration_s:
        starts[k] = first
        ends[k] = last
        k += 1
    return starts[:k].copy(), ends[:k].copy()


# --------------------------------------------------------------------------- track measures


@njit(cache=True)
def path_length_m(x: FloatArray, y: FloatArray, i0: int, i1: int) -> float:
    """Length of the polyline through points ``i0..i1`` (inclusive), in metres.

    ``L = sum_{k=i0}^{i1-1} sqrt((x[k+1] - x[k])^2 + (y[k+1] - y[k])^2)``; 0 when
    ``i1 <= i0``. Coordinates in metres (projected).
    """
    total = 0.0
    for k in range(i0, i1):
        dx = x[k + 1] - x[k]
        dy = y[k + 1] - y[k]
        total += math.sqrt(dx * dx + dy * dy)
    return total
