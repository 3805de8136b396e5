"""The enforcement model: approved places, restricted zones, haulage permits, weigh tickets.

Frozen, slotted dataclasses that validate themselves and raise
:class:`core.errors.ValidationError` naming the record and the field. Units are
in the field names (``_m`` metres, ``_kg`` kilograms, ``_s`` seconds,
``_utc`` UNIX epoch seconds). Coordinates are ``(lat, lon)`` in degrees, latitude
first, like everywhere else in wastefleet.

Hours of the day (:class:`DailyWindow`) are seconds since local midnight in
the city's time zone; a window whose start is after its end wraps midnight
(``DailyWindow(22 * 3600, 6 * 3600)`` is 22:00-06:00).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from core.domain import (
    DAY_S,
    Stream,
    VehicleKind,
    _check_enum,
    _check_id,
    _check_lat_lon,
    _check_non_negative,
    _check_positive,
    _coerce_streams,
)
from core.errors import ValidationError

LatLon = tuple[float, float]

NET_TOLERANCE_KG = 20.0
"""A ticket's net weight may differ from gross - tare by this much (kg), rounding of weighbridges."""

NET_TOLERANCE_FRAC = 0.005
"""... or by this fraction of the gross weight, whichever is larger."""


class SiteKind(StrEnum):
    """What an approved place is. The facility kinds of :class:`core.domain.FacilityKind`, plus more."""

    DEPOT = "depot"
    TRANSFER_STATION = "transfer_station"
    DISPOSAL_SITE = "disposal_site"
    LANDFILL = "landfill"
    KITCHEN_WASTE_PLANT = "kitchen_waste_plant"
    RECYCLING_CENTRE = "recycling_centre"
    HAZARDOUS_WASTE_SITE = "hazardous_waste_site"
    BULKY_WASTE_YARD = "bulky_waste_yard"
    SPOIL_FIELD = "spoil_field"
    WATER_POINT = "water_point"
    CONSTRUCTION_SITE = "construction_site"
    COLLECTION_POINT = "collection_point"
    PARKING = "parking"
    OTHER = "other"


DISPOSAL_KINDS: frozenset[SiteKind] = frozenset(
    {
        SiteKind.TRANSFER_STATION,
        SiteKind.DISPOSAL_SITE,
        SiteKind.LANDFILL,
        SiteKind.KITCHEN_WASTE_PLANT,
        SiteKind.RECYCLING_CENTRE,
        SiteKind.HAZARDOUS_WASTE_SITE,
        SiteKind.BULKY_WASTE_YARD,
        SiteKind.SPOIL_FIELD,
    }
)
"""Kinds where tipping is normally allowed; :attr:`Site.approved_for_disposal` decides per site."""


def _check_points(record: str, name: str, value: Any) -> list[LatLon]:
    """``value`` as a list of valid ``(lat, lon)`` pairs (degrees)."""
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise ValidationError(record, name, f"must be a list of (lat, lon) pairs, got {value!r}")
    pts: list[LatLon] = []
    for k, p in enumerate(value):
        try:
            lat, lon = p
        except (TypeError, ValueError):
            raise ValidationError(record, f"{name}[{k}]", f"must be a (lat, lon) pair, got {p!r}") from None
        _check_lat_lon(f"{record} {name}[{k}]", lat, lon)
        pts.append((float(lat), float(lon)))
    return pts


def _check_polygon(record: str, name: str, value: Any) -> tuple[LatLon, ...]:
    """``value`` as a tuple of >= 3 ``(lat, lon)`` pairs (an open or closed ring)."""
    pts = _check_points(record, name, value)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()  # a closed ring: keep the open form
    if len(set(pts)) < 3:
        raise ValidationError(record, name, f"must have at least 3 distinct points, got {len(set(pts))}")
    return tuple(pts)


