"""Enforcement checks of haulers' days: illegal dumping, permits, restricted zones, weigh tickets.

Entry point: :func:`police_enforcement` (one local day, any number of vehicles).
First, fleet-wide, a few large kernel calls project every fix, put it on the
local clock and find the site and the (active) restricted zone holding it
(:mod:`telematics.enforcement_places`). Then, per vehicle, serial Numba kernels
(:mod:`telematics.kernels`, :mod:`telematics.enforcement_kernels`) filter GPS
jumps, fill in missing speeds, find the stops (split where sparse fixes missed
a move) with their median place, tipping time and the load before and after,
and a debounced loaded/empty state from the on-board scale (or, without one,
inferred from loading and unloading stops). The findings are read off those:

* **illegal_dump**: a stop of at least ``dump_min_s`` outside every site
  approved for disposal (or at one the permit in force does not name or whose
  streams exclude the permit's) with the body raised for ``tip_min_s`` and/or a
  load drop of ``drop_kg`` (medians before and after, so a one-fix glitch does
  not count); a GPS gap across which the load fell, with no delivery ticket in
  the gap (or, for a vehicle without tickets, no disposal site within reach);
  without a scale, a loaded trip (from a construction site) that comes back to
  load again, or ends outside any site, without visiting a disposal site: the
  alert sits at its longest stop outside every site or its gap.
* **unpermitted_transport**: moving loaded with no permit in force;
  **off_hours**: moving loaded outside the permit's hours; **detour**: off the
  permit's corridor (hysteresis as in :mod:`telematics.corridor`); fixes inside
  a site never count for these. **restricted_zone**: inside a zone (at least
  ``zone_inset_m`` deep) during its hours, for ``zone_min_s``.
* **ticket_mismatch**: a fix too far from the ticket's site to have been there
  at the ticket's time (``ticket_margin_m + max_speed_mps * |dt|``); a ticket
  in a GPS gap with the site within reach cannot be refuted and raises nothing.
  **weight_discrepancy**: a linked delivery ticket's net is short of the load
  at loading (the on-board scale after the loading stop, or the declared "out"
  ticket at the source) by more than ``max(discrepancy_kg, discrepancy_frac *
  load)``.

A night permit (22:00-06:00) valid on a date also covers the early hours of
the next date. Each alert has a ``confidence`` (0..1), the ``signals`` that
raised it, ``measured`` values and GeoJSON ``evidence`` (the track piece).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from core.domain import Alert, AlertType, VehicleKind
from core.enforcement import Permit, RestrictedZone, Site, SiteKind, WeighTicket
from core.errors import ValidationError
from telematics import enforcement_kernels as ek
from telematics import kernels
from telematics.alerts import collection, point_feature, thin
from telematics.corridor import RouteCorridor
from telematics.enforcement_inputs import EnforcementRules, EnforcementTrack
from telematics.enforcement_places import LocalClock, PlaceIndex, zone_info

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ENFORCEMENT_TYPES: tuple[AlertType, ...] = (
    AlertType.ILLEGAL_DUMP,
    AlertType.UNPERMITTED_TRANSPORT,
    AlertType.OFF_HOURS,
    AlertType.DETOUR,
    AlertType.RESTRICTED_ZONE,
    AlertType.WEIGHT_DISCREPANCY,
    AlertType.TICKET_MISMATCH,
)
"""The alert types :func:`police_enforcement` raises (``detour``: off the permit's corridor)."""

__all__ = ["ENFORCEMENT_TYPES", "EnforcementRules", "EnforcementTrack", "police_enforcement"]

EVIDENCE_POSITIONS = 120
"""Track pieces in an alert's evidence are thinned evenly to this many fixes."""


# --------------------------------------------------------------------------- the day's context


@dataclass(frozen=True, slots=True, eq=False)
class _Context:
    """Everything shared by the vehicles of one day."""

    rules: EnforcementRules
    clock: LocalClock
    lat0: float
    lon0: float
    sites: tuple[Site, ...]
    site_ids: Mapping[str, int]
    site_index: PlaceIndex
    disposal: BoolArray  # per site: approved for disposal
    origin_kind: BoolArray  # per site: a construction site
    zones: tuple[RestrictedZone, ...]
    zone_index: PlaceIndex
    permits: Mapping[str, tuple[Permit, ...]]
    tickets: Mapping[str, tuple[WeighTicket, ...]]
    kinds: Mapping[str, VehicleKind]
    corridors: dict[str, list[RouteCorridor]]


def police_enforcement(
    tracks: Mapping[str, Any],
    *,
    sites: Sequence[Site],
    zones: Sequence[RestrictedZone] = (),
    permits: Sequence[Permit] = (),
    tickets: Sequence[WeighTicket] = (),
    day: date,
    timezone: str,
    vehicle_kinds: Mapping[str, VehicleKind] | None = None,
    rules: EnforcementRules | None = None,
) -> list[Alert]:
    """Every enforcement alert of one day, for every vehicle in ``tracks``.

    Parameters
    ----------
    tracks : vehicle id -> that vehicle's fixes of the day, sorted by time: an
        :class:`EnforcementTrack`, a list of :class:`core.domain.Position`, or
        any object with columns ``ts_utc`` (UNIX s), ``lat``, ``lon`` (degrees)
        and optional ``speed_mps``, ``load_kg`` (on-board scale, kg) and
        ``body_tipping`` (1.0 raised / 0.0 down); NaN or None means no value.
    sites : approved places (depots, facilities, construction sites, spoil fields, ...).
    zones : restricted zones with their hours.
    permits : haulage permits (any dates; those in force at each fix count).
    tickets : weighbridge tickets (those of the tracked vehicles are linked to their trips).
    day : the local day policed (its night runs may go past midnight).
    timezone : IANA zone of the city (hours of permits and zones are local).
    vehicle_kinds : vehicle id -> kind. Vehicles of a kind other than
        ``muck_hauler`` need no permit; vehicles not listed are treated as haulers.
    rules : thresholds; defaults suit one fix every 1-30 s.

    Returns
    -------
    list of :class:`core.domain.Alert` of the types in :data:`ENFORCEMENT_TYPES`,
    each with ``confidence`` (0..1), ``signals`` (what raised it), ``measured``
    values and GeoJSON ``evidence``; sorted by vehicle and start time.

    Raises
    ------
    ValidationError : a malformed track (naming the vehicle and the column) or argument.
    """
    rules = rules or EnforcementRules()
    if not isinstance(day, date):
        raise ValidationError("police_enforcement", "day", f"must be a date, got {day!r}")
    tz = zone_info(timezone)
    cols = {
        str(vid): EnforcementTrack.from_object(track, f"track of '{vid}'") for vid, track in tracks.items()
    }
    sites_t = tuple(sites)
    ids = [s.id for s in sites_t]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValidationError(f"Site '{dup}'", "id", "is given twice")
    lat0, lon0 = _origin(sites_t, cols)
    t_all = [c.ts_utc for c in cols.values() if len(c)] + [np.array([t.ts_utc for t in tickets])]
    t_cat = np.concatenate(t_all)  # t_all always holds the (maybe empty) ticket times
    t_min = float(t_cat.min()) if t_cat.size else 0.0
    t_max = float(t_cat.max()) if t_cat.size else 0.0
    by_vehicle: dict[str, list[Permit]] = {}
    for p in permits:
        by_vehicle.setdefault(p.vehicle_id, []).append(p)
    tickets_by: dict[str, list[WeighTicket]] = {}
    for tk in sorted(tickets, key=lambda tk: tk.ts_utc):
        tickets_by.setdefault(tk.vehicle_id, []).append(tk)
    ctx = _Context(
        rules=rules,
        clock=LocalClock.for_span(day, tz, t_min, t_max),
        lat0=lat0,
        lon0=lon0,
        sites=sites_t,
        site_ids={s.id: i for i, s in enumerate(sites_t)},
        site_index=PlaceIndex.from_sites(
            sites_t, lat0, lon0, margin_m=max(rules.site_margin_m, rules.ticket_margin_m)
        ),
        disposal=np.array([s.approved_for_disposal for s in sites_t], dtype=np.bool_),
        origin_kind=np.array([s.kind == SiteKind.CONSTRUCTION_SITE for s in sites_t], dtype=np.bool_),
        zones=tuple(zones),
        zone_index=PlaceIndex.from_zones(tuple(zones), lat0, lon0),
        permits={k: tuple(v) for k, v in by_vehicle.items()},
        tickets={k: tuple(v) for k, v in tickets_by.items()},
        kinds=dict(vehicle_kinds or {}),
        corridors={},
    )
    alerts: list[Alert] = []
    for vid, fixes in _fleet_columns(ctx, cols).items():
        alerts += _VehicleDay(ctx, vid, cols[vid], fixes).run()
    return sorted(alerts, key=lambda a: (a.vehicle_id, a.start_utc, a.type.value))


@dataclass(frozen=True, slots=True)
class _Fixes:
    """One vehicle's per-fix columns computed fleet-wide: metres, local seconds, site and zone ids."""

    x: FloatArray
    y: FloatArray
    local: FloatArray
    site: IntArray
    zone: IntArray


def _fleet_columns(ctx: _Context, cols: Mapping[str, EnforcementTrack]) -> dict[str, _Fixes]:
    """Project, clock and place every fix of the fleet in a few large (parallel) kernel calls."""
    r = ctx.rules
    order = sorted(cols)
    bounds = np.cumsum([0] + [len(cols[v]) for v in order])
    if bounds[-1] == 0:
        empty = np.zeros(0)
        none = np.zeros(0, dtype=np.int64)
        return {v: _Fixes(empty, empty, empty, none, none) for v in order}
    t = np.concatenate([cols[v].ts_utc for v in order])
    lat = np.concatenate([cols[v].lat for v in order])
    lon = np.concatenate([cols[v].lon for v in order])
    x, y = kernels.project_equirectangular(lat, lon, ctx.lat0, ctx.lon0)
    local = ctx.clock.seconds(t)
    site = ctx.site_index.locate(x, y, margin_m=r.site_margin_m, parallel=True)
    zone = np.full(t.shape[0], -1, dtype=np.int64)
    if ctx.zones:
        groups: dict[tuple[bool, ...], list[int]] = {}
        for k, v in enumerate(order):
            kind = ctx.kinds.get(v)
            groups.setdefault(tuple(z.applies_to(kind) for z in ctx.zones), []).append(k)
        for mask, members in groups.items():
            if not any(mask):
                continue
            pick = np.concatenate([np.arange(bounds[k], bounds[k + 1]) for k in members])
            zone[pick] = ctx.zone_index.locate(
                x[pick], y[pick], margin_m=-r.zone_inset_m, local_s=local[pick],
                eligible=np.array(mask, dtype=np.bool_), parallel=True,
            )  # fmt: skip
    out = {}
    for k, v in enumerate(order):
        a, b = int(bounds[k]), int(bounds[k + 1])
        out[v] = _Fixes(x[a:b], y[a:b], local[a:b], site[a:b], zone[a:b])
    return out


def _origin(sites: Sequence[Site], cols: Mapping[str, EnforcementTrack]) -> tuple[float, float]:
    """Projection origin: the mean site centre, else the first fix, else (0, 0)."""
    if sites:
        c = np.array([s.centre for s in sites])
        return float(c[:, 0].mean()), float(c[:, 1].mean())
    for track in cols.values():
        if len(track):
            return float(track.lat[0]), float(track.lon[0])
    return 0.0, 0.0


# --------------------------------------------------------------------------- one vehicle


class _VehicleDay:
    """The enforcement checks of one vehicle's day (see the module docstring)."""

    def __init__(self, ctx: _Context, vehicle_id: str, track: EnforcementTrack, fixes: _Fixes) -> None:
        self.ctx = ctx
        self.vid = vehicle_id
        self.tr = track
        self.fixes = fixes
        self._status: dict[WeighTicket, tuple[str, dict[str, float]]] = {}
        self.alerts: list[Alert] = []

    # ----------------------------------------------------------------------- per-fix columns

    def run(self) -> list[Alert]:
        """All alerts of this vehicle."""
        tr, ctx, r = self.tr, self.ctx, self.ctx.rules
        n = len(tr)
        if n == 0:
            self._tickets()
            return self.alerts
        self.t = tr.ts_utc
        self.x, self.y = self.fixes.x, self.fixes.y
        state = np.zeros(kernels.JUMP_STATE_SIZE)
        self.valid = ~kernels.jump_step(
            state, self.t, self.x, self.y, r.jump_max_speed_mps, r.jump_slack_m, 3
        )
        speed = tr.speed_mps.copy()
        unknown = ~np.isfinite(speed)
        if unknown.any():
            # centred over at least 1.5 fix intervals each side, so sparse fixes get a speed too
            step = float(np.median(np.diff(self.t))) if n > 1 else 0.0
            half = max(r.speed_window_s, 1.5 * step)
            implied = ek.centered_speed(self.t, self.x, self.y, self.valid, half)
            speed[unknown] = implied[unknown]
        self.speed = speed
        self.local = self.fixes.local
        self.site = np.where(self.valid, self.fixes.site, -1)
        self.in_site = self.site >= 0
        self.has_load = bool(np.isfinite(tr.load_kg).any())
        # stops
        st = np.zeros(kernels.EPISODE_STATE_SIZE)
        starts, ends, _ = kernels.dwell_step(
            st, self.t, speed, self.valid, 0, r.stop_mps, r.min_dwell_s, r.dwell_split_s, True
        )
        starts, ends = ek.join_close_stops(
            self.t, self.x, self.y, starts, ends, r.stop_join_s, r.move_split_m
        )
        starts, ends = ek.split_at_moves(self.x, self.y, self.valid, starts, ends, r.move_split_m)
        keep = self.t[ends] - self.t[starts] >= r.min_dwell_s
        starts, ends = starts[keep], ends[keep]
        mx, my, tip_s = ek.dwell_measures(self.t, self.x, self.y, tr.body_tipping, self.valid, starts, ends)
        dwell_site = ctx.site_index.locate(mx, my, margin_m=r.site_margin_m) if starts.size else starts.copy()
        lo = np.concatenate(([0], ends[:-1])).astype(np.int64)
        hi = np.concatenate((starts[1:], [n - 1])).astype(np.int64)
        before, after = ek.median_around(self.t, tr.load_kg, starts, ends, r.load_window_s, lo, hi)
        self.d_start, self.d_end, self.d_site = starts, ends, dwell_site
        self.d_x, self.d_y, self.d_tip, self.d_before, self.d_after = mx, my, tip_s, before, after
        # gaps between valid fixes
        vi = self.vi = np.flatnonzero(self.valid)
        self.tv = self.t[vi]
        big = np.flatnonzero(np.diff(self.tv) > r.max_gap_s)
        self.g_before, self.g_after = vi[big], vi[big + 1]
        # loaded state
        if self.has_load:
            self.loaded = ek.debounce_level(self.t, tr.load_kg, r.loaded_kg, r.empty_kg, r.load_hold_s) == 1
        else:
            self.loaded = self._inferred_loaded()
        self.in_force = self._permit_in_force()
        self._dumps()
        self._transport()
        self._zones()
        self._corridor()
        self._tickets()
        return self.alerts

    def _is_disposal(self, site: int) -> bool:
        return site >= 0 and bool(self.ctx.disposal[site])

    def _permit_allows_disposal(self, site: int, i: int) -> bool:
        """Whether tipping at disposal site ``site`` at fix ``i`` keeps to the permit in force.

        With no permit in force any approved disposal site will do (the missing
        permit is its own alert); with one, the site must be among its disposal
        sites and accept its stream.
        """
        j = int(self.in_force[i])
        if j < 0:
            return True
        permit = self.ctx.permits[self.vid][j]
        place = self.ctx.sites[site]
        return place.id in permit.disposal_site_ids and place.accepts(permit.stream)

    def _is_origin(self, site: int) -> bool:
        if site < 0:
            return False
        if self.ctx.origin_kind[site]:
            return True
        sid = self.ctx.sites[site].id
        return any(sid in p.origin_site_ids for p in self.ctx.permits.get(self.vid, ()))

    def _inferred_loaded(self) -> BoolArray:
        """Without a scale: loaded from the end of a loading stop to the start of an unloading stop.

        A loading stop is one of ``load_min_s`` at a construction site (or the
        permit's origin); another one ends the trip too (loaded again without unloading).
        """
        r = self.ctx.rules
        loaded = np.zeros(len(self.tr), dtype=np.bool_)
        since = -1
        for k in range(self.d_start.shape[0]):
            s, e, site = int(self.d_start[k]), int(self.d_end[k]), int(self.d_site[k])
            dur = self.t[e] - self.t[s]
            loading = self._is_origin(site) and dur >= r.load_min_s
            if since >= 0 and ((self._is_disposal(site) and dur >= r.unload_min_s) or loading):
                loaded[since:s] = True
                since = -1
            if loading:
                since = e
        if since >= 0:
            loaded[since:] = True
        return loaded

    def _permit_in_force(self) -> IntArray:
        """Per fix: index into this vehicle's permits of the one in force, else -1.

        The rule of :func:`core.enforcement.permit_in_force`: a permit covers its valid local dates,
        and the morning after its last date up to the end of hours that wrap midnight; among
        several, one whose hours allow the time, then the smallest id.
        """
        out = np.full(len(self.tr), -1, dtype=np.int64)
        permits = self.ctx.permits.get(self.vid, ())
        if not permits:
            return out
        day_idx = np.floor(self.local / ek.DAY_S).astype(np.int64)
        tod = self.local - day_idx * ek.DAY_S
        day0 = self.ctx.clock.day
        by_id = sorted(range(len(permits)), key=lambda j: permits[j].id, reverse=True)
        covered = np.zeros((len(permits), len(self.tr)), dtype=np.bool_)
        for d in np.unique(day_idx).tolist():
            today = day0 + timedelta(days=d)
            yesterday = today - timedelta(days=1)
            mask = day_idx == d
            for j, p in enumerate(permits):
                if p.valid_on(today):
                    covered[j] |= mask
                elif p.valid_on(yesterday):
                    wrap_end = max((w.end_s for w in p.allowed_hours if w.wraps), default=0)
                    covered[j] |= mask & (tod < wrap_end)
        for j in by_id:  # the smallest id is written last, so it wins
            out[covered[j]] = j
        for j in by_id:  # then a permit allowing the hour overrides one that does not
            out[covered[j] & _allows_hour(permits[j], tod)] = j
        return out

    def _hours_ok(self) -> BoolArray:
        """Per fix: the permit in force allows the local hour."""
        permits = self.ctx.permits.get(self.vid, ())
        ok = np.zeros(len(self.tr), dtype=np.bool_)
        for j, p in enumerate(permits):
            mask = self.in_force == j
            if mask.any():
                ok[mask] = _allows_hour(p, np.mod(self.local[mask], ek.DAY_S))
        return ok

    # ----------------------------------------------------------------------- dumping

    def _dumps(self) -> None:
        r = self.ctx.rules
        dumped_at: list[tuple[float, float]] = []
        for k in range(self.d_start.shape[0]):
            s, e, site = int(self.d_start[k]), int(self.d_end[k]), int(self.d_site[k])
            dur = float(self.t[e] - self.t[s])
            off_permit = self._is_disposal(site) and not self._permit_allows_disposal(site, s)
            if (self._is_disposal(site) and not off_permit) or dur < r.dump_min_s:
                continue
            drop = float(self.d_before[k] - self.d_after[k])
            tip = float(self.d_tip[k]) >= r.tip_min_s
            dropped = math.isfinite(drop) and drop >= r.drop_kg
            if not (tip or dropped):
                continue
            signals = ["stop_outside_places" if site < 0 else f"stop_at_{self.ctx.sites[site].kind.value}"]
            if off_permit:
                signals.append("disposal_site_not_in_permit")
            conf = 1.0
            if tip:
                signals.append("body_tipping")
                conf *= 0.25
            if dropped:
                signals.append("load_drop")
                conf *= 0.2
            conf = (1.0 - conf) * (1.0 if site < 0 else 0.6 if off_permit else 0.8)
            measured = {"stop_s": dur, "tipping_s": float(self.d_tip[k])}
            if math.isfinite(drop):
                measured["load_before_kg"] = float(self.d_before[k])
                measured["load_after_kg"] = float(self.d_after[k])
                measured["load_drop_kg"] = drop
            self._dump_alert(s, e, float(self.d_x[k]), float(self.d_y[k]), conf, signals, measured)
            dumped_at.append((float(self.t[s]), float(self.t[e])))
        if self.has_load:
            self._gap_dumps(dumped_at)
        else:
            self._trip_dumps(dumped_at)

    def _dump_alert(
        self, s: int, e: int, x: float, y: float, conf: float, signals: list[str], measured: dict[str, float]
    ) -> None:
        lat, lon = kernels.unproject_equirectangular(
            np.array([x]), np.array([y]), self.ctx.lat0, self.ctx.lon0
        )
        near = self._nearest_site(x, y)
        if near is not None:
            measured["nearest_site_m"] = near[1]
        props: dict[str, Any] = {"nearest_site": near[0] if near else None}
        self._emit(AlertType.ILLEGAL_DUMP, s, e, float(lat[0]), float(lon[0]), conf, signals, measured, props)

    def _gap_dumps(self, dumped_at: list[tuple[float, float]]) -> None:
        """A GPS gap across which the load fell, with no legal tipping meanwhile.

        When the vehicle has delivery tickets that day, its disposals are weighed:
        a gap with no delivery ticket within ``ticket_link_s`` is suspicious.
        Without tickets, only a gap too short to reach any disposal site and tip
        there (:meth:`_disposal_reachable`) is.
        """
        r = self.ctx.rules
        if not self.g_before.size:
            return
        deliveries = [
            tk.ts_utc
            for tk in self.ctx.tickets.get(self.vid, ())
            if tk.direction == "in" and self._ticket_status(tk)[0] in ("linked", "unseen")
        ]
        # the load just before and after the gap, not across the stops on either side
        ends = np.concatenate(([0], self.d_end)).astype(np.int64)  # as if a stop ended at fix 0
        lo = ends[np.searchsorted(self.d_end, self.g_before, side="right")]
        starts = np.concatenate((self.d_start, [len(self.tr) - 1])).astype(np.int64)
        hi = starts[np.searchsorted(self.d_start, self.g_after)]
        load = self.tr.load_kg
        before, _ = ek.median_around(self.t, load, self.g_before, self.g_before, r.load_window_s, lo, hi)
        _, after = ek.median_around(self.t, load, self.g_after, self.g_after, r.load_window_s, lo, hi)
        for b, a, lb, la in zip(self.g_before.tolist(), self.g_after.tolist(), before, after, strict=True):
            if not (math.isfinite(lb) and math.isfinite(la)) or lb - la < r.drop_kg:
                continue
            tb, ta = float(self.t[b]), float(self.t[a])
            if any(s <= ta and e >= tb for s, e in dumped_at):
                continue
            if deliveries:
                if any(tb - r.ticket_link_s <= ts <= ta + r.ticket_link_s for ts in deliveries):
                    continue  # weighed in at a disposal site meanwhile
                why = "no_delivery_ticket"
            elif self._disposal_reachable(b, a):
                continue
            else:
                why = "disposal_unreachable"
            measured = {
                "gap_s": ta - tb,
                "load_before_kg": float(lb),
                "load_after_kg": float(la),
                "load_drop_kg": float(lb - la),
            }
            mx = 0.5 * float(self.x[b] + self.x[a])
            my = 0.5 * float(self.y[b] + self.y[a])
            self._dump_alert(b, a, mx, my, 0.8, ["gps_gap", "load_drop", why], measured)

    def _disposal_reachable(self, b: int, a: int) -> bool:
        """Whether some disposal site can be visited between fixes ``b`` and ``a`` (straight lines)."""
        r = self.ctx.rules
        budget = (float(self.t[a] - self.t[b]) - r.gap_tip_s) * r.reach_mps
        if budget <= 0:
            return False
        idx = self.ctx.site_index
        for p in np.flatnonzero(self.ctx.disposal).tolist():
            d1 = max(idx.distance(p, float(self.x[b]), float(self.y[b])), 0.0)
            d2 = max(idx.distance(p, float(self.x[a]), float(self.y[a])), 0.0)
            if d1 + d2 <= budget:
                return True
        return False

    def _trip_dumps(self, dumped_at: list[tuple[float, float]]) -> None:
        """Without a scale: loaded trips that end without a disposal visit, at their stop or gap."""
        r = self.ctx.rules
        runs = ek.runs_of(self.loaded, self.t, 1, 0.0, math.inf)
        n = len(self.tr)
        for first, last in runs.tolist():
            nxt = last + 1
            if nxt < n:
                # the trip ended at the next stop: unloading at a disposal site is fine
                k = int(np.searchsorted(self.d_start, nxt))
                if k < self.d_start.shape[0] and self._is_disposal(int(self.d_site[k])):
                    continue
            elif self.in_site[last] and not self._is_origin(int(self.site[last])):
                continue  # parked loaded at a site (not back where it loaded) at the end of the day
            t0, t1 = float(self.t[first]), float(self.t[min(nxt, n - 1)])
            if any(s <= t1 and e >= t0 for s, e in dumped_at):
                continue
            best: tuple[float, int, int, float, float, str] | None = None
            for k in range(self.d_start.shape[0]):
                s, e = int(self.d_start[k]), int(self.d_end[k])
                if s < first or e > last or self.d_site[k] >= 0:
                    continue
                dur = float(self.t[e] - self.t[s])
                if dur >= r.dump_min_s and (best is None or dur > best[0]):
                    best = (dur, s, e, float(self.d_x[k]), float(self.d_y[k]), "stop_outside_places")
            for b, a in zip(self.g_before.tolist(), self.g_after.tolist(), strict=True):
                if b < first or a > last + 1:
                    continue
                dur = float(self.t[a] - self.t[b])
                if best is None or dur > best[0]:
                    mx = 0.5 * float(self.x[b] + self.x[a])
                    my = 0.5 * float(self.y[b] + self.y[a])
                    best = (dur, b, a, mx, my, "gps_gap")
            if best is None:
                continue
            dur, s, e, mx, my, signal = best
            measured = {"stop_s" if signal != "gps_gap" else "gap_s": dur, "trip_s": t1 - t0}
            self._dump_alert(s, e, mx, my, 0.65, ["no_disposal_visit", signal], measured)

    # ----------------------------------------------------------------------- transport

    def _transport(self) -> None:
        kind = self.ctx.kinds.get(self.vid)
        needs_permit = kind is None or kind == VehicleKind.MUCK_HAULER
        conf = 0.9 if self.has_load else 0.7
        sensor = "load_sensor" if self.has_load else "loaded_inferred"
        if needs_permit:
            flag = self.loaded & (self.in_force < 0) & self.valid
            for s, e, measured in self._loaded_runs(flag):
                self._emit(
                    AlertType.UNPERMITTED_TRANSPORT, s, e, float(self.tr.lat[s]), float(self.tr.lon[s]),
                    conf, ["loaded", sensor, "no_permit_in_force"], measured, {},
                )  # fmt: skip
        if self.ctx.permits.get(self.vid):
            flag = self.loaded & (self.in_force >= 0) & ~self._hours_ok() & self.valid
            for s, e, measured in self._loaded_runs(flag):
                measured["local_start_s"] = float(np.mod(self.local[s], ek.DAY_S))
                self._emit(
                    AlertType.OFF_HOURS, s, e, float(self.tr.lat[s]), float(self.tr.lon[s]),
                    conf, ["loaded", sensor, "outside_permitted_hours"], measured,
                    {"permit_id": self.ctx.permits[self.vid][int(self.in_force[s])].id},
                )  # fmt: skip

    def _loaded_runs(self, flag: BoolArray) -> list[tuple[int, int, dict[str, float]]]:
        """Runs of ``flag`` fixes, trimmed to their fixes outside sites, that last and move enough.

        Passing through a site does not split a run; a run spent in sites is no run.
        Returns ``(first, last, measured)`` per run.
        """
        r = self.ctx.rules
        out = []
        vi = self.vi  # valid fixes only: outliers neither extend nor split a run
        for f, g in ek.runs_of(flag[vi], self.t[vi], 1, 0.0, r.dwell_split_s * 5).tolist():
            first, last = int(vi[f]), int(vi[g])
            outside = first + np.flatnonzero(~self.in_site[first : last + 1] & self.valid[first : last + 1])
            if outside.shape[0] < 3:
                continue
            first, last = int(outside[0]), int(outside[-1])
            if self.t[last] - self.t[first] < r.run_min_s:
                continue
            xs = self.x[outside]
            ys = self.y[outside]
            extent = float(math.hypot(xs.max() - xs.min(), ys.max() - ys.min()))
            if extent < r.run_min_m:
                continue
            out.append((first, last, {"duration_s": float(self.t[last] - self.t[first]), "extent_m": extent}))
        return out

    # ----------------------------------------------------------------------- zones and corridor

    def _zones(self) -> None:
        ctx, r = self.ctx, self.ctx.rules
        if not ctx.zones:
            return
        zone = np.where(self.valid, self.fixes.zone, -1)
        runs = ek.runs_of(zone >= 0, self.t, 1, 0.0, r.dwell_split_s)
        for first, last in _merged(runs[:, 0], runs[:, 1], self.t, zone >= 0, r.rejoin_s, 2, r.zone_min_s):
            ids, counts = np.unique(zone[first : last + 1], return_counts=True)
            z = ctx.zones[int(ids[np.argmax(counts)])]
            signals = ["inside_restricted_zone"] + (["loaded"] if self.loaded[first : last + 1].any() else [])
            measured = {"duration_s": float(self.t[last] - self.t[first])}
            mid = (first + last) // 2
            self._emit(
                AlertType.RESTRICTED_ZONE, first, last, float(self.tr.lat[mid]), float(self.tr.lon[mid]),
                0.9, signals, measured, {"zone_id": z.id, "zone_name": z.name},
            )  # fmt: skip

    def _corridor(self) -> None:
        ctx, r = self.ctx, self.ctx.rules
        permits = ctx.permits.get(self.vid, ())
        for j, p in enumerate(permits):
            mask = (self.in_force == j) & self.valid & ~self.in_site
            if not p.corridor or not mask.any():
                continue
            lines = ctx.corridors.get(p.id)
            if lines is None:
                lines = [RouteCorridor.from_coords(line, ctx.lat0, ctx.lon0) for line in p.corridor]
                ctx.corridors[p.id] = lines
            dist = np.zeros(len(self.tr))
            pick = np.flatnonzero(mask)
            near = np.full(pick.shape[0], np.inf)
            for c in lines:
                d, _, _ = c.fast_nearest_xy(self.x[pick], self.y[pick])
                np.minimum(near, d, out=near)
            dist[pick] = near
            starts, ends = kernels.detour_episodes(
                self.t, dist, mask, r.corridor_enter_m, r.corridor_exit_m, 1, 0.0
            )
            off = mask & (dist > r.corridor_exit_m)
            min_fixes, min_s = r.corridor_min_fixes, r.corridor_min_s
            for s, e in _merged(starts, ends, self.t, off, r.rejoin_s, min_fixes, min_s):
                far = s + int(np.argmax(np.where(mask[s : e + 1], dist[s : e + 1], -1.0)))
                measured = {
                    "duration_s": float(self.t[e] - self.t[s]),
                    "max_distance_m": float(dist[far]),
                }
                self._emit(
                    AlertType.DETOUR, s, e, float(self.tr.lat[far]), float(self.tr.lon[far]), 0.9,
                    ["off_permit_corridor"] + (["loaded"] if self.loaded[s : e + 1].any() else []),
                    measured, {"permit_id": p.id},
                )  # fmt: skip

    # ----------------------------------------------------------------------- tickets

    def _tickets(self) -> None:
        """Link each ticket of this vehicle to its track: mismatches, then short deliveries."""
        last_in = -math.inf
        for tk in self.ctx.tickets.get(self.vid, ()):
            p = self.ctx.site_ids.get(tk.facility_id)
            props = {"ticket_id": tk.ticket_id, "facility_id": tk.facility_id, "net_kg": tk.net_kg}
            status, measured = self._ticket_status(tk)
            if status == "unknown_facility":
                self._ticket_alert(AlertType.TICKET_MISMATCH, tk, None, 0.5, [status], {}, props)
            elif status == "no_fixes_that_day":
                self._ticket_alert(AlertType.TICKET_MISMATCH, tk, p, 0.3, [status], {}, props)
            elif status == "elsewhere":
                conf = 0.95 if measured["distance_m"] > 500 else 0.8
                signals = ["vehicle_elsewhere_at_ticket_time"]
                self._ticket_alert(AlertType.TICKET_MISMATCH, tk, p, conf, signals, measured, props)
            elif status == "linked" and tk.direction == "in" and p is not None:
                self._weight(tk, p, last_in, props)
                last_in = tk.ts_utc

    def _ticket_status(self, tk: WeighTicket) -> tuple[str, dict[str, float]]:
        """``linked`` (a fix at the site within ``ticket_link_s``), ``elsewhere`` (a fix too far to
        have reached the site), ``unseen`` (neither: a GPS gap), ``unknown_facility`` or
        ``no_fixes_that_day``; with the refuting fix's measures for ``elsewhere``. Remembered.
        """
        if tk not in self._status:
            self._status[tk] = self._judge_ticket(tk)
        return self._status[tk]

    def _judge_ticket(self, tk: WeighTicket) -> tuple[str, dict[str, float]]:
        r = self.ctx.rules
        p = self.ctx.site_ids.get(tk.facility_id)
        if p is None:
            return "unknown_facility", {}
        if len(self.tr) == 0:
            return "no_fixes_that_day", {}
        near = self._fixes_around(tk.ts_utc)
        d = self.ctx.site_index.distances(p, self.x[near], self.y[near])
        if near.size and float(d.min()) <= r.ticket_margin_m and self._in_link(near[int(np.argmin(d))], tk):
            return "linked", {}
        slack = r.ticket_margin_m + r.max_speed_mps * np.abs(self.t[near] - tk.ts_utc)
        refute = np.flatnonzero(d > slack)
        if not refute.size:
            return "unseen", {}
        k = int(refute[np.argmax(d[refute] - slack[refute])])
        measured = {
            "distance_m": float(d[k]),
            "fix_offset_s": float(self.t[near[k]] - tk.ts_utc),
            "fixes": float(near.size),
        }
        return "elsewhere", measured

    def _fixes_around(self, ts: float) -> IntArray:
        """Valid fixes within ``ticket_link_s`` of ``ts``, plus the last valid one before and first after."""
        r = self.ctx.rules
        vi, tv = self.vi, self.tv
        lo = int(np.searchsorted(tv, ts - r.ticket_link_s))
        hi = int(np.searchsorted(tv, ts + r.ticket_link_s, side="right"))
        k = int(np.searchsorted(tv, ts))
        lo = max(min(lo, k - 1), 0)
        hi = min(max(hi, k + 1), vi.shape[0])
        out: IntArray = vi[lo:hi]
        return out

    def _in_link(self, i: int, tk: WeighTicket) -> bool:
        """Whether fix ``i`` is within ``ticket_link_s`` of the ticket's time."""
        return abs(float(self.t[i]) - tk.ts_utc) <= self.ctx.rules.ticket_link_s

    def _weight(self, tk: WeighTicket, p: int, last_in: float, props: dict[str, Any]) -> None:
        """Compare a linked delivery ticket with the load at loading."""
        r = self.ctx.rules
        declared = [
            o
            for o in self.ctx.tickets.get(self.vid, ())
            if o.direction == "out" and last_in < o.ts_utc < tk.ts_utc
        ]
        signals: list[str]
        if declared:
            loaded_kg, t_load, signals = declared[-1].net_kg, declared[-1].ts_utc, ["declared_at_source"]
        elif self.has_load:
            t_end = self.t[self.d_end]
            rise = self.d_after - self.d_before
            cand = np.flatnonzero((t_end < tk.ts_utc) & (t_end > last_in) & (rise >= r.drop_kg))
            if not cand.size:
                return
            k = int(cand[-1])
            loaded_kg, t_load, signals = (
                float(self.d_after[k]),
                float(self.t[self.d_end[k]]),
                ["onboard_load"],
            )
        else:
            return
        missing = loaded_kg - tk.net_kg
        if missing <= max(r.discrepancy_kg, r.discrepancy_frac * loaded_kg):
            return
        measured = {"loaded_kg": loaded_kg, "delivered_kg": tk.net_kg, "missing_kg": missing}
        conf = 0.85 if declared else 0.8
        self._ticket_alert(
            AlertType.WEIGHT_DISCREPANCY, tk, p, conf, [*signals, "net_short"], measured, props, start=t_load
        )

    def _ticket_alert(
        self,
        kind: AlertType,
        tk: WeighTicket,
        site: int | None,
        conf: float,
        signals: list[str],
        measured: dict[str, float],
        props: dict[str, Any],
        start: float | None = None,
    ) -> None:
        ctx = self.ctx
        lat, lon = ctx.sites[site].centre if site is not None else (ctx.lat0, ctx.lon0)
        t0 = tk.ts_utc if start is None else min(start, tk.ts_utc)
        idx = np.zeros(0, dtype=np.int64)
        if len(self.tr):
            lo = int(np.searchsorted(self.t, t0 - ctx.rules.ticket_link_s))
            hi = int(np.searchsorted(self.t, tk.ts_utc + ctx.rules.ticket_link_s, side="right"))
            idx = thin(np.arange(lo, hi, dtype=np.int64), EVIDENCE_POSITIONS)
        feats = [point_feature(lat, lon, {"role": "ticket_site", **props})]
        if idx.size:
            feats.append(
                _track_feature(self.tr.lat, self.tr.lon, idx, {"role": "track"}, {"ts_utc": self.tr.ts_utc})
            )
        self.alerts.append(
            Alert(
                kind,
                self.vid,
                float(t0),
                float(tk.ts_utc),
                float(lat),
                float(lon),
                measured,
                collection(*feats),
                None,
                conf,
                tuple(signals),
            )
        )

    # ----------------------------------------------------------------------- output

    def _nearest_site(self, x: float, y: float) -> tuple[str, float] | None:
        idx = self.ctx.site_index
        if not len(idx):
            return None
        d = [idx.distance(p, x, y) for p in range(len(idx))]
        p = int(np.argmin(d))
        return idx.ids[p], max(float(d[p]), 0.0)

    def _emit(
        self,
        kind: AlertType,
        s: int,
        e: int,
        lat: float,
        lon: float,
        conf: float,
        signals: list[str],
        measured: dict[str, float],
        props: dict[str, Any],
    ) -> None:
        tr = self.tr
        idx = thin(np.arange(s, e + 1, dtype=np.int64), EVIDENCE_POSITIONS)
        per_fix = {
            "ts_utc": tr.ts_utc,
            "speed_mps": self.speed,
            "load_kg": tr.load_kg,
            "body_tipping": tr.body_tipping,
        }
        props = {"vehicle_id": self.vid, "alert_type": kind.value, **props, **measured}
        feat = _track_feature(tr.lat, tr.lon, idx, props, per_fix)
        self.alerts.append(
            Alert(
                kind,
                self.vid,
                float(tr.ts_utc[s]),
                float(tr.ts_utc[e]),
                lat,
                lon,
                measured,
                collection(feat),
                None,
                round(float(conf), 3),
                tuple(signals),
            )
        )


def _merged(
    starts: IntArray,
    ends: IntArray,
    t: FloatArray,
    counted: BoolArray,
    rejoin_s: float,
    min_fixes: int,
    min_s: float,
) -> list[tuple[int, int]]:
    """Episodes ``(start, end)`` (inclusive fix indices, in order) joined across breaks under ``rejoin_s``.

    Joined episodes are kept with at least ``min_fixes`` ``counted`` fixes (the
    off-route or in-zone ones) spanning at least ``min_s``.
    """
    out: list[list[int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if out and t[s] - t[out[-1][1]] < rejoin_s:
            out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out if int(counted[s : e + 1].sum()) >= min_fixes and t[e] - t[s] >= min_s]


def _track_feature(
    lat: FloatArray,
    lon: FloatArray,
    idx: IntArray,
    properties: dict[str, Any],
    per_fix: dict[str, FloatArray],
) -> dict[str, Any]:
    """:func:`telematics.alerts.track_feature` (same output), rounding whole arrays at once.

    Positions ``[lon, lat]`` to 7 decimals; per-fix values to 2 decimals
    (``ts_utc`` as is), NaN as null.
    """
    pts = np.round(np.column_stack((lon[idx], lat[idx])), 7).tolist()
    geometry: dict[str, Any] = (
        {"type": "LineString", "coordinates": pts}
        if len(pts) >= 2
        else {"type": "Point", "coordinates": pts[0]}
    )
    props = dict(properties)
    for name, values in per_fix.items():
        vals = values[idx]
        if name == "ts_utc":
            props[name] = vals.tolist()
        else:
            rounded = np.round(vals, 2).tolist()
            props[name] = [v if v == v else None for v in rounded] if np.isnan(vals).any() else rounded
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _allows_hour(permit: Permit, tod: FloatArray) -> BoolArray:
    """Per local time of day ``tod`` (s): :meth:`Permit.allows_hour`, vectorised."""
    if not permit.allowed_hours:
        return np.ones(tod.shape[0], dtype=np.bool_)
    hit = np.zeros(tod.shape[0], dtype=np.bool_)
    for w in permit.allowed_hours:
        if w.start_s == w.end_s:
            hit[:] = True
        elif w.wraps:
            hit |= (tod >= w.start_s) | (tod < w.end_s)
        else:
            hit |= (tod >= w.start_s) & (tod < w.end_s)
    return hit
