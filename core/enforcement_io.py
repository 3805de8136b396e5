"""Enforcement records in and out: GeoJSON and CSV loaders, and the JSON bodies the store keeps.

Loaders never stop at a bad record: each returns a :class:`Loaded` with the good
records and a :class:`core.reading.Rejection` per bad one, naming where it is (``line 7``
of a CSV file, where line 1 is the header; ``features[3]`` of a GeoJSON file),
the record id when known, the field and why. A file that cannot be read at all
(not JSON, no header, a required column missing) raises
:class:`core.errors.ValidationError`.

Formats (GeoJSON coordinates are ``[lon, lat]``; list cells of a CSV are ``;``-separated):

- **sites** (approved places): GeoJSON Point (with ``radius_m``) or Polygon features,
  or CSV ``id,kind,lat,lon,radius_m[,name,approved_for_disposal,accepted_streams]``.
  Properties: ``id``, ``kind`` (:class:`core.enforcement.SiteKind`; ``facility_kind``
  is read too), ``name``, ``approved_for_disposal`` (``approved_for_spoil`` is read
  too), ``accepted_streams``.
- **zones** (restricted zones): GeoJSON Polygon features with ``id``, ``name``,
  ``active_hours`` (``["07:00-09:00", ...]``; absent: always), ``vehicle_kinds``.
- **permits**: CSV ``id,vehicle_id,valid_from,valid_to,origin_site_ids,disposal_site_ids
  [,allowed_hours,stream]`` (dates ``YYYY-MM-DD``, hours ``22:00-06:00``), or GeoJSON
  features with the same properties and the approved corridor as a LineString or
  MultiLineString geometry (``null``: no corridor).
- **tickets** (weighbridge): CSV ``ticket_id,vehicle_id,facility_id,time,gross_kg,
  tare_kg,net_kg,stream[,direction]`` with ``time`` in ISO 8601 UTC.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast

from core.enforcement import DailyWindow, Permit, RestrictedZone, Site, WeighTicket
from core.errors import ValidationError
from core.reading import FieldError, Rejection, iso_utc_seconds, parse_json, read_text

T = TypeVar("T")
Kind = Literal["sites", "zones", "permits", "tickets"]
KINDS: tuple[Kind, ...] = ("sites", "zones", "permits", "tickets")

__all__ = [
    "KINDS",
    "Loaded",
    "Rejection",
    "load_csv",
    "load_file",
    "load_geojson",
    "permit_from_dict",
    "permit_to_dict",
    "site_from_dict",
    "site_to_dict",
    "ticket_from_dict",
    "ticket_to_dict",
    "tickets_to_csv",
    "to_geojson",
    "zone_from_dict",
    "zone_to_dict",
]


@dataclass(frozen=True, slots=True)
class Loaded(Generic[T]):
    """The outcome of loading one file: accepted records and the rejections."""

    records: list[T]
    rejected: list[Rejection] = field(default_factory=list)


# --------------------------------------------------------------------------- cell parsing


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(props: Mapping[str, Any], name: str, *aliases: str, required: bool = True) -> str | None:
    for key in (name, *aliases):
        value = props.get(key)
        if not _blank(value):
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise FieldError(key, f"must be a string, got {value!r}")
            return str(value).strip()
    if required:
        raise FieldError(name, "is missing")
    return None


def _number(props: Mapping[str, Any], name: str, *, required: bool = True) -> float | None:
    value = props.get(name)
    if _blank(value):
        if required:
            raise FieldError(name, "is missing")
        return None
    if isinstance(value, bool):
        raise FieldError(name, f"must be a number, got {value!r}")
    try:
        out = float(cast(Any, value))
    except (TypeError, ValueError):
        raise FieldError(name, f"must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise FieldError(name, f"must be a finite number, got {value!r}")
    return out


def _flag(props: Mapping[str, Any], name: str, *aliases: str) -> bool:
    for key in (name, *aliases):
        value = props.get(key)
        if _blank(value):
            continue
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "y", "t"):
            return True
        if text in ("0", "false", "no", "n", "f"):
            return False
        raise FieldError(key, f"must be true or false, got {value!r}")
    return False


def _list(props: Mapping[str, Any], name: str) -> list[str]:
    """A JSON list, or a ``;``-separated CSV cell; blank: empty."""
    value = props.get(name)
    if _blank(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value]
    raise FieldError(name, f"must be a list, got {value!r}")


def _day(props: Mapping[str, Any], name: str) -> date:
    value = _text(props, name)
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise FieldError(name, f"must be a date YYYY-MM-DD, got {value!r}") from None


def _utc(props: Mapping[str, Any], name: str, *aliases: str) -> float:
    return iso_utc_seconds(name, str(_text(props, name, *aliases)))


def _hours(props: Mapping[str, Any], name: str) -> list[DailyWindow]:
    out = []
    for text in _list(props, name):
        try:
            out.append(DailyWindow.parse(text))
        except ValidationError as exc:
            raise FieldError(name, f"{exc.reason}, got {text!r}") from None
    return out


def _lonlat(where: str, value: Any) -> tuple[float, float]:
    """A GeoJSON position ``[lon, lat]`` as ``(lat, lon)``."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise FieldError(where, f"must be a [lon, lat] position, got {value!r}")
    lon, lat = value[0], value[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        raise FieldError(where, f"must hold numbers, got {value!r}")
    return float(lat), float(lon)


def _ring(geometry: Mapping[str, Any]) -> list[tuple[float, float]]:
    """The outer ring of a Polygon (or of the first polygon of a MultiPolygon) as ``(lat, lon)``."""
    coords = geometry.get("coordinates")
    if geometry.get("type") == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise FieldError("geometry.coordinates", "must hold at least one polygon")
        coords = coords[0]
    if not isinstance(coords, list) or not coords or not isinstance(coords[0], list):
        raise FieldError("geometry.coordinates", "must hold the polygon's rings")
    return [_lonlat(f"geometry.coordinates[0][{k}]", p) for k, p in enumerate(coords[0])]


def _lines(geometry: Mapping[str, Any] | None) -> list[list[tuple[float, float]]]:
    if geometry is None:
        return []
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "LineString":
        coords = [coords]
    elif kind != "MultiLineString":
        raise FieldError("geometry.type", f"must be LineString, MultiLineString or null, got {kind!r}")
    if not isinstance(coords, list):
        raise FieldError("geometry.coordinates", "must be a list of lines")
    out = []
    for i, line in enumerate(coords):
        if not isinstance(line, list):
            raise FieldError(f"geometry.coordinates[{i}]", "must be a list of [lon, lat] positions")
        out.append([_lonlat(f"geometry.coordinates[{i}][{k}]", p) for k, p in enumerate(line)])
    return out


# --------------------------------------------------------------------------- record builders


def _site(props: Mapping[str, Any], geometry: Mapping[str, Any] | None) -> Site:
    sid = _text(props, "id", "site_id")
    kind = _text(props, "kind", "site_kind", "facility_kind")
    common: dict[str, Any] = {
        "id": sid,
        "kind": kind,
        "name": _text(props, "name", required=False) or "",
        "approved_for_disposal": _flag(props, "approved_for_disposal", "approved_for_spoil"),
        "accepted_streams": _list(props, "accepted_streams"),
    }
    if geometry is not None and geometry.get("type") in ("Polygon", "MultiPolygon"):
        return Site(polygon=tuple(_ring(geometry)), **common)
    if geometry is not None:
        if geometry.get("type") != "Point":
            raise FieldError("geometry.type", f"must be Point or Polygon, got {geometry.get('type')!r}")
        lat: float | None
        lon: float | None
        lat, lon = _lonlat("geometry.coordinates", geometry.get("coordinates"))
    else:
        lat, lon = _number(props, "lat"), _number(props, "lon")
    return Site(lat=lat, lon=lon, radius_m=_number(props, "radius_m"), **common)


def _zone(props: Mapping[str, Any], geometry: Mapping[str, Any] | None) -> RestrictedZone:
    zid = _text(props, "id", "zone_id")
    if geometry is None or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        got = None if geometry is None else geometry.get("type")
        raise FieldError("geometry.type", f"must be Polygon, got {got!r}")
    return RestrictedZone(
        id=str(zid),
        name=_text(props, "name", required=False) or "",
        polygon=tuple(_ring(geometry)),
        active_hours=tuple(_hours(props, "active_hours")),
        vehicle_kinds=cast(Any, frozenset(_list(props, "vehicle_kinds"))),
    )


def _permit(props: Mapping[str, Any], geometry: Mapping[str, Any] | None) -> Permit:
    pid = _text(props, "id", "permit_id")
    stream = _text(props, "stream", required=False)
    return Permit(
        id=str(pid),
        vehicle_id=str(_text(props, "vehicle_id")),
        valid_from=_day(props, "valid_from"),
        valid_to=_day(props, "valid_to"),
        origin_site_ids=tuple(_list(props, "origin_site_ids")),
        disposal_site_ids=tuple(_list(props, "disposal_site_ids")),
        allowed_hours=tuple(_hours(props, "allowed_hours")),
        corridor=tuple(tuple(line) for line in _lines(geometry)),
        **cast(Any, {} if stream is None else {"stream": stream}),
    )


def _ticket(props: Mapping[str, Any], geometry: Mapping[str, Any] | None) -> WeighTicket:
    tid = _text(props, "ticket_id")
    direction = _text(props, "direction", required=False)
    return WeighTicket(
        ticket_id=str(tid),
        vehicle_id=str(_text(props, "vehicle_id")),
        facility_id=str(_text(props, "facility_id")),
        ts_utc=_utc(props, "time", "timestamp"),
        gross_kg=float(_number(props, "gross_kg") or 0.0),
        tare_kg=float(_number(props, "tare_kg") or 0.0),
        net_kg=float(_number(props, "net_kg") or 0.0),
        stream=cast(Any, _text(props, "stream")),
        **({} if direction is None else {"direction": direction}),
    )


_BUILDERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any] | None], Any]] = {
    "sites": _site,
    "zones": _zone,
    "permits": _permit,
    "tickets": _ticket,
}
_ID_FIELDS = ("id", "ticket_id", "site_id", "zone_id", "permit_id")
_CSV_REQUIRED: dict[str, tuple[str, ...]] = {
    "sites": ("id", "kind", "lat", "lon", "radius_m"),
    "permits": ("id", "vehicle_id", "valid_from", "valid_to", "origin_site_ids", "disposal_site_ids"),
    "tickets": (
        "ticket_id",
        "vehicle_id",
        "facility_id",
        "time",
        "gross_kg",
        "tare_kg",
        "net_kg",
        "stream",
    ),
}