def _check_ids(record: str, name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise ValidationError(record, name, f"must be a list of ids, got {value!r}")
    out = tuple(value)
    for v in out:
        if not isinstance(v, str) or not v.strip():
            raise ValidationError(record, name, f"must hold non-empty strings, got {v!r}")
    return out


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """Hours of the day ``[start_s, end_s)`` in seconds since local midnight; wraps when start > end.

    ``start_s == end_s`` means the whole day.
    """

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        record = f"DailyWindow({self.start_s}, {self.end_s})"
        for name in ("start_s", "end_s"):
            value = getattr(self, name)
            _check_non_negative(record, name, value)
            if value > DAY_S:
                raise ValidationError(record, name, f"must be <= {DAY_S} s, got {value!r}")

    @property
    def wraps(self) -> bool:
        """Whether the window runs past midnight (22:00-06:00)."""
        return self.start_s > self.end_s

    def contains(self, local_s: float) -> bool:
        """Whether the local time of day ``local_s`` (s, taken modulo one day) falls inside."""
        t = local_s % DAY_S
        if self.start_s == self.end_s:
            return True
        if self.wraps:
            return t >= self.start_s or t < self.end_s
        return self.start_s <= t < self.end_s

    @classmethod
    def parse(cls, text: str) -> DailyWindow:
        """``"22:00-06:00"`` (or ``"22:00:00-06:00:00"``) as a window."""
        record = f"DailyWindow {text!r}"
        try:
            a, b = str(text).split("-")
            return cls(_hms(a), _hms(b))
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(record, "hours", "must look like HH:MM-HH:MM") from None


def _hms(text: str) -> int:
    parts = [int(p) for p in text.strip().split(":")]
    if not 2 <= len(parts) <= 3 or not 0 <= parts[0] <= 24 or not all(0 <= p < 60 for p in parts[1:]):
        raise ValueError(text)
    while len(parts) < 3:
        parts.append(0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def _windows(record: str, name: str, value: Any) -> tuple[DailyWindow, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise ValidationError(record, name, f"must be a list of daily windows, got {value!r}")
    out = []
    for w in value:
        if isinstance(w, DailyWindow):
            out.append(w)
        elif isinstance(w, str):
            out.append(DailyWindow.parse(w))
        else:
            try:
                a, b = w
            except (TypeError, ValueError):
                raise ValidationError(record, name, f"must hold (start_s, end_s) pairs, got {w!r}") from None
            out.append(DailyWindow(a, b))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Site:
    """An approved place: a polygon, or a centre with a radius (m).

    ``approved_for_disposal``: loads may be tipped here. ``accepted_streams``
    (empty: any) says which. Give either ``polygon`` (>= 3 ``(lat, lon)``) or
    ``lat``, ``lon`` and ``radius_m`` (> 0), not both.
    """

    id: str
    kind: SiteKind
    polygon: tuple[LatLon, ...] = ()
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    approved_for_disposal: bool = False
    accepted_streams: frozenset[Stream] = frozenset()
    name: str = ""

    def __post_init__(self) -> None:
        _check_id("Site", self.id)
        record = f"Site '{self.id}'"
        object.__setattr__(self, "kind", _check_enum(record, "kind", self.kind, SiteKind))
        has_centre = self.lat is not None or self.lon is not None or self.radius_m is not None
        if self.polygon:
            if has_centre:
                raise ValidationError(record, "polygon", "give a polygon or a centre with radius_m, not both")
            object.__setattr__(self, "polygon", _check_polygon(record, "polygon", self.polygon))
        else:
            if self.lat is None or self.lon is None:
                raise ValidationError(record, "polygon", "a site needs a polygon or lat/lon with radius_m")
            _check_lat_lon(record, self.lat, self.lon)
            if self.radius_m is None:
                raise ValidationError(record, "radius_m", "is required with a centre (lat, lon)")
            _check_positive(record, "radius_m", self.radius_m)
        if not isinstance(self.approved_for_disposal, bool):
            raise ValidationError(
                record, "approved_for_disposal", f"must be true or false, got {self.approved_for_disposal!r}"
            )
        object.__setattr__(
            self,
            "accepted_streams",
            _coerce_streams(record, "accepted_streams", self.accepted_streams, allow_empty=True),
        )

    @property
    def centre(self) -> LatLon:
        """The centre (lat, lon): the given one, or the mean of the polygon's vertices."""
        if self.polygon:
            n = len(self.polygon)
            return (sum(p[0] for p in self.polygon) / n, sum(p[1] for p in self.polygon) / n)
        return (float(self.lat or 0.0), float(self.lon or 0.0))

    def accepts(self, stream: Stream | None) -> bool:
        """Whether loads of ``stream`` may be tipped here (``None``: any approved disposal)."""
        if not self.approved_for_disposal:
            return False
        return stream is None or not self.accepted_streams or stream in self.accepted_streams


@dataclass(frozen=True, slots=True)
class RestrictedZone:
    """Where haulers must not drive during ``active_hours`` (empty: always), e.g. a school.

    ``vehicle_kinds`` (empty: every kind) lists the kinds the ban applies to.
    """

    id: str
    name: str
    polygon: tuple[LatLon, ...]
    active_hours: tuple[DailyWindow, ...] = ()
    vehicle_kinds: frozenset[VehicleKind] = frozenset()

    def __post_init__(self) -> None:
        _check_id("RestrictedZone", self.id)
        record = f"RestrictedZone '{self.id}'"
        object.__setattr__(self, "polygon", _check_polygon(record, "polygon", self.polygon))
        object.__setattr__(self, "active_hours", _windows(record, "active_hours", self.active_hours))
        if isinstance(self.vehicle_kinds, str) or not hasattr(self.vehicle_kinds, "__iter__"):
            raise ValidationError(record, "vehicle_kinds", f"must be a list, got {self.vehicle_kinds!r}")
        object.__setattr__(
            self,
            "vehicle_kinds",
            frozenset(_check_enum(record, "vehicle_kinds", k, VehicleKind) for k in self.vehicle_kinds),
        )

    def active_at(self, local_s: float) -> bool:
        """Whether the ban holds at local time of day ``local_s`` (s)."""
        return not self.active_hours or any(w.contains(local_s) for w in self.active_hours)

    def applies_to(self, kind: VehicleKind | None) -> bool:
        """Whether the ban applies to a vehicle of ``kind`` (unknown kind: yes)."""
        return not self.vehicle_kinds or kind is None or kind in self.vehicle_kinds


@dataclass(frozen=True, slots=True)
class Permit:
    """A haulage permit: one vehicle, valid dates (inclusive), places, hours and an approved corridor.

    ``allowed_hours`` (empty: any hour) are local windows such as 22:00-06:00;
    a trip is judged by the local day its hours window started on, so a
    permit valid on 5 March covers 22:00 on 5 March to 06:00 on 6 March.
    ``corridor`` is a tuple of ``(lat, lon)`` polylines planned on the road
    network (empty: no corridor check). ``stream`` is what it may carry.
    """

    id: str
    vehicle_id: str
    valid_from: date
    valid_to: date
    origin_site_ids: tuple[str, ...]
    disposal_site_ids: tuple[str, ...]
    allowed_hours: tuple[DailyWindow, ...] = ()
    corridor: tuple[tuple[LatLon, ...], ...] = ()
    stream: Stream = Stream.SPOIL

    def __post_init__(self) -> None:
        _check_id("Permit", self.id)
        record = f"Permit '{self.id}'"
        if not isinstance(self.vehicle_id, str) or not self.vehicle_id.strip():
            raise ValidationError(
                record, "vehicle_id", f"must be a non-empty string, got {self.vehicle_id!r}"
            )
        for name in ("valid_from", "valid_to"):
            if not isinstance(getattr(self, name), date):
                raise ValidationError(record, name, f"must be a date, got {getattr(self, name)!r}")
        if self.valid_to < self.valid_from:
            raise ValidationError(record, "valid_to", f"must be on or after valid_from ({self.valid_from})")
        object.__setattr__(
            self, "origin_site_ids", _check_ids(record, "origin_site_ids", self.origin_site_ids)
        )
        object.__setattr__(
            self, "disposal_site_ids", _check_ids(record, "disposal_site_ids", self.disposal_site_ids)
        )
        if not self.disposal_site_ids:
            raise ValidationError(
                record, "disposal_site_ids", "must name at least one approved disposal site"
            )
        object.__setattr__(self, "allowed_hours", _windows(record, "allowed_hours", self.allowed_hours))
        lines = []
        for k, line in enumerate(self.corridor):
            lines.append(_check_line(record, f"corridor[{k}]", line))
        object.__setattr__(self, "corridor", tuple(lines))
        object.__setattr__(self, "stream", _check_enum(record, "stream", self.stream, Stream))

    def valid_on(self, day: date) -> bool:
        """Whether the permit is in force on ``day`` (inclusive bounds)."""
        return self.valid_from <= day <= self.valid_to

    def allows_hour(self, local_s: float) -> bool:
        """Whether local time of day ``local_s`` (s) is within the allowed hours."""
        return not self.allowed_hours or any(w.contains(local_s) for w in self.allowed_hours)

    def covers(self, day: date, local_s: float) -> bool:
        """Whether the permit is in force at ``local_s`` (s since local midnight) of ``day``: valid
        that day, or valid the day before with hours that wrap past midnight into this time (a night run).
        """
        if self.valid_on(day):
            return True
        tod = local_s % DAY_S
        return self.valid_on(day - timedelta(days=1)) and any(
            w.wraps and tod < w.end_s for w in self.allowed_hours
        )


def permit_in_force(permits: Sequence[Permit], day: date, local_s: float) -> Permit | None:
    """The permit in force at ``local_s`` of ``day`` (see :meth:`Permit.covers`), or ``None``.

    Among several, one whose hours allow the time comes first, then the smallest id: the
    detection and the evidence packet name the same permit by this one rule.
    """
    found = [p for p in permits if p.covers(day, local_s)]
    return min(found, key=lambda p: (not p.allows_hour(local_s), p.id), default=None)


def _check_line(record: str, name: str, value: Any) -> tuple[LatLon, ...]:
    pts = _check_points(record, name, value)
    if len(pts) < 2:
        raise ValidationError(record, name, f"must have at least 2 points, got {len(pts)}")
    return tuple(pts)


@dataclass(frozen=True, slots=True)
class WeighTicket:
    """A weighbridge ticket: a vehicle weighed at a site (facility or construction site) at ``ts_utc``.

    ``net_kg`` must equal ``gross_kg - tare_kg`` within ``max(NET_TOLERANCE_KG,
    NET_TOLERANCE_FRAC * gross_kg)``. ``direction`` is ``"in"`` for a load
    delivered (tipped) at the site, ``"out"`` for a load declared leaving it
    (loading at a construction site).
    """

    ticket_id: str
    vehicle_id: str
    facility_id: str
    ts_utc: float
    gross_kg: float
    tare_kg: float
    net_kg: float
    stream: Stream = Stream.SPOIL
    direction: str = "in"

    def __post_init__(self) -> None:
        if not isinstance(self.ticket_id, str) or not self.ticket_id.strip():
            raise ValidationError(
                "WeighTicket", "ticket_id", f"must be a non-empty string, got {self.ticket_id!r}"
            )
        record = f"WeighTicket '{self.ticket_id}'"
        for name in ("vehicle_id", "facility_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(record, name, f"must be a non-empty string, got {value!r}")
        if (
            not isinstance(self.ts_utc, int | float)
            or isinstance(self.ts_utc, bool)
            or not math.isfinite(self.ts_utc)
        ):
            raise ValidationError(record, "ts_utc", f"must be finite epoch seconds, got {self.ts_utc!r}")
        for name in ("gross_kg", "tare_kg", "net_kg"):
            _check_non_negative(record, name, getattr(self, name))
        if self.tare_kg > self.gross_kg:
            raise ValidationError(
                record, "tare_kg", f"must be <= gross_kg ({self.gross_kg:g}), got {self.tare_kg:g}"
            )
        expected = self.gross_kg - self.tare_kg
        tol = max(NET_TOLERANCE_KG, NET_TOLERANCE_FRAC * self.gross_kg)
        if abs(self.net_kg - expected) > tol:
            raise ValidationError(
                record,
                "net_kg",
                f"must equal gross_kg - tare_kg = {expected:g} within {tol:g} kg, got {self.net_kg:g}",
            )
        object.__setattr__(self, "stream", _check_enum(record, "stream", self.stream, Stream))
        if self.direction not in ("in", "out"):
            raise ValidationError(record, "direction", f"must be 'in' or 'out', got {self.direction!r}")
