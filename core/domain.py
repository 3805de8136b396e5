"""The wastefleet domain model: one home for every shared record.

Frozen, slotted dataclasses with no framework imports, so ``routing`` and
``telematics`` never pull in FastAPI or SQLAlchemy. Units are in field names:
``_kg``, ``_l`` (litres), ``_m`` (metres), ``_s`` (seconds), ``_mps``.

Times of day in a plan (``*_s`` on windows, shifts and stops) are seconds since
local midnight of the plan's day in the district's time zone. Positions and
alerts carry absolute UTC epoch seconds (``ts_utc``, ``start_utc``, ...).

Every record validates itself where it is created and raises
:class:`core.errors.ValidationError` naming the record and the field.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from core.errors import ValidationError

DAY_S = 86_400
"""Seconds in a day; windows may run past midnight up to two days."""


class Stream(StrEnum):
    """A sorted waste stream (or a non-waste load, for sweepers and haulers)."""

    KITCHEN = "kitchen"
    RECYCLABLES = "recyclables"
    HAZARDOUS = "hazardous"
    RESIDUAL = "residual"
    RESTAURANT_FOOD = "restaurant_food"
    BULKY = "bulky"
    SPOIL = "spoil"
    STREET_DEBRIS = "street_debris"


class FacilityKind(StrEnum):
    """What a facility is; decides nothing by itself (``accepted_streams`` does)."""

    TRANSFER_STATION = "transfer_station"
    DISPOSAL_SITE = "disposal_site"
    LANDFILL = "landfill"
    KITCHEN_WASTE_PLANT = "kitchen_waste_plant"
    RECYCLING_CENTRE = "recycling_centre"
    HAZARDOUS_WASTE_SITE = "hazardous_waste_site"
    BULKY_WASTE_YARD = "bulky_waste_yard"
    SPOIL_FIELD = "spoil_field"
    WATER_POINT = "water_point"


class VehicleKind(StrEnum):
    """The kind of vehicle in the fleet."""

    COLLECTION_TRUCK = "collection_truck"
    SWEEPER = "sweeper"
    WASHER = "washer"
    MUCK_HAULER = "muck_hauler"


class StopKind(StrEnum):
    """What a vehicle does at a stop of its route."""

    DEPOT_START = "depot_start"
    COLLECTION = "collection"
    UNLOAD = "unload"
    DEPOT_END = "depot_end"


class AlertType(StrEnum):
    """Alert types; names are part of the ``police`` interchange format."""

    DETOUR = "detour"
    MISSED_STOP = "missed_stop"
    LATE_STOP = "late_stop"
    SPEEDING = "speeding"
    GPS_GAP = "gps_gap"
    COVERAGE_SHORTFALL = "coverage_shortfall"
    ILLEGAL_DUMP = "illegal_dump"
    UNPERMITTED_TRANSPORT = "unpermitted_transport"
    OFF_HOURS = "off_hours"
    RESTRICTED_ZONE = "restricted_zone"
    WEIGHT_DISCREPANCY = "weight_discrepancy"
    TICKET_MISMATCH = "ticket_mismatch"


# --------------------------------------------------------------------------- checks


def _check_id(record: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(record, "id", f"must be a non-empty string, got {value!r}")


def _check_lat_lon(record: str, lat: float, lon: float) -> None:
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValidationError(record, name, f"must be a number, got {value!r}")
        if not math.isfinite(value) or abs(value) > bound:
            raise ValidationError(record, name, f"must be within [-{bound:g}, {bound:g}], got {value!r}")


def _check_non_negative(record: str, name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValidationError(record, name, f"must be a finite number, got {value!r}")
    if value < 0:
        raise ValidationError(record, name, f"must be >= 0, got {value!r}")


def _check_positive(record: str, name: str, value: float) -> None:
    _check_non_negative(record, name, value)
    if value <= 0:
        raise ValidationError(record, name, f"must be > 0, got {value!r}")


def _check_enum(record: str, name: str, value: Any, enum: type[StrEnum]) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationError(record, name, f"must be one of {allowed}; got {value!r}") from None


def _coerce_streams(record: str, name: str, values: Any, *, allow_empty: bool = False) -> frozenset[Stream]:
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise ValidationError(record, name, f"must be a list of streams, got {values!r}")
    streams = frozenset(_check_enum(record, name, v, Stream) for v in values)
    if not streams and not allow_empty:
        raise ValidationError(record, name, "must name at least one stream")
    return streams


# --------------------------------------------------------------------------- places


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A window ``[start_s, end_s]`` in seconds since local midnight (start and end inclusive)."""

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        record = f"TimeWindow({self.start_s}, {self.end_s})"
        _check_non_negative(record, "start_s", self.start_s)
        _check_non_negative(record, "end_s", self.end_s)
        if self.end_s < self.start_s:
            raise ValidationError(record, "end_s", f"must be >= start_s ({self.start_s}), got {self.end_s}")
        if self.end_s > 2 * DAY_S:
            raise ValidationError(record, "end_s", f"must be <= {2 * DAY_S} s (two days), got {self.end_s}")

    def contains(self, t_s: float) -> bool:
        """Whether ``t_s`` lies inside the window."""
        return self.start_s <= t_s <= self.end_s