def _record_id(props: Mapping[str, Any]) -> str | None:
    for key in _ID_FIELDS:
        value = props.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def _build(kind: str, where: str, props: Mapping[str, Any], geometry: Any) -> Any:
    """One record, or a Rejection."""
    try:
        return _BUILDERS[kind](props, geometry)
    except FieldError as bad:
        return Rejection(where, bad.field, bad.reason, _record_id(props))
    except ValidationError as exc:
        return Rejection(where, exc.field, exc.reason, _record_id(props))


def _split(kind: str, items: Iterable[tuple[str, Mapping[str, Any], Any]]) -> Loaded[Any]:
    records: list[Any] = []
    rejected: list[Rejection] = []
    seen: dict[str, str] = {}
    for where, props, geometry in items:
        out = _build(kind, where, props, geometry)
        if isinstance(out, Rejection):
            rejected.append(out)
            continue
        rid = out.ticket_id if isinstance(out, WeighTicket) else out.id
        if rid in seen:
            rejected.append(Rejection(where, "id", f"repeats the id of {seen[rid]}", rid))
            continue
        seen[rid] = where
        records.append(out)
    return Loaded(records, rejected)


# --------------------------------------------------------------------------- files


def load_geojson(kind: Kind, data: Any, *, source: str = "GeoJSON") -> Loaded[Any]:
    """Records of ``kind`` from a parsed GeoJSON FeatureCollection (or a list of features).

    Raises
    ------
    ValidationError
        When ``data`` is not a FeatureCollection (one bad feature is only rejected).
    """
    if kind == "tickets":
        raise ValidationError(source, "kind", "tickets are read from CSV only")
    features = data.get("features") if isinstance(data, Mapping) else data
    if not isinstance(features, list):
        raise ValidationError(source, "features", "must be a list (a GeoJSON FeatureCollection)")
    items: list[tuple[str, Mapping[str, Any], Any]] = []
    bad: list[Rejection] = []
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        if not isinstance(feature, Mapping) or not isinstance(feature.get("properties") or {}, Mapping):
            bad.append(Rejection(where, "properties", "must be a Feature with an object of properties"))
            continue
        props = dict(feature.get("properties") or {})
        if "id" not in props and feature.get("id") is not None:
            props["id"] = feature["id"]
        geometry = feature.get("geometry")
        if geometry is not None and not isinstance(geometry, Mapping):
            bad.append(Rejection(where, "geometry", "must be a GeoJSON geometry or null", _record_id(props)))
            continue
        items.append((where, props, geometry))
    out = _split(kind, items)
    return Loaded(out.records, sorted([*bad, *out.rejected], key=_order))


