"""Read a plan in the open interchange format (PLAN.geojson; see README, "Plan GeoJSON").

The inverse of :func:`core.geojson.plan_to_geojson`, and the way in for plans made
elsewhere. Each ``route`` feature becomes a :class:`core.domain.Route` that the
telematics checks can police:

- the route's road path is its LineString; a stop's leg is the piece of it up to
  the stop's ``path_index`` (the vertex where the truck stands; written by our own
  export), or, without one, up to the first close approach to the stop after the
  previous stop's vertex (within :data:`STAND_SLACK_M` of the nearest);
- the route starts at its depot (``depot_id``, else the ``depot`` facility
  nearest the line's first point within :data:`DEPOT_MATCH_M`, else that point)
  at ``start`` and ends at the line's last point (the depot's position when
  known) at ``end``;
- stop times are ``eta`` (planned service start) and ``service_s``; without an
  ``eta`` the start is interpolated along the line between the route's ``start``
  and ``end`` (or the stop's window start when it has one);
- a hauler (``origin_facility`` and ``destination_facility``) gets one route from
  the origin to the destination over the LineString; its repeated round trips
  drive the same roads, so the corridor is the same.

Times in the file are ISO 8601 UTC. Plan times become seconds since local
midnight of the plan's day in ``properties.timezone`` of the FeatureCollection
(UTC when absent); ``properties.day`` gives the day, else the local date of the
first time found. A bad feature is rejected with its index, id and field, and
the rest are kept (:class:`core.reading.Rejection`); a stop whose route is missing or
rejected is rejected too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from core.domain import Plan, PlanStop, Route, StopKind, TimeWindow, VehicleKind
from core.errors import ValidationError
from core.geo import haversine_m
from core.geojson import day_start_utc
from core.reading import FieldError, Rejection, iso_utc_seconds

DEPOT_MATCH_M = 500.0
"""A depot facility this close to a route's first point is taken as its depot (m)."""

STAND_SLACK_M = 15.0
"""A stop without ``path_index`` is matched to the first pass within this of its nearest (m)."""


@dataclass(frozen=True, slots=True)
class PlanFacility:
    """A ``facility`` feature: depot, transfer station, construction site, spoil field, ..."""

    id: str
    facility_kind: str
    lat: float
    lon: float
    name: str = ""
    approved_for_spoil: bool = False
    accepted_streams: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InterchangePlan:
    """A plan read from the interchange format, with what the checks need besides the routes.

    ``day_start_utc`` is UNIX time of local midnight of ``plan.day`` in ``timezone``
    (plan times count from it). ``segment_speed_kph`` holds, per vehicle, the
    speed limit of each segment of its route's LineString (``None`` where not
    given). ``hauls`` maps a hauler to its ``(origin_facility, destination_facility)``.
    """

    plan: Plan
    timezone: str
    day_start_utc: float
    facilities: tuple[PlanFacility, ...]
    vehicle_kinds: dict[str, VehicleKind]
    segment_speed_kph: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    hauls: dict[str, tuple[str, str]] = field(default_factory=dict)
    rejected: tuple[Rejection, ...] = ()


