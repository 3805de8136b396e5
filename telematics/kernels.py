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

Sections: projection; point-to-segment distance with a uniform grid index
(an exact ring search, and a one-cell "reach" index for the hot corridor check);
episode detection (hysteresis); resumable state machines for streaming (outliers,
detours, dwells, speeding, gaps, sweeping coverage); track measures.

Streaming kernels (``*_step``) carry their state in a small float64 array
(``new_*_state()`` makes a fresh one), take a chunk of fixes plus ``offset`` (the
global index of the chunk's first fix) and a ``final`` flag, and return the
episodes completed in this chunk as global indices. Feeding a day in one chunk
with ``final=True``, or in any number of chunks with ``final=True`` on the last,
gives the same episodes: that is what makes streaming and batch agree.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange

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
    return _clamped_projection(px, py, ax, ay, dx, dy, dx * dx + dy * dy)


@njit(cache=True)
def _clamped_projection(
    px: float, py: float, ax: float, ay: float, dx: float, dy: float, len2: float
) -> tuple[float, float]:
    """Squared distance from ``p`` to the segment ``a + t d`` (``t`` in [0, 1]) and ``t``.

    ``len2 = |d|^2`` is passed in so packed segments reuse their stored value.
    """
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


# --------------------------------------------------------------------------- one-cell reach index

PACK_AX, PACK_AY, PACK_DX, PACK_DY, PACK_LEN2, PACK_SEG, PACK_KEY = 0, 1, 2, 3, 4, 5, 6
"""Columns of a packed reach-grid entry: ``a``, ``b - a``, ``|b - a|^2``, segment id, centre distance."""

PACK_WIDTH = 8
"""Floats per packed entry (one 64-byte cache line; the last column is padding)."""


@njit(cache=True)
def _reach_pass(
    seg_ax: FloatArray,
    seg_ay: FloatArray,
    seg_bx: FloatArray,
    seg_by: FloatArray,
    keep: BoolArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    radius: float,
    counts: IntArray,
    cursor: IntArray,
    pack: FloatArray,
) -> None:
    """One pass of :func:`build_reach_grid`: count (``counts`` non-empty) or fill entries.

    Cell ``c`` with centre ``m`` takes kept segment ``s`` when ``dist(m, s) <= radius``;
    a filled entry stores the segment's geometry, its id and ``dist(m, s)``.
    """
    counting = counts.shape[0] > 0
    r2 = radius * radius
    for s in range(seg_ax.shape[0]):
        if not keep[s]:
            continue
        ax = seg_ax[s]
        ay = seg_ay[s]
        bx = seg_bx[s]
        by = seg_by[s]
        i0 = max(math.floor((min(ax, bx) - radius - x0) / cell_m), 0)
        i1 = min(math.floor((max(ax, bx) + radius - x0) / cell_m), nx - 1)
        j0 = max(math.floor((min(ay, by) - radius - y0) / cell_m), 0)
        j1 = min(math.floor((max(ay, by) + radius - y0) / cell_m), ny - 1)
        for j in range(j0, j1 + 1):
            cy = y0 + (j + 0.5) * cell_m
            for i in range(i0, i1 + 1):
                cx = x0 + (i + 0.5) * cell_m
                d2, _ = point_segment_distance2(cx, cy, ax, ay, bx, by)
                if d2 <= r2:
                    c = j * nx + i
                    if counting:
                        counts[c] += 1
                    else:
                        e = cursor[c]
                        dx = bx - ax
                        dy = by - ay
                        pack[e, PACK_AX] = ax
                        pack[e, PACK_AY] = ay
                        pack[e, PACK_DX] = dx
                        pack[e, PACK_DY] = dy
                        pack[e, PACK_LEN2] = dx * dx + dy * dy
                        pack[e, PACK_SEG] = s
                        pack[e, PACK_KEY] = math.sqrt(d2)
                        pack[e, 7] = 0.0
                        cursor[c] += 1


@njit(cache=True)
def build_reach_grid(
    seg_ax: FloatArray,
    seg_ay: FloatArray,
    seg_bx: FloatArray,
    seg_by: FloatArray,
    keep: BoolArray,
    cell_m: float,
    reach_m: float,
) -> tuple[float, float, int, int, IntArray, FloatArray]:
    """Index segments so that one cell answers every query within ``reach_m``.

    The grid covers the segments' bounding box grown by ``reach_m`` on every
    side: origin ``(x0, y0)`` is its lower-left corner, cell ``(i, j)`` is
    ``[x0 + i*cell_m, x0 + (i+1)*cell_m) x [y0 + j*cell_m, ...)`` with flat id
    ``c = j * nx + i``. Cell ``c`` lists every kept segment whose distance to the
    cell centre ``m_c`` is at most ``h + reach_m`` (``h = cell_m / sqrt(2)``, the
    half-diagonal, plus a relative slack of 1e-9). A point ``p`` in cell ``c`` is
    within ``h`` of ``m_c``, so every segment within ``reach_m`` of ``p`` is listed
    there (triangle inequality): one cell suffices (:func:`reach_nearest`).

    Entries are packed rows (``PACK_*`` columns: ``a``, ``b - a``, ``|b - a|^2``,
    id, ``key = dist(m_c, s)``), so a query reads one contiguous block and no
    segment arrays. Each cell's rows are sorted by key, ties by id, so a query
    can stop at the first row with ``key - |p - m_c| > best``. Segments with
    ``keep[s] == False`` (exact duplicates of a lower id) are left out; they can
    never be the lowest-id nearest segment.

    Returns
    -------
    x0, y0 : grid origin (m).
    nx, ny : cells along x and y (>= 1).
    cell_start : int64, ``nx * ny + 1`` offsets into the rows.
    cell_pack : float64 ``(entries, PACK_WIDTH)`` rows, grouped by cell, sorted by key.
    """
    n = seg_ax.shape[0]
    empty_i = np.zeros(0, dtype=np.int64)
    if n == 0:
        return 0.0, 0.0, 1, 1, np.zeros(2, dtype=np.int64), np.zeros((0, PACK_WIDTH), dtype=np.float64)
    x0 = math.inf
    y0 = math.inf
    x1 = -math.inf
    y1 = -math.inf
    for s in range(n):  # the bounding box, by scalar loop (array reductions compile slowly)
        x0 = min(x0, seg_ax[s], seg_bx[s])
        y0 = min(y0, seg_ay[s], seg_by[s])
        x1 = max(x1, seg_ax[s], seg_bx[s])
        y1 = max(y1, seg_ay[s], seg_by[s])
    x0 -= reach_m
    y0 -= reach_m
    x1 += reach_m
    y1 += reach_m
    nx = int((x1 - x0) / cell_m) + 1
    ny = int((y1 - y0) / cell_m) + 1
    radius = (cell_m / math.sqrt(2.0) + reach_m) * (1.0 + _GRID_SLACK) + 1e-9
    cell_start = np.zeros(nx * ny + 1, dtype=np.int64)
    dummy = np.zeros((0, PACK_WIDTH), dtype=np.float64)
    _reach_pass(
        seg_ax, seg_ay, seg_bx, seg_by, keep, x0, y0, cell_m, nx, ny, radius,
        cell_start[1:], empty_i, dummy,
    )  # fmt: skip
    for c in range(nx * ny):
        cell_start[c + 1] += cell_start[c]
    total = cell_start[nx * ny]
    pack = np.empty((total, PACK_WIDTH), dtype=np.float64)
    cursor = cell_start[:-1].copy()
    _reach_pass(
        seg_ax, seg_ay, seg_bx, seg_by, keep, x0, y0, cell_m, nx, ny, radius,
        empty_i, cursor, pack,
    )  # fmt: skip
    # Insertion sort of each cell's rows by (key, id), column by column: cell lists are
    # short, and scalar loops compile far faster than row slices.
    tmp = np.empty(PACK_WIDTH, dtype=np.float64)
    for c in range(nx * ny):
        lo = cell_start[c]
        hi = cell_start[c + 1]
        for a in range(lo + 1, hi):
            for col in range(PACK_WIDTH):
                tmp[col] = pack[a, col]
            k = tmp[PACK_KEY]
            sid = tmp[PACK_SEG]
            b = a - 1
            while b >= lo and (pack[b, PACK_KEY] > k or (pack[b, PACK_KEY] == k and pack[b, PACK_SEG] > sid)):
                for col in range(PACK_WIDTH):
                    pack[b + 1, col] = pack[b, col]
                b -= 1
            for col in range(PACK_WIDTH):
                pack[b + 1, col] = tmp[col]
    return x0, y0, nx, ny, cell_start, pack


@njit(cache=True)
def packed_distance2(px: float, py: float, cell_pack: FloatArray, k: int) -> tuple[float, float]:
    """:func:`point_segment_distance2` for packed row ``k``, with the very same arithmetic.

    The row stores ``a``, ``d = b - a`` and ``|d|^2`` exactly as that function
    computes them, so the results are bit-identical to it on the original segment.
    """
    ax = cell_pack[k, PACK_AX]
    ay = cell_pack[k, PACK_AY]
    dx = cell_pack[k, PACK_DX]
    dy = cell_pack[k, PACK_DY]
    len2 = cell_pack[k, PACK_LEN2]
    return _clamped_projection(px, py, ax, ay, dx, dy, len2)


@njit(cache=True)
def reach_nearest(
    px: float,
    py: float,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_pack: FloatArray,
    cap_m: float,
) -> tuple[float, int, float]:
    """Nearest segment within ``cap_m`` by scanning the one cell holding ``p``.

    Exact for ``cap_m <= reach_m`` of the grid (:func:`build_reach_grid`): equals
    brute force ``min(cap_m, min_s |p - s|)`` with the lowest id on ties, bit for
    bit (the same formula as :func:`point_segment_distance2`). The scan stops at
    the first row with ``key - |p - m_c| > min(best, cap_m)``, a lower bound on
    the distance of it and of every later row. A point outside the grid is
    farther than ``reach_m`` from every segment.

    Returns
    -------
    dist_m : distance, or ``cap_m`` when none is within it (m).
    seg : nearest segment id, -1 when capped.
    t : position along that segment in [0, 1] (0 when capped).
    """
    fx = (px - x0) / cell_m
    fy = (py - y0) / cell_m
    if not (fx >= 0.0 and fy >= 0.0 and fx < nx and fy < ny):
        return cap_m, -1, 0.0
    i = int(fx)
    j = int(fy)
    c = j * nx + i
    ex = px - (x0 + (i + 0.5) * cell_m)
    ey = py - (y0 + (j + 0.5) * cell_m)
    r = math.sqrt(ex * ex + ey * ey) + _GRID_SLACK * cell_m
    best2 = math.inf
    best_seg = -1
    best_t = 0.0
    for k in range(cell_start[c], cell_start[c + 1]):
        lb = cell_pack[k, PACK_KEY] - r
        if lb > cap_m or (lb > 0.0 and lb * lb > best2):
            break
        d2, t = packed_distance2(px, py, cell_pack, k)
        s = int(cell_pack[k, PACK_SEG])
        if d2 < best2 or (d2 == best2 and s < best_seg):
            best2 = d2
            best_seg = s
            best_t = t
    dist = math.sqrt(best2)
    if dist > cap_m:
        return cap_m, -1, 0.0
    return dist, best_seg, best_t


@njit(cache=True, parallel=True)
def corridor_distance(
    px: FloatArray,
    py: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_pack: FloatArray,
    cap_m: float,
) -> FloatArray:
    """The corridor check: ``min(cap_m, distance to the route)`` per point, in parallel.

    ``dist_m[k] = min(cap_m, min_s |p_k - segment_s|)`` by :func:`reach_nearest`
    over a reach grid with ``reach_m >= cap_m``; points are split across threads
    (``prange``). Distances beyond the cap are not needed by the hysteresis, and
    the few fixes of a detour are measured exactly afterwards.
    """
    n = px.shape[0]
    out = np.empty(n, dtype=np.float64)
    for k in prange(n):
        d, _, _ = reach_nearest(px[k], py[k], x0, y0, cell_m, nx, ny, cell_start, cell_pack, cap_m)
        out[k] = d
    return out


@njit(cache=True)
def corridor_nearest(
    px: FloatArray,
    py: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_pack: FloatArray,
    cap_m: float,
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Like :func:`corridor_distance` (serially: it serves small streaming chunks), also returning
    the segment id and ``t`` per point."""
    n = px.shape[0]
    dist = np.empty(n, dtype=np.float64)
    seg = np.empty(n, dtype=np.int64)
    tt = np.empty(n, dtype=np.float64)
    for k in range(n):
        d, s, t = reach_nearest(px[k], py[k], x0, y0, cell_m, nx, ny, cell_start, cell_pack, cap_m)
        dist[k] = d
        seg[k] = s
        tt[k] = t
    return dist, seg, tt


@njit(cache=True)
def max_value_near(
    px: FloatArray,
    py: FloatArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_pack: FloatArray,
    seg_value: FloatArray,
    radius_m: float,
) -> FloatArray:
    """The largest ``seg_value`` of the segments within ``radius_m`` of each point, NaN where none.

    Used for speed limits: where roads of different limits lie within the GPS
    noise of a fix, the fix is judged against the most generous one, so a
    misplaced fix never makes a lawful driver a speeder. Exact for
    ``radius_m <= reach_m`` of the reach grid (:func:`build_reach_grid`); NaN
    values are ignored.
    """
    n = px.shape[0]
    out = np.full(n, np.nan)
    r2 = radius_m * radius_m
    for q in range(n):
        fx = (px[q] - x0) / cell_m
        fy = (py[q] - y0) / cell_m
        if not (fx >= 0.0 and fy >= 0.0 and fx < nx and fy < ny):
            continue
        i = int(fx)
        j = int(fy)
        c = j * nx + i
        ex = px[q] - (x0 + (i + 0.5) * cell_m)
        ey = py[q] - (y0 + (j + 0.5) * cell_m)
        r = math.sqrt(ex * ex + ey * ey) + _GRID_SLACK * cell_m
        best = -math.inf
        for k in range(cell_start[c], cell_start[c + 1]):
            if cell_pack[k, PACK_KEY] - r > radius_m:
                break
            d2, _ = packed_distance2(px[q], py[q], cell_pack, k)
            v = seg_value[int(cell_pack[k, PACK_SEG])]
            if d2 <= r2 and v > best:
                best = v
        if best > -math.inf:
            out[q] = best
    return out


# --------------------------------------------------------------------------- streaming state machines

# Slots of the detour state array.
_DT_INSIDE, _DT_FIRST, _DT_LAST, _DT_COUNT, _DT_TFIRST, _DT_TLAST = 0, 1, 2, 3, 4, 5
DETOUR_STATE_SIZE = 6


@njit(cache=True)
def detour_step(
    state: FloatArray,
    t_s: FloatArray,
    dist_m: FloatArray,
    valid: BoolArray,
    offset: int,
    enter_m: float,
    exit_m: float,
    min_fixes: int,
    min_duration_s: float,
    rejoin_s: float,
    final: bool,
) -> tuple[IntArray, IntArray, IntArray]:
    """Resumable :func:`detour_episodes`, plus a rejoin time; state carried in ``state``.

    The rule of :func:`detour_episodes`, except that an on-route fix (``dist_m
    <= exit_m``) ends an open episode only when it comes at least ``rejoin_s``
    after the episode's last off-route fix; earlier on-route fixes are ignored
    (a detour that crosses the planned road is still one detour). ``rejoin_s =
    0`` is exactly :func:`detour_episodes`. ``state`` (``DETOUR_STATE_SIZE``
    floats, zeros to start) holds whether an episode is open, its first and last
    off-route fix (global indices), their count and times. With ``final`` an
    open episode is closed at its last valid off-route fix.

    Returns
    -------
    start_idx, end_idx : global indices of each kept episode's first and last off fix.
    close_idx : global index of the on-route fix that ended it, -1 when ``final`` closed it.
    """
    n = t_s.shape[0]
    m = n // 2 + 2  # episodes are separated by at least one fix, plus one carried in
    starts = np.empty(m, dtype=np.int64)
    ends = np.empty(m, dtype=np.int64)
    closes = np.empty(m, dtype=np.int64)
    k = 0
    inside = state[_DT_INSIDE] > 0.0
    first = int(state[_DT_FIRST])
    last = int(state[_DT_LAST])
    count = int(state[_DT_COUNT])
    t_first = state[_DT_TFIRST]
    t_last = state[_DT_TLAST]
    for i in range(n):
        if not valid[i]:
            continue
        d = dist_m[i]
        if not inside:
            if d > enter_m:
                inside = True
                first = i + offset
                last = first
                count = 1
                t_first = t_s[i]
                t_last = t_s[i]
        elif d <= exit_m:
            if t_s[i] - t_last >= rejoin_s:
                inside = False
                if count >= min_fixes and t_last - t_first >= min_duration_s:
                    starts[k] = first
                    ends[k] = last
                    closes[k] = i + offset
                    k += 1
        else:
            last = i + offset
            t_last = t_s[i]
            count += 1
    if final and inside:
        inside = False
        if count >= min_fixes and t_last - t_first >= min_duration_s:
            starts[k] = first
            ends[k] = last
            closes[k] = -1
            k += 1
    state[_DT_INSIDE] = 1.0 if inside else 0.0
    state[_DT_FIRST] = first
    state[_DT_LAST] = last
    state[_DT_COUNT] = count
    state[_DT_TFIRST] = t_first
    state[_DT_TLAST] = t_last
    return starts[:k].copy(), ends[:k].copy(), closes[:k].copy()


# Slots of the dwell / speeding state arrays (same layout).
_EP_INSIDE, _EP_FIRST, _EP_LAST, _EP_TFIRST, _EP_TLAST = 0, 1, 2, 3, 4
EPISODE_STATE_SIZE = 5


@njit(cache=True)
def dwell_step(
    state: FloatArray,
    t_s: FloatArray,
    speed_mps: FloatArray,
    valid: BoolArray,
    offset: int,
    stop_mps: float,
    min_dwell_s: float,
    split_s: float,
    final: bool,
) -> tuple[IntArray, IntArray, IntArray]:
    """Stops: maximal runs of valid fixes with ``speed_mps <= stop_mps``, kept when long enough.

    Walking the valid fixes in order, a dwell starts at a fix with speed at most
    ``stop_mps`` (m/s) and ends before the next valid fix faster than that (a NaN
    speed counts as moving), or before a slow fix more than ``split_s`` after
    the previous slow one (the vehicle may have moved unseen; that fix may start
    the next dwell). It is kept when ``t_s[last] - t_s[first] >= min_dwell_s``.
    ``state`` has ``EPISODE_STATE_SIZE`` floats (zeros to start); with ``final``
    an open dwell is closed at its last slow fix.

    Returns
    -------
    start_idx, end_idx : global indices of each kept dwell's first and last slow fix.
    close_idx : the fix that ended it, -1 when ``final`` closed it.
    """
    n = t_s.shape[0]
    m = n + 1  # a silence can split dwells with no fix between them
    starts = np.empty(m, dtype=np.int64)
    ends = np.empty(m, dtype=np.int64)
    closes = np.empty(m, dtype=np.int64)
    k = 0
    inside = state[_EP_INSIDE] > 0.0
    first = int(state[_EP_FIRST])
    last = int(state[_EP_LAST])
    t_first = state[_EP_TFIRST]
    t_last = state[_EP_TLAST]
    for i in range(n):
        if not valid[i]:
            continue
        slow = speed_mps[i] <= stop_mps
        if inside and (not slow or t_s[i] - t_last > split_s):
            inside = False
            if t_last - t_first >= min_dwell_s:
                starts[k] = first
                ends[k] = last
                closes[k] = i + offset
                k += 1
        if slow:
            if not inside:
                inside = True
                first = i + offset
                t_first = t_s[i]
            last = i + offset
            t_last = t_s[i]
    if final and inside:
        inside = False
        if t_last - t_first >= min_dwell_s:
            starts[k] = first
            ends[k] = last
            closes[k] = -1
            k += 1
    state[_EP_INSIDE] = 1.0 if inside else 0.0
    state[_EP_FIRST] = first
    state[_EP_LAST] = last
    state[_EP_TFIRST] = t_first
    state[_EP_TLAST] = t_last
    return starts[:k].copy(), ends[:k].copy(), closes[:k].copy()


@njit(cache=True)
def count_dwells(
    t_s: FloatArray, speed_mps: FloatArray, stop_mps: float, min_dwell_s: float, split_s: float
) -> int:
    """Number of dwells in a whole track, every fix valid: the bare stop-detection pass.

    The same rule as :func:`dwell_step` without state or outputs (for throughput
    measurements and quick counts).
    """
    n = t_s.shape[0]
    count = 0
    inside = False
    t_first = 0.0
    t_last = 0.0
    for i in range(n):
        t = t_s[i]
        slow = speed_mps[i] <= stop_mps
        if inside and (not slow or t - t_last > split_s):
            inside = False
            if t_last - t_first >= min_dwell_s:
                count += 1
        if slow:
            if not inside:
                inside = True
                t_first = t
            t_last = t
    if inside and t_last - t_first >= min_dwell_s:
        count += 1
    return count


@njit(cache=True)
def speeding_step(
    state: FloatArray,
    t_s: FloatArray,
    speed_mps: FloatArray,
    limit_mps: FloatArray,
    valid: BoolArray,
    offset: int,
    tolerance_frac: float,
    tolerance_mps: float,
    min_duration_s: float,
    release_s: float,
    final: bool,
) -> tuple[IntArray, IntArray, IntArray]:
    """Speeding held for a minimum duration, with a release time.

    A valid fix is over when ``speed_mps > limit_mps * (1 + tolerance_frac) +
    tolerance_mps`` (a NaN speed or limit is never over). An episode starts at an
    over fix and ends at its last over fix once a valid fix not over comes at
    least ``release_s`` after it (so one slower fix does not split it). It is kept
    when ``t_s[last] - t_s[first] >= min_duration_s``. ``state`` has
    ``EPISODE_STATE_SIZE`` floats; with ``final`` an open episode is closed.

    Returns
    -------
    start_idx, end_idx : global indices of each kept episode's first and last over fix.
    close_idx : the fix that released it, -1 when ``final`` closed it.
    """
    n = t_s.shape[0]
    m = n // 2 + 2  # episodes are separated by at least one fix, plus one carried in
    starts = np.empty(m, dtype=np.int64)
    ends = np.empty(m, dtype=np.int64)
    closes = np.empty(m, dtype=np.int64)
    k = 0
    inside = state[_EP_INSIDE] > 0.0
    first = int(state[_EP_FIRST])
    last = int(state[_EP_LAST])
    t_first = state[_EP_TFIRST]
    t_last = state[_EP_TLAST]
    scale = 1.0 + tolerance_frac
    for i in range(n):
        if not valid[i]:
            continue
        over = speed_mps[i] > limit_mps[i] * scale + tolerance_mps
        if over:
            if not inside:
                inside = True
                first = i + offset
                t_first = t_s[i]
            last = i + offset
            t_last = t_s[i]
        elif inside and t_s[i] - t_last >= release_s:
            inside = False
            if t_last - t_first >= min_duration_s:
                starts[k] = first
                ends[k] = last
                closes[k] = i + offset
                k += 1
    if final and inside:
        inside = False
        if t_last - t_first >= min_duration_s:
            starts[k] = first
            ends[k] = last
            closes[k] = -1
            k += 1
    state[_EP_INSIDE] = 1.0 if inside else 0.0
    state[_EP_FIRST] = first
    state[_EP_LAST] = last
    state[_EP_TFIRST] = t_first
    state[_EP_TLAST] = t_last
    return starts[:k].copy(), ends[:k].copy(), closes[:k].copy()


# Slots of the gap state array.
_GP_HAS, _GP_IDX, _GP_T, _GP_X, _GP_Y, _GP_V, _GP_W = 0, 1, 2, 3, 4, 5, 6
GAP_STATE_SIZE = 7


@njit(cache=True)
def gap_step(
    state: FloatArray,
    t_s: FloatArray,
    x_m: FloatArray,
    y_m: FloatArray,
    speed_mps: FloatArray,
    work: FloatArray,
    valid: BoolArray,
    offset: int,
    max_gap_s: float,
    moving_mps: float,
    far_m: float,
) -> tuple[IntArray, IntArray]:
    """GPS gaps: consecutive valid fixes more than ``max_gap_s`` apart, while active or far apart.

    For each pair of consecutive valid fixes ``(p, i)`` with ``t_i - t_p >
    max_gap_s`` the gap is reported when the vehicle was moving at either end
    (``speed > moving_mps``; NaN is not moving), reappears far away
    (``|x_i - x_p| > far_m``, a tampering candidate), or worked unseen: its
    cumulative ``work`` counter (bin lifts; NaN unknown) rose by at least one.
    A parked vehicle that goes quiet and comes back where it was is no gap
    alert. ``state`` has ``GAP_STATE_SIZE`` floats (the last valid fix).

    Returns
    -------
    before_idx, after_idx : global indices of the last fix before and the first after each gap.
    """
    n = t_s.shape[0]
    before = np.empty(n, dtype=np.int64)
    after = np.empty(n, dtype=np.int64)
    k = 0
    has = state[_GP_HAS] > 0.0
    p_idx = int(state[_GP_IDX])
    p_t = state[_GP_T]
    p_x = state[_GP_X]
    p_y = state[_GP_Y]
    p_v = state[_GP_V]
    p_w = state[_GP_W]
    for i in range(n):
        if not valid[i]:
            continue
        if has and t_s[i] - p_t > max_gap_s:
            dx = x_m[i] - p_x
            dy = y_m[i] - p_y
            moving = p_v > moving_mps or speed_mps[i] > moving_mps
            worked = work[i] - p_w >= 1.0
            if moving or worked or math.sqrt(dx * dx + dy * dy) > far_m:
                before[k] = p_idx
                after[k] = i + offset
                k += 1
        has = True
        p_idx = i + offset
        p_t = t_s[i]
        p_x = x_m[i]
        p_y = y_m[i]
        p_v = speed_mps[i]
        p_w = work[i]
    state[_GP_HAS] = 1.0 if has else 0.0
    state[_GP_IDX] = p_idx
    state[_GP_T] = p_t
    state[_GP_X] = p_x
    state[_GP_Y] = p_y
    state[_GP_V] = p_v
    state[_GP_W] = p_w
    return before[:k].copy(), after[:k].copy()


# Slots of the jump (outlier) state array.
_JP_HAS, _JP_T, _JP_X, _JP_Y, _JP_PEND, _JP_OT, _JP_OX, _JP_OY = 0, 1, 2, 3, 4, 5, 6, 7
JUMP_STATE_SIZE = 8


@njit(cache=True)
def jump_step(
    state: FloatArray,
    t_s: FloatArray,
    x_m: FloatArray,
    y_m: FloatArray,
    max_speed_mps: float,
    slack_m: float,
    confirm_fixes: int,
) -> BoolArray:
    """Mark GPS jumps: fixes that cannot be reached from the last good fix.

    The first fix is good. A later fix ``i`` is good when ``|x_i - x_g| <=
    max_speed_mps * (t_i - t_g) + slack_m`` for the last good fix ``g``;
    otherwise it is an outlier, unless it is the ``confirm_fixes``-th in a row of
    outliers each reachable from the one before by the same rule: then the
    vehicle really is elsewhere (it moved during a gap, or the first fix was the
    jump) and this fix becomes the new good one. Outliers are kept in storage but
    excluded from every check. ``state`` has ``JUMP_STATE_SIZE`` floats.

    Returns
    -------
    outlier : bool per fix of this chunk.
    """
    n = t_s.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    has = state[_JP_HAS] > 0.0
    g_t = state[_JP_T]
    g_x = state[_JP_X]
    g_y = state[_JP_Y]
    pend = int(state[_JP_PEND])
    o_t = state[_JP_OT]
    o_x = state[_JP_OX]
    o_y = state[_JP_OY]
    for i in range(n):
        good = True
        if has:
            dx = x_m[i] - g_x
            dy = y_m[i] - g_y
            if math.sqrt(dx * dx + dy * dy) > max_speed_mps * (t_s[i] - g_t) + slack_m:
                good = False
                if pend > 0:
                    ex = x_m[i] - o_x
                    ey = y_m[i] - o_y
                    if math.sqrt(ex * ex + ey * ey) <= max_speed_mps * (t_s[i] - o_t) + slack_m:
                        pend += 1
                    else:
                        pend = 1
                else:
                    pend = 1
                o_t = t_s[i]
                o_x = x_m[i]
                o_y = y_m[i]
                if pend >= confirm_fixes:
                    good = True
        if good:
            has = True
            pend = 0
            g_t = t_s[i]
            g_x = x_m[i]
            g_y = y_m[i]
        else:
            out[i] = True
    state[_JP_HAS] = 1.0 if has else 0.0
    state[_JP_T] = g_t
    state[_JP_X] = g_x
    state[_JP_Y] = g_y
    state[_JP_PEND] = pend
    state[_JP_OT] = o_t
    state[_JP_OX] = o_x
    state[_JP_OY] = o_y
    return out


@njit(cache=True)
def implied_speed(
    t_s: FloatArray, x_m: FloatArray, y_m: FloatArray, valid: BoolArray, window_s: float, i0: int
) -> FloatArray:
    """Speed from positions, looking back only: for streaming, fix ``i`` needs no later fix.

    For each valid fix ``i >= i0``: ``|x_i - x_j| / (t_i - t_j)`` where ``j`` is
    the earliest valid fix before ``i`` with ``t_j >= t_i - window_s``; NaN when
    there is none (or for an invalid fix). Averaging over a window damps GPS noise.

    Returns
    -------
    speed_mps : float64 array for fixes ``i0 .. n-1``.
    """
    n = t_s.shape[0]
    out = np.full(n - i0, np.nan)
    for i in range(i0, n):
        if not valid[i]:
            continue
        j = -1
        k = i - 1
        while k >= 0 and t_s[k] >= t_s[i] - window_s:
            if valid[k]:
                j = k
            k -= 1
        if j >= 0 and t_s[i] > t_s[j]:
            dx = x_m[i] - x_m[j]
            dy = y_m[i] - y_m[j]
            out[i - i0] = math.sqrt(dx * dx + dy * dy) / (t_s[i] - t_s[j])
    return out


# Slots of the coverage state array.
_CV_HAS, _CV_T, _CV_X, _CV_Y, _CV_OK = 0, 1, 2, 3, 4
COVERAGE_STATE_SIZE = 5


@njit(cache=True)
def coverage_step(
    state: FloatArray,
    t_s: FloatArray,
    x_m: FloatArray,
    y_m: FloatArray,
    speed_mps: FloatArray,
    brooms_down: FloatArray,
    valid: BoolArray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_start: IntArray,
    cell_pack: FloatArray,
    match_m: float,
    min_cos: float,
    min_mps: float,
    max_mps: float,
    max_pair_s: float,
    min_step_m: float,
    bin_start: IntArray,
    covered: BoolArray,
) -> None:
    """Sweeping coverage: mark the bins of planned directed segments swept the right way.

    A fix sweeps when valid, ``brooms_down > 0.5`` and ``min_mps <= speed_mps <=
    max_mps``. Fixes are taken in pairs ``(p, i)``: ``p`` is the anchor (the
    last fix that started or ended a pair), ``i`` the next valid fix at least
    ``min_step_m`` from it, so a slow sweeper's direction is measured over a
    baseline longer than the GPS noise. A pair with both fixes sweeping and
    ``0 < t_i - t_p <= max_pair_s`` and movement ``m = x_i - x_p`` marks every
    segment ``s`` with both fixes within ``match_m`` of it and ``cos(m, b_s -
    a_s) >= min_cos`` (the wrong direction never counts): the span between the
    two fixes' projections ``u_p < u_i`` (fractions of its length). Of its ``nb
    = bin_start[s+1] - bin_start[s]`` bins, bin ``b`` is covered when its centre
    ``(b + 0.5) / nb`` lies in ``[u_p, u_i]``. A fix closer than ``min_step_m``
    to a sweeping anchor within ``max_pair_s`` is skipped (the anchor stays);
    any other fix becomes the new anchor. Candidates come from ``p``'s cell of
    a reach grid (:func:`build_reach_grid`) with ``reach_m >= match_m``.
    ``covered`` (one flag per bin) and ``state`` (``COVERAGE_STATE_SIZE``
    floats) are updated in place.
    """
    match2 = match_m * match_m
    has = state[_CV_HAS] > 0.0
    p_t = state[_CV_T]
    p_x = state[_CV_X]
    p_y = state[_CV_Y]
    p_ok = state[_CV_OK] > 0.0
    for i in range(t_s.shape[0]):
        if not valid[i]:
            continue
        v = speed_mps[i]
        ok = brooms_down[i] > 0.5 and v >= min_mps and v <= max_mps
        dt = t_s[i] - p_t
        if has and p_ok and ok and dt > 0.0 and dt <= max_pair_s:
            mx = x_m[i] - p_x
            my = y_m[i] - p_y
            mlen = math.sqrt(mx * mx + my * my)
            if mlen < min_step_m:
                continue
            matched = False
            fx = (p_x - x0) / cell_m
            fy = (p_y - y0) / cell_m
            if mlen > 0.0 and fx >= 0.0 and fy >= 0.0 and fx < nx and fy < ny:
                ci = int(fx)
                cj = int(fy)
                c = cj * nx + ci
                ex = p_x - (x0 + (ci + 0.5) * cell_m)
                ey = p_y - (y0 + (cj + 0.5) * cell_m)
                r = math.sqrt(ex * ex + ey * ey) + _GRID_SLACK * cell_m
                for k in range(cell_start[c], cell_start[c + 1]):
                    if cell_pack[k, PACK_KEY] - r > match_m:
                        break
                    s = int(cell_pack[k, PACK_SEG])
                    dsx = cell_pack[k, PACK_DX]
                    dsy = cell_pack[k, PACK_DY]
                    slen = math.sqrt(cell_pack[k, PACK_LEN2])
                    if slen == 0.0 or (mx * dsx + my * dsy) < min_cos * mlen * slen:
                        continue
                    d2p, up = packed_distance2(p_x, p_y, cell_pack, k)
                    if d2p > match2:
                        continue
                    d2i, ui = packed_distance2(x_m[i], y_m[i], cell_pack, k)
                    if d2i > match2 or ui <= up:
                        continue
                    matched = True
                    nb = bin_start[s + 1] - bin_start[s]
                    b0 = max(math.ceil(up * nb - 0.5), 0)
                    b1 = min(math.floor(ui * nb - 0.5), nb - 1)
                    for b in range(b0, b1 + 1):
                        covered[bin_start[s] + b] = True
            if not matched:
                continue  # keep the anchor: a longer baseline may tell the direction
        has = True
        p_t = t_s[i]
        p_x = x_m[i]
        p_y = y_m[i]
        p_ok = ok
    state[_CV_HAS] = 1.0 if has else 0.0
    state[_CV_T] = p_t
    state[_CV_X] = p_x
    state[_CV_Y] = p_y
    state[_CV_OK] = 1.0 if p_ok else 0.0
