"""Police any plan: PLAN.geojson + POSITIONS.csv (+ permits, sites, zones, tickets) -> alerts.

The glue of ``wastefleet police``. The telematics checks
(:class:`telematics.checks.VehicleChecker`: detours, stops, speeding, GPS gaps)
run on every route of the plan; a hauler's route (``origin_facility`` /
``destination_facility``) is checked for detours, speeding and gaps only, and
not for detours when a permit gives its corridor (the enforcement checks judge
that). When permits, sites, zones or tickets are given, the enforcement checks
(:func:`telematics.enforcement.police_enforcement`) add their alerts; the
plan's facilities count as approved sites (a circle of :data:`FACILITY_RADIUS_M`) and its
collection stops as approved places where tipping is not allowed (:data:`COLLECTION_RADIUS_M`).

Output (:func:`alerts_document`): ``{"alerts": [{"type", "vehicle_id", "start",
"end", "lat", "lon", "stop_id", "confidence", "signals", "measured", "key"}]}``
with ISO 8601 UTC times, sorted by vehicle, start time and type.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.domain import Alert, AlertType, Position, Route, Stream, VehicleKind
from core.enforcement import DISPOSAL_KINDS, Permit, RestrictedZone, Site, SiteKind, WeighTicket
from core.errors import ValidationError
from core.geojson import iso_utc
from core.plan_reader import InterchangePlan, PlanFacility
from core.serialize import plain_json
from telematics.checks import CheckRules, TrackColumns, VehicleChecker, check_track, stop_targets, yard_points
from telematics.corridor import RouteCorridor

FACILITY_RADIUS_M = 150.0
"""A plan facility counts as an approved site within this radius of its point (m)."""

COLLECTION_RADIUS_M = 50.0
"""A planned collection stop counts as an approved place (not for disposal) within this radius (m)."""

_STREAMS = frozenset(s.value for s in Stream)

HAULER_CHECKS = frozenset({AlertType.DETOUR, AlertType.SPEEDING, AlertType.GPS_GAP})
"""The telematics checks run on a hauler's route."""


@dataclass(frozen=True, slots=True)
class EnforcementInputs:
    """What the enforcement checks need besides the tracks (any may be empty)."""

    sites: tuple[Site, ...] = ()
    zones: tuple[RestrictedZone, ...] = ()
    permits: tuple[Permit, ...] = ()
    tickets: tuple[WeighTicket, ...] = ()

    @property
    def given(self) -> bool:
        """Whether any enforcement record was given (the enforcement checks run then)."""
        return bool(self.sites or self.zones or self.permits or self.tickets)


def facility_site(f: PlanFacility) -> Site:
    """A plan facility as an approved site: a circle of :data:`FACILITY_RADIUS_M` around its point.

    Approved for disposal when the plan says ``approved_for_spoil`` or its kind is a
    disposal kind (transfer station, landfill, spoil field, ...).
    """
    try:
        kind = SiteKind(f.facility_kind)
    except ValueError:
        kind = SiteKind.OTHER
    return Site(
        id=f.id,
        kind=kind,
        lat=f.lat,
        lon=f.lon,
        radius_m=FACILITY_RADIUS_M,
        approved_for_disposal=bool(f.approved_for_spoil or kind in DISPOSAL_KINDS),
        accepted_streams=frozenset(Stream(s) for s in f.accepted_streams if s in _STREAMS),
        name=f.name,
    )


def collection_sites(ip: InterchangePlan) -> list[Site]:
    """The plan's collection stops as approved places (circles of :data:`COLLECTION_RADIUS_M`, no tipping)."""
    out: dict[str, Site] = {}
    for route in ip.plan.routes:
        for stop in route.collections:
            out.setdefault(
                stop.ref_id,
                Site(
                    stop.ref_id,
                    SiteKind.COLLECTION_POINT,
                    lat=stop.lat,
                    lon=stop.lon,
                    radius_m=COLLECTION_RADIUS_M,
                ),
            )
    return list(out.values())


def group_tracks(positions: Sequence[Position]) -> dict[str, list[Position]]:
    """Fixes per device id, sorted by time."""
    out: dict[str, list[Position]] = defaultdict(list)
    for p in positions:
        out[p.device_id].append(p)
    return {k: sorted(v, key=lambda p: p.ts_utc) for k, v in out.items()}


