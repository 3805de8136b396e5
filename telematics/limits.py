"""Speed limits along the roads: the nearest road segment's limit at any position.

A :class:`RoadLimits` holds road polylines cut into segments, each with a limit
in m/s, indexed by the one-cell reach grid of :mod:`telematics.kernels`. A
position within ``match_m`` of roads gets the highest of their limits (GPS noise
cannot tell a motorway from the street beside or beneath it, so the fix is given
the benefit of the doubt); farther away it gets NaN ("no known limit"), and the
speeding check falls back to the vehicle's own limit.

Build it from a road network (:meth:`RoadLimits.from_network`): each edge's
limit is its ``speed_kph`` (the posted ``maxspeed`` where OSM has one, osmnx's
per-highway-class mean where not), or, when ``class_limits_kph`` is given, the
limit of the edge's highway class (e.g. a municipal rule for heavy vehicles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.errors import ValidationError
from telematics import kernels
from telematics._validate import check_lat_lon_pairs, check_number

if TYPE_CHECKING:
    from core.roads import RoadNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KPH = 1.0 / 3.6
"""m/s per km/h."""

TRUCK_CLASS_LIMITS_KPH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 60.0,
    "trunk": 70.0,
    "trunk_link": 50.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 40.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 20.0,
}
"""An example per-road-class limit table for refuse trucks (km/h); pass it as ``class_limits_kph``."""

DEFAULT_MATCH_M = 40.0
"""Roads within this of a position may be the one it is on (m): about 2.5 sigma of 15 m GPS noise."""


@dataclass(frozen=True, slots=True, eq=False)
class RoadLimits:
    """Road segments with a speed limit each, in local metres, with their reach grid.

    Segment ``s`` runs from ``(ax[s], ay[s])`` to ``(bx[s], by[s])`` (metres
    east/north of ``(lat0, lon0)``) and has limit ``limit_mps[s]``.
    """

    lat0: float
    lon0: float
    ax: FloatArray
    ay: FloatArray
    bx: FloatArray
    by: FloatArray
    limit_mps: FloatArray
    match_m: float
    cell_m: float
    grid_x0: float
    grid_y0: float
    nx: int
    ny: int
    cell_start: IntArray
    cell_pack: FloatArray

    @classmethod
    def from_lines(
        cls,
        lines: Sequence[tuple[Sequence[tuple[float, float]] | npt.ArrayLike, float]],
        *,
        lat0: float | None = None,
        lon0: float | None = None,
        match_m: float = DEFAULT_MATCH_M,
        cell_m: float = 25.0,
    ) -> RoadLimits:
        """Build from ``(polyline, limit_mps)`` pairs; polylines are ``(lat, lon)`` degrees.

        Parameters
        ----------
        lines : each road's points (at least two) and its limit (m/s, > 0).
        lat0, lon0 : projection origin (default: the first point).
        match_m : farthest a position may be from a road to get its limit (m).
        cell_m : grid cell side (m).

        Raises
        ------
        ValidationError : malformed polylines, limits or parameters.
        """
        record = "RoadLimits.from_lines"
        match = check_number(record, "match_m", match_m, minimum=0.0, exclusive=True)
        cell = check_number(record, "cell_m", cell_m, minimum=0.0, exclusive=True)
        lats: list[FloatArray] = []
        lons: list[FloatArray] = []
        limits: list[FloatArray] = []
        for i, (coords, limit) in enumerate(lines):
            pts = check_lat_lon_pairs(record, f"lines[{i}]", coords, min_points=2)
            lim = check_number(record, f"lines[{i}] limit", limit, minimum=0.0, exclusive=True)
            lats.append(pts[:, 0])
            lons.append(pts[:, 1])
            limits.append(np.full(pts.shape[0] - 1, lim))
        if not lats:
            raise ValidationError(record, "lines", "must hold at least one road")
        la0 = float(lats[0][0]) if lat0 is None else check_number(record, "lat0", lat0)
        lo0 = float(lons[0][0]) if lon0 is None else check_number(record, "lon0", lon0)
        axs, ays, bxs, bys = [], [], [], []
        for la, lo in zip(lats, lons, strict=True):
            x, y = kernels.project_equirectangular(la, lo, la0, lo0)
            axs.append(x[:-1])
            ays.append(y[:-1])
            bxs.append(x[1:])
            bys.append(y[1:])
        ax, ay = np.concatenate(axs), np.concatenate(ays)
        bx, by = np.concatenate(bxs), np.concatenate(bys)
        span = max(float(np.ptp(np.concatenate((ax, bx)))), cell) + 2 * match
        span_y = max(float(np.ptp(np.concatenate((ay, by)))), cell) + 2 * match
        cell = max(cell, math.sqrt(span * span_y / 4_000_000))
        keep = np.ones(ax.shape[0], dtype=np.bool_)
        x0, y0, nx, ny, start, pack = kernels.build_reach_grid(ax, ay, bx, by, keep, cell, match)
        return cls(
            la0, lo0, ax, ay, bx, by, np.concatenate(limits), match, cell, float(x0), float(y0),
            int(nx), int(ny), start, pack,
        )  # fmt: skip

    @classmethod
    def from_network(
        cls,
        network: RoadNetwork,
        *,
        class_limits_kph: Mapping[str, float] | None = None,
        match_m: float = DEFAULT_MATCH_M,
    ) -> RoadLimits:
        """Limits of every edge of a road network.

        Each edge's limit is ``class_limits_kph[highway]`` when given and listed,
        else its ``speed_kph`` (posted ``maxspeed`` or osmnx's class mean), in m/s.
        """
        lines: list[tuple[FloatArray, float]] = []
        for lonlat, highway, speed_kph in network.edge_speed_lines():
            kph = speed_kph
            if class_limits_kph is not None and highway in class_limits_kph:
                kph = float(class_limits_kph[highway])
            if math.isfinite(kph) and kph > 0 and lonlat.shape[0] >= 2:
                lines.append((lonlat[:, ::-1].copy(), kph * KPH))
        lat0 = float((network.lat.min() + network.lat.max()) / 2)
        lon0 = float((network.lon.min() + network.lon.max()) / 2)
        return cls.from_lines(lines, lat0=lat0, lon0=lon0, match_m=match_m)

    @property
    def n_segments(self) -> int:
        """Number of road segments."""
        return int(self.ax.shape[0])

    def limits_at(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
        """The highest limit (m/s) of the roads within ``match_m`` of each position, NaN where none."""
        la = np.ascontiguousarray(lat, dtype=np.float64)
        lo = np.ascontiguousarray(lon, dtype=np.float64)
        x, y = kernels.project_equirectangular(la, lo, self.lat0, self.lon0)
        out: FloatArray = kernels.max_value_near(
            x, y, self.grid_x0, self.grid_y0, self.cell_m, self.nx, self.ny, self.cell_start,
            self.cell_pack, self.limit_mps, self.match_m,
        )  # fmt: skip
        return out

    def nearest_limits(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
        """The limit (m/s) of the single nearest road within ``match_m``, NaN where none."""
        la = np.ascontiguousarray(lat, dtype=np.float64)
        lo = np.ascontiguousarray(lon, dtype=np.float64)
        x, y = kernels.project_equirectangular(la, lo, self.lat0, self.lon0)
        _, seg, _ = kernels.corridor_nearest(
            x, y, self.grid_x0, self.grid_y0, self.cell_m, self.nx, self.ny, self.cell_start,
            self.cell_pack, self.match_m,
        )  # fmt: skip
        out = np.full(seg.shape[0], np.nan)
        hit = seg >= 0
        out[hit] = self.limit_mps[seg[hit]]
        return out

    def path_limits(self, coords_latlon: npt.ArrayLike) -> FloatArray:
        """The limit (m/s) of the road under the midpoint of each step of a ``(lat, lon)`` road path.

        The nearest road (not the most generous one): a path drawn on the roads
        lies exactly on its own road. NaN where no road is within ``match_m``.
        """
        pts = np.asarray(coords_latlon, dtype=np.float64).reshape(-1, 2)
        if pts.shape[0] < 2:
            return np.zeros(0)
        mid = (pts[:-1] + pts[1:]) / 2
        return self.nearest_limits(mid[:, 0], mid[:, 1])