def _order(r: Rejection) -> tuple[int, str]:
    digits = "".join(c for c in r.where if c.isdigit())
    return (int(digits) if digits else -1, r.where)


def load_csv(kind: Kind, text: str, *, source: str = "CSV") -> Loaded[Any]:
    """Records of ``kind`` from CSV text with a header line; rejections name the line (header = 1).

    Raises
    ------
    ValidationError
        When the header lacks a required column (or zones, which are polygons, come as CSV).
    """
    if kind == "zones":
        raise ValidationError(source, "kind", "restricted zones are polygons: give a GeoJSON file")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in _CSV_REQUIRED[kind] if c not in header]
    if missing:
        raise ValidationError(source, missing[0], f"column is missing from the header (line 1): {header}")
    reader.fieldnames = header
    items = []
    for row in reader:
        where = f"line {reader.line_num}"
        props = {k: v for k, v in row.items() if k is not None}
        items.append((where, props, None))
    return _split(kind, items)


def load_file(kind: Kind, path: str | Path) -> Loaded[Any]:
    """Records of ``kind`` from a ``.geojson``/``.json`` or ``.csv`` file (by suffix).

    Raises
    ------
    ValidationError
        An unknown kind or suffix, a file that cannot be read or parsed at all.
    """
    if kind not in KINDS:
        raise ValidationError(str(path), "kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
    p = Path(path)
    text = read_text(p)
    suffix = p.suffix.lower()
    if suffix in (".geojson", ".json"):
        return load_geojson(kind, parse_json(p, text), source=str(p))
    if suffix in (".csv", ".txt"):
        return load_csv(kind, text, source=str(p))
    raise ValidationError(str(p), "file", f"has an unknown suffix {suffix!r} (.geojson, .json or .csv)")


# --------------------------------------------------------------------------- stored bodies


def _windows_out(windows: Sequence[DailyWindow]) -> list[list[int]]:
    return [[int(w.start_s), int(w.end_s)] for w in windows]


def site_to_dict(site: Site) -> dict[str, Any]:
    """A site as plain JSON (``polygon`` as ``[lat, lon]`` pairs)."""
    return {
        "id": site.id,
        "kind": site.kind.value,
        "name": site.name,
        "polygon": [list(p) for p in site.polygon],
        "lat": site.lat,
        "lon": site.lon,
        "radius_m": site.radius_m,
        "approved_for_disposal": site.approved_for_disposal,
        "accepted_streams": sorted(s.value for s in site.accepted_streams),
    }


def site_from_dict(d: Mapping[str, Any]) -> Site:
    """The inverse of :func:`site_to_dict`."""
    return Site(
        id=d["id"],
        kind=d["kind"],
        name=d.get("name", ""),
        polygon=tuple(tuple(p) for p in d.get("polygon") or ()),
        lat=d.get("lat"),
        lon=d.get("lon"),
        radius_m=d.get("radius_m"),
        approved_for_disposal=bool(d.get("approved_for_disposal", False)),
        accepted_streams=frozenset(d.get("accepted_streams") or ()),
    )


def zone_to_dict(zone: RestrictedZone) -> dict[str, Any]:
    """A restricted zone as plain JSON (hours as ``[start_s, end_s]`` local seconds)."""
    return {
        "id": zone.id,
        "name": zone.name,
        "polygon": [list(p) for p in zone.polygon],
        "active_hours": _windows_out(zone.active_hours),
        "vehicle_kinds": sorted(k.value for k in zone.vehicle_kinds),
    }


def zone_from_dict(d: Mapping[str, Any]) -> RestrictedZone:
    """The inverse of :func:`zone_to_dict`."""
    return RestrictedZone(
        id=d["id"],
        name=d.get("name", ""),
        polygon=tuple(tuple(p) for p in d["polygon"]),
        active_hours=tuple(DailyWindow(*w) for w in d.get("active_hours") or ()),
        vehicle_kinds=frozenset(d.get("vehicle_kinds") or ()),
    )


def permit_to_dict(permit: Permit) -> dict[str, Any]:
    """A permit as plain JSON (dates ISO, corridor as lists of ``[lat, lon]``)."""
    return {
        "id": permit.id,
        "vehicle_id": permit.vehicle_id,
        "valid_from": permit.valid_from.isoformat(),
        "valid_to": permit.valid_to.isoformat(),
        "origin_site_ids": list(permit.origin_site_ids),
        "disposal_site_ids": list(permit.disposal_site_ids),
        "allowed_hours": _windows_out(permit.allowed_hours),
        "corridor": [[list(p) for p in line] for line in permit.corridor],
        "stream": permit.stream.value,
    }


def permit_from_dict(d: Mapping[str, Any]) -> Permit:
    """The inverse of :func:`permit_to_dict`."""
    return Permit(
        id=d["id"],
        vehicle_id=d["vehicle_id"],
        valid_from=date.fromisoformat(d["valid_from"]),
        valid_to=date.fromisoformat(d["valid_to"]),
        origin_site_ids=tuple(d.get("origin_site_ids") or ()),
        disposal_site_ids=tuple(d["disposal_site_ids"]),
        allowed_hours=tuple(DailyWindow(*w) for w in d.get("allowed_hours") or ()),
        corridor=tuple(tuple(tuple(p) for p in line) for line in d.get("corridor") or ()),
        stream=d.get("stream", "spoil"),
    )


def ticket_to_dict(ticket: WeighTicket) -> dict[str, Any]:
    """A weigh ticket as plain JSON (``ts_utc`` UNIX epoch s)."""
    return {
        "ticket_id": ticket.ticket_id,
        "vehicle_id": ticket.vehicle_id,
        "facility_id": ticket.facility_id,
        "ts_utc": ticket.ts_utc,
        "gross_kg": ticket.gross_kg,
        "tare_kg": ticket.tare_kg,
        "net_kg": ticket.net_kg,
        "stream": ticket.stream.value,
        "direction": ticket.direction,
    }


def ticket_from_dict(d: Mapping[str, Any]) -> WeighTicket:
    """The inverse of :func:`ticket_to_dict`."""
    return WeighTicket(
        ticket_id=d["ticket_id"],
        vehicle_id=d["vehicle_id"],
        facility_id=d["facility_id"],
        ts_utc=float(d["ts_utc"]),
        gross_kg=float(d["gross_kg"]),
        tare_kg=float(d["tare_kg"]),
        net_kg=float(d["net_kg"]),
        stream=d.get("stream", "spoil"),
        direction=d.get("direction", "in"),
    )


# --------------------------------------------------------------------------- writers


def _hhmm(seconds: int) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" if s == 0 else f"{h:02d}:{m:02d}:{s:02d}"


def _hours_out(windows: Sequence[DailyWindow]) -> list[str]:
    return [f"{_hhmm(w.start_s)}-{_hhmm(w.end_s)}" for w in windows]


def _ring_out(polygon: Sequence[tuple[float, float]]) -> list[list[list[float]]]:
    ring = [[lon, lat] for lat, lon in polygon]
    return [[*ring, ring[0]]]


def _feature_of(record: Any) -> dict[str, Any]:
    geometry: dict[str, Any] | None
    if isinstance(record, Site):
        props: dict[str, Any] = {
            "id": record.id,
            "kind": record.kind.value,
            "name": record.name,
            "approved_for_disposal": record.approved_for_disposal,
            "accepted_streams": sorted(s.value for s in record.accepted_streams),
        }
        if record.polygon:
            geometry = {"type": "Polygon", "coordinates": _ring_out(record.polygon)}
        else:
            geometry = {"type": "Point", "coordinates": [record.lon, record.lat]}
            props["radius_m"] = record.radius_m
    elif isinstance(record, RestrictedZone):
        geometry = {"type": "Polygon", "coordinates": _ring_out(record.polygon)}
        props = {
            "id": record.id,
            "name": record.name,
            "active_hours": _hours_out(record.active_hours),
            "vehicle_kinds": sorted(k.value for k in record.vehicle_kinds),
        }
    elif isinstance(record, Permit):
        lines = [[[lon, lat] for lat, lon in line] for line in record.corridor]
        geometry = {"type": "MultiLineString", "coordinates": lines} if lines else None
        props = {
            "id": record.id,
            "vehicle_id": record.vehicle_id,
            "valid_from": record.valid_from.isoformat(),
            "valid_to": record.valid_to.isoformat(),
            "origin_site_ids": list(record.origin_site_ids),
            "disposal_site_ids": list(record.disposal_site_ids),
            "allowed_hours": _hours_out(record.allowed_hours),
            "stream": record.stream.value,
        }
    else:
        raise ValidationError("to_geojson", "records", f"cannot write {type(record).__name__} as GeoJSON")
    return {"type": "Feature", "geometry": geometry, "properties": props}


def to_geojson(records: Iterable[Site | RestrictedZone | Permit]) -> dict[str, Any]:
    """Sites, zones or permits as a FeatureCollection that :func:`load_geojson` reads back equal."""
    return {"type": "FeatureCollection", "features": [_feature_of(r) for r in records]}


def tickets_to_csv(tickets: Iterable[WeighTicket]) -> str:
    """Weigh tickets as CSV that :func:`load_csv` reads back (times ISO 8601 UTC, microseconds if any)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_CSV_REQUIRED["tickets"], "direction"])
    for t in tickets:
        moment = datetime.fromtimestamp(t.ts_utc, UTC)
        when = moment.isoformat(timespec="seconds" if t.ts_utc == int(t.ts_utc) else "microseconds")
        writer.writerow(
            [
                t.ticket_id,
                t.vehicle_id,
                t.facility_id,
                when.replace("+00:00", "Z"),
                repr(float(t.gross_kg)),
                repr(float(t.tare_kg)),
                repr(float(t.net_kg)),
                t.stream.value,
                t.direction,
            ]
        )
    return out.getvalue()
