"""Plain-JSON round trip for domain records: plans, alerts and district files.

``*_to_dict`` returns only JSON types (dict, list, str, int, float, bool,
None); ``*_from_dict`` rebuilds the exact record, so
``plan_from_dict(plan_to_dict(p)) == p`` (also after ``json.dumps``/``json.loads``).
Enums are written as their string values, dates as ISO strings
(``"2024-05-01"``), tuples as lists and frozensets of streams as sorted lists.

District JSON file format
-------------------------
One object; units are in the key names (``_kg``, ``_l``, ``_m``, ``_s``, ``_mps``)::

    {
      "name": "West Oakland", "timezone": "America/Los_Angeles",
      "depots": [{"id": "D1", "name": "Main yard", "lat": 37.81, "lon": -122.29}],
      "facilities": [{"id": "F1", "name": "Transfer", "kind": "transfer_station",
                      "lat": 37.80, "lon": -122.28, "accepted_streams": ["residual"],
                      "opening": {"start_s": 0, "end_s": 86400}, "unload_s": 900,
                      "tipping_bays": 1, "daily_capacity_kg": null}],
      "points": [{"id": "P1", "lat": 37.81, "lon": -122.28, "stream": "residual",
                  "expected_kg": 40.0, "expected_l": 240.0, "service_s": 60,
                  "time_windows": [{"start_s": 25200, "end_s": 36000}],
                  "penalty": null, "address": "1 Main St"}],
      "vehicles": [{"id": "V1", "kind": "collection_truck", "depot_id": "D1",
                    "streams": ["residual"], "capacity_kg": 9000.0, "capacity_l": 20000.0,
                    "shift": {"start_s": 21600, "end_s": 54000},
                    "break_window": {"start_s": 39600, "end_s": 43200},
                    "break_duration_s": 3600, "max_duration_s": null, "fixed_cost": 100.0,
                    "cost_per_km": 1.0, "cost_per_hour": 30.0, "max_speed_mps": 25.0}]
    }

Time windows are ``{"start_s", "end_s"}`` in seconds since local midnight;
streams are lists of stream names; ``"daily_capacity_kg": null`` means no limit
(``math.inf``); ``"penalty": null`` means the point is mandatory;
``"max_duration_s": null`` means the shift length. Keys with a default in
:mod:`core.domain` may be left out; unknown keys are rejected (they are
usually typos). Malformed input raises :class:`core.errors.ValidationError`
naming the record (``points[3] (id 'P12')``) and the field.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from core.domain import (
    Alert,
    AlertType,
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    Plan,
    PlanBreak,
    PlanStop,
    Route,
    StopKind,
    Stream,
    TimeWindow,
    UnservedPoint,
    Vehicle,
    VehicleKind,
)
from core.errors import NotFoundError, ValidationError

__all__ = [
    "RecordReader",
    "alert_from_dict",
    "alert_to_dict",
    "build_record",
    "district_from_dict",
    "district_to_dict",
    "load_district",
    "plain_json",
    "plan_from_dict",
    "plan_to_dict",
    "save_district",
]

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
_MISSING = object()


# --------------------------------------------------------------------------- reading helpers


class RecordReader:
    """Typed access to one JSON object; errors name ``record`` and the field."""

    def __init__(self, record: str, data: Any, allowed: Iterable[str]) -> None:
        if not isinstance(data, Mapping):
            raise ValidationError(record, "<record>", f"must be a JSON object, got {_short(data)}")
        unknown = sorted((k for k in data if k not in allowed), key=str)
        if unknown:
            raise ValidationError(record, str(unknown[0]), "is not a known field")
        self.record = record
        self.data = data

    def fail(self, key: str, reason: str) -> ValidationError:
        """A ValidationError for ``key`` of this record."""
        return ValidationError(self.record, key, reason)

    def _get(self, key: str, default: Any) -> tuple[Any, bool]:
        """``(value, present)``; a missing key without a default raises."""
        if key in self.data:
            return self.data[key], True
        if default is _MISSING:
            raise self.fail(key, "is missing")
        return default, False

    def text(self, key: str, default: Any = _MISSING, *, non_empty: bool = False) -> Any:
        """A string (``default`` when absent)."""
        value, present = self._get(key, default)
        if present:
            if not isinstance(value, str):
                raise self.fail(key, f"must be a string, got {_short(value)}")
            if non_empty and not value.strip():
                raise self.fail(key, "must be a non-empty string")
        return value

    def opt_text(self, key: str) -> str | None:
        """A string or null (absent means null)."""
        value, _ = self._get(key, None)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"must be a string or null, got {_short(value)}")
        return value

    def number(self, key: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """A number as ``float`` (``default`` when absent; ``None`` when null and ``nullable``)."""
        value, present = self._get(key, default)
        if not present or (value is None and nullable):
            return value
        return _as_float(self.record, key, value, nullable)

    def integer(self, key: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """An integer, an integral float accepted (``default`` when absent)."""
        value, present = self._get(key, default)
        if not present or (value is None and nullable):
            return value
        return _as_int(self.record, key, value, nullable)

    def day(self, key: str) -> date:
        """An ISO date ``YYYY-MM-DD``."""
        text = self.text(key)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(key, f"must be an ISO date (YYYY-MM-DD), got {text!r}") from None

    def enum(self, key: str, enum: type[E]) -> E:
        """A member of ``enum`` given by its string value."""
        value, _ = self._get(key, _MISSING)
        return _as_enum(self.record, key, value, enum)

    def array(self, key: str, default: Any = _MISSING) -> list[Any]:
        """A JSON array (``default`` when absent)."""
        value, _ = self._get(key, default)
        if not isinstance(value, list | tuple):
            raise self.fail(key, f"must be a list, got {_short(value)}")
        return list(value)

    def objects(self, key: str, default: Any = _MISSING) -> list[tuple[str, Mapping[str, Any]]]:
        """A list of JSON objects as ``(record name, object)`` pairs, named ``key[i] (id '...')``."""
        out = []
        for i, item in enumerate(self.array(key, default)):
            if not isinstance(item, Mapping):
                raise self.fail(f"{key}[{i}]", f"must be a JSON object, got {_short(item)}")
            name = f"{key}[{i}]"
            if isinstance(item.get("id"), str):
                name += f" (id '{item['id']}')"
            out.append((name, item))
        return out

    def streams(self, key: str, *, allow_empty: bool = False) -> frozenset[Stream]:
        """A list of stream names, non-empty unless ``allow_empty``."""
        items = self.array(key)
        if not items and not allow_empty:
            raise self.fail(key, "must name at least one stream")
        return frozenset(_as_enum(self.record, f"{key}[{i}]", v, Stream) for i, v in enumerate(items))

    def window(self, key: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """A ``{"start_s", "end_s"}`` object as a TimeWindow (``default`` when absent)."""
        value, present = self._get(key, default)
        if not present or (value is None and nullable):
            return value
        return _as_window(self.record, key, value)

    def mapping(self, key: str, default: Any = _MISSING) -> dict[str, Any]:
        """A JSON object with string keys, deep-copied."""
        value, _ = self._get(key, default)
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise self.fail(key, f"must be an object with string keys, got {_short(value)}")
        return copy.deepcopy(dict(value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_float(record: str, key: str, value: Any, nullable: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a number or null" if nullable else "a number"
        raise ValidationError(record, key, f"must be {kind}, got {_short(value)}")
    return float(value)


def _as_int(record: str, key: str, value: Any, nullable: bool = False) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an integer or null" if nullable else "an integer"
        raise ValidationError(record, key, f"must be {kind}, got {_short(value)}")
    return value


def _as_enum(record: str, key: str, value: Any, enum: type[E]) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationError(record, key, f"must be one of {allowed}; got {_short(value)}") from None


def _as_window(record: str, key: str, value: Any) -> TimeWindow:
    """A ``{"start_s", "end_s"}`` object; errors name ``key.start_s`` etc. under ``record``."""
    if not isinstance(value, Mapping):
        raise ValidationError(record, key, f"must be an object {{start_s, end_s}}, got {_short(value)}")
    for k in value:
        if k not in ("start_s", "end_s"):
            raise ValidationError(record, f"{key}.{k}", "is not a known field")
    bounds = []
    for k in ("start_s", "end_s"):
        if k not in value:
            raise ValidationError(record, f"{key}.{k}", "is missing")
        bounds.append(_as_int(record, f"{key}.{k}", value[k]))
    try:
        return TimeWindow(bounds[0], bounds[1])
    except ValidationError as e:
        raise ValidationError(record, f"{key}.{e.field}", e.reason) from e


def build_record(record: str, factory: Callable[..., T], **kwargs: Any) -> T:
    """Call a domain constructor, re-raising its ValidationError under ``record``."""
    try:
        return factory(**kwargs)
    except ValidationError as e:
        raise ValidationError(record, e.field, e.reason) from e


def plain_json(value: Any) -> Any:
    """``value`` as plain JSON types: tuples become lists, numpy scalars and arrays Python values."""
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return plain_json(value.tolist())
    return value


def _window_to_dict(w: TimeWindow) -> dict[str, int]:
    return {"start_s": w.start_s, "end_s": w.end_s}


def _streams_to_list(streams: frozenset[Stream]) -> list[str]:
    return sorted(s.value for s in streams)


# --------------------------------------------------------------------------- plans


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """A plan as plain JSON types.

    Parameters
    ----------
    plan : Plan
        The plan to convert.

    Returns
    -------
    dict
        ``{"district", "day" (ISO date), "objective", "solver_status",
        "routes": [{"vehicle_id", "stops": [...]}], "unserved": [{"point_id", "reason"}]}``;
        each stop has its fields with ``leg_coords`` as ``[[lat, lon], ...]`` and
        ``window`` as ``{"start_s", "end_s"}`` or ``None``.
    """
    return {
        "district": plan.district,
        "day": plan.day.isoformat(),
        "objective": plain_json(plan.objective),
        "solver_status": plan.solver_status,
        "routes": [
            {
                "vehicle_id": route.vehicle_id,
                "stops": [_stop_to_dict(s) for s in route.stops],
                "breaks": [
                    {"after_stop": b.after_stop, "start_s": b.start_s, "duration_s": b.duration_s}
                    for b in route.breaks
                ],
            }
            for route in plan.routes
        ],
        "unserved": [{"point_id": u.point_id, "reason": u.reason} for u in plan.unserved],
    }


def _stop_to_dict(s: PlanStop) -> dict[str, Any]:
    return {
        "kind": s.kind.value,
        "ref_id": s.ref_id,
        "lat": plain_json(s.lat),
        "lon": plain_json(s.lon),
        "arrival_s": plain_json(s.arrival_s),
        "start_s": plain_json(s.start_s),
        "departure_s": plain_json(s.departure_s),
        "load_kg": plain_json(s.load_kg),
        "load_l": plain_json(s.load_l),
        "leg_distance_m": plain_json(s.leg_distance_m),
        "leg_time_s": plain_json(s.leg_time_s),
        "leg_coords": [[float(lat), float(lon)] for lat, lon in s.leg_coords],
        "window": None if s.window is None else _window_to_dict(s.window),
    }


_PLAN_KEYS = ("district", "day", "objective", "solver_status", "routes", "unserved")
_ROUTE_KEYS = ("vehicle_id", "stops", "breaks")
_STOP_KEYS = (
    "kind",
    "ref_id",
    "lat",
    "lon",
    "arrival_s",
    "start_s",
    "departure_s",
    "load_kg",
    "load_l",
    "leg_distance_m",
    "leg_time_s",
    "leg_coords",
    "window",
)


def plan_from_dict(d: Mapping[str, Any]) -> Plan:
    """Rebuild a plan from :func:`plan_to_dict` output.

    Parameters
    ----------
    d : Mapping
        A plan dict (e.g. parsed from JSON).

    Returns
    -------
    Plan
        The plan, equal to the one that was converted.

    Raises
    ------
    ValidationError
        If a key is missing, unknown or of the wrong type (names the record and field).
    """
    r = RecordReader("plan", d, _PLAN_KEYS)
    day = r.day("day")
    routes = []
    for name, route_d in r.objects("routes"):
        rr = RecordReader(f"plan {name}", route_d, _ROUTE_KEYS)
        stops = tuple(_stop_from_dict(f"{rr.record} {n}", s) for n, s in rr.objects("stops"))
        breaks = []
        for bname, b in rr.objects("breaks", []):
            br = RecordReader(f"{rr.record} {bname}", b, ("after_stop", "start_s", "duration_s"))
            breaks.append(
                build_record(
                    br.record,
                    PlanBreak,
                    after_stop=br.integer("after_stop"),
                    start_s=br.integer("start_s"),
                    duration_s=br.integer("duration_s"),
                )
            )
        routes.append(Route(vehicle_id=rr.text("vehicle_id"), stops=stops, breaks=tuple(breaks)))
    unserved = []
    for name, u in r.objects("unserved", []):
        ur = RecordReader(f"plan {name}", u, ("point_id", "reason"))
        unserved.append(UnservedPoint(point_id=ur.text("point_id"), reason=ur.text("reason", "")))
    return Plan(
        district=r.text("district"),
        day=day,
        routes=tuple(routes),
        unserved=tuple(unserved),
        objective=r.number("objective", 0.0),
        solver_status=r.text("solver_status", ""),
    )


def _stop_from_dict(record: str, d: Any) -> PlanStop:
    r = RecordReader(record, d, _STOP_KEYS)
    coords = []
    for i, pair in enumerate(r.array("leg_coords", [])):
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise r.fail(f"leg_coords[{i}]", f"must be a [lat, lon] pair, got {_short(pair)}")
        lat = _as_float(record, f"leg_coords[{i}][0]", pair[0])
        lon = _as_float(record, f"leg_coords[{i}][1]", pair[1])
        coords.append((lat, lon))
    return build_record(
        record,
        PlanStop,
        kind=r.enum("kind", StopKind),
        ref_id=r.text("ref_id"),
        lat=r.number("lat"),
        lon=r.number("lon"),
        arrival_s=r.integer("arrival_s"),
        start_s=r.integer("start_s"),
        departure_s=r.integer("departure_s"),
        load_kg=r.number("load_kg"),
        load_l=r.number("load_l"),
        leg_distance_m=r.number("leg_distance_m", 0.0),
        leg_time_s=r.integer("leg_time_s", 0),
        leg_coords=tuple(coords),
        window=r.window("window", None, nullable=True),
    )


# --------------------------------------------------------------------------- alerts


_ALERT_KEYS = (
    "type",
    "vehicle_id",
    "start_utc",
    "end_utc",
    "lat",
    "lon",
    "measured",
    "evidence",
    "stop_id",
    "confidence",
    "signals",
)


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """An alert as plain JSON types.

    Returns
    -------
    dict
        ``{"type", "vehicle_id", "start_utc", "end_utc" (UTC epoch s), "lat", "lon",
        "measured", "evidence" (GeoJSON), "stop_id", "confidence" (0..1), "signals"}``.
        ``measured`` and ``evidence``
        are converted copies (tuples become lists, numpy values Python ones), so an
        alert round-trips exactly when its evidence already uses lists.
    """
    return {
        "type": alert.type.value,
        "vehicle_id": alert.vehicle_id,
        "start_utc": plain_json(alert.start_utc),
        "end_utc": plain_json(alert.end_utc),
        "lat": plain_json(alert.lat),
        "lon": plain_json(alert.lon),
        "measured": plain_json(alert.measured),
        "evidence": plain_json(alert.evidence),
        "stop_id": alert.stop_id,
        "confidence": plain_json(alert.confidence),
        "signals": list(alert.signals),
    }


def alert_from_dict(d: Mapping[str, Any]) -> Alert:
    """Rebuild an alert from :func:`alert_to_dict` output.

    ``confidence`` (default 1.0) and ``signals`` (default none) may be absent,
    as in alerts written before they existed.

    Raises
    ------
    ValidationError
        If a key is missing, unknown or of the wrong type.
    """
    r = RecordReader("alert", d, _ALERT_KEYS)
    signals = r.array("signals", [])
    for i, name in enumerate(signals):
        if not isinstance(name, str):
            raise r.fail(f"signals[{i}]", f"must be a string, got {name!r}")
    measured = r.mapping("measured", {})
    for k, v in measured.items():
        measured[k] = _as_float("alert", f"measured.{k}", v)
    return build_record(
        "alert",
        Alert,
        type=r.enum("type", AlertType),
        vehicle_id=r.text("vehicle_id", non_empty=True),
        start_utc=r.number("start_utc"),
        end_utc=r.number("end_utc"),
        lat=r.number("lat"),
        lon=r.number("lon"),
        measured=measured,
        evidence=r.mapping("evidence", {}),
        stop_id=r.opt_text("stop_id"),
        confidence=r.number("confidence", 1.0),
        signals=tuple(signals),
    )


# --------------------------------------------------------------------------- districts


def district_to_dict(district: District) -> dict[str, Any]:
    """A district in the district JSON file format (see the module docstring).

    Every field is written, defaults included; ``math.inf`` daily capacity is ``None``.
    """
    return {
        "name": district.name,
        "timezone": district.timezone,
        "depots": [{"id": d.id, "name": d.name, "lat": d.lat, "lon": d.lon} for d in district.depots],
        "facilities": [
            {
                "id": f.id,
                "name": f.name,
                "kind": f.kind.value,
                "lat": f.lat,
                "lon": f.lon,
                "accepted_streams": _streams_to_list(f.accepted_streams),
                "opening": _window_to_dict(f.opening),
                "unload_s": f.unload_s,
                "tipping_bays": f.tipping_bays,
                "daily_capacity_kg": None if math.isinf(f.daily_capacity_kg) else f.daily_capacity_kg,
            }
            for f in district.facilities
        ],
        "points": [
            {
                "id": p.id,
                "lat": p.lat,
                "lon": p.lon,
                "stream": p.stream.value,
                "expected_kg": p.expected_kg,
                "expected_l": p.expected_l,
                "service_s": p.service_s,
                "time_windows": [_window_to_dict(w) for w in p.time_windows],
                "penalty": p.penalty,
                "address": p.address,
            }
            for p in district.points
        ],
        "vehicles": [
            {
                "id": v.id,
                "kind": v.kind.value,
                "depot_id": v.depot_id,
                "streams": _streams_to_list(v.streams),
                "capacity_kg": v.capacity_kg,
                "capacity_l": v.capacity_l,
                "shift": _window_to_dict(v.shift),
                "break_window": _window_to_dict(v.break_window),
                "break_duration_s": v.break_duration_s,
                "max_duration_s": v.max_duration_s,
                "fixed_cost": v.fixed_cost,
                "cost_per_km": v.cost_per_km,
                "cost_per_hour": v.cost_per_hour,
                "max_speed_mps": v.max_speed_mps,
                "max_route_kg": v.max_route_kg,
                "max_route_l": v.max_route_l,
                "max_stops": v.max_stops,
            }
            for v in district.vehicles
        ],
    }


_DISTRICT_KEYS = ("name", "timezone", "depots", "facilities", "points", "vehicles")
_DEPOT_KEYS = ("id", "name", "lat", "lon")
_FACILITY_KEYS = (
    "id",
    "name",
    "kind",
    "lat",
    "lon",
    "accepted_streams",
    "opening",
    "unload_s",
    "tipping_bays",
    "daily_capacity_kg",
)
_POINT_KEYS = (
    "id",
    "lat",
    "lon",
    "stream",
    "expected_kg",
    "expected_l",
    "service_s",
    "time_windows",
    "penalty",
    "address",
)
_VEHICLE_KEYS = (
    "id",
    "kind",
    "depot_id",
    "streams",
    "capacity_kg",
    "capacity_l",
    "shift",
    "break_window",
    "break_duration_s",
    "max_duration_s",
    "fixed_cost",
    "cost_per_km",
    "cost_per_hour",
    "max_speed_mps",
    "max_route_kg",
    "max_route_l",
    "max_stops",
)
# Defaults come from the domain classes, so the file format never drifts from them.
_FACILITY_DEFAULTS = Facility.__dataclass_fields__
_POINT_DEFAULTS = CollectionPoint.__dataclass_fields__
_VEHICLE_DEFAULTS = Vehicle.__dataclass_fields__


def _default(fields: Mapping[str, Any], name: str) -> Any:
    return fields[name].default


def _depot(record: str, d: Any) -> Depot:
    r = RecordReader(record, d, _DEPOT_KEYS)
    return build_record(
        record,
        Depot,
        id=r.text("id", non_empty=True),
        name=r.text("name", ""),
        lat=r.number("lat"),
        lon=r.number("lon"),
    )


def _facility(record: str, d: Any) -> Facility:
    r = RecordReader(record, d, _FACILITY_KEYS)
    fd = _FACILITY_DEFAULTS
    capacity = r.number("daily_capacity_kg", _default(fd, "daily_capacity_kg"), nullable=True)
    return build_record(
        record,
        Facility,
        id=r.text("id", non_empty=True),
        name=r.text("name", ""),
        kind=(kind := r.enum("kind", FacilityKind)),
        lat=r.number("lat"),
        lon=r.number("lon"),
        accepted_streams=r.streams("accepted_streams", allow_empty=kind == FacilityKind.WATER_POINT),
        opening=r.window("opening", _default(fd, "opening")),
        unload_s=r.integer("unload_s", _default(fd, "unload_s")),
        tipping_bays=r.integer("tipping_bays", _default(fd, "tipping_bays")),
        daily_capacity_kg=math.inf if capacity is None else capacity,
    )


def _point(record: str, d: Any) -> CollectionPoint:
    r = RecordReader(record, d, _POINT_KEYS)
    pd = _POINT_DEFAULTS
    windows = tuple(
        _as_window(record, f"time_windows[{i}]", w) for i, w in enumerate(r.array("time_windows", []))
    )
    return build_record(
        record,
        CollectionPoint,
        id=r.text("id", non_empty=True),
        lat=r.number("lat"),
        lon=r.number("lon"),
        stream=r.enum("stream", Stream),
        expected_kg=r.number("expected_kg"),
        expected_l=r.number("expected_l"),
        service_s=r.integer("service_s", _default(pd, "service_s")),
        time_windows=windows,
        penalty=r.number("penalty", None, nullable=True),
        address=r.text("address", ""),
    )


def _vehicle(record: str, d: Any) -> Vehicle:
    r = RecordReader(record, d, _VEHICLE_KEYS)
    vd = _VEHICLE_DEFAULTS
    return build_record(
        record,
        Vehicle,
        id=r.text("id", non_empty=True),
        kind=r.enum("kind", VehicleKind),
        depot_id=r.text("depot_id", non_empty=True),
        streams=r.streams("streams"),
        capacity_kg=r.number("capacity_kg"),
        capacity_l=r.number("capacity_l"),
        shift=r.window("shift", _default(vd, "shift")),
        break_window=r.window("break_window", _default(vd, "break_window")),
        break_duration_s=r.integer("break_duration_s", _default(vd, "break_duration_s")),
        max_duration_s=r.integer("max_duration_s", None, nullable=True),
        fixed_cost=r.number("fixed_cost", _default(vd, "fixed_cost")),
        cost_per_km=r.number("cost_per_km", _default(vd, "cost_per_km")),
        cost_per_hour=r.number("cost_per_hour", _default(vd, "cost_per_hour")),
        max_speed_mps=r.number("max_speed_mps", _default(vd, "max_speed_mps")),
        max_route_kg=r.number("max_route_kg", None, nullable=True),
        max_route_l=r.number("max_route_l", None, nullable=True),
        max_stops=r.integer("max_stops", None, nullable=True),
    )


def district_from_dict(d: Mapping[str, Any]) -> District:
    """Build a district from the district JSON file format (see the module docstring).

    Parameters
    ----------
    d : Mapping
        The parsed JSON object.

    Returns
    -------
    District
        The validated district.

    Raises
    ------
    ValidationError
        Naming the record (e.g. ``points[3] (id 'P12')``) and the field for a missing
        or unknown key, a wrong type, or a value the domain rejects.
    """
    r = RecordReader("district", d, _DISTRICT_KEYS)
    name = r.text("name", non_empty=True)
    timezone = r.text("timezone", non_empty=True)
    return District(
        name=name,
        timezone=timezone,
        depots=tuple(_depot(rec, item) for rec, item in r.objects("depots")),
        facilities=tuple(_facility(rec, item) for rec, item in r.objects("facilities", [])),
        points=tuple(_point(rec, item) for rec, item in r.objects("points", [])),
        vehicles=tuple(_vehicle(rec, item) for rec, item in r.objects("vehicles")),
    )


def load_district(path: str | os.PathLike[str]) -> District:
    """Read a district JSON file.

    Parameters
    ----------
    path : str or PathLike
        The ``.json`` file (UTF-8).

    Returns
    -------
    District

    Raises
    ------
    NotFoundError
        If the file does not exist.
    ValidationError
        If it is not valid JSON or not a valid district.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise NotFoundError(f"district file not found: {path}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationError(
            f"district file '{path}'", f"line {e.lineno} column {e.colno}", f"is not valid JSON: {e.msg}"
        ) from e
    return district_from_dict(data)


def save_district(district: District, path: str | os.PathLike[str]) -> None:
    """Write a district JSON file atomically (UTF-8, indented, parent folders created).

    Parameters
    ----------
    district : District
        The district to write.
    path : str or PathLike
        The target ``.json`` file; replaced if it exists.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(district_to_dict(district), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
