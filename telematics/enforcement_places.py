"""Places in local metres for the enforcement checks: sites and zones, indexed in a grid; local time.

:class:`PlaceIndex` packs polygons and circles (sites, restricted zones) into
the flat arrays of :mod:`telematics.enforcement_kernels` and answers "which
place holds this point" for many points at once. :func:`local_seconds` turns
UTC epoch seconds into seconds since local midnight of a given day, honouring
daylight-saving changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from core.enforcement import DailyWindow, LatLon, RestrictedZone, Site
from core.errors import ValidationError
from telematics import enforcement_kernels as ek
from telematics import kernels

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_PLACE_CELL_M = 200.0
"""Grid cell side of a place index (m)."""

MAX_PLACE_CELLS = 4_000_000
"""Largest place grid; a wider area gets larger cells."""

_OFFSET_STEP_S = 900
"""Time-zone offsets are looked up per quarter hour (every real UTC offset change falls on one)."""


@dataclass(frozen=True, slots=True, eq=False)
class PlaceIndex:
    """Polygons and circles in metres around ``(lat0, lon0)``, with daily windows and a grid.

    The fields are the arguments of :func:`telematics.enforcement_kernels.locate_points`;
    ``ids`` names each place. The grid holds each place's box inflated by ``margin_m``,
    so queries with a margin up to that are exact.
    """

    ids: tuple[str, ...]
    lat0: float
    lon0: float
    margin_m: float
    kind: IntArray
    cx: FloatArray
    cy: FloatArray
    r: FloatArray
    vstart: IntArray
    vx: FloatArray
    vy: FloatArray
    wstart: IntArray
    win_lo: FloatArray
    win_hi: FloatArray
    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    cell_start: IntArray
    cell_places: IntArray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        shapes: Sequence[tuple[tuple[LatLon, ...], LatLon | None, float]],
        windows: Sequence[Sequence[DailyWindow]],
        lat0: float,
        lon0: float,
        *,
        margin_m: float = 0.0,
        cell_m: float = DEFAULT_PLACE_CELL_M,
    ) -> PlaceIndex:
        """Pack places: each shape is ``(polygon, None, 0)`` or ``((), centre, radius_m)``.

        ``windows[p]`` are place ``p``'s daily active windows (empty: always).
        """
        n = len(ids)
        kind = np.zeros(n, dtype=np.int64)
        cx = np.zeros(n)
        cy = np.zeros(n)
        r = np.zeros(n)
        vstart = np.zeros(n + 1, dtype=np.int64)
        vlat: list[float] = []
        vlon: list[float] = []
        clat = np.zeros(n)
        clon = np.zeros(n)
        for p, (polygon, centre, radius_m) in enumerate(shapes):
            if polygon:
                vlat.extend(q[0] for q in polygon)
                vlon.extend(q[1] for q in polygon)
            else:
                if centre is None:
                    raise ValidationError("PlaceIndex", f"shapes[{p}]", "needs a polygon or a centre")
                kind[p] = ek.CIRCLE
                clat[p], clon[p] = centre
                r[p] = radius_m
            vstart[p + 1] = len(vlat)
        vx, vy = kernels.project_equirectangular(np.array(vlat, dtype=np.float64), np.array(vlon), lat0, lon0)
        cx, cy = kernels.project_equirectangular(clat, clon, lat0, lon0)
        wstart = np.zeros(n + 1, dtype=np.int64)
        lo: list[float] = []
        hi: list[float] = []
        for p, ws in enumerate(windows):
            lo.extend(float(w.start_s) for w in ws)
            hi.extend(float(w.end_s) for w in ws)
            wstart[p + 1] = len(lo)
        pad = max(margin_m, 0.0)
        bx0 = np.empty(n)
        by0 = np.empty(n)
        bx1 = np.empty(n)
        by1 = np.empty(n)
        for p in range(n):
            if kind[p] == ek.CIRCLE:
                bx0[p], bx1[p] = cx[p] - r[p], cx[p] + r[p]
                by0[p], by1[p] = cy[p] - r[p], cy[p] + r[p]
            else:
                sx = vx[vstart[p] : vstart[p + 1]]
                sy = vy[vstart[p] : vstart[p + 1]]
                bx0[p], bx1[p], by0[p], by1[p] = sx.min(), sx.max(), sy.min(), sy.max()
        bx0 -= pad
        by0 -= pad
        bx1 += pad
        by1 += pad
        if n:
            area = max(float(bx1.max() - bx0.min()), cell_m) * max(float(by1.max() - by0.min()), cell_m)
            cell_m = max(cell_m, math.sqrt(area / MAX_PLACE_CELLS))
        x0, y0, nx, ny, cell_start, cell_places = ek.build_place_grid(bx0, by0, bx1, by1, cell_m)
        return cls(
            tuple(ids), lat0, lon0, pad, kind, cx, cy, r, vstart, vx, vy, wstart,
            np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64),
            float(x0), float(y0), float(cell_m), int(nx), int(ny), cell_start, cell_places,
        )  # fmt: skip

    @classmethod
    def from_sites(cls, sites: Sequence[Site], lat0: float, lon0: float, *, margin_m: float) -> PlaceIndex:
        """The sites (always active), for queries up to ``margin_m`` outside them."""
        shapes = [(s.polygon, None if s.polygon else s.centre, float(s.radius_m or 0.0)) for s in sites]
        return cls.build([s.id for s in sites], shapes, [() for _ in sites], lat0, lon0, margin_m=margin_m)

    @classmethod
    def from_zones(cls, zones: Sequence[RestrictedZone], lat0: float, lon0: float) -> PlaceIndex:
        """The restricted zones with their active hours."""
        shapes = [(z.polygon, None, 0.0) for z in zones]
        return cls.build([z.id for z in zones], shapes, [z.active_hours for z in zones], lat0, lon0)

    def locate(
        self,
        x: FloatArray,
        y: FloatArray,
        *,
        margin_m: float = 0.0,
        local_s: FloatArray | None = None,
        eligible: BoolArray | None = None,
        parallel: bool = False,
    ) -> IntArray:
        """Index of the lowest eligible, active place within ``margin_m`` of each point (m); -1 where none.

        ``margin_m`` may not exceed the index's ``margin_m``; a negative one asks
        for points that far inside. ``local_s`` (local seconds of the day per
        point) is needed for places with windows; without it all are active.
        ``parallel`` splits the points across threads (for long arrays).
        """
        if margin_m > self.margin_m + 1e-9:
            raise ValidationError("PlaceIndex.locate", "margin_m", f"must be <= {self.margin_m:g} m")
        n = x.shape[0]
        if local_s is None:
            local_s = np.zeros(n)
            wstart = np.zeros(len(self.ids) + 1, dtype=np.int64)
        else:
            wstart = self.wstart
        ok = np.ones(len(self.ids), dtype=np.bool_) if eligible is None else eligible
        kernel = ek.locate_points if parallel else ek.locate_points_serial
        return kernel(
            np.ascontiguousarray(x), np.ascontiguousarray(y), np.ascontiguousarray(local_s, dtype=np.float64),
            float(margin_m), ok, self.kind, self.cx, self.cy, self.r, self.vstart, self.vx, self.vy,
            wstart, self.win_lo, self.win_hi, self.x0, self.y0, self.cell_m, self.nx, self.ny,
            self.cell_start, self.cell_places,
        )  # fmt: skip

    def distances(self, p: int, x: FloatArray, y: FloatArray) -> FloatArray:
        """Signed distances (m) from points to place ``p``'s boundary, negative inside."""
        return ek.signed_distances(
            np.ascontiguousarray(x), np.ascontiguousarray(y), p, self.kind, self.cx, self.cy, self.r,
            self.vstart, self.vx, self.vy,
        )  # fmt: skip

    def distance(self, p: int, x: float, y: float) -> float:
        """Signed distance (m) from a point to place ``p``'s boundary, negative inside."""
        return float(
            ek.signed_distance(x, y, p, self.kind, self.cx, self.cy, self.r, self.vstart, self.vx, self.vy)
        )


