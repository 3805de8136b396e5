"""Inputs of the enforcement checks: their thresholds and one vehicle's fixes as columns.

:class:`EnforcementRules` holds every threshold of
:func:`telematics.enforcement.police_enforcement`; :class:`EnforcementTrack`
is one vehicle's day of fixes with its sensors (on-board scale, body tipping),
validated once, from arrays, :class:`core.domain.Position` records or any
object with the same columns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from core.domain import Position
from core.errors import ValidationError
from telematics._validate import check_number
from telematics.checks import float_column

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EnforcementRules:
    """Thresholds of the enforcement checks (m, s, kg, m/s). Defaults suit one fix every 1-30 s.

    Speed: where a device reports none, the displacement over ``speed_window_s``
    (at least 1.5 fix intervals) either side of the fix.
    Stops: speed <= ``stop_mps`` for >= ``min_dwell_s``, split after
    ``dwell_split_s`` of silence or where consecutive fixes are ``move_split_m``
    apart (sparse fixes missed a short drive); stops under ``stop_join_s`` and
    ``move_split_m`` apart are one (a noisy speed reading split it). Sites: a
    point within ``site_margin_m`` of a site is in it. Dumps: see the module docstring (``dump_min_s``,
    ``tip_min_s``, ``drop_kg``, ``load_window_s`` for the medians).
    Loaded: the scale reads >= ``loaded_kg`` (empty <= ``empty_kg``) for
    ``load_hold_s``; without a scale, after a stop of ``load_min_s`` at a
    construction site (or a permit's origin) until a stop of ``unload_min_s``
    at a disposal site. Gaps: silence over ``max_gap_s``; a disposal site is
    reachable across a gap at ``reach_mps`` (straight lines, a city average)
    leaving ``gap_tip_s`` to tip there. Loaded runs shorter than ``run_min_s`` or moving less
    than ``run_min_m`` (extent) are ignored. Corridor: ``corridor_enter_m``,
    ``corridor_exit_m``, ``corridor_min_fixes``, ``corridor_min_s``. Zones:
    ``zone_inset_m``, ``zone_min_s``. Back on the corridor (or out of the zone)
    for less than ``rejoin_s`` does not end an episode (crossing is not rejoining).
    Tickets: a fix farther from the ticket's site than ``ticket_margin_m +
    max_speed_mps * |dt|`` proves the truck elsewhere; a linked delivery is
    short when ``discrepancy_kg`` and ``discrepancy_frac`` say so; ``ticket_link_s``
    bounds the fixes looked at. GPS jumps as in :class:`telematics.checks.CheckRules`
    (``jump_max_speed_mps``, ``jump_slack_m``).
    """

    stop_mps: float = 1.0
    min_dwell_s: float = 30.0
    dwell_split_s: float = 120.0
    move_split_m: float = 60.0
    stop_join_s: float = 30.0
    site_margin_m: float = 40.0
    dump_min_s: float = 60.0
    tip_min_s: float = 15.0
    drop_kg: float = 2000.0
    load_window_s: float = 120.0
    loaded_kg: float = 3000.0
    empty_kg: float = 1500.0
    load_hold_s: float = 60.0
    load_min_s: float = 180.0
    unload_min_s: float = 60.0
    max_gap_s: float = 300.0
    reach_mps: float = 8.0
    gap_tip_s: float = 300.0
    max_speed_mps: float = 25.0
    run_min_s: float = 120.0
    run_min_m: float = 300.0
    corridor_enter_m: float = 60.0
    corridor_exit_m: float = 40.0
    corridor_min_fixes: int = 3
    corridor_min_s: float = 60.0
    rejoin_s: float = 60.0
    zone_inset_m: float = 15.0
    zone_min_s: float = 10.0
    ticket_link_s: float = 300.0
    ticket_margin_m: float = 60.0
    discrepancy_kg: float = 1000.0
    discrepancy_frac: float = 0.1
    speed_window_s: float = 30.0
    jump_max_speed_mps: float = 50.0
    jump_slack_m: float = 100.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "corridor_min_fixes":
                check_number("EnforcementRules", f.name, value, minimum=1, integer=True)
            else:
                check_number("EnforcementRules", f.name, value, minimum=0.0)
        if self.corridor_exit_m > self.corridor_enter_m:
            raise ValidationError("EnforcementRules", "corridor_exit_m", "must be <= corridor_enter_m")
        if self.empty_kg >= self.loaded_kg:
            raise ValidationError("EnforcementRules", "empty_kg", "must be < loaded_kg")


@dataclass(frozen=True, slots=True, eq=False)
class EnforcementTrack:
    """One vehicle's fixes as columns, sorted by time; sensors NaN where unknown.

    ``load_kg`` is the on-board scale (kg); ``body_tipping`` is 1.0 raised, 0.0 down.
    """

    ts_utc: FloatArray
    lat: FloatArray
    lon: FloatArray
    speed_mps: FloatArray
    load_kg: FloatArray
    body_tipping: FloatArray

    def __len__(self) -> int:
        return int(self.ts_utc.shape[0])

    @classmethod
    def from_arrays(
        cls,
        ts_utc: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        *,
        speed_mps: Any = None,
        load_kg: Any = None,
        body_tipping: Any = None,
        record: str = "EnforcementTrack",
    ) -> EnforcementTrack:
        """Columns from arrays (``None`` entries or columns: unknown).

        Raises
        ------
        ValidationError : unequal lengths, non-finite or unsorted times,
            positions out of range; names ``record`` and the column.
        """
        t = float_column(record, "ts_utc", ts_utc, None)
        n = t.shape[0]
        la = float_column(record, "lat", lat, n)
        lo = float_column(record, "lon", lon, n)
        for name, arr, bound in (("ts_utc", t, math.inf), ("lat", la, 90.0), ("lon", lo, 180.0)):
            bad = np.flatnonzero(~np.isfinite(arr) | (np.abs(arr) > bound))
            if bad.size:
                i = int(bad[0])
                raise ValidationError(record, name, f"bad value {arr[i]!r} at index {i}")
        back = np.flatnonzero(np.diff(t) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise ValidationError(record, "ts_utc", f"must be sorted; ts_utc[{i}] < ts_utc[{i - 1}]")
        return cls(
            t,
            la,
            lo,
            float_column(record, "speed_mps", speed_mps, n),
            float_column(record, "load_kg", load_kg, n),
            float_column(record, "body_tipping", body_tipping, n),
        )

    @classmethod
    def from_positions(
        cls, positions: Iterable[Position], record: str = "EnforcementTrack"
    ) -> EnforcementTrack:
        """Columns from :class:`core.domain.Position` records of one device (sorted here by time)."""
        ps = sorted(positions, key=lambda p: p.ts_utc)
        return cls.from_arrays(
            [p.ts_utc for p in ps],
            [p.lat for p in ps],
            [p.lon for p in ps],
            speed_mps=[p.speed_mps for p in ps],
            load_kg=[p.load_kg for p in ps],
            body_tipping=[None if p.body_tipping is None else float(p.body_tipping) for p in ps],
            record=record,
        )

    @classmethod
    def from_object(cls, track: Any, record: str = "EnforcementTrack") -> EnforcementTrack:
        """Columns from a track object (``ts_utc``, ``lat``, ``lon``, optional sensors) or positions."""
        if isinstance(track, EnforcementTrack):
            return track
        if isinstance(track, list | tuple):
            return cls.from_positions(track, record)
        return cls.from_arrays(
            track.ts_utc,
            track.lat,
            track.lon,
            speed_mps=getattr(track, "speed_mps", None),
            load_kg=getattr(track, "load_kg", None),
            body_tipping=getattr(track, "body_tipping", None),
            record=record,
        )