def _checker(ip: InterchangePlan, route: Route, rules: CheckRules, permit_corridor: bool) -> VehicleChecker:
    vid = route.vehicle_id
    hauler = vid in ip.hauls or ip.vehicle_kinds.get(vid) == VehicleKind.MUCK_HAULER
    if hauler:
        checks = HAULER_CHECKS - ({AlertType.DETOUR} if permit_corridor else set())
        rules = dataclasses.replace(rules, checks=rules.checks & checks)
    kph = ip.segment_speed_kph.get(vid)
    try:
        corridor = RouteCorridor.from_route(route, reach_m=max(100.0, 2.0 * rules.enter_m)) if kph else None
    except ValidationError:
        corridor = None  # a line with under two distinct points: no corridor, so no segment limits
    if not kph or corridor is None:
        return VehicleChecker.for_route(
            route, day_start_utc=None if hauler else ip.day_start_utc, rules=rules
        )
    # The corridor is the depot point then the route's line: its last segments are the line's.
    n_seg = corridor.seg_limit_mps.shape[0]
    limits = np.full(n_seg, np.nan)
    given = np.array([np.nan if v is None else v / 3.6 for v in kph], dtype=np.float64)
    if given.shape[0] <= n_seg:
        limits[n_seg - given.shape[0] :] = given
    corridor = dataclasses.replace(corridor, seg_limit_mps=limits)
    return VehicleChecker(
        vid,
        rules=rules,
        corridor=corridor,
        yards=yard_points(route),
        stops=[] if hauler else stop_targets(route, ip.day_start_utc),
    )


def police_interchange(
    ip: InterchangePlan,
    positions: Sequence[Position] | Mapping[str, Any],
    enforcement: EnforcementInputs | None = None,
    *,
    rules: CheckRules | None = None,
) -> list[Alert]:
    """Every alert of the day: telematics checks per route, enforcement checks when records are given.

    Parameters
    ----------
    ip : the plan read by :func:`core.plan_reader.plan_from_geojson`.
    positions : every fix of the day (any devices, any order), or tracks per
        vehicle id sorted by time (:class:`telematics.positions_csv.DeviceTrack`);
        devices report as their vehicle id. Fixes of vehicles without a route go
        to the enforcement checks only.
    enforcement : sites, zones, permits, tickets.
    rules : telematics thresholds.

    Returns
    -------
    list of Alert, sorted by vehicle, start time and type.
    """
    rules = rules or CheckRules()
    enf = enforcement or EnforcementInputs()
    tracks: Mapping[str, Any] = positions if isinstance(positions, Mapping) else group_tracks(positions)
    with_corridor = {p.vehicle_id for p in enf.permits if p.corridor}
    alerts: list[Alert] = []
    for route in ip.plan.routes:
        vid = route.vehicle_id
        fixes = tracks.get(vid)
        if fixes is None or len(fixes) == 0:
            continue
        checker = _checker(ip, route, rules, vid in with_corridor)
        columns = (
            TrackColumns.from_positions(fixes) if isinstance(fixes, list) else TrackColumns.from_object(fixes)
        )
        alerts += check_track(checker, columns).alerts
    if enf.given:
        from telematics.enforcement import police_enforcement

        sites = list(enf.sites)
        taken = {s.id for s in sites}
        for site in [*(facility_site(f) for f in ip.facilities), *collection_sites(ip)]:
            if site.id not in taken:
                sites.append(site)
                taken.add(site.id)
        alerts += police_enforcement(
            tracks,
            sites=sites,
            zones=enf.zones,
            permits=enf.permits,
            tickets=enf.tickets,
            day=ip.plan.day,
            timezone=ip.timezone,
            vehicle_kinds=ip.vehicle_kinds,
        )
    unique = {a.key: a for a in alerts}
    return sorted(unique.values(), key=lambda a: (a.vehicle_id, a.start_utc, a.type.value, a.key))


def iso_time(ts: float) -> str:
    """ISO 8601 UTC (``Z``, whole seconds) of UNIX epoch seconds ``ts``."""
    return iso_utc(datetime.fromtimestamp(ts, UTC))


def alert_entry(alert: Alert, *, evidence: bool = False) -> dict[str, Any]:
    """One alert of the ``police`` output (times ISO 8601 UTC; ``evidence`` GeoJSON when asked)."""
    out: dict[str, Any] = {
        "type": alert.type.value,
        "vehicle_id": alert.vehicle_id,
        "start": iso_time(alert.start_utc),
        "end": iso_time(alert.end_utc),
        "lat": round(float(alert.lat), 7),
        "lon": round(float(alert.lon), 7),
        "stop_id": alert.stop_id,
        "confidence": round(float(alert.confidence), 3),
        "signals": list(alert.signals),
        "measured": plain_json(alert.measured),
        "key": alert.key,
    }
    if evidence:
        out["evidence"] = plain_json(alert.evidence)
    return out


def alerts_document(alerts: Sequence[Alert], *, evidence: bool = False) -> dict[str, Any]:
    """``{"alerts": [...]}``: the ``police --json`` output."""
    return {"alerts": [alert_entry(a, evidence=evidence) for a in alerts]}


def count_by_type(alerts: Sequence[Alert]) -> Mapping[str, int]:
    """Alert counts per type, by type name."""
    counts: dict[str, int] = defaultdict(int)
    for a in alerts:
        counts[a.type.value] += 1
    return dict(sorted(counts.items()))
