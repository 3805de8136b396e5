"""Plan export as GeoJSON in the open plan interchange format (see README, "Plan GeoJSON").

A plan is a FeatureCollection. Each feature has ``properties.kind``:

- ``route``: LineString of the whole day's road path; ``vehicle_id``, ``vehicle_kind``,
  ``distance_m``, ``duration_s``, ``start``, ``end``, ``depot_id``.
- ``stop``: Point; ``vehicle_id``, ``stop_id``, ``seq``, ``stop_type`` (``collection`` or
  ``unload``), ``facility_id`` (unload stops), ``tw_start``, ``tw_end`` (ISO 8601 UTC, or
  null when the stop has no window), ``service_s``, ``eta`` (planned service start,
  ISO 8601 UTC), ``stream``, ``expected_kg``, ``path_index`` (the vertex of the route's
  LineString where the truck stands to serve the stop).
- ``facility``: Point; ``id``, ``facility_kind`` (``depot``, ``transfer_station``, ...),
  ``name``, ``approved_for_spoil``, ``accepted_streams``.

Coordinates are ``[lon, lat]`` in WGS 84, as GeoJSON requires. The reader is
:func:`core.plan_reader.plan_from_geojson`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.domain import District, FacilityKind, Plan, StopKind, Stream


def local_seconds_to_utc(day: date, seconds: float, timezone: str) -> datetime:
    """The UTC instant of ``seconds`` after local midnight of ``day`` in ``timezone``."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return (midnight + timedelta(seconds=float(seconds))).astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 UTC with a ``Z`` suffix, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day_start_utc(day: date, timezone: str) -> float:
    """UNIX epoch seconds of local midnight of ``day`` in ``timezone``."""
    return local_seconds_to_utc(day, 0, timezone).timestamp()


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def plan_to_geojson(plan: Plan, district: District) -> dict[str, Any]:
    """The plan as an interchange-format FeatureCollection (see module docstring)."""
    tz = district.timezone
    vehicles = {v.id: v for v in district.vehicles}
    points = {p.id: p for p in district.points}

    def when(seconds: float | None) -> str | None:
        return None if seconds is None else iso_utc(local_seconds_to_utc(plan.day, seconds, tz))

    features: list[dict[str, Any]] = []
    for d in district.depots:
        props: dict[str, Any] = {"kind": "facility", "id": d.id, "facility_kind": "depot", "name": d.name}
        props |= {"approved_for_spoil": False, "accepted_streams": []}
        features.append({"type": "Feature", "geometry": _point(d.lat, d.lon), "properties": props})
    for f in district.facilities:
        props = {"kind": "facility", "id": f.id, "facility_kind": f.kind.value, "name": f.name}
        props |= {
            "approved_for_spoil": f.kind == FacilityKind.SPOIL_FIELD or Stream.SPOIL in f.accepted_streams,
            "accepted_streams": sorted(s.value for s in f.accepted_streams),
        }
        features.append({"type": "Feature", "geometry": _point(f.lat, f.lon), "properties": props})
    for route in plan.routes:
        line: list[list[float]] = []
        path_index: list[int] = []
        for stop in route.stops:
            for lat, lon in stop.leg_coords:
                if not line or line[-1] != [lon, lat]:
                    line.append([lon, lat])
            path_index.append(max(0, len(line) - 1))
        vehicle = vehicles.get(route.vehicle_id)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "kind": "route",
                    "vehicle_id": route.vehicle_id,
                    "vehicle_kind": vehicle.kind.value if vehicle else None,
                    "distance_m": round(route.distance_m, 1),
                    "duration_s": route.duration_s,
                    "start": when(route.stops[0].departure_s) if route.stops else None,
                    "end": when(route.stops[-1].arrival_s) if route.stops else None,
                    "depot_id": route.stops[0].ref_id if route.stops else None,
                },
            }
        )
        seq = 0
        for k, stop in enumerate(route.stops):
            if stop.kind not in (StopKind.COLLECTION, StopKind.UNLOAD):
                continue
            seq += 1
            point = points.get(stop.ref_id)
            props = {
                "kind": "stop",
                "vehicle_id": route.vehicle_id,
                "stop_id": stop.ref_id,
                "seq": seq,
                "stop_type": "collection" if stop.kind == StopKind.COLLECTION else "unload",
                "facility_id": stop.ref_id if stop.kind == StopKind.UNLOAD else None,
                "tw_start": when(stop.window.start_s) if stop.window else None,
                "tw_end": when(stop.window.end_s) if stop.window else None,
                "service_s": stop.departure_s - stop.start_s,
                "eta": when(stop.start_s),
                "stream": point.stream.value if point else None,
                "expected_kg": point.expected_kg if point else None,
                "path_index": path_index[k],
            }
            features.append({"type": "Feature", "geometry": _point(stop.lat, stop.lon), "properties": props})
    return {
        "type": "FeatureCollection",
        "properties": {"district": plan.district, "day": plan.day.isoformat(), "timezone": tz},
        "features": features,
    }