def parse_utc(value: Any, name: str) -> float | None:
    """UNIX seconds of an ISO 8601 time (no zone: UTC); ``None`` for null or absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(name, f"must be an ISO 8601 UTC time, got {value!r}")
    return iso_utc_seconds(name, value)


def _point(geometry: Any) -> tuple[float, float]:
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        raise FieldError("geometry", "must be a Point")
    return _lonlat("geometry.coordinates", geometry.get("coordinates"))


def _lonlat(name: str, value: Any) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    ):
        raise FieldError(name, f"must be a [lon, lat] position of numbers, got {value!r}")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise FieldError(name, f"must lie within [-180, 180] x [-90, 90], got {value!r}")
    return lat, lon


def _line(geometry: Any) -> list[tuple[float, float]]:
    if not isinstance(geometry, Mapping) or geometry.get("type") != "LineString":
        raise FieldError("geometry", "must be a LineString")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        raise FieldError("geometry.coordinates", "must hold at least two positions")
    return [_lonlat(f"geometry.coordinates[{k}]", p) for k, p in enumerate(coords)]


def _text(props: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = props.get(name)
    if value is None or value == "":
        if required:
            raise FieldError(f"properties.{name}", "is missing")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise FieldError(f"properties.{name}", f"must be a string, got {value!r}")
    return str(value)


def _num(props: Mapping[str, Any], name: str, default: float | None = None) -> float | None:
    value = props.get(name)
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise FieldError(f"properties.{name}", f"must be a finite number, got {value!r}")
    return float(value)


@dataclass(slots=True)
class _RouteIn:
    index: int
    vehicle_id: str
    kind: VehicleKind
    line: list[tuple[float, float]]
    start: float | None
    end: float | None
    depot_id: str | None
    limits: tuple[float | None, ...]
    haul: tuple[str, str] | None


@dataclass(slots=True)
class _StopIn:
    index: int
    vehicle_id: str
    stop_id: str
    seq: int
    kind: StopKind
    lat: float
    lon: float
    tw: tuple[float | None, float | None]
    service_s: float
    eta: float | None
    path_index: int | None


def _facility(props: Mapping[str, Any], geometry: Any) -> PlanFacility:
    lat, lon = _point(geometry)
    streams = props.get("accepted_streams") or []
    if not isinstance(streams, list):
        raise FieldError("properties.accepted_streams", f"must be a list, got {streams!r}")
    spoil = props.get("approved_for_spoil", False)
    if not isinstance(spoil, bool):
        raise FieldError("properties.approved_for_spoil", f"must be true or false, got {spoil!r}")
    return PlanFacility(
        id=str(_text(props, "id")),
        facility_kind=str(_text(props, "facility_kind")),
        lat=lat,
        lon=lon,
        name=_text(props, "name", required=False) or "",
        approved_for_spoil=spoil,
        accepted_streams=tuple(str(s) for s in streams),
    )


def _route(index: int, props: Mapping[str, Any], geometry: Any) -> _RouteIn:
    vid = str(_text(props, "vehicle_id"))
    raw_kind = _text(props, "vehicle_kind")
    try:
        kind = VehicleKind(str(raw_kind))
    except ValueError:
        allowed = ", ".join(k.value for k in VehicleKind)
        raise FieldError("properties.vehicle_kind", f"must be one of {allowed}; got {raw_kind!r}") from None
    line = _line(geometry)
    limits: tuple[float | None, ...] = ()
    raw = props.get("segment_speed_kph")
    if raw is not None:
        if not isinstance(raw, list) or len(raw) != len(line) - 1:
            raise FieldError(
                "properties.segment_speed_kph",
                f"must list one speed (km/h or null) per segment ({len(line) - 1}), got {_short(raw)}",
            )
        for k, v in enumerate(raw):
            if v is not None and (not isinstance(v, int | float) or isinstance(v, bool) or not v > 0):
                raise FieldError(
                    f"properties.segment_speed_kph[{k}]", f"must be a speed > 0 km/h or null, got {v!r}"
                )
        limits = tuple(None if v is None else float(v) for v in raw)
    origin = _text(props, "origin_facility", required=False)
    destination = _text(props, "destination_facility", required=False)
    if (origin is None) != (destination is None):
        missing = "origin_facility" if origin is None else "destination_facility"
        raise FieldError(f"properties.{missing}", "is missing (a hauler route needs both facilities)")
    return _RouteIn(
        index,
        vid,
        kind,
        line,
        parse_utc(props.get("start"), "properties.start"),
        parse_utc(props.get("end"), "properties.end"),
        _text(props, "depot_id", required=False),
        limits,
        None if origin is None else (origin, str(destination)),
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _stop(index: int, props: Mapping[str, Any], geometry: Any) -> _StopIn:
    lat, lon = _point(geometry)
    raw_type = _text(props, "stop_type")
    if raw_type not in ("collection", "unload"):
        raise FieldError("properties.stop_type", f"must be collection or unload, got {raw_type!r}")
    seq = props.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise FieldError("properties.seq", f"must be an integer, got {seq!r}")
    service = _num(props, "service_s", 0.0) or 0.0
    if service < 0:
        raise FieldError("properties.service_s", f"must be >= 0, got {service!r}")
    tw = (
        parse_utc(props.get("tw_start"), "properties.tw_start"),
        parse_utc(props.get("tw_end"), "properties.tw_end"),
    )
    if tw[0] is not None and tw[1] is not None and tw[1] < tw[0]:
        raise FieldError("properties.tw_end", "must not be before tw_start")
    path_index = props.get("path_index")
    if path_index is not None and (
        not isinstance(path_index, int) or isinstance(path_index, bool) or path_index < 0
    ):
        raise FieldError("properties.path_index", f"must be an integer >= 0, got {path_index!r}")
    stop_id = _text(props, "facility_id", required=False) if raw_type == "unload" else None
    return _StopIn(
        index,
        str(_text(props, "vehicle_id")),
        stop_id or str(_text(props, "stop_id")),
        seq,
        StopKind.COLLECTION if raw_type == "collection" else StopKind.UNLOAD,
        lat,
        lon,
        tw,
        service,
        parse_utc(props.get("eta"), "properties.eta"),
        path_index,
    )


def _first_time(routes: Sequence[_RouteIn], stops: Sequence[_StopIn]) -> float | None:
    times = [r.start for r in routes if r.start is not None]
    times += [s.eta for s in stops if s.eta is not None]
    times += [t for s in stops for t in s.tw if t is not None]
    return min(times) if times else None


def _stand_after(lat_line: np.ndarray, lon_line: np.ndarray, lat: float, lon: float, after: int) -> int:
    """The vertex where the truck stands for a stop without ``path_index``: the first close approach.

    From ``after`` on, the first vertex within :data:`STAND_SLACK_M` of the nearest
    distance, then forward while the distance still falls (so a route passing the
    stop twice is matched at its first pass, not skipped ahead).
    """
    d = np.asarray(haversine_m(lat_line[after:], lon_line[after:], lat, lon), dtype=np.float64)
    k = int(np.argmax(d <= d.min() + STAND_SLACK_M))
    while k + 1 < d.shape[0] and d[k + 1] < d[k]:
        k += 1
    return after + k


def _build_route(
    r: _RouteIn,
    stops: list[_StopIn],
    facilities: Mapping[str, PlanFacility],
    day0: float,
    rejected: list[Rejection],
) -> Route:
    line = r.line
    depot = facilities.get(r.depot_id or "") if r.depot_id else None
    if r.haul is not None:
        depot = facilities.get(r.haul[0])
    if depot is None:
        depots = [f for f in facilities.values() if f.facility_kind == "depot"]
        near = sorted((float(haversine_m(line[0][0], line[0][1], f.lat, f.lon)), f.id) for f in depots)
        if near and near[0][0] <= DEPOT_MATCH_M:
            depot = facilities[near[0][1]]
    start_lat, start_lon = (depot.lat, depot.lon) if depot is not None else line[0]
    cum = [0.0]
    for a, b in itertools.pairwise(line):
        cum.append(cum[-1] + float(haversine_m(a[0], a[1], b[0], b[1])))
    t_start = r.start if r.start is not None else next((s.eta for s in stops if s.eta is not None), day0)
    t_end = r.end if r.end is not None else t_start

    def along(k: int) -> float:
        share = cum[k] / cum[-1] if cum[-1] > 0 else 0.0
        return t_start + share * max(0.0, t_end - t_start)

    t0 = round(t_start - day0)
    depot_ref = r.depot_id or (depot.id if depot else "start")
    out = [PlanStop(StopKind.DEPOT_START, depot_ref, start_lat, start_lon, t0, t0, t0, 0.0, 0.0)]
    if r.haul is not None:
        dest = facilities.get(r.haul[1])
        lat, lon = (dest.lat, dest.lon) if dest is not None else line[-1]
        t = round(t_end - day0)
        out.append(PlanStop(StopKind.UNLOAD, r.haul[1], lat, lon, t, t, t, 0.0, 0.0, leg_coords=tuple(line)))
        return Route(r.vehicle_id, tuple(out))
    lat_line = np.array([p[0] for p in line])
    lon_line = np.array([p[1] for p in line])
    prev_k, prev_t = 0, t_start
    for s in sorted(stops, key=lambda s: s.seq):
        k = (
            s.path_index
            if s.path_index is not None
            else _stand_after(lat_line, lon_line, s.lat, s.lon, prev_k)
        )
        if k >= len(line) or k < prev_k:
            rejected.append(
                Rejection(
                    f"features[{s.index}]",
                    "properties.path_index",
                    f"must index the route's line after the previous stop ({prev_k}..{len(line) - 1}), "
                    f"got {k}",
                    s.stop_id,
                )
            )
            continue
        begin = s.eta if s.eta is not None else max(along(k), s.tw[0] if s.tw[0] is not None else -math.inf)
        begin = max(begin, prev_t)
        start_s = round(begin - day0)
        window = None
        if s.tw[0] is not None or s.tw[1] is not None:
            lo = round((s.tw[0] if s.tw[0] is not None else day0) - day0)
            hi = round((s.tw[1] if s.tw[1] is not None else day0 + 2 * 86_400) - day0)
            try:
                window = TimeWindow(max(0, lo), max(max(0, lo), hi))
            except ValidationError as exc:
                rejected.append(
                    Rejection(f"features[{s.index}]", "properties.tw_start", exc.reason, s.stop_id)
                )
                continue
        leg = tuple(line[prev_k : k + 1])
        out.append(
            PlanStop(
                s.kind,
                s.stop_id,
                s.lat,
                s.lon,
                start_s,
                start_s,
                start_s + round(s.service_s),
                0.0,
                0.0,
                leg_coords=leg,
                window=window,
            )
        )
        prev_k, prev_t = k, begin + s.service_s
    end_s = max(round(t_end - day0), out[-1].departure_s)
    end_leg = tuple(line[prev_k:])
    lat_e, lon_e = (depot.lat, depot.lon) if depot is not None else line[-1]
    out.append(
        PlanStop(
            StopKind.DEPOT_END, depot_ref, lat_e, lon_e, end_s, end_s, end_s, 0.0, 0.0, leg_coords=end_leg
        )
    )
    return Route(r.vehicle_id, tuple(out))


def plan_from_geojson(data: Any, *, timezone: str | None = None) -> InterchangePlan:
    """Read a PLAN.geojson FeatureCollection (already parsed from JSON).

    Parameters
    ----------
    data : the FeatureCollection.
    timezone : IANA zone of the city; overrides ``properties.timezone`` (default UTC).

    Raises
    ------
    ValidationError
        When ``data`` is not a FeatureCollection, names an unknown time zone, or
        holds no usable route. Single bad features are rejected, not raised.
    """
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise ValidationError("PLAN.geojson", "type", "must be a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list):
        raise ValidationError("PLAN.geojson", "features", "must be a list")
    raw_meta = data.get("properties")
    meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    tz = timezone or (meta.get("timezone") if isinstance(meta.get("timezone"), str) else None) or "UTC"
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "PLAN.geojson", "properties.timezone", f"is not a known IANA time zone: {tz!r}"
        ) from None
    rejected: list[Rejection] = []
    facilities: dict[str, PlanFacility] = {}
    routes: dict[str, _RouteIn] = {}
    stops: list[_StopIn] = []
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        if not isinstance(props, Mapping):
            rejected.append(Rejection(where, "properties", "must be an object (a GeoJSON Feature)"))
            continue
        rid = props.get("id") or props.get("stop_id") or props.get("vehicle_id")
        rid = str(rid) if rid is not None else None
        geometry = feature.get("geometry")
        try:
            kind = props.get("kind")
            if kind == "facility":
                fac = _facility(props, geometry)
                if fac.id in facilities:
                    raise FieldError("properties.id", "repeats the id of an earlier facility")
                facilities[fac.id] = fac
            elif kind == "route":
                route = _route(i, props, geometry)
                if route.vehicle_id in routes:
                    raise FieldError("properties.vehicle_id", "already has a route (one route per vehicle)")
                routes[route.vehicle_id] = route
            elif kind == "stop":
                stops.append(_stop(i, props, geometry))
            else:
                raise FieldError("properties.kind", f"must be route, stop or facility, got {kind!r}")
        except FieldError as bad:
            rejected.append(Rejection(where, bad.field, bad.reason, rid))
    by_vehicle: dict[str, list[_StopIn]] = {}
    for s in stops:
        if s.vehicle_id not in routes:
            rejected.append(
                Rejection(
                    f"features[{s.index}]",
                    "properties.vehicle_id",
                    f"names no route in the file: {s.vehicle_id!r}",
                    s.stop_id,
                )
            )
            continue
        by_vehicle.setdefault(s.vehicle_id, []).append(s)
    raw_day = meta.get("day")
    if isinstance(raw_day, str):
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise ValidationError(
                "PLAN.geojson", "properties.day", f"must be YYYY-MM-DD, got {raw_day!r}"
            ) from None
    else:
        first = _first_time(list(routes.values()), stops)
        day = datetime.fromtimestamp(first, zone).date() if first is not None else date(1970, 1, 1)
    day0 = day_start_utc(day, tz)
    built = [
        _build_route(r, by_vehicle.get(vid, []), facilities, day0, rejected) for vid, r in routes.items()
    ]
    if not built:
        raise ValidationError(
            "PLAN.geojson", "features", "holds no usable route feature: " + "; ".join(map(str, rejected[:3]))
        )
    district = str(meta.get("district") or "interchange")
    return InterchangePlan(
        plan=Plan(district, day, tuple(built)),
        timezone=tz,
        day_start_utc=day0,
        facilities=tuple(facilities.values()),
        vehicle_kinds={vid: r.kind for vid, r in routes.items()},
        segment_speed_kph={vid: r.limits for vid, r in routes.items() if r.limits},
        hauls={vid: r.haul for vid, r in routes.items() if r.haul is not None},
        rejected=tuple(sorted(rejected, key=lambda x: int(x.where[9:-1]))),
    )
