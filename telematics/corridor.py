"""Route corridors and the detour check: the public face of the corridor kernels.

A :class:`RouteCorridor` is one vehicle's planned road geometry, projected to
metres around a fixed origin and indexed twice: by a uniform grid with an exact
ring search (:func:`telematics.kernels.build_segment_grid`, any distance) and by
a one-cell reach grid (:func:`telematics.kernels.build_reach_grid`, the hot path:
exact up to ``reach_m``, which is all the detour hysteresis needs). Segments
driven twice (out and back along the same street) are indexed once.
:func:`check_detours` measures how far each GPS fix lies from it and turns
off-route episodes into :class:`core.domain.Alert` objects of type ``DETOUR``.

Typical use::

    corridor = RouteCorridor.from_route(route, lat0, lon0)
    alerts = check_detours(corridor, ts_utc, lat, lon, accuracy_m, vehicle_id=route.vehicle_id)

The threshold defaults mirror ``core.settings.Settings`` (``corridor_m``,
``corridor_back_m``, ``detour_min_fixes``, ``detour_min_s``); entry points pass
the settings in, this module never reads them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.domain import Alert, AlertType, Route
from core.errors import ValidationError
from telematics import kernels
from telematics._validate import check_lat_lon_pairs, check_number, check_track

if TYPE_CHECKING:
    from telematics.limits import RoadLimits

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_CELL_M = 50.0
"""Default grid cell side (m): about the corridor width, so most fixes search 3x3 cells."""

MAX_GRID_CELLS = 4_000_000
"""Largest grid built; a longer route gets larger cells (32 MB of offsets at most)."""

DEFAULT_MAX_SEARCH_M = 5_000.0
"""Distances to the route beyond this are reported as this value (m)."""

DEFAULT_REACH_M = 100.0
"""The fast corridor distance is exact up to this (m) and capped there; it must exceed ``enter_m``."""

DEFAULT_REACH_CELL_M = 25.0
"""Cell side of the reach grid (m): small cells mean short cell lists."""


def duplicate_free(ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray) -> npt.NDArray[np.bool_]:
    """``keep[s]`` is False for a segment equal to a lower-id one, in either direction.

    A route that drives a street out and back lists its segments twice; the
    distance to the route is the same without the repeats.
    """
    keep = np.ones(ax.shape[0], dtype=np.bool_)
    seen: set[tuple[float, float, float, float]] = set()
    for s, (a1, a2, b1, b2) in enumerate(
        zip(ax.tolist(), ay.tolist(), bx.tolist(), by.tolist(), strict=True)
    ):
        key = (a1, a2, b1, b2) if (a1, a2) <= (b1, b2) else (b1, b2, a1, a2)
        if key in seen:
            keep[s] = False
        else:
            seen.add(key)
    return keep


def leg_path(
    start: tuple[float, float], leg_coords: Sequence[tuple[float, float]], end: tuple[float, float]
) -> list[tuple[float, float]]:
    """The ``(lat, lon)`` path a vehicle drives from ``start`` along one leg.

    ``start`` followed by ``leg_coords``; when ``leg_coords`` is empty, the
    straight line to ``end`` (the stop). Consecutive duplicate points are dropped.
    The simulator and :meth:`RouteCorridor.from_route` both use this rule, so a
    simulated truck drives exactly the corridor's geometry.
    """
    points = [tuple(start), *(tuple(p) for p in leg_coords)] if leg_coords else [tuple(start), tuple(end)]
    path: list[tuple[float, float]] = []
    for lat, lon in points:
        p = (float(lat), float(lon))
        if not path or path[-1] != p:
            path.append(p)
    return path


def route_coords(route: Route) -> list[tuple[float, float]]:
    """The whole ``(lat, lon)`` road path of a route: every leg joined by :func:`leg_path`.

    Starts at the first stop's position; empty for a route without stops.
    """
    if not route.stops:
        return []
    first = route.stops[0]
    coords: list[tuple[float, float]] = [(float(first.lat), float(first.lon))]
    for stop in route.stops[1:]:
        coords.extend(leg_path(coords[-1], stop.leg_coords, (stop.lat, stop.lon))[1:])
    return coords


@dataclass(frozen=True, slots=True, eq=False)
class RouteCorridor:
    """One planned route's segments in local metres, with their grid index.

    Build it with :meth:`from_coords` or :meth:`from_route`; the fields are the
    kernel arguments. ``x, y`` are metres east/north of ``(lat0, lon0)``
    (:func:`telematics.kernels.project_equirectangular`). Segment ``s`` runs
    from vertex ``s`` to vertex ``s + 1``; ``cum_m[k]`` is the distance along the
    route to vertex ``k``; ``seg_limit_mps[s]`` is the speed limit on segment
    ``s`` (NaN: unknown; see :meth:`with_limits`). The ``reach_*`` fields are
    the one-cell reach grid.
    """

    lat0: float
    lon0: float
    x: FloatArray
    y: FloatArray
    cell_m: float
    grid_x0: float
    grid_y0: float
    nx: int
    ny: int
    cell_start: IntArray
    cell_segs: IntArray
    reach_m: float
    reach_cell_m: float
    reach_x0: float
    reach_y0: float
    reach_nx: int
    reach_ny: int
    reach_start: IntArray
    reach_pack: FloatArray
    cum_m: FloatArray
    seg_limit_mps: FloatArray

    @classmethod
    def from_coords(
        cls,
        coords_latlon: Sequence[tuple[float, float]] | npt.ArrayLike,
        lat0: float | None = None,
        lon0: float | None = None,
        *,
        cell_m: float = DEFAULT_CELL_M,
        reach_m: float = DEFAULT_REACH_M,
        reach_cell_m: float = DEFAULT_REACH_CELL_M,
    ) -> RouteCorridor:
        """Build the corridor of a polyline given as ``(lat, lon)`` pairs in degrees.

        Parameters
        ----------
        coords_latlon : at least two ``(lat, lon)`` points, latitude first.
        lat0, lon0 : projection origin (degrees); use one origin per district so
            corridors and tracks share a plane. Default: the first point.
        cell_m : grid cell side (m); raised automatically so the grid has at most
            ``MAX_GRID_CELLS`` cells.
        reach_m : the fast distance (:meth:`fast_nearest_xy`) is exact up to this (m).
        reach_cell_m : cell side of the reach grid (m), raised like ``cell_m``.

        Raises
        ------
        ValidationError : malformed coordinates, origin or cell size.
        """
        record = "RouteCorridor.from_coords"
        pts = check_lat_lon_pairs(record, "coords_latlon", coords_latlon, min_points=2)
        lat0 = float(pts[0, 0]) if lat0 is None else check_number(record, "lat0", lat0)
        lon0 = float(pts[0, 1]) if lon0 is None else check_number(record, "lon0", lon0)
        if abs(lat0) >= 90:
            raise ValidationError(record, "lat0", f"must lie within (-90, 90), got {lat0!r}")
        if abs(lon0) > 180:
            raise ValidationError(record, "lon0", f"must lie within [-180, 180], got {lon0!r}")
        cell = check_number(record, "cell_m", cell_m, minimum=0.0, exclusive=True)
        reach = check_number(record, "reach_m", reach_m, minimum=0.0, exclusive=True)
        rcell = check_number(record, "reach_cell_m", reach_cell_m, minimum=0.0, exclusive=True)
        x, y = kernels.project_equirectangular(
            np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1]), lat0, lon0
        )
        area = max(float(np.ptp(x)), cell) * max(float(np.ptp(y)), cell)
        cell = max(cell, math.sqrt(area / MAX_GRID_CELLS))
        x0, y0, nx, ny, cell_start, cell_segs = kernels.build_segment_grid(x[:-1], y[:-1], x[1:], y[1:], cell)
        ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
        reach_area = (float(np.ptp(x)) + 2 * reach + rcell) * (float(np.ptp(y)) + 2 * reach + rcell)
        rcell = max(rcell, math.sqrt(reach_area / MAX_GRID_CELLS))
        keep = duplicate_free(ax, ay, bx, by)
        rx0, ry0, rnx, rny, rstart, rpack = kernels.build_reach_grid(ax, ay, bx, by, keep, rcell, reach)
        cum = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
        return cls(
            lat0, lon0, x, y, cell, float(x0), float(y0), int(nx), int(ny), cell_start, cell_segs,
            reach, rcell, float(rx0), float(ry0), int(rnx), int(rny), rstart, rpack, cum,
            np.full(x.shape[0] - 1, np.nan),
        )  # fmt: skip

    @classmethod
    def from_route(
        cls,
        route: Route,
        lat0: float | None = None,
        lon0: float | None = None,
        *,
        cell_m: float = DEFAULT_CELL_M,
        reach_m: float = DEFAULT_REACH_M,
    ) -> RouteCorridor:
        """Build the corridor of a planned route's road path (:func:`route_coords`).

        Raises
        ------
        ValidationError : the route has fewer than two distinct points.
        """
        coords = route_coords(route)
        if len(coords) < 2:
            msg = f"route of '{route.vehicle_id}' needs at least two distinct points to form a corridor"
            raise ValidationError("RouteCorridor.from_route", "route", msg)
        return cls.from_coords(coords, lat0, lon0, cell_m=cell_m, reach_m=reach_m)

    def with_limits(self, limits: RoadLimits) -> RouteCorridor:
        """A copy whose segments carry the speed limit found at their midpoints (NaN where none)."""
        mx = (self.x[:-1] + self.x[1:]) / 2
        my = (self.y[:-1] + self.y[1:]) / 2
        lat, lon = kernels.unproject_equirectangular(mx, my, self.lat0, self.lon0)
        return dataclasses.replace(self, seg_limit_mps=limits.limits_at(lat, lon))

    def fast_nearest_xy(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
        """Distance (m, capped at ``reach_m``), nearest segment (-1 beyond) and t, from one grid cell."""
        dist, seg, t = kernels.corridor_nearest(
            np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64),
            self.reach_x0, self.reach_y0, self.reach_cell_m, self.reach_nx, self.reach_ny,
            self.reach_start, self.reach_pack, self.reach_m,
        )  # fmt: skip
        return dist, seg, t

    def fast_distance_xy(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Distance (m) from projected points to the route, capped at ``reach_m``, in parallel."""
        dist: FloatArray = kernels.corridor_distance(
            np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64),
            self.reach_x0, self.reach_y0, self.reach_cell_m, self.reach_nx, self.reach_ny,
            self.reach_start, self.reach_pack, self.reach_m,
        )  # fmt: skip
        return dist

    def chainage_m(self, seg: IntArray, t: FloatArray) -> FloatArray:
        """Distance along the route (m) of positions given as segment id and t (NaN for seg -1)."""
        seg = np.asarray(seg, dtype=np.int64)
        ok = seg >= 0
        s = np.where(ok, seg, 0)
        out = self.cum_m[s] + np.asarray(t) * (self.cum_m[s + 1] - self.cum_m[s])
        return np.where(ok, out, np.nan)

    @property
    def n_segments(self) -> int:
        """Number of segments of the polyline."""
        return int(self.x.shape[0] - 1)

    @property
    def length_m(self) -> float:
        """Length of the polyline (m)."""
        return float(kernels.path_length_m(self.x, self.y, 0, self.x.shape[0] - 1))

    def project(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Project ``(lat, lon)`` degrees to this corridor's plane (metres)."""
        la = np.ascontiguousarray(lat, dtype=np.float64)
        lo = np.ascontiguousarray(lon, dtype=np.float64)
        x, y = kernels.project_equirectangular(la, lo, self.lat0, self.lon0)
        return x, y

    def distance_xy(
        self, x: FloatArray, y: FloatArray, *, max_search_m: float = DEFAULT_MAX_SEARCH_M
    ) -> FloatArray:
        """Distance from projected points (m) to the route, capped at ``max_search_m`` (m)."""
        dist: FloatArray = kernels.distance_to_segments(
            np.ascontiguousarray(x, dtype=np.float64),
            np.ascontiguousarray(y, dtype=np.float64),
            self.x[:-1],
            self.y[:-1],
            self.x[1:],
            self.y[1:],
            self.grid_x0,
            self.grid_y0,
            self.cell_m,
            self.nx,
            self.ny,
            self.cell_start,
            self.cell_segs,
            float(max_search_m),
        )
        return dist

    def nearest_xy(
        self, x: FloatArray, y: FloatArray, *, max_search_m: float = DEFAULT_MAX_SEARCH_M
    ) -> tuple[FloatArray, IntArray, FloatArray]:
        """Distance (m), nearest segment id (-1 beyond the cap) and position t in [0, 1] on it."""
        dist, seg, t = kernels.nearest_on_segments(
            np.ascontiguousarray(x, dtype=np.float64),
            np.ascontiguousarray(y, dtype=np.float64),
            self.x[:-1],
            self.y[:-1],
            self.x[1:],
            self.y[1:],
            self.grid_x0,
            self.grid_y0,
            self.cell_m,
            self.nx,
            self.ny,
            self.cell_start,
            self.cell_segs,
            float(max_search_m),
        )
        return dist, seg, t

    def distance_m(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike, *, max_search_m: float = DEFAULT_MAX_SEARCH_M
    ) -> FloatArray:
        """Distance from ``(lat, lon)`` points (degrees) to the route (m), capped at ``max_search_m``."""
        x, y = self.project(lat, lon)
        return self.distance_xy(x, y, max_search_m=max_search_m)


def check_detours(
    corridor: RouteCorridor,
    ts_utc: npt.ArrayLike,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    accuracy_m: npt.ArrayLike | None = None,
    *,
    vehicle_id: str,
    enter_m: float = 50.0,
    exit_m: float = 40.0,
    min_fixes: int = 3,
    min_duration_s: float = 60.0,
    max_accuracy_m: float = 30.0,
    ignore_end_m: float = 150.0,
    max_search_m: float = DEFAULT_MAX_SEARCH_M,
) -> list[Alert]:
    """Detours of one vehicle from its planned route, as ``DETOUR`` alerts.

    The detour check of :class:`telematics.checks.VehicleChecker` alone (no GPS
    jump filter: every fix is trusted but for its accuracy).

    Each fix's distance to ``corridor`` is measured. Fixes with
    ``accuracy_m > max_accuracy_m`` are skipped: they neither start nor end a
    detour. Fixes within ``ignore_end_m`` of the route's first or last point
    (the depot yard) count as on the route, so a detour ends when the vehicle
    reaches the yard. A detour starts at a fix farther than ``enter_m`` and ends
    before the next fix within ``exit_m``; it is reported when it has at least
    ``min_fixes`` off-route fixes spanning at least ``min_duration_s``
    (:func:`telematics.kernels.detour_episodes`).

    Parameters
    ----------
    corridor : the vehicle's planned route.
    ts_utc : fix times, UNIX epoch seconds, non-decreasing.
    lat, lon : fix positions (degrees).
    accuracy_m : reported horizontal accuracy per fix (m); ``None`` trusts every fix.
    vehicle_id : the vehicle the fixes belong to (copied to the alerts).
    enter_m, exit_m : distances that start and end a detour (m), ``exit_m <= enter_m``.
    min_fixes : fewest off-route fixes of a detour (>= 1).
    min_duration_s : shortest detour, first to last off-route fix (s).
    max_accuracy_m : fixes reporting a worse accuracy are skipped (m).
    ignore_end_m : radius of the yard zones around the route's ends (m).
    max_search_m : distances beyond are reported as this value (m), > enter_m.

    Returns
    -------
    list of Alert, in time order. ``start_utc``/``end_utc`` are the first and last
    off-route fix; ``lat``/``lon`` the farthest fix. ``measured`` holds
    ``max_distance_m``, ``duration_s``, ``off_route_m`` (track length between the
    first and last off-route fix, through the valid fixes), ``fixes`` and, when
    the vehicle was seen on route before and after, ``extra_m`` (distance driven
    from the last on-route fix to the next beyond the plan's distance between them).
    ``evidence`` is a GeoJSON FeatureCollection with one LineString Feature
    (``[lon, lat]`` positions of the valid off-route fixes; a Point when there is
    only one) whose properties repeat the measures and list ``ts_utc`` and
    ``distance_m`` per position.

    Raises
    ------
    ValidationError : a malformed array (dtype, shape, NaN, unsorted ``ts_utc``,
        unequal lengths) or threshold, naming the argument.
    """
    record = "check_detours"
    if not isinstance(corridor, RouteCorridor):
        raise ValidationError(record, "corridor", f"must be a RouteCorridor, got {type(corridor).__name__}")
    if not isinstance(vehicle_id, str) or not vehicle_id.strip():
        raise ValidationError(record, "vehicle_id", f"must be a non-empty string, got {vehicle_id!r}")
    t, la, lo, acc = check_track(record, ts_utc, lat, lon, accuracy_m)
    enter = check_number(record, "enter_m", enter_m, minimum=0.0)
    exit_ = check_number(record, "exit_m", exit_m, minimum=0.0)
    if exit_ > enter:
        raise ValidationError(record, "exit_m", f"must be <= enter_m ({enter:g}), got {exit_m!r}")
    fixes_min = int(check_number(record, "min_fixes", min_fixes, minimum=1, integer=True))
    duration_min = check_number(record, "min_duration_s", min_duration_s, minimum=0.0)
    acc_max = check_number(record, "max_accuracy_m", max_accuracy_m, minimum=0.0)
    yard_m = check_number(record, "ignore_end_m", ignore_end_m, minimum=0.0)
    search_m = check_number(record, "max_search_m", max_search_m, minimum=enter, exclusive=True)
    if t.shape[0] == 0:
        return []

    from telematics.checks import CheckRules, VehicleChecker  # the checker builds on this module

    rules = CheckRules(
        enter_m=enter,
        exit_m=exit_,
        min_fixes=fixes_min,
        min_duration_s=duration_min,
        max_accuracy_m=acc_max,
        yard_m=yard_m,
        max_search_m=search_m,
        rejoin_s=0.0,
        jump_max_speed_mps=math.inf,
        checks=frozenset({AlertType.DETOUR}),
    )
    ends_lat, ends_lon = kernels.unproject_equirectangular(
        corridor.x[[0, -1]].copy(), corridor.y[[0, -1]].copy(), corridor.lat0, corridor.lon0
    )
    checker = VehicleChecker(
        vehicle_id,
        rules=rules,
        corridor=corridor,
        yards=list(zip(ends_lat.tolist(), ends_lon.tolist(), strict=True)),
    )
    alerts = checker.push(t, la, lo, accuracy_m=acc)
    return alerts + checker.close()