def zone_info(timezone: str) -> ZoneInfo:
    """The IANA zone, or a ValidationError naming ``timezone``."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError(
            "police_enforcement", "timezone", f"unknown IANA time zone {timezone!r}"
        ) from None


def local_midnight_utc(day: date, tz: ZoneInfo) -> float:
    """UNIX seconds of local midnight starting ``day`` in ``tz``."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


@dataclass(frozen=True, slots=True, eq=False)
class LocalClock:
    """Seconds since local midnight of ``day`` (wall clock) for UTC epoch seconds, over a time span.

    ``local = ts_utc + utcoffset(ts_utc) - (midnight_utc + utcoffset(midnight))``,
    so 23:00 the day before is ``-3600`` and 01:00 the next day ``90000``
    whatever daylight saving did. Offsets are looked up once per quarter hour
    over ``[t_min, t_max]`` when the clock is made (:meth:`for_span`);
    ``midnight_wall_s`` is ``midnight_utc + utcoffset(midnight)``.
    """

    day: date
    midnight_wall_s: float
    base_utc: float
    offsets_s: FloatArray

    @classmethod
    def for_span(cls, day: date, tz: ZoneInfo, t_min: float, t_max: float) -> LocalClock:
        """A clock valid for UTC times within ``[t_min, t_max]`` (and ``day``'s midnight)."""
        midnight = local_midnight_utc(day, tz)
        base = math.floor(min(t_min, midnight) / _OFFSET_STEP_S) * _OFFSET_STEP_S
        top = max(t_max, midnight)
        steps = int((top - base) // _OFFSET_STEP_S) + 2
        offsets = np.empty(steps)
        for k in range(steps):
            off = datetime.fromtimestamp(base + k * _OFFSET_STEP_S, tz).utcoffset()
            offsets[k] = off.total_seconds() if off is not None else 0.0
        k0 = int((midnight - base) // _OFFSET_STEP_S)
        return cls(day, midnight + float(offsets[k0]), float(base), offsets)

    def seconds(self, ts_utc: FloatArray) -> FloatArray:
        """Local seconds since ``day``'s midnight for each UTC time (within the span)."""
        idx = np.clip((ts_utc - self.base_utc) // _OFFSET_STEP_S, 0, self.offsets_s.shape[0] - 1).astype(
            np.int64
        )
        out: FloatArray = ts_utc + self.offsets_s[idx] - self.midnight_wall_s
        return out

    def local_date(self, local_s: float) -> date:
        """The local calendar date of a local-seconds value."""
        return self.day + timedelta(days=math.floor(local_s / ek.DAY_S))
