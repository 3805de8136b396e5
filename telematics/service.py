"""Live telemetry: store raw fixes first, then check them as they arrive, per vehicle and day.

:class:`TelemetryService` is what the API's ingest endpoints call. For each
accepted batch it

1. appends the raw positions to the store (nothing acknowledged is lost, and a
   repeated ``(device, ts_utc)`` adds nothing);
2. pushes them to the streaming :class:`telematics.checks.VehicleChecker` of
   their vehicle and local day (created on first use from the day's latest
   plan, and fed the day's stored fixes so a restart loses nothing);
3. stores the alerts the checker completes (idempotent by alert key) and marks
   the day's GPS jumps as outliers.

Missed stops and sweeping coverage are only known at the end of the day:
:meth:`TelemetryService.close_day` runs the batch check on the stored day.
Devices report as their vehicle (device id = vehicle id of a stored district).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.domain import Alert, Plan, Position, Route
from core.geojson import day_start_utc
from core.store import Store
from telematics.checks import CheckRules, TrackColumns, VehicleChecker, check_track
from telematics.ingest import ParsedBatch
from telematics.limits import RoadLimits

log = logging.getLogger(__name__)

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What happened to one batch: counts, every rejection with its reason, new alerts."""

    received: int
    accepted: int
    stored: int
    duplicates: int
    rejected: list[dict[str, Any]]
    alerts: list[Alert] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON (alerts as their keys)."""
        return {
            "received": self.received,
            "accepted": self.accepted,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "alerts": [a.key for a in self.alerts],
        }


class TelemetryService:
    """Ingest and live checking over one store.

    Parameters
    ----------
    store : where positions, plans, districts and alerts live.
    rules : checker thresholds.
    road_limits : road speed limits (else each vehicle's own limit).
    """

    def __init__(
        self, store: Store, *, rules: CheckRules | None = None, road_limits: RoadLimits | None = None
    ) -> None:
        self.store = store
        self.rules = rules or CheckRules()
        self.road_limits = road_limits
        self._checkers: dict[tuple[str, date], VehicleChecker | None] = {}
        self._districts: dict[str, Any] = {}

    def known_devices(self) -> dict[str, str]:
        """Device (vehicle) id -> district name, from the stored districts."""
        return self.store.device_districts()

    def ingest(self, batch: ParsedBatch, *, source: str) -> IngestReport:
        """Store ``batch`` (raw, first), check it, store new alerts; report everything."""
        for r in batch.rejected:
            log.info("ingest %s: record %d %s: %s (%s)", source, r.index, r.field, r.reason, r.device_id)
        stored = self.store.add_positions(batch.positions, source=source)
        alerts = self.process(batch.positions)
        return IngestReport(
            received=batch.received,
            accepted=len(batch.positions),
            stored=stored,
            duplicates=batch.duplicates + len(batch.positions) - stored,
            rejected=[r.as_dict() for r in batch.rejected],
            alerts=alerts,
        )

    # ----------------------------------------------------------------------- live checking

    def process(self, positions: list[Position]) -> list[Alert]:
        """Push positions to their vehicle-day checkers; store and return the new alerts."""
        devices = self.known_devices()
        groups: dict[tuple[str, date], list[Position]] = defaultdict(list)
        for p in positions:
            district = devices.get(p.device_id)
            if district is None:
                continue
            tz = ZoneInfo(self._district(district).timezone)
            day = datetime.fromtimestamp(p.ts_utc, UTC).astimezone(tz).date()
            groups[(p.device_id, day)].append(p)
        fresh: list[Alert] = []
        for (device, day), group in groups.items():
            key = (device, day)
            if key not in self._checkers:
                self._checkers[key] = self._open(device, devices[device], day)
                checker = self._checkers[key]
                if checker is None:
                    continue
                found = self._day_positions(device, devices[device], day)
                fresh += checker.push_track(TrackColumns.from_positions(found))
            else:
                checker = self._checkers[key]
                if checker is None:
                    continue
                fresh += checker.push_track(TrackColumns.from_positions(group))
            self._mark_outliers(device, devices[device], day, checker)
        if fresh:
            self.store.save_alerts(fresh)
        return fresh

    def close_day(self, district: str, day: date) -> list[Alert]:
        """Run the whole-day check of every planned vehicle of ``district`` on ``day``; store alerts.

        Returns every alert of the day (already stored ones included; storing
        is idempotent).
        """
        found = self.store.latest_plan(district, day)
        if found is None:
            return []
        _, plan = found
        alerts: list[Alert] = []
        for route in plan.routes:
            checker = self._checker_for(route, district, day)
            positions = self._day_positions(route.vehicle_id, district, day)
            if not positions:
                continue
            result = check_track(checker, TrackColumns.from_positions(positions))
            alerts += result.alerts
            start = day_start_utc(day, self._district(district).timezone)
            self.store.set_outliers(route.vehicle_id, start, start + DAY_S, result.outlier_ts)
            self._checkers.pop((route.vehicle_id, day), None)
        self.store.save_alerts(alerts)
        return alerts

    # ----------------------------------------------------------------------- internals

    def _district(self, name: str) -> Any:
        if name not in self._districts:
            self._districts[name] = self.store.get_district(name)
        return self._districts[name]

    def _plan(self, district: str, day: date) -> Plan | None:
        found = self.store.latest_plan(district, day)
        return None if found is None else found[1]

    def _checker_for(self, route: Route, district: str, day: date) -> VehicleChecker:
        d = self._district(district)
        vehicle = next((v for v in d.vehicles if v.id == route.vehicle_id), None)
        return VehicleChecker.for_route(
            route,
            day_start_utc=day_start_utc(day, d.timezone),
            rules=self.rules,
            road_limits=self.road_limits,
            vehicle_limit_mps=None if vehicle is None else vehicle.max_speed_mps,
        )

    def _open(self, device: str, district: str, day: date) -> VehicleChecker | None:
        plan = self._plan(district, day)
        route = None if plan is None else next((r for r in plan.routes if r.vehicle_id == device), None)
        if route is None:
            return None
        return self._checker_for(route, district, day)

    def _day_positions(self, device: str, district: str, day: date) -> list[Position]:
        start = day_start_utc(day, self._district(district).timezone)
        return [p for p in self.store.positions(device, start, start + DAY_S) if p.ts_utc < start + DAY_S]

    def _mark_outliers(self, device: str, district: str, day: date, checker: VehicleChecker) -> None:
        t, out = checker.outliers()
        if t.shape[0] == 0:
            return
        start = day_start_utc(day, self._district(district).timezone)
        self.store.set_outliers(device, start, start + DAY_S, t[out].tolist())
