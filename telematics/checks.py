"""Compliance checks of one vehicle's day against its plan: batch or streaming, same alerts.

:class:`VehicleChecker` runs every check on one vehicle's fixes as they arrive
(:meth:`~VehicleChecker.push`, any number of times) and finishes the day with
:meth:`~VehicleChecker.close`. Each check is a resumable kernel of
:mod:`telematics.kernels` whose state is carried between pushes, so pushing a
day in one piece or fix by fix yields the same alerts (:func:`check_track` is
the batch form: one push, then close). The checks, in the order each pushed
chunk goes through them:

1. **GPS jumps** (:func:`telematics.kernels.jump_step`): fixes that cannot be
   reached from the last good fix are kept but marked as outliers and skipped
   by every other check.
2. **Speed**: the reported speed, or where a fix has none, the speed implied by
   the positions over the last ``speed_window_s`` (looking back only).
3. **Detours** against the planned route's corridor, with hysteresis, skipping
   poor-accuracy fixes and the yards (depot, facilities) where vehicles leave
   the road legitimately; each detour's extra distance is measured.
4. **Speeding** against the road's limit (corridor segment or road network,
   :class:`telematics.limits.RoadLimits`) and the vehicle's own limit, held for
   a minimum duration.
5. **GPS gaps** while moving, or when the vehicle reappears far away.
6. **Stops**: dwell episodes, matched to the planned collection stops (within
   ``stop_radius_m``, with a bin-lift counter when the truck reports one) to
   find each stop served, late, early or missed against its window. Late
   stops are alerted when the dwell ends; missed ones when the day closes. A
   stop whose visit falls in a GPS gap is "unverified", not missed.
7. **Sweeping coverage** of a :class:`SweepPlan` (directed segments swept the
   right way with brooms down at sweeping speed), alerted at close when below
   ``min_coverage``.

Out-of-order fixes are merged in and the day is replayed from the start;
alerts already returned are not returned again (their keys are remembered).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from core.domain import Alert, AlertType, Position, Route, StopKind
from core.errors import ValidationError
from telematics import kernels
from telematics._validate import check_lat_lon_pairs, check_number
from telematics.alerts import collection, lines_feature, point_feature, thin, track_feature
from telematics.corridor import DEFAULT_MAX_SEARCH_M, RouteCorridor
from telematics.limits import RoadLimits

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ALL_CHECKS: frozenset[AlertType] = frozenset(AlertType)
"""Every alert type; :attr:`CheckRules.checks` selects a subset."""


@dataclass(frozen=True, slots=True)
class CheckRules:
    """Thresholds of every check (m, s, m/s). Defaults suit 1-30 s fixes of refuse trucks.

    Detours: ``enter_m``, ``exit_m`` (hysteresis), ``min_fixes``,
    ``min_duration_s``; back on route ends a detour only after ``rejoin_s``
    (crossing the planned road is not rejoining it); fixes with
    ``accuracy_m > max_accuracy_m`` are skipped;
    fixes within ``yard_m`` of the depot or a facility count as on route.
    ``max_search_m`` caps the exactly measured distance of a detour's fixes.

    GPS jumps: a fix farther than ``jump_max_speed_mps * dt + jump_slack_m`` from
    the last good fix is an outlier unless ``jump_confirm_fixes`` such fixes in a
    row agree (``math.inf`` turns the filter off).

    Speed: fixes without a reported speed use the speed implied over
    ``speed_window_s``.

    Stops: a dwell is speed <= ``stop_speed_mps`` for >= ``min_dwell_s`` (split
    where the fixes fall silent for over ``dwell_split_s``); it serves unserved
    planned stops within ``stop_radius_m`` of its median position, nearest
    first, all of them when it lasts ``min_service_s`` and the truck reports no
    bin-lift counter; with a counter, each lift serves the nearest stop to where
    the truck stood within ``lift_window_s`` of it. At close, a
    lift counted between two fixes outside any serving dwell (a stop too short
    to see) serves the nearest unserved stop within ``stop_radius_m`` of either fix. Arrival later
    than the window end + ``late_grace_s`` is late (when the fix before the
    dwell is over ``max_fix_interval_s`` earlier, that earlier time is used: the
    arrival may have happened unseen). Leaving before the window start -
    ``early_grace_s`` is early (alerted only with ``alert_early``).

    Speeding: over ``limit * (1 + speeding_frac) + speeding_abs_mps`` for
    ``speeding_min_s``, ended after ``speeding_release_s`` below; the limit is
    the highest of the roads near the fix (:class:`telematics.limits.RoadLimits`),
    or without road limits the corridor segment's (fixes within
    ``limit_match_m``), and never above the vehicle's (``default_limit_mps``
    when unknown). Fixes of poor accuracy (see detours) are left out when road
    limits are used, and an episode needs ``speeding_min_share`` of its fixes over.

    Gaps: silence over ``max_gap_s`` with speed > ``moving_mps`` at either end,
    reappearing over ``far_m`` away, or bins lifted meanwhile (the lift counter rose).

    Sweeping: pairs of fixes at least ``sweep_min_step_m`` and at most
    ``sweep_max_pair_s`` apart, within ``sweep_match_m`` of a segment, moving
    within ``acos(sweep_min_cos)`` of its direction at
    ``sweep_min_mps..sweep_max_mps`` with brooms down, sweep it; bins are
    ``sweep_bin_m`` long; coverage below ``min_coverage`` is a shortfall.

    ``checks`` lists the alert types to raise.
    """

    enter_m: float = 50.0
    exit_m: float = 40.0
    min_fixes: int = 3
    min_duration_s: float = 60.0
    rejoin_s: float = 30.0
    max_accuracy_m: float = 30.0
    yard_m: float = 200.0
    max_search_m: float = DEFAULT_MAX_SEARCH_M
    jump_max_speed_mps: float = 50.0
    jump_slack_m: float = 100.0
    jump_confirm_fixes: int = 3
    speed_window_s: float = 20.0
    stop_speed_mps: float = 1.0
    min_dwell_s: float = 20.0
    dwell_split_s: float = 60.0
    lift_window_s: float = 20.0
    unseen_speed_mps: float = 15.0
    min_service_s: float = 30.0
    stop_radius_m: float = 40.0
    late_grace_s: float = 120.0
    early_grace_s: float = 120.0
    max_fix_interval_s: float = 30.0
    alert_early: bool = False
    speeding_frac: float = 0.10
    speeding_abs_mps: float = 1.0
    speeding_min_s: float = 15.0
    speeding_release_s: float = 30.0
    speeding_min_share: float = 0.6
    default_limit_mps: float = 25.0
    limit_match_m: float = 25.0
    max_gap_s: float = 300.0
    moving_mps: float = 2.0
    far_m: float = 300.0
    sweep_match_m: float = 20.0
    sweep_min_cos: float = 0.8
    sweep_min_mps: float = 0.3
    sweep_max_mps: float = 4.0
    sweep_max_pair_s: float = 30.0
    sweep_min_step_m: float = 8.0
    sweep_bin_m: float = 5.0
    min_coverage: float = 0.9
    checks: frozenset[AlertType] = ALL_CHECKS

    def __post_init__(self) -> None:
        record = "CheckRules"
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "checks":
                try:
                    object.__setattr__(self, "checks", frozenset(AlertType(v) for v in value))
                except (TypeError, ValueError):
                    raise ValidationError(record, "checks", f"must be alert types, got {value!r}") from None
            elif f.name == "alert_early":
                if not isinstance(value, bool):
                    raise ValidationError(record, f.name, f"must be a bool, got {value!r}")
            elif f.name in ("min_fixes", "jump_confirm_fixes"):
                check_number(record, f.name, value, minimum=1, integer=True)
            elif f.name == "jump_max_speed_mps":
                if not (isinstance(value, int | float) and value > 0):
                    raise ValidationError(record, f.name, f"must be > 0 (inf disables), got {value!r}")
            else:
                check_number(record, f.name, value, minimum=0.0)
        if self.exit_m > self.enter_m:
            raise ValidationError(
                record, "exit_m", f"must be <= enter_m ({self.enter_m:g}), got {self.exit_m!r}"
            )
        if self.sweep_min_mps > self.sweep_max_mps:
            raise ValidationError(record, "sweep_min_mps", "must be <= sweep_max_mps")
        if self.min_coverage > 1.0 or self.sweep_min_cos > 1.0:
            raise ValidationError(record, "min_coverage", "min_coverage and sweep_min_cos must be <= 1")
        if self.sweep_bin_m <= 0 or self.default_limit_mps <= 0:
            raise ValidationError(record, "sweep_bin_m", "sweep_bin_m and default_limit_mps must be > 0")


@dataclass(frozen=True, slots=True)
class StopTarget:
    """A planned collection stop to be matched: place, window and plan times (UTC epoch s).

    ``lat``/``lon`` is the collection point; ``stand_lat``/``stand_lon`` where the
    truck stands to serve it (the end of its leg's road geometry, up to a few tens
    of metres from a kerbside point); stops are matched by where trucks stand.
    """

    index: int
    ref_id: str
    lat: float
    lon: float
    planned_start_utc: float
    planned_end_utc: float
    window_start_utc: float | None = None
    window_end_utc: float | None = None
    stand_lat: float | None = None
    stand_lon: float | None = None

    @property
    def stand(self) -> tuple[float, float]:
        """Where the truck stands to serve the stop ``(lat, lon)``."""
        if self.stand_lat is None or self.stand_lon is None:
            return self.lat, self.lon
        return self.stand_lat, self.stand_lon


@dataclass(frozen=True, slots=True)
class StopVisit:
    """What happened at a planned stop: ``status`` is served, late, early, missed or unverified."""

    index: int
    ref_id: str
    status: str
    arrival_utc: float | None = None
    departure_utc: float | None = None
    distance_m: float | None = None
    lateness_s: float | None = None


def stop_targets(route: Route, day_start_utc: float) -> list[StopTarget]:
    """The collection stops of ``route`` with plan times and windows turned into UTC.

    A stop's standing place is the end of its leg's road geometry (its road node).
    """
    out = []
    for i, s in enumerate(route.stops):
        if s.kind != StopKind.COLLECTION:
            continue
        w = s.window
        stand = s.leg_coords[-1] if s.leg_coords else (s.lat, s.lon)
        out.append(
            StopTarget(
                index=i,
                ref_id=s.ref_id,
                lat=float(s.lat),
                lon=float(s.lon),
                planned_start_utc=day_start_utc + s.start_s,
                planned_end_utc=day_start_utc + s.departure_s,
                window_start_utc=None if w is None else day_start_utc + w.start_s,
                window_end_utc=None if w is None else day_start_utc + w.end_s,
                stand_lat=float(stand[0]),
                stand_lon=float(stand[1]),
            )
        )
    return out


def yard_points(route: Route) -> list[tuple[float, float]]:
    """Where a vehicle may leave the road legitimately: depot and facility stops of the route."""
    kinds = (StopKind.DEPOT_START, StopKind.DEPOT_END, StopKind.UNLOAD)
    return [(float(s.lat), float(s.lon)) for s in route.stops if s.kind in kinds]


@dataclass(frozen=True, slots=True, eq=False)
class SweepPlan:
    """Directed road segments to sweep, in local metres, with their reach grid and coverage bins.

    Segment ``s`` runs from ``(ax, ay)`` to ``(bx, by)`` and must be swept in
    that direction; it has ``bin_start[s + 1] - bin_start[s]`` bins of at most
    ``bin_m`` metres. Build it with :meth:`from_paths`.
    """

    lat0: float
    lon0: float
    ax: FloatArray
    ay: FloatArray
    bx: FloatArray
    by: FloatArray
    length_m: FloatArray
    bin_start: IntArray
    cell_m: float
    grid_x0: float
    grid_y0: float
    nx: int
    ny: int
    cell_start: IntArray
    cell_pack: FloatArray

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Sequence[tuple[float, float]] | npt.ArrayLike],
        lat0: float | None = None,
        lon0: float | None = None,
        *,
        bin_m: float = 5.0,
        match_m: float = 15.0,
        cell_m: float = 20.0,
    ) -> SweepPlan:
        """Plan to sweep each ``(lat, lon)`` polyline in its given direction.

        Raises
        ------
        ValidationError : malformed paths or parameters.
        """
        record = "SweepPlan.from_paths"
        bin_len = check_number(record, "bin_m", bin_m, minimum=0.0, exclusive=True)
        match = check_number(record, "match_m", match_m, minimum=0.0, exclusive=True)
        cell = check_number(record, "cell_m", cell_m, minimum=0.0, exclusive=True)
        pts = [check_lat_lon_pairs(record, f"paths[{i}]", p, min_points=2) for i, p in enumerate(paths)]
        if not pts:
            raise ValidationError(record, "paths", "must hold at least one path")
        la0 = float(pts[0][0, 0]) if lat0 is None else check_number(record, "lat0", lat0)
        lo0 = float(pts[0][0, 1]) if lon0 is None else check_number(record, "lon0", lon0)
        parts: list[tuple[FloatArray, FloatArray]] = []
        for p in pts:
            x, y = kernels.project_equirectangular(
                np.ascontiguousarray(p[:, 0]), np.ascontiguousarray(p[:, 1]), la0, lo0
            )
            parts.append((x, y))
        ax = np.concatenate([x[:-1] for x, _ in parts])
        ay = np.concatenate([y[:-1] for _, y in parts])
        bx = np.concatenate([x[1:] for x, _ in parts])
        by = np.concatenate([y[1:] for _, y in parts])
        length = np.hypot(bx - ax, by - ay)
        nbins = np.maximum(1, np.ceil(length / bin_len)).astype(np.int64)
        bin_start = np.concatenate(([0], np.cumsum(nbins))).astype(np.int64)
        area = (float(np.ptp(np.concatenate((ax, bx)))) + 2 * match + cell) * (
            float(np.ptp(np.concatenate((ay, by)))) + 2 * match + cell
        )
        cell = max(cell, math.sqrt(area / 4_000_000))
        keep = np.ones(ax.shape[0], dtype=np.bool_)
        x0, y0, nx, ny, start, pack = kernels.build_reach_grid(ax, ay, bx, by, keep, cell, match)
        return cls(
            la0, lo0, ax, ay, bx, by, length, bin_start, cell, float(x0), float(y0), int(nx), int(ny),
            start, pack,
        )  # fmt: skip

    @property
    def planned_m(self) -> float:
        """Total length to sweep (m)."""
        return float(self.length_m.sum())

    def coverage(self, covered: BoolArray) -> tuple[float, FloatArray]:
        """Overall covered fraction (length-weighted) and the covered fraction of each segment."""
        per_seg = np.add.reduceat(covered.astype(np.float64), self.bin_start[:-1]) / np.diff(self.bin_start)
        total = self.planned_m
        overall = float((per_seg * self.length_m).sum() / total) if total > 0 else 1.0
        return overall, per_seg


# --------------------------------------------------------------------------- track columns


@dataclass(frozen=True, slots=True, eq=False)
class TrackColumns:
    """One device's fixes as columns; optional values are NaN where unknown.

    ``bin_lifts`` is a cumulative lift counter; ``brooms_down`` is 1.0 / 0.0.
    """

    ts_utc: FloatArray
    lat: FloatArray
    lon: FloatArray
    speed_mps: FloatArray
    accuracy_m: FloatArray
    bin_lifts: FloatArray
    brooms_down: FloatArray

    def __len__(self) -> int:
        return int(self.ts_utc.shape[0])

    @classmethod
    def from_arrays(
        cls,
        ts_utc: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        *,
        speed_mps: npt.ArrayLike | None = None,
        accuracy_m: npt.ArrayLike | None = None,
        bin_lifts: npt.ArrayLike | None = None,
        brooms_down: npt.ArrayLike | None = None,
    ) -> TrackColumns:
        """Columns from arrays; ``None`` (or None entries) mean unknown.

        Raises
        ------
        ValidationError : unequal lengths, non-finite times or positions, or
            coordinates out of range.
        """
        record = "TrackColumns"
        t = float_column(record, "ts_utc", ts_utc, None)
        n = t.shape[0]
        la = float_column(record, "lat", lat, n)
        lo = float_column(record, "lon", lon, n)
        for name, arr in (("ts_utc", t), ("lat", la), ("lon", lo)):
            if not np.isfinite(arr).all():
                raise ValidationError(record, name, "must hold finite numbers only")
        if (np.abs(la) > 90).any() or (np.abs(lo) > 180).any():
            raise ValidationError(
                record, "lat", "latitudes must lie in [-90, 90] and longitudes in [-180, 180]"
            )
        extra = [
            float_column(record, name, value, n)
            for name, value in (
                ("speed_mps", speed_mps),
                ("accuracy_m", accuracy_m),
                ("bin_lifts", bin_lifts),
                ("brooms_down", brooms_down),
            )
        ]
        return cls(t, la, lo, *extra)

    @classmethod
    def from_positions(cls, positions: Iterable[Position]) -> TrackColumns:
        """Columns from :class:`core.domain.Position` records (one device)."""
        ps = list(positions)

        def col(name: str) -> list[Any]:
            return [getattr(p, name, None) for p in ps]

        brooms: list[Any] = [None if b is None else float(b) for b in col("brooms_down")]
        return cls.from_arrays(
            col("ts_utc"),
            col("lat"),
            col("lon"),
            speed_mps=col("speed_mps"),
            accuracy_m=col("accuracy_m"),
            bin_lifts=col("bin_lifts"),
            brooms_down=brooms,
        )

    @classmethod
    def from_object(cls, track: Any) -> TrackColumns:
        """Columns from any object with ``ts_utc``, ``lat``, ``lon`` and optional same-named columns."""
        if isinstance(track, TrackColumns):
            return track
        return cls.from_arrays(
            track.ts_utc,
            track.lat,
            track.lon,
            speed_mps=getattr(track, "speed_mps", None),
            accuracy_m=getattr(track, "accuracy_m", None),
            bin_lifts=getattr(track, "bin_lifts", None),
            brooms_down=getattr(track, "brooms_down", None),
        )


def float_column(record: str, name: str, value: Any, n: int | None) -> FloatArray:
    """``value`` as a 1-D float64 array (None entries -> NaN); ``None`` -> all NaN of length n."""
    if value is None:
        return np.full(0 if n is None else n, np.nan)
    try:
        arr = np.asarray(value, dtype=np.float64) if not isinstance(value, list) else _list_floats(value)
    except (TypeError, ValueError):
        raise ValidationError(record, name, "must be an array of numbers") from None
    if arr.ndim != 1:
        raise ValidationError(record, name, f"must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValidationError(record, name, f"must have the same length as ts_utc ({n}), got {arr.shape[0]}")
    return np.ascontiguousarray(arr)


def _list_floats(values: list[Any]) -> FloatArray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


# --------------------------------------------------------------------------- the checker


_COLUMNS_F = (
    "t",
    "lat",
    "lon",
    "speed_rep",
    "acc",
    "lifts",
    "brooms",
    "x",
    "y",
    "speed",
    "dist",
    "tpos",
    "limit",
)
_COLUMNS_B = ("valid", "det_ok", "speed_ok")
_COLUMNS_I = ("seg",)


class _Buffer:
    """Growable columns (capacity doubles), so pushing fix by fix stays linear."""

    def __init__(self) -> None:
        self.n = 0
        self.cap = 0
        self.cols: dict[str, np.ndarray] = {}
        self._grow(256)

    def _grow(self, cap: int) -> None:
        new: dict[str, np.ndarray] = {}
        for name in _COLUMNS_F:
            new[name] = np.full(cap, np.nan)
        for name in _COLUMNS_B:
            new[name] = np.zeros(cap, dtype=np.bool_)
        for name in _COLUMNS_I:
            new[name] = np.full(cap, -1, dtype=np.int64)
        for name, arr in self.cols.items():
            new[name][: self.n] = arr[: self.n]
        self.cols = new
        self.cap = cap

    def append(self, chunk: dict[str, FloatArray]) -> tuple[int, int]:
        m = next(iter(chunk.values())).shape[0]
        if self.n + m > self.cap:
            self._grow(max(2 * self.cap, self.n + m))
        a = self.n
        for name, values in chunk.items():
            self.cols[name][a : a + m] = values
        self.n += m
        return a, a + m

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name][: self.n]


_RAW = ("t", "lat", "lon", "speed_rep", "acc", "lifts", "brooms")
_EMPTY_F = np.zeros(0, dtype=np.float64)
_EMPTY_B = np.zeros(0, dtype=np.bool_)


class VehicleChecker:
    """Every check of one vehicle's day, fed by :meth:`push`, finished by :meth:`close`.

    Parameters
    ----------
    vehicle_id : copied to the alerts.
    rules : thresholds (:class:`CheckRules`).
    corridor : the planned route (detours, on-route speed limits); ``None`` skips detours.
    yards : ``(lat, lon)`` of the depot and facilities, where leaving the road is fine.
    stops : planned collection stops to match (:func:`stop_targets`).
    road_limits : speed limits off the corridor (and on it when the corridor has none).
    vehicle_limit_mps : the vehicle's own limit (default ``rules.default_limit_mps``).
    sweep : the sweeping plan (coverage); must share the corridor's origin when both are given.

    Use :meth:`for_route` to build one from a planned route.
    """

    def __init__(
        self,
        vehicle_id: str,
        *,
        rules: CheckRules | None = None,
        corridor: RouteCorridor | None = None,
        yards: Sequence[tuple[float, float]] = (),
        stops: Sequence[StopTarget] = (),
        road_limits: RoadLimits | None = None,
        vehicle_limit_mps: float | None = None,
        sweep: SweepPlan | None = None,
    ) -> None:
        record = "VehicleChecker"
        if not isinstance(vehicle_id, str) or not vehicle_id.strip():
            raise ValidationError(record, "vehicle_id", f"must be a non-empty string, got {vehicle_id!r}")
        self.vehicle_id = vehicle_id
        self.rules = rules or CheckRules()
        if (
            corridor is not None
            and sweep is not None
            and (corridor.lat0, corridor.lon0) != (sweep.lat0, sweep.lon0)
        ):
            raise ValidationError(record, "sweep", "must use the corridor's projection origin")
        self.corridor = corridor
        self.sweep = sweep
        self.road_limits = road_limits
        self.stops = list(stops)
        self.vehicle_limit_mps = (
            self.rules.default_limit_mps
            if vehicle_limit_mps is None
            else check_number(record, "vehicle_limit_mps", vehicle_limit_mps, minimum=0.0, exclusive=True)
        )
        if corridor is not None:
            self.lat0, self.lon0 = corridor.lat0, corridor.lon0
        elif sweep is not None:
            self.lat0, self.lon0 = sweep.lat0, sweep.lon0
        else:
            self.lat0 = self.lon0 = math.nan  # set from the first fix
        self._yards_ll = [(float(a), float(b)) for a, b in yards]
        self._emitted: set[str] = set()
        self._closed = False
        self._reset()

    @classmethod
    def for_route(
        cls,
        route: Route,
        *,
        day_start_utc: float | None = None,
        rules: CheckRules | None = None,
        road_limits: RoadLimits | None = None,
        vehicle_limit_mps: float | None = None,
        sweep_paths: Sequence[Sequence[tuple[float, float]]] | None = None,
        lat0: float | None = None,
        lon0: float | None = None,
    ) -> VehicleChecker:
        """A checker for one planned route.

        ``day_start_utc`` (UNIX time of local midnight of the plan's day) turns the
        plan's stop times into UTC; without it stops are not checked. A route
        with fewer than two distinct points has no corridor (no detour check).
        """
        rules = rules or CheckRules()
        corridor = None
        try:
            corridor = RouteCorridor.from_route(route, lat0, lon0, reach_m=max(100.0, 2.0 * rules.enter_m))
        except ValidationError:
            corridor = None
        if corridor is not None and road_limits is not None:
            corridor = corridor.with_limits(road_limits)
        sweep = None
        if sweep_paths:
            la0 = corridor.lat0 if corridor is not None else lat0
            lo0 = corridor.lon0 if corridor is not None else lon0
            sweep = SweepPlan.from_paths(
                sweep_paths, la0, lo0, bin_m=rules.sweep_bin_m, match_m=rules.sweep_match_m
            )
        stops = stop_targets(route, day_start_utc) if day_start_utc is not None else []
        return cls(
            route.vehicle_id,
            rules=rules,
            corridor=corridor,
            yards=yard_points(route),
            stops=stops,
            road_limits=road_limits,
            vehicle_limit_mps=vehicle_limit_mps,
            sweep=sweep,
        )

    # ----------------------------------------------------------------------- state

    def _reset(self) -> None:
        """Fresh kernel states and an empty buffer (the emitted keys are kept)."""
        self._buf = _Buffer()
        self._done = 0
        self._jump = np.zeros(kernels.JUMP_STATE_SIZE)
        self._detour = np.zeros(kernels.DETOUR_STATE_SIZE)
        self._speeding = np.zeros(kernels.EPISODE_STATE_SIZE)
        self._dwell = np.zeros(kernels.EPISODE_STATE_SIZE)
        self._gap = np.zeros(kernels.GAP_STATE_SIZE)
        self._cover_state = np.zeros(kernels.COVERAGE_STATE_SIZE)
        self._covered = (
            np.zeros(int(self.sweep.bin_start[-1]), dtype=np.bool_) if self.sweep is not None else _EMPTY_B
        )
        self._visits: dict[int, StopVisit] = {}
        self._alerts: list[Alert] = []
        self._yards_xy: FloatArray | None = None
        self._stands_xy: tuple[FloatArray, FloatArray] | None = None

    @property
    def alerts(self) -> list[Alert]:
        """Every alert of the day so far (after a replay: of the replayed day), in the order raised."""
        return list(self._alerts)

    @property
    def n_fixes(self) -> int:
        """Number of distinct fixes received."""
        return self._buf.n

    def outliers(self) -> tuple[FloatArray, BoolArray]:
        """Times of the fixes received so far and whether each is a GPS jump (outlier)."""
        return self._buf["t"].copy(), ~self._buf["valid"]

    def stop_report(self) -> list[StopVisit]:
        """The status of every planned stop so far (pending stops are listed as missed only after close)."""
        out = []
        for s in self.stops:
            visit = self._visits.get(s.index)
            out.append(visit if visit is not None else StopVisit(s.index, s.ref_id, "pending"))
        return out

    def coverage(self) -> float | None:
        """Covered fraction of the sweeping plan so far (``None`` without a plan)."""
        if self.sweep is None:
            return None
        return self.sweep.coverage(self._covered)[0]

    # ----------------------------------------------------------------------- input

    def push_track(self, track: Any) -> list[Alert]:
        """:meth:`push` for a :class:`TrackColumns` or any object with the same columns."""
        tc = TrackColumns.from_object(track)
        return self.push(
            tc.ts_utc,
            tc.lat,
            tc.lon,
            speed_mps=tc.speed_mps,
            accuracy_m=tc.accuracy_m,
            bin_lifts=tc.bin_lifts,
            brooms_down=tc.brooms_down,
        )

    def push(
        self,
        ts_utc: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        *,
        speed_mps: npt.ArrayLike | None = None,
        accuracy_m: npt.ArrayLike | None = None,
        bin_lifts: npt.ArrayLike | None = None,
        brooms_down: npt.ArrayLike | None = None,
    ) -> list[Alert]:
        """Add fixes (any order, repeats ignored) and return the alerts they complete.

        Fixes later than everything so far are processed incrementally; an
        earlier one triggers a replay of the day from the start.

        Raises
        ------
        ValidationError : malformed columns, or the day was already closed.
        """
        if self._closed:
            raise ValidationError("VehicleChecker.push", "self", "the day is closed; start a new checker")
        tc = TrackColumns.from_arrays(
            ts_utc,
            lat,
            lon,
            speed_mps=speed_mps,
            accuracy_m=accuracy_m,
            bin_lifts=bin_lifts,
            brooms_down=brooms_down,
        )
        if len(tc) == 0:
            return []
        order = np.argsort(tc.ts_utc, kind="stable")
        cols = {
            "t": tc.ts_utc[order],
            "lat": tc.lat[order],
            "lon": tc.lon[order],
            "speed_rep": tc.speed_mps[order],
            "acc": tc.accuracy_m[order],
            "lifts": tc.bin_lifts[order],
            "brooms": tc.brooms_down[order],
        }
        t = cols["t"]
        fresh = np.ones(t.shape[0], dtype=np.bool_)
        fresh[1:] = t[1:] != t[:-1]
        known = self._buf["t"]
        if known.shape[0]:
            pos = np.searchsorted(known, t)
            hit = pos < known.shape[0]
            fresh &= ~(hit & (known[np.minimum(pos, known.shape[0] - 1)] == t))
        if not fresh.any():
            return []
        cols = {k: v[fresh] for k, v in cols.items()}
        before = len(self._alerts)
        if known.shape[0] and cols["t"][0] < known[-1]:
            merged = {k: np.concatenate((self._buf[k], cols[k])) for k in _RAW}
            order = np.argsort(merged["t"], kind="stable")
            self._reset()
            before = 0
            a, b = self._buf.append({k: v[order] for k, v in merged.items()})
        else:
            a, b = self._buf.append(cols)
        self._process(a, b)
        return self._new_alerts(before)

    def close(self) -> list[Alert]:
        """End the day: close open episodes, report missed stops and coverage; return new alerts."""
        if self._closed:
            return []
        before = len(self._alerts)
        self._finish()
        self._closed = True
        return self._new_alerts(before)

    def _new_alerts(self, before: int) -> list[Alert]:
        out = []
        for alert in self._alerts[before:]:
            if alert.key not in self._emitted:
                self._emitted.add(alert.key)
                out.append(alert)
        return out

    # ----------------------------------------------------------------------- processing

    def _process(self, a: int, b: int) -> None:
        """Run every check over the new fixes ``a..b-1`` (all earlier ones are done)."""
        r = self.rules
        buf = self._buf
        if math.isnan(self.lat0):
            self.lat0, self.lon0 = float(buf["lat"][0]), float(buf["lon"][0])
        if self._yards_xy is None:
            if self._yards_ll:
                ya, yo = np.array(self._yards_ll, dtype=np.float64).T.copy()
                yx, yy = kernels.project_equirectangular(ya, yo, self.lat0, self.lon0)
                self._yards_xy = np.column_stack((yx, yy))
            else:
                self._yards_xy = np.zeros((0, 2))
        t = buf["t"]
        x, y = kernels.project_equirectangular(buf["lat"][a:b], buf["lon"][a:b], self.lat0, self.lon0)
        buf["x"][a:b] = x
        buf["y"][a:b] = y
        if math.isinf(r.jump_max_speed_mps):
            buf["valid"][a:b] = True
        else:
            jumps = kernels.jump_step(
                self._jump, t[a:b], x, y, r.jump_max_speed_mps, r.jump_slack_m, r.jump_confirm_fixes
            )
            buf["valid"][a:b] = ~jumps
        valid = buf["valid"]
        reported = buf["speed_rep"][a:b]
        if np.isfinite(reported).all():
            buf["speed"][a:b] = reported
        else:
            implied = kernels.implied_speed(t, buf["x"], buf["y"], valid, r.speed_window_s, a)
            buf["speed"][a:b] = np.where(np.isfinite(reported), reported, implied)
        speed = buf["speed"]
        acc = buf["acc"][a:b]
        buf["det_ok"][a:b] = valid[a:b] & ~(acc > r.max_accuracy_m)

        # Road limits only where the fix is good enough to say which roads are near;
        # elsewhere the vehicle's own limit.
        limit = np.full(b - a, self.vehicle_limit_mps)
        placed = buf["det_ok"][a:b]
        if self.road_limits is not None and placed.any():  # the most generous road within the GPS noise
            road = self.road_limits.limits_at(buf["lat"][a:b][placed], buf["lon"][a:b][placed])
            limit[placed] = np.fmin(limit[placed], road)
        if self.corridor is not None:
            if r.enter_m < self.corridor.reach_m:
                dist, seg, tpos = self.corridor.fast_nearest_xy(x, y)
            else:  # thresholds beyond the fast index's reach: the exact ring search
                dist, seg, tpos = self.corridor.nearest_xy(x, y, max_search_m=r.max_search_m)
            buf["dist"][a:b] = dist
            buf["seg"][a:b] = seg
            buf["tpos"][a:b] = tpos
            if self.road_limits is None:  # only the planned route's own limits are known
                near = (seg >= 0) & (dist <= r.limit_match_m) & placed
                seg_lim = self.corridor.seg_limit_mps[np.where(near, seg, 0)]
                limit = np.where(near & np.isfinite(seg_lim), np.fmin(limit, seg_lim), limit)
        buf["limit"][a:b] = limit

        checks = r.checks
        if self.corridor is not None and AlertType.DETOUR in checks:
            dist_eff = buf["dist"][a:b].copy()
            yards = self._yards_xy
            for k in range(yards.shape[0]):
                dist_eff[np.hypot(x - yards[k, 0], y - yards[k, 1]) <= r.yard_m] = 0.0
            s, e, c = kernels.detour_step(
                self._detour, t[a:b], dist_eff, buf["det_ok"][a:b], a, r.enter_m, r.exit_m, r.min_fixes,
                r.min_duration_s, r.rejoin_s, False,
            )  # fmt: skip
            self._on_detours(s, e, c)
        # Fixes too poorly placed to say which road they are on neither start, extend nor end speeding.
        buf["speed_ok"][a:b] = valid[a:b] & (buf["det_ok"][a:b] | (self.road_limits is None))
        if AlertType.SPEEDING in checks:
            s, e, c = kernels.speeding_step(
                self._speeding, t[a:b], speed[a:b], buf["limit"][a:b], buf["speed_ok"][a:b], a,
                r.speeding_frac, r.speeding_abs_mps, r.speeding_min_s, r.speeding_release_s, False,
            )  # fmt: skip
            self._on_speeding(s, e)
        if AlertType.GPS_GAP in checks:
            p, i = kernels.gap_step(
                self._gap,
                t[a:b],
                x,
                y,
                speed[a:b],
                buf["lifts"][a:b],
                valid[a:b],
                a,
                r.max_gap_s,
                r.moving_mps,
                r.far_m,
            )
            self._on_gaps(p, i)
        if self.stops:
            s, e, c = kernels.dwell_step(
                self._dwell, t[a:b], speed[a:b], valid[a:b], a, r.stop_speed_mps, r.min_dwell_s,
                r.dwell_split_s, False,
            )  # fmt: skip
            self._on_dwells(s, e, c)
        if self.sweep is not None and AlertType.COVERAGE_SHORTFALL in checks:
            sw = self.sweep
            kernels.coverage_step(
                self._cover_state, t[a:b], x, y, speed[a:b], buf["brooms"][a:b], valid[a:b],
                sw.grid_x0, sw.grid_y0, sw.cell_m, sw.nx, sw.ny, sw.cell_start, sw.cell_pack,
                r.sweep_match_m, r.sweep_min_cos, r.sweep_min_mps, r.sweep_max_mps, r.sweep_max_pair_s,
                r.sweep_min_step_m, sw.bin_start, self._covered,
            )  # fmt: skip
        self._done = b

    def _finish(self) -> None:
        """Close open episodes (final), then judge missed stops and coverage."""
        r = self.rules
        n = self._buf.n
        if n == 0:
            return
        checks = r.checks
        if self.corridor is not None and AlertType.DETOUR in checks:
            s, e, c = kernels.detour_step(
                self._detour, _EMPTY_F, _EMPTY_F, _EMPTY_B, n, r.enter_m, r.exit_m, r.min_fixes,
                r.min_duration_s, r.rejoin_s, True,
            )  # fmt: skip
            self._on_detours(s, e, c)
        if AlertType.SPEEDING in checks:
            s, e, c = kernels.speeding_step(
                self._speeding, _EMPTY_F, _EMPTY_F, _EMPTY_F, _EMPTY_B, n, r.speeding_frac,
                r.speeding_abs_mps, r.speeding_min_s, r.speeding_release_s, True,
            )  # fmt: skip
            self._on_speeding(s, e)
        if self.stops:
            s, e, c = kernels.dwell_step(
                self._dwell, _EMPTY_F, _EMPTY_F, _EMPTY_B, n, r.stop_speed_mps, r.min_dwell_s,
                r.dwell_split_s, True,
            )  # fmt: skip
            self._on_dwells(s, e, c)
            self._judge_unserved()
        if self.sweep is not None and AlertType.COVERAGE_SHORTFALL in checks:
            self._judge_coverage()

    # ----------------------------------------------------------------------- detours

    def _on_detours(self, starts: IntArray, ends: IntArray, closes: IntArray) -> None:
        corridor = self.corridor
        if corridor is None:
            return
        buf = self._buf
        t, lat, lon, x, y = buf["t"], buf["lat"], buf["lon"], buf["x"], buf["y"]
        ok = buf["det_ok"]
        for s, e, c in zip(starts.tolist(), ends.tolist(), closes.tolist(), strict=True):
            idx = s + np.flatnonzero(ok[s : e + 1])
            dist, _, _ = corridor.nearest_xy(x[idx], y[idx], max_search_m=self.rules.max_search_m)
            far_k = int(np.argmax(dist))
            far = int(idx[far_k])
            xs = np.ascontiguousarray(x[idx])
            ys = np.ascontiguousarray(y[idx])
            measured = {
                "max_distance_m": float(dist[far_k]),
                "duration_s": float(t[e] - t[s]),
                "off_route_m": float(kernels.path_length_m(xs, ys, 0, idx.shape[0] - 1)),
                "fixes": float(idx.shape[0]),
            }
            extra = self._detour_extra(s, c, idx)
            if extra is not None:
                measured["extra_m"] = extra
            full = np.full(buf.n, np.nan)
            full[idx] = dist
            props = {
                "vehicle_id": self.vehicle_id,
                "alert_type": AlertType.DETOUR.value,
                "start_utc": float(t[s]),
            }
            props |= {"end_utc": float(t[e]), **measured}
            feature = track_feature(lat, lon, thin(idx), props, {"ts_utc": t, "distance_m": full})
            self._alerts.append(
                Alert(
                    type=AlertType.DETOUR,
                    vehicle_id=self.vehicle_id,
                    start_utc=float(t[s]),
                    end_utc=float(t[e]),
                    lat=float(lat[far]),
                    lon=float(lon[far]),
                    measured=measured,
                    evidence=collection(feature),
                )
            )

    def _detour_extra(self, s: int, c: int, idx: IntArray) -> float | None:
        """Extra distance of a detour: driven from the last on-route fix to the next, minus the plan's.

        The planned distance is the corridor chainage between the two on-route
        fixes when it runs forward and is shorter than the drive; otherwise the
        straight line between them. ``None`` when either end is unknown.
        """
        corridor = self.corridor
        assert corridor is not None
        buf = self._buf
        ok, dist, seg = buf["det_ok"], buf["dist"], buf["seg"]
        before = -1
        for k in range(s - 1, max(-1, s - 5000), -1):
            if ok[k] and dist[k] <= self.rules.exit_m and seg[k] >= 0:
                before = k
                break
        if before < 0 or c < 0 or seg[c] < 0:
            return None
        pts = np.concatenate(([before], idx, [c]))
        x, y = np.ascontiguousarray(buf["x"][pts]), np.ascontiguousarray(buf["y"][pts])
        driven = float(kernels.path_length_m(x, y, 0, pts.shape[0] - 1))
        chain = corridor.chainage_m(np.array([seg[before], seg[c]]), buf["tpos"][[before, c]])
        planned = float(chain[1] - chain[0])
        if not (0.0 <= planned <= driven):
            planned = float(math.hypot(x[-1] - x[0], y[-1] - y[0]))
        return max(0.0, driven - planned)

    # ----------------------------------------------------------------------- speeding and gaps

    def _on_speeding(self, starts: IntArray, ends: IntArray) -> None:
        r = self.rules
        buf = self._buf
        t, lat, lon, x, y = buf["t"], buf["lat"], buf["lon"], buf["x"], buf["y"]
        speed, limit, valid = buf["speed"], buf["limit"], buf["speed_ok"]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            idx = s + np.flatnonzero(valid[s : e + 1])
            over = speed[idx] > limit[idx] * (1.0 + r.speeding_frac) + r.speeding_abs_mps
            if over.mean() < r.speeding_min_share:
                continue  # scattered fixes over a misplaced limit, not speed held
            top = int(idx[int(np.argmax(speed[idx]))])
            xs, ys = np.ascontiguousarray(x[idx]), np.ascontiguousarray(y[idx])
            measured = {
                "max_speed_mps": float(speed[top]),
                "limit_mps": float(limit[top]),
                "excess_mps": float(speed[top] - limit[top]),
                "duration_s": float(t[e] - t[s]),
                "distance_m": float(kernels.path_length_m(xs, ys, 0, idx.shape[0] - 1)),
                "fixes": float(idx.shape[0]),
            }
            props = {"vehicle_id": self.vehicle_id, "alert_type": AlertType.SPEEDING.value, **measured}
            feature = track_feature(
                lat, lon, thin(idx), props, {"ts_utc": t, "speed_mps": speed, "limit_mps": limit}
            )
            self._alerts.append(
                Alert(
                    AlertType.SPEEDING,
                    self.vehicle_id,
                    float(t[s]),
                    float(t[e]),
                    float(lat[top]),
                    float(lon[top]),
                    measured,
                    collection(feature),
                )
            )

    def _on_gaps(self, before: IntArray, after: IntArray) -> None:
        buf = self._buf
        t, lat, lon, x, y, speed = buf["t"], buf["lat"], buf["lon"], buf["x"], buf["y"], buf["speed"]
        for p, i in zip(before.tolist(), after.tolist(), strict=True):
            gap = float(t[i] - t[p])
            jump = float(math.hypot(x[i] - x[p], y[i] - y[p]))
            measured = {"gap_s": gap, "jump_m": jump, "implied_speed_mps": jump / gap}
            lifts = buf["lifts"]
            if math.isfinite(lifts[i] - lifts[p]):
                measured["lifts_unseen"] = float(lifts[i] - lifts[p])
            for name, k in (("speed_before_mps", p), ("speed_after_mps", i)):
                if math.isfinite(speed[k]):
                    measured[name] = float(speed[k])
            props = {"vehicle_id": self.vehicle_id, "alert_type": AlertType.GPS_GAP.value, **measured}
            feature = track_feature(lat, lon, np.array([p, i]), props, {"ts_utc": t})
            self._alerts.append(
                Alert(
                    AlertType.GPS_GAP,
                    self.vehicle_id,
                    float(t[p]),
                    float(t[i]),
                    float(lat[i]),
                    float(lon[i]),
                    measured,
                    collection(feature),
                )
            )

    # ----------------------------------------------------------------------- stops

    def _prev_valid(self, s: int) -> int:
        """The last valid fix before ``s``, -1 when none."""
        valid = self._buf["valid"]
        for k in range(s - 1, -1, -1):
            if valid[k]:
                return k
        return -1

    def _stands(self) -> tuple[FloatArray, FloatArray]:
        """Where the truck stands for each planned stop, in the checker's plane (m)."""
        if self._stands_xy is None:
            lat = np.array([st.stand[0] for st in self.stops], dtype=np.float64)
            lon = np.array([st.stand[1] for st in self.stops], dtype=np.float64)
            self._stands_xy = kernels.project_equirectangular(lat, lon, self.lat0, self.lon0)
        return self._stands_xy

    def _lift_events(self, s: int, e: int, c: int) -> list[tuple[int, int, float]] | None:
        """Bin lifts during a dwell as ``(fix before, fix after, count)``; None without a lift counter.

        A lift is seen as a rise of the cumulative counter between consecutive
        valid fixes, from the last fix before the dwell to its last fix; the
        fixes just before and after the dwell count only when they are within
        ``max_fix_interval_s`` of it (a lift during a silence is placed at close).
        """
        buf = self._buf
        lifts, valid, t = buf["lifts"], buf["valid"], buf["t"]
        # a lift seen only at the fix that ended the dwell counts when that fix came soon after
        end = c if c >= 0 and t[c] - t[e] <= self.rules.max_fix_interval_s else e
        window = lifts[s : end + 1]
        if not np.isfinite(window).any():
            return None
        prev = -1
        for k in range(s - 1, max(-1, s - 5000), -1):
            if valid[k] and math.isfinite(lifts[k]):
                prev = k
                break
        if prev >= 0 and t[s] - t[prev] > self.rules.max_fix_interval_s:
            prev = -1  # a lift during the silence before the dwell may have been anywhere
        events = []
        for j in range(s, end + 1):
            if not (valid[j] and math.isfinite(lifts[j])):
                continue
            if prev >= 0 and lifts[j] - lifts[prev] >= 1.0:
                events.append((prev, j, float(lifts[j] - lifts[prev])))
            prev = j
        return events

    def _on_dwells(self, starts: IntArray, ends: IntArray, closes: IntArray) -> None:
        """Match each dwell to the planned stops it served.

        With a lift counter each lift is placed where the truck stood around it
        (median of the dwell's fixes within ``lift_window_s``) and serves the
        nearest unserved stop there; a dwell of several lifts (stops a few metres
        apart, no moving fix between them) serves several stops. Without a
        counter the dwell's median position serves every stop within reach.
        """
        r = self.rules
        buf = self._buf
        t, x, y, valid = buf["t"], buf["x"], buf["y"], buf["valid"]
        if all(st.index in self._visits for st in self.stops):
            return
        sx, sy = self._stands()
        det_ok = buf["det_ok"]
        for s, e, c in zip(starts.tolist(), ends.tolist(), closes.tolist(), strict=True):
            idx = s + np.flatnonzero(det_ok[s : e + 1])
            if idx.shape[0] == 0:  # only poor-accuracy fixes: use them all
                idx = s + np.flatnonzero(valid[s : e + 1])
            events = self._lift_events(s, e, c)
            if events is None:
                if t[e] - t[s] < r.min_service_s:
                    continue
                cx, cy = float(np.median(x[idx])), float(np.median(y[idx]))
                self._serve_near(sx, sy, cx, cy, math.inf, s, e, self._arrival_bound(s))
                continue
            arrival = self._arrival_bound(s)
            # where the truck stood first (a red light or a hold-up just before the stop merges
            # into one dwell with the service), then where each lift was
            first = idx[t[idx] <= t[idx[0]] + r.lift_window_s]
            here: tuple[float, float] | None = (float(np.median(x[first])), float(np.median(y[first])))
            for before, after, count in events:
                near_lift = idx[
                    (t[idx] >= t[before] - r.lift_window_s) & (t[idx] <= t[after] + r.lift_window_s)
                ]
                pick = near_lift if near_lift.shape[0] else idx
                cx, cy = float(np.median(x[pick])), float(np.median(y[pick]))
                if here is not None and math.hypot(cx - here[0], cy - here[1]) > r.stop_radius_m / 2:
                    arrival = self._moved_at(idx, here, (cx, cy), arrival, float(t[after]))
                if self._serve_near(sx, sy, cx, cy, count, s, e, arrival):
                    here = (cx, cy)

    def _moved_at(
        self, idx: IntArray, a: tuple[float, float], b: tuple[float, float], t_from: float, t_to: float
    ) -> float:
        """When a truck standing at ``a`` moved to ``b`` within one dwell (no moving fix between).

        The split of the dwell's fixes between ``t_from`` and ``t_to`` that puts
        the most fixes nearer ``a`` before it and nearer ``b`` after it.
        """
        buf = self._buf
        t, x, y = buf["t"], buf["x"], buf["y"]
        sel = idx[(t[idx] > t_from) & (t[idx] <= t_to)]
        if sel.shape[0] == 0:
            return t_from
        nearer_b = np.hypot(x[sel] - b[0], y[sel] - b[1]) < np.hypot(x[sel] - a[0], y[sel] - a[1])
        # score of splitting before fix k: a-fixes before k plus b-fixes from k on
        a_before = np.concatenate(([0], np.cumsum(~nearer_b)))
        b_after = np.concatenate((np.cumsum(nearer_b[::-1])[::-1], [0]))
        k = int(np.argmax(a_before + b_after))
        return float(t[sel[k]]) if k < sel.shape[0] else t_to

    def _arrival_bound(self, s: int) -> float:
        """Earliest the vehicle may have arrived at a dwell starting at fix ``s``.

        The dwell's first fix, or the fix before it when that is over
        ``max_fix_interval_s`` earlier (the arrival may have happened unseen).
        """
        t = self._buf["t"]
        p = self._prev_valid(s)
        return float(t[p]) if p >= 0 and t[s] - t[p] > self.rules.max_fix_interval_s else float(t[s])

    def _serve_near(
        self,
        sx: FloatArray,
        sy: FloatArray,
        cx: float,
        cy: float,
        count: float,
        s: int,
        e: int,
        arrival_lb: float,
    ) -> int:
        """Serve up to ``count`` unserved stops within ``stop_radius_m`` of ``(cx, cy)``, nearest first."""
        near = np.hypot(sx - cx, sy - cy)
        served = 0
        for k in np.argsort(near, kind="stable").tolist():
            if served >= count or near[k] > self.rules.stop_radius_m:
                break
            stop = self.stops[k]
            if stop.index in self._visits:
                continue
            self._serve(stop, s, e, float(near[k]), arrival_lb)
            served += 1
        return served

    def _serve(self, stop: StopTarget, s: int, e: int, distance_m: float, arrival_lb: float) -> None:
        r = self.rules
        buf = self._buf
        t = buf["t"]
        arrival = max(float(t[s]), arrival_lb)
        status, lateness = "served", None
        if stop.window_end_utc is not None and arrival_lb > stop.window_end_utc + r.late_grace_s:
            status, lateness = "late", arrival_lb - stop.window_end_utc
        elif stop.window_start_utc is not None and float(t[e]) < stop.window_start_utc - r.early_grace_s:
            status, lateness = "early", float(t[e]) - stop.window_start_utc
        self._visits[stop.index] = StopVisit(
            stop.index, stop.ref_id, status, arrival, float(t[e]), distance_m, lateness
        )
        alert = status == "late" or (status == "early" and r.alert_early)
        if alert and AlertType.LATE_STOP in r.checks:
            self._stop_alert(AlertType.LATE_STOP, stop, s, e, distance_m, lateness, arrival)

    def _stop_alert(
        self,
        kind: AlertType,
        stop: StopTarget,
        s: int,
        e: int,
        distance_m: float,
        lateness: float | None,
        arrival: float,
    ) -> None:
        buf = self._buf
        t, lat, lon = buf["t"], buf["lat"], buf["lon"]
        measured = {
            "lateness_s": float(lateness or 0.0),
            "arrival_utc": arrival,
            "departure_utc": float(t[e]),
            "dwell_s": float(t[e] - arrival),
            "distance_m": float(distance_m),
        }
        if stop.window_start_utc is not None and stop.window_end_utc is not None:
            measured |= {"window_start_utc": stop.window_start_utc, "window_end_utc": stop.window_end_utc}
        idx = s + np.flatnonzero(buf["valid"][s : e + 1])
        props = {"vehicle_id": self.vehicle_id, "alert_type": kind.value, "stop_id": stop.ref_id, **measured}
        evidence = collection(
            point_feature(stop.lat, stop.lon, {"kind": "planned_stop", "stop_id": stop.ref_id}),
            track_feature(lat, lon, thin(idx), props, {"ts_utc": t}),
        )
        self._alerts.append(
            Alert(
                kind,
                self.vehicle_id,
                arrival,
                float(t[e]),
                stop.lat,
                stop.lon,
                measured,
                evidence,
                stop.ref_id,
            )
        )

    def _serve_unseen(self) -> list[tuple[float, float]]:
        """At close: place lifts counted across silences outside any serving dwell.

        A lift seen as a counter rise between fixes ``p`` and ``q`` that no
        serving dwell covers happened at a stop the truck could reach on the
        way: one with ``|p - s| + |s - q| <= unseen_speed_mps * (t_q - t_p)``,
        preferring stops between the served ones before and after in plan
        order. Over a short silence (up to ``max_gap_s``) the stop costing the
        least extra distance over ``|p - q|`` is served. Over a longer one the
        lifts go to the next stops in plan order (skipping stops seen passed by
        without service before the silence), marked unverified (lifted,
        unseen). Returns the long silences that may still hide a service: those
        with lifts left over, or with no lift counter.
        """
        r = self.rules
        buf = self._buf
        valid = buf["valid"]
        t, x, y = buf["t"], buf["x"], buf["y"]
        vi = np.flatnonzero(valid)
        hiding: list[tuple[float, float]] = []
        if vi.shape[0] < 2:
            return hiding
        lifts = buf["lifts"][vi]
        dl = np.diff(lifts)
        long_gap = np.diff(t[vi]) > r.max_gap_s
        for j in np.flatnonzero(long_gap & ~(dl >= 1.0) & ~(dl < 1.0)).tolist():  # no counter: may hide
            hiding.append((float(t[vi[j]]), float(t[vi[j + 1]])))
        rise = np.flatnonzero(dl >= 1.0)
        sx, sy = self._stands()
        index = np.array([st.index for st in self.stops])
        for j in rise.tolist():
            p, q = int(vi[j]), int(vi[j + 1])
            budget = float(dl[j])
            busy = [
                v for v in self._visits.values() if v.arrival_utc is not None and v.departure_utc is not None
            ]
            if any(v.arrival_utc < t[q] and v.departure_utc > t[p] for v in busy):
                continue
            lo = max([v.index for v in busy if v.departure_utc <= t[p]], default=-1)
            hi = min([v.index for v in busy if v.arrival_utc >= t[q]], default=1 << 30)
            via = np.hypot(sx - x[p], sy - y[p]) + np.hypot(sx - x[q], sy - y[q])
            extra = via - math.hypot(x[q] - x[p], y[q] - y[p])
            pending = np.array([st.index not in self._visits for st in self.stops], dtype=np.bool_)
            ok = pending & (via <= r.unseen_speed_mps * (t[q] - t[p]) + r.stop_radius_m)
            between = ok & (index > lo) & (index < hi)
            ok = between if between.any() else ok
            silent = bool(long_gap[j])
            picks = np.flatnonzero(ok)
            if silent:  # in plan order, but not stops seen passed by without service before the silence
                since = max(
                    [float(v.departure_utc or 0.0) for v in busy if v.index == lo], default=float(t[vi[0]])
                )
                picks = np.array(
                    [k for k in picks.tolist() if not self._passed_by(k, since, float(t[p]))], dtype=np.int64
                )
            else:
                picks = picks[np.argsort(extra[picks], kind="stable")]
            for k in picks.tolist():
                if budget < 1.0:
                    break
                stop = self.stops[k]
                budget -= 1.0
                status = "unverified" if silent else "served"
                self._visits[stop.index] = StopVisit(
                    stop.index, stop.ref_id, status, float(t[p]), float(t[q])
                )
            if silent and budget >= 1.0:
                hiding.append((float(t[p]), float(t[q])))
        return hiding

    def _passed_by(self, k: int, t_from: float, t_to: float) -> bool:
        """Whether an accurate fix came within ``stop_radius_m`` of stop ``k``'s stand in the span."""
        buf = self._buf
        t = buf["t"]
        sel = buf["det_ok"] & (t >= t_from) & (t <= t_to)
        if not sel.any():
            return False
        sx, sy = self._stands()
        return bool(
            (np.hypot(buf["x"][sel] - sx[k], buf["y"][sel] - sy[k]) <= self.rules.stop_radius_m).any()
        )

    def _judge_unserved(self) -> None:
        """At close: each unserved stop is missed, or unverified when a data gap may hide its visit.

        The visit is looked for between the departure from the last stop served
        before it (in plan order) and the arrival at the first one served after
        it. A silence of over ``max_gap_s`` in that span hides it, unless the
        lift counter shows that every bin lifted during the silence went to
        other stops (see :meth:`_serve_unseen`).
        """
        r = self.rules
        buf = self._buf
        t, valid = buf["t"], buf["valid"]
        tv = t[valid]
        if tv.shape[0] == 0:
            return
        hiding = self._serve_unseen()
        for stop in self.stops:
            if stop.index in self._visits:
                continue
            lo, hi = float(tv[0]), float(tv[-1])
            seen = [
                v for v in self._visits.values() if v.status != "unverified" and v.arrival_utc is not None
            ]
            before = [v.departure_utc for v in seen if v.index < stop.index and v.departure_utc is not None]
            after = [v.arrival_utc for v in seen if v.index > stop.index and v.arrival_utc is not None]
            if before:
                lo = max(lo, max(before))
            if after:
                hi = min(hi, min(after))
            if hi < lo:
                lo, hi = float(tv[0]), float(tv[-1])
            hidden = any(a < hi and b > lo for a, b in hiding)
            status = "unverified" if hidden else "missed"
            self._visits[stop.index] = StopVisit(stop.index, stop.ref_id, status)
            if status == "missed" and AlertType.MISSED_STOP in r.checks:
                self._missed_alert(stop, lo, hi)

    def _missed_alert(self, stop: StopTarget, lo: float, hi: float) -> None:
        buf = self._buf
        t, lat, lon, x, y, valid = buf["t"], buf["lat"], buf["lon"], buf["x"], buf["y"], buf["valid"]
        idx = np.flatnonzero(valid & (t >= lo) & (t <= hi))
        measured = {
            "planned_start_utc": stop.planned_start_utc,
            "searched_from_utc": lo,
            "searched_to_utc": hi,
        }
        if stop.window_end_utc is not None:
            measured["window_end_utc"] = stop.window_end_utc
        features = [point_feature(stop.lat, stop.lon, {"kind": "planned_stop", "stop_id": stop.ref_id})]
        if idx.shape[0]:
            sx, sy = kernels.project_equirectangular(
                np.array([stop.stand[0]]), np.array([stop.stand[1]]), self.lat0, self.lon0
            )
            near = np.hypot(x[idx] - sx[0], y[idx] - sy[0])
            measured["closest_m"] = float(near.min())
            measured["closest_utc"] = float(t[idx[int(np.argmin(near))]])
            props = {
                "vehicle_id": self.vehicle_id,
                "alert_type": AlertType.MISSED_STOP.value,
                "stop_id": stop.ref_id,
            }
            features.append(track_feature(lat, lon, thin(idx), props | measured, {"ts_utc": t}))
        self._alerts.append(
            Alert(
                AlertType.MISSED_STOP,
                self.vehicle_id,
                stop.planned_start_utc,
                max(stop.planned_end_utc, stop.planned_start_utc),
                stop.lat,
                stop.lon,
                measured,
                collection(*features),
                stop.ref_id,
            )
        )

    # ----------------------------------------------------------------------- coverage

    def _judge_coverage(self) -> None:
        sweep = self.sweep
        assert sweep is not None
        buf = self._buf
        overall, per_seg = sweep.coverage(self._covered)
        if overall >= self.rules.min_coverage:
            return
        t = buf["t"]
        missing = np.flatnonzero(per_seg < 0.5)
        lines = []
        for s in missing.tolist():
            la, lo = kernels.unproject_equirectangular(
                np.array([sweep.ax[s], sweep.bx[s]]),
                np.array([sweep.ay[s], sweep.by[s]]),
                sweep.lat0,
                sweep.lon0,
            )
            lines.append([(float(la[0]), float(lo[0])), (float(la[1]), float(lo[1]))])
        worst = int(np.argmax(sweep.length_m * (1.0 - per_seg)))
        mid_la, mid_lo = kernels.unproject_equirectangular(
            np.array([(sweep.ax[worst] + sweep.bx[worst]) / 2]),
            np.array([(sweep.ay[worst] + sweep.by[worst]) / 2]),
            sweep.lat0,
            sweep.lon0,
        )
        measured = {
            "coverage": overall,
            "min_coverage": self.rules.min_coverage,
            "planned_m": sweep.planned_m,
            "covered_m": overall * sweep.planned_m,
            "segments_missed": float(missing.shape[0]),
        }
        props = {"vehicle_id": self.vehicle_id, "alert_type": AlertType.COVERAGE_SHORTFALL.value, **measured}
        evidence = collection(lines_feature(lines, props | {"kind": "not_swept"}))
        self._alerts.append(
            Alert(
                AlertType.COVERAGE_SHORTFALL,
                self.vehicle_id,
                float(t[0]),
                float(t[-1]),
                float(mid_la[0]),
                float(mid_lo[0]),
                measured,
                evidence,
            )
        )


@dataclass(frozen=True, slots=True)
class DayResult:
    """Alerts of one vehicle's day, with its stop report and which fixes were outliers."""

    alerts: list[Alert]
    stops: list[StopVisit] = field(default_factory=list)
    outlier_ts: list[float] = field(default_factory=list)
    coverage: float | None = None


def check_track(checker: VehicleChecker, track: Any) -> DayResult:
    """The batch form: push the whole day at once, close it, collect everything."""
    alerts = checker.push_track(track)
    alerts += checker.close()
    t, out = checker.outliers()
    return DayResult(alerts, checker.stop_report(), t[out].tolist(), checker.coverage())