@dataclass(frozen=True, slots=True)
class Depot:
    """Where vehicles start and end their day."""

    id: str
    name: str
    lat: float
    lon: float

    def __post_init__(self) -> None:
        _check_id("Depot", self.id)
        _check_lat_lon(f"Depot '{self.id}'", self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class Facility:
    """A transfer station, plant, landfill or yard where loads are unloaded, or a water point
    where washers refill (a water point may accept no stream)."""

    id: str
    name: str
    kind: FacilityKind
    lat: float
    lon: float
    accepted_streams: frozenset[Stream]
    opening: TimeWindow = TimeWindow(0, DAY_S)
    unload_s: int = 900
    tipping_bays: int = 1
    daily_capacity_kg: float = math.inf

    def __post_init__(self) -> None:
        _check_id("Facility", self.id)
        record = f"Facility '{self.id}'"
        object.__setattr__(self, "kind", _check_enum(record, "kind", self.kind, FacilityKind))
        _check_lat_lon(record, self.lat, self.lon)
        # A water point takes no waste (washers refill there); every other facility accepts a stream.
        streams = _coerce_streams(
            record,
            "accepted_streams",
            self.accepted_streams,
            allow_empty=self.kind == FacilityKind.WATER_POINT,
        )
        object.__setattr__(self, "accepted_streams", streams)
        _check_non_negative(record, "unload_s", self.unload_s)
        if not isinstance(self.tipping_bays, int) or self.tipping_bays < 1:
            raise ValidationError(
                record, "tipping_bays", f"must be an integer >= 1, got {self.tipping_bays!r}"
            )
        if not (isinstance(self.daily_capacity_kg, int | float) and self.daily_capacity_kg > 0):
            raise ValidationError(record, "daily_capacity_kg", f"must be > 0, got {self.daily_capacity_kg!r}")


@dataclass(frozen=True, slots=True)
class CollectionPoint:
    """A bin, bin bank or business where one waste stream is collected.

    ``time_windows`` are the fixed-time collection windows in which service must
    start (any one of them); empty means any time in the vehicle's shift.
    ``penalty`` is the cost of leaving the point unserved; ``None`` means mandatory.
    """

    id: str
    lat: float
    lon: float
    stream: Stream
    expected_kg: float
    expected_l: float
    service_s: int = 60
    time_windows: tuple[TimeWindow, ...] = ()
    penalty: float | None = None
    address: str = ""

    def __post_init__(self) -> None:
        _check_id("CollectionPoint", self.id)
        record = f"CollectionPoint '{self.id}'"
        _check_lat_lon(record, self.lat, self.lon)
        object.__setattr__(self, "stream", _check_enum(record, "stream", self.stream, Stream))
        _check_non_negative(record, "expected_kg", self.expected_kg)
        _check_non_negative(record, "expected_l", self.expected_l)
        _check_non_negative(record, "service_s", self.service_s)
        windows = tuple(self.time_windows)
        for i, w in enumerate(windows):
            if not isinstance(w, TimeWindow):
                raise ValidationError(record, f"time_windows[{i}]", f"must be a TimeWindow, got {w!r}")
        for a, b in itertools.pairwise(windows):
            if b.start_s <= a.end_s:
                raise ValidationError(record, "time_windows", "must be sorted and must not overlap")
        object.__setattr__(self, "time_windows", windows)
        if self.penalty is not None:
            _check_non_negative(record, "penalty", self.penalty)


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A truck, sweeper, washer or hauler with two capacity dimensions and a shift.

    The break is ``break_duration_s`` long and must start inside ``break_window``;
    ``break_duration_s == 0`` means no break. ``capacity_*`` bound the load on
    board (one trip, emptied at a facility); ``max_route_*`` bound what one route
    collects over the whole day (all trips); ``max_stops`` bounds its collection
    stops. ``None`` means no such limit.
    """

    id: str
    kind: VehicleKind
    depot_id: str
    streams: frozenset[Stream]
    capacity_kg: float
    capacity_l: float
    shift: TimeWindow = TimeWindow(6 * 3600, 15 * 3600)
    break_window: TimeWindow = TimeWindow(11 * 3600, 12 * 3600)
    break_duration_s: int = 3600
    max_duration_s: int | None = None
    fixed_cost: float = 100.0
    cost_per_km: float = 1.0
    cost_per_hour: float = 30.0
    max_speed_mps: float = 25.0
    max_route_kg: float | None = None
    max_route_l: float | None = None
    max_stops: int | None = None

    def __post_init__(self) -> None:
        _check_id("Vehicle", self.id)
        record = f"Vehicle '{self.id}'"
        object.__setattr__(self, "kind", _check_enum(record, "kind", self.kind, VehicleKind))
        _check_id(f"{record} depot_id", self.depot_id)
        object.__setattr__(self, "streams", _coerce_streams(record, "streams", self.streams))
        _check_positive(record, "capacity_kg", self.capacity_kg)
        _check_positive(record, "capacity_l", self.capacity_l)
        _check_non_negative(record, "break_duration_s", self.break_duration_s)
        if self.max_duration_s is not None:
            _check_positive(record, "max_duration_s", self.max_duration_s)
        for name in ("fixed_cost", "cost_per_km", "cost_per_hour"):
            _check_non_negative(record, name, getattr(self, name))
        _check_positive(record, "max_speed_mps", self.max_speed_mps)
        for name in ("max_route_kg", "max_route_l", "max_stops"):
            if getattr(self, name) is not None:
                _check_positive(record, name, getattr(self, name))

    @property
    def route_limit_s(self) -> int:
        """The longest allowed route: the shift length, or ``max_duration_s`` if shorter (s)."""
        shift_len = self.shift.end_s - self.shift.start_s
        return int(min(shift_len, self.max_duration_s or shift_len))


@dataclass(frozen=True, slots=True)
class District:
    """Everything a planner needs about one district: places, work and fleet.

    ``timezone`` is an IANA name; plan times are local to it.
    """

    name: str
    timezone: str
    depots: tuple[Depot, ...]
    facilities: tuple[Facility, ...]
    points: tuple[CollectionPoint, ...]
    vehicles: tuple[Vehicle, ...]

    def __post_init__(self) -> None:
        record = f"District '{self.name}'"
        for name in ("depots", "facilities", "points", "vehicles"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.depots:
            raise ValidationError(record, "depots", "must hold at least one depot")
        if not self.vehicles:
            raise ValidationError(record, "vehicles", "must hold at least one vehicle")
        seen: dict[str, str] = {}
        for group in ("depots", "facilities", "points", "vehicles"):
            for item in getattr(self, group):
                if item.id in seen:
                    raise ValidationError(
                        record, f"{group}[id={item.id}]", f"duplicates an id already used in {seen[item.id]}"
                    )
                seen[item.id] = group
        depot_ids = {d.id for d in self.depots}
        for v in self.vehicles:
            if v.depot_id not in depot_ids:
                raise ValidationError(f"Vehicle '{v.id}'", "depot_id", f"names unknown depot {v.depot_id!r}")

    def depot(self, depot_id: str) -> Depot:
        """The depot with this id."""
        for d in self.depots:
            if d.id == depot_id:
                return d
        raise KeyError(depot_id)


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class PlanStop:
    """One stop of a route, with the road leg that leads to it.

    ``leg_coords`` is the road geometry from the previous stop as ``(lat, lon)``
    pairs; empty for the first stop. Loads are after the stop's work.
    """

    kind: StopKind
    ref_id: str
    lat: float
    lon: float
    arrival_s: int
    start_s: int
    departure_s: int
    load_kg: float
    load_l: float
    leg_distance_m: float = 0.0
    leg_time_s: int = 0
    leg_coords: tuple[tuple[float, float], ...] = ()
    window: TimeWindow | None = None

    def __post_init__(self) -> None:
        record = f"PlanStop '{self.ref_id}'"
        object.__setattr__(self, "kind", _check_enum(record, "kind", self.kind, StopKind))
        if not (self.arrival_s <= self.start_s <= self.departure_s):
            raise ValidationError(record, "start_s", "must satisfy arrival_s <= start_s <= departure_s")


@dataclass(frozen=True, slots=True)
class PlanBreak:
    """A driver break taken after leaving ``stops[after_stop]`` and before the next stop.

    ``start_s`` is when the break starts (s since local midnight); the truck may
    have driven part of the next leg before it (breaks can fall mid-leg).
    """

    after_stop: int
    start_s: int
    duration_s: int

    def __post_init__(self) -> None:
        record = f"PlanBreak after stop {self.after_stop}"
        _check_non_negative(record, "after_stop", self.after_stop)
        _check_non_negative(record, "start_s", self.start_s)
        _check_non_negative(record, "duration_s", self.duration_s)


@dataclass(frozen=True, slots=True)
class Route:
    """One vehicle's day: the ordered stops, starting and ending at its depot, and its breaks."""

    vehicle_id: str
    stops: tuple[PlanStop, ...]
    breaks: tuple[PlanBreak, ...] = ()

    @property
    def distance_m(self) -> float:
        """Road distance driven (m)."""
        return float(sum(s.leg_distance_m for s in self.stops))

    @property
    def duration_s(self) -> int:
        """Time from leaving the depot to returning (s)."""
        if not self.stops:
            return 0
        return self.stops[-1].arrival_s - self.stops[0].departure_s

    @property
    def collections(self) -> tuple[PlanStop, ...]:
        """The collection stops only."""
        return tuple(s for s in self.stops if s.kind == StopKind.COLLECTION)

    @property
    def unloads(self) -> tuple[PlanStop, ...]:
        """The unload visits at facilities only."""
        return tuple(s for s in self.stops if s.kind == StopKind.UNLOAD)


@dataclass(frozen=True, slots=True)
class UnservedPoint:
    """A collection point left out of a plan and why."""

    point_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A day's plan for a district: routes, and the points that could not be served."""

    district: str
    day: date
    routes: tuple[Route, ...]
    unserved: tuple[UnservedPoint, ...] = ()
    objective: float = 0.0
    solver_status: str = ""

    @property
    def distance_m(self) -> float:
        """Total road distance of all routes (m)."""
        return float(sum(r.distance_m for r in self.routes))


# --------------------------------------------------------------------------- telematics


@dataclass(frozen=True, slots=True)
class Position:
    """One GPS fix of one device, with the truck's sensors. ``ts_utc`` is UNIX epoch seconds (UTC).

    Optional values are ``None`` when the device does not report them:
    ``altitude_m`` (WGS 84), ``ignition``, ``load_kg`` (on-board scale),
    ``body_tipping`` (body raised to tip), ``bin_lifts`` (cumulative lift
    counter of the bin lifter), ``brooms_down`` (sweeper), ``cover_closed``
    (load cover of a muck hauler).
    """

    device_id: str
    ts_utc: float
    lat: float
    lon: float
    speed_mps: float | None = None
    heading_deg: float | None = None
    accuracy_m: float | None = None
    altitude_m: float | None = None
    ignition: bool | None = None
    load_kg: float | None = None
    body_tipping: bool | None = None
    bin_lifts: int | None = None
    brooms_down: bool | None = None
    cover_closed: bool | None = None

    def __post_init__(self) -> None:
        record = f"Position of '{self.device_id}' at {self.ts_utc}"
        _check_id("Position device_id", self.device_id)
        if not isinstance(self.ts_utc, int | float) or not math.isfinite(self.ts_utc):
            raise ValidationError(record, "ts_utc", f"must be finite epoch seconds, got {self.ts_utc!r}")
        _check_lat_lon(record, self.lat, self.lon)
        for name in ("speed_mps", "accuracy_m"):
            value = getattr(self, name)
            if value is not None:
                _check_non_negative(record, name, value)
        for name in ("heading_deg", "altitude_m", "load_kg"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value)
            ):
                raise ValidationError(record, name, f"must be a finite number, got {value!r}")
        if self.bin_lifts is not None and (
            not isinstance(self.bin_lifts, int) or isinstance(self.bin_lifts, bool) or self.bin_lifts < 0
        ):
            raise ValidationError(record, "bin_lifts", f"must be an integer >= 0, got {self.bin_lifts!r}")
        for name in ("ignition", "body_tipping", "brooms_down", "cover_closed"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ValidationError(record, name, f"must be true or false, got {value!r}")


@dataclass(frozen=True, slots=True)
class Alert:
    """A compliance alert raised from positions, with measured values and evidence.

    ``key`` is stable for the same finding, so re-processing raises no duplicate.
    ``evidence`` is GeoJSON (a FeatureCollection of the track piece).
    ``confidence`` (0..1) says how sure the checker is; ``signals`` names what raised
    the alert (for example ``"stop_outside_places"``, ``"body_tipping"``, ``"load_drop"``).
    """

    type: AlertType
    vehicle_id: str
    start_utc: float
    end_utc: float
    lat: float
    lon: float
    measured: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    stop_id: str | None = None
    confidence: float = 1.0
    signals: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        record = f"Alert {self.type} of '{self.vehicle_id}'"
        object.__setattr__(self, "type", _check_enum(record, "type", self.type, AlertType))
        _check_lat_lon(record, self.lat, self.lon)
        if not isinstance(self.confidence, int | float) or not 0.0 <= self.confidence <= 1.0:
            raise ValidationError(record, "confidence", f"must be within 0..1, got {self.confidence!r}")
        object.__setattr__(self, "signals", tuple(str(s) for s in self.signals))
        if self.end_utc < self.start_utc:
            raise ValidationError(record, "end_utc", "must be >= start_utc")

    @property
    def key(self) -> str:
        """A stable de-duplication key: type, vehicle, start second, and the stop when there is one."""
        base = f"{self.type.value}:{self.vehicle_id}:{int(self.start_utc)}"
        return base if self.stop_id is None else f"{base}:{self.stop_id}"
