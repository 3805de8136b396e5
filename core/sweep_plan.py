"""A day's street sweeping or washing plan: routes along street segments, coverage, JSON round trip.

The planner (:mod:`routing.sweeping`) makes these records; the store keeps them
(one row per plan and one per planned segment pass), the map draws them and the
telematics glue turns their served segments into directed paths for the
coverage check. Units are in field names: ``_m`` metres, ``_s`` seconds (times
of day are seconds since local midnight of the plan's day; a night shift runs
past 86 400), ``_kg``, ``_l`` litres. Coordinates are ``(lat, lon)`` degrees.

JSON form (:func:`sweep_plan_to_dict`)::

    {"district": "...", "day": "2026-12-01", "activity": "sweep", "objective": 1234.5,
     "solver_status": "success",
     "routes": [{"vehicle_id": "SWP-01", "depot_id": "DEPOT-1", "start_s": 21600, "end_s": 50400,
                 "breaks": [{"start_s": 39600, "duration_s": 1800}],
                 "visits": [{"kind": "service", "ref_id": "123-456/f", "segment_id": "123-456",
                             "highway": "primary", "from_osm": 123, "to_osm": 456,
                             "arrival_s": 22000, "start_s": 22000, "end_s": 22150,
                             "length_m": 210.0, "coords": [[39.29, -76.61], ...],
                             "deadhead_m": 540.0, "deadhead_s": 61,
                             "deadhead_coords": [[...], ...], "load_kg": 8.4, "water_l": 0.0}, ...]}],
     "left_out": [{"task_id": "...", "segment_id": "...", "highway": "primary",
                   "length_m": 180.0, "reason": "time: ..."}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from core.errors import ValidationError
from core.serialize import RecordReader, build_record, plain_json

__all__ = [
    "LeftOutTask",
    "PlannedPass",
    "SweepRoute",
    "SweepVisit",
    "SweepVisitKind",
    "SweepingPlan",
    "planned_passes",
    "sweep_plan_from_dict",
    "sweep_plan_to_dict",
]


class SweepVisitKind(StrEnum):
    """What a sweeper or washer does at one step of its route."""

    SERVICE = "service"
    """Sweeping or washing one street segment (one side, or the whole street)."""
    DUMP = "dump"
    """Emptying the debris hopper at a facility that accepts street debris."""
    REFILL = "refill"
    """Refilling the water tank at a water point."""
    DEPOT_END = "depot_end"
    """Driving back to the depot at the end of the shift."""


@dataclass(frozen=True, slots=True)
class SweepVisit:
    """One step of a route, with the deadhead leg (driving without working) that leads to it.

    Attributes
    ----------
    kind
        Service, dump, refill or the return to the depot.
    ref_id
        Task id (service), facility id (dump, refill) or depot id.
    segment_id, highway
        The street segment served and its OSM class ("" for other kinds).
    from_osm, to_osm
        OSM node ids where the work starts and ends: the direction actually
        driven for a service; the facility's (or depot's) node twice otherwise.
    arrival_s, start_s, end_s
        Arrival at ``from_osm``, start and end of the work (s since local midnight).
    length_m
        Length swept or washed (m); 0 for other kinds.
    coords
        Served geometry in the direction driven (service); the one ``(lat, lon)``
        where a dump, refill or the return to the depot happens (other kinds).
    deadhead_m, deadhead_s, deadhead_coords
        The leg from the previous position: length (m), drive time (s) and road geometry.
    load_kg, water_l
        After the step: debris in the hopper (kg) and water used since the last refill (l).
    """

    kind: SweepVisitKind
    ref_id: str
    from_osm: int
    to_osm: int
    arrival_s: int
    start_s: int
    end_s: int
    segment_id: str = ""
    highway: str = ""
    length_m: float = 0.0
    coords: tuple[tuple[float, float], ...] = ()
    deadhead_m: float = 0.0
    deadhead_s: int = 0
    deadhead_coords: tuple[tuple[float, float], ...] = ()
    load_kg: float = 0.0
    water_l: float = 0.0

    def __post_init__(self) -> None:
        record = f"SweepVisit '{self.ref_id}'"
        try:
            object.__setattr__(self, "kind", SweepVisitKind(self.kind))
        except ValueError:
            allowed = ", ".join(k.value for k in SweepVisitKind)
            raise ValidationError(record, "kind", f"must be one of {allowed}; got {self.kind!r}") from None
        if not self.arrival_s <= self.start_s <= self.end_s:
            raise ValidationError(record, "start_s", "must satisfy arrival_s <= start_s <= end_s")
        for name in ("length_m", "deadhead_m", "deadhead_s", "load_kg", "water_l"):
            if getattr(self, name) < 0:
                raise ValidationError(record, name, f"must be >= 0, got {getattr(self, name)!r}")
        if self.kind == SweepVisitKind.SERVICE and len(self.coords) < 2:
            raise ValidationError(record, "coords", "a service needs its served geometry (>= 2 points)")
        if self.kind != SweepVisitKind.SERVICE and len(self.coords) != 1:
            raise ValidationError(record, "coords", f"a {self.kind.value} visit needs its one (lat, lon)")


@dataclass(frozen=True, slots=True)
class SweepRoute:
    """One vehicle's day: leaves its depot at ``start_s``, returns at ``end_s`` (s since midnight).

    ``breaks`` are ``(start_s, duration_s)`` pairs.
    """

    vehicle_id: str
    depot_id: str
    start_s: int
    end_s: int
    visits: tuple[SweepVisit, ...]
    breaks: tuple[tuple[int, int], ...] = ()

    @property
    def services(self) -> tuple[SweepVisit, ...]:
        """The street segments served, in order."""
        return tuple(v for v in self.visits if v.kind == SweepVisitKind.SERVICE)

    @property
    def swept_m(self) -> float:
        """Length swept or washed (m)."""
        return float(sum(v.length_m for v in self.visits))

    @property
    def deadhead_m(self) -> float:
        """Length driven without working, return to the depot included (m)."""
        return float(sum(v.deadhead_m for v in self.visits))

    @property
    def dumps(self) -> int:
        """Number of hopper dumps."""
        return sum(1 for v in self.visits if v.kind == SweepVisitKind.DUMP)

    @property
    def refills(self) -> int:
        """Number of tank refills."""
        return sum(1 for v in self.visits if v.kind == SweepVisitKind.REFILL)


@dataclass(frozen=True, slots=True)
class LeftOutTask:
    """A required pass left out of the plan, with its length (m) and why (time, capacity, window, ...)."""

    task_id: str
    segment_id: str
    highway: str
    length_m: float
    reason: str


@dataclass(frozen=True, slots=True)
class SweepingPlan:
    """A day's sweeping (``activity="sweep"``) or washing (``"wash"``) plan of a district.

    The required work is everything served plus everything in ``left_out``.
    """

    district: str
    day: date
    activity: str
    routes: tuple[SweepRoute, ...]
    left_out: tuple[LeftOutTask, ...] = ()
    objective: float = 0.0
    solver_status: str = ""

    def __post_init__(self) -> None:
        if self.activity not in ("sweep", "wash"):
            raise ValidationError(
                f"SweepingPlan '{self.district}'", "activity", f"must be sweep or wash, got {self.activity!r}"
            )

    @property
    def swept_m(self) -> float:
        """Length swept or washed over all routes (m)."""
        return float(sum(r.swept_m for r in self.routes))

    @property
    def deadhead_m(self) -> float:
        """Length deadheaded over all routes (m)."""
        return float(sum(r.deadhead_m for r in self.routes))

    def required_m_by_class(self) -> dict[str, float]:
        """Required length per highway class (m): served plus left out."""
        out: dict[str, float] = {}
        for r in self.routes:
            for v in r.services:
                out[v.highway] = out.get(v.highway, 0.0) + v.length_m
        for t in self.left_out:
            out[t.highway] = out.get(t.highway, 0.0) + t.length_m
        return dict(sorted(out.items()))

    def coverage_by_class(self) -> dict[str, float]:
        """Served share (0..1) of the required length of each highway class (length-weighted)."""
        served: dict[str, float] = {}
        for r in self.routes:
            for v in r.services:
                served[v.highway] = served.get(v.highway, 0.0) + v.length_m
        return {
            cls: (served.get(cls, 0.0) / total if total > 0 else 1.0)
            for cls, total in self.required_m_by_class().items()
        }

    def coverage(self) -> float:
        """Served share (0..1) of all required length; 1.0 when nothing was required."""
        total = sum(self.required_m_by_class().values())
        return self.swept_m / total if total > 0 else 1.0


@dataclass(frozen=True, slots=True)
class PlannedPass:
    """One planned pass along a street segment, as the compliance checker needs it.

    ``seq`` is the visit's position in its route; the segment is served from
    OSM node ``from_osm`` to ``to_osm`` along ``coords`` (``(lat, lon)``, in the
    direction driven), between ``start_s`` and ``end_s`` (s since local midnight).
    """

    vehicle_id: str
    seq: int
    task_id: str
    segment_id: str
    highway: str
    from_osm: int
    to_osm: int
    start_s: int
    end_s: int
    length_m: float
    coords: tuple[tuple[float, float], ...]


def planned_passes(plan: SweepingPlan) -> list[PlannedPass]:
    """Every service visit of ``plan`` as a :class:`PlannedPass`, by vehicle then order."""
    return [
        PlannedPass(
            vehicle_id=r.vehicle_id,
            seq=k,
            task_id=v.ref_id,
            segment_id=v.segment_id,
            highway=v.highway,
            from_osm=v.from_osm,
            to_osm=v.to_osm,
            start_s=v.start_s,
            end_s=v.end_s,
            length_m=v.length_m,
            coords=v.coords,
        )
        for r in plan.routes
        for k, v in enumerate(r.visits)
        if v.kind == SweepVisitKind.SERVICE
    ]


# --------------------------------------------------------------------------- JSON


def _coords_to_list(coords: tuple[tuple[float, float], ...]) -> list[list[float]]:
    return [[float(lat), float(lon)] for lat, lon in coords]


def sweep_plan_to_dict(plan: SweepingPlan) -> dict[str, Any]:
    """A sweeping plan as plain JSON types (the module docstring shows the form)."""
    return {
        "district": plan.district,
        "day": plan.day.isoformat(),
        "activity": plan.activity,
        "objective": plain_json(plan.objective),
        "solver_status": plan.solver_status,
        "routes": [
            {
                "vehicle_id": r.vehicle_id,
                "depot_id": r.depot_id,
                "start_s": r.start_s,
                "end_s": r.end_s,
                "breaks": [{"start_s": s, "duration_s": d} for s, d in r.breaks],
                "visits": [_visit_to_dict(v) for v in r.visits],
            }
            for r in plan.routes
        ],
        "left_out": [
            {
                "task_id": t.task_id,
                "segment_id": t.segment_id,
                "highway": t.highway,
                "length_m": plain_json(t.length_m),
                "reason": t.reason,
            }
            for t in plan.left_out
        ],
    }


def _visit_to_dict(v: SweepVisit) -> dict[str, Any]:
    return {
        "kind": v.kind.value,
        "ref_id": v.ref_id,
        "segment_id": v.segment_id,
        "highway": v.highway,
        "from_osm": int(v.from_osm),
        "to_osm": int(v.to_osm),
        "arrival_s": int(v.arrival_s),
        "start_s": int(v.start_s),
        "end_s": int(v.end_s),
        "length_m": plain_json(v.length_m),
        "coords": _coords_to_list(v.coords),
        "deadhead_m": plain_json(v.deadhead_m),
        "deadhead_s": int(v.deadhead_s),
        "deadhead_coords": _coords_to_list(v.deadhead_coords),
        "load_kg": plain_json(v.load_kg),
        "water_l": plain_json(v.water_l),
    }


_PLAN_KEYS = ("district", "day", "activity", "objective", "solver_status", "routes", "left_out")
_ROUTE_KEYS = ("vehicle_id", "depot_id", "start_s", "end_s", "breaks", "visits")
_VISIT_KEYS = (
    "kind",
    "ref_id",
    "segment_id",
    "highway",
    "from_osm",
    "to_osm",
    "arrival_s",
    "start_s",
    "end_s",
    "length_m",
    "coords",
    "deadhead_m",
    "deadhead_s",
    "deadhead_coords",
    "load_kg",
    "water_l",
)
_LEFT_KEYS = ("task_id", "segment_id", "highway", "length_m", "reason")


def _coords(r: RecordReader, key: str) -> tuple[tuple[float, float], ...]:
    out = []
    for i, pair in enumerate(r.array(key, [])):
        if not (isinstance(pair, list | tuple) and len(pair) == 2) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in pair
        ):
            raise r.fail(f"{key}[{i}]", f"must be a [lat, lon] pair of numbers, got {pair!r}")
        out.append((float(pair[0]), float(pair[1])))
    return tuple(out)


def _visit_from_dict(record: str, d: Mapping[str, Any]) -> SweepVisit:
    r = RecordReader(record, d, _VISIT_KEYS)
    return build_record(
        record,
        SweepVisit,
        kind=r.enum("kind", SweepVisitKind),
        ref_id=r.text("ref_id", non_empty=True),
        segment_id=r.text("segment_id", ""),
        highway=r.text("highway", ""),
        from_osm=r.integer("from_osm"),
        to_osm=r.integer("to_osm"),
        arrival_s=r.integer("arrival_s"),
        start_s=r.integer("start_s"),
        end_s=r.integer("end_s"),
        length_m=r.number("length_m", 0.0),
        coords=_coords(r, "coords"),
        deadhead_m=r.number("deadhead_m", 0.0),
        deadhead_s=r.integer("deadhead_s", 0),
        deadhead_coords=_coords(r, "deadhead_coords"),
        load_kg=r.number("load_kg", 0.0),
        water_l=r.number("water_l", 0.0),
    )


def sweep_plan_from_dict(d: Mapping[str, Any]) -> SweepingPlan:
    """Rebuild a sweeping plan from :func:`sweep_plan_to_dict` output.

    Raises
    ------
    ValidationError
        If a key is missing, unknown or of the wrong type (names the record and field).
    """
    r = RecordReader("sweeping plan", d, _PLAN_KEYS)
    day = r.day("day")
    routes = []
    for name, route_d in r.objects("routes"):
        rr = RecordReader(f"sweeping plan {name}", route_d, _ROUTE_KEYS)
        breaks = []
        for bname, b in rr.objects("breaks", []):
            br = RecordReader(f"{rr.record} {bname}", b, ("start_s", "duration_s"))
            breaks.append((br.integer("start_s"), br.integer("duration_s")))
        routes.append(
            SweepRoute(
                vehicle_id=rr.text("vehicle_id", non_empty=True),
                depot_id=rr.text("depot_id", non_empty=True),
                start_s=rr.integer("start_s"),
                end_s=rr.integer("end_s"),
                visits=tuple(_visit_from_dict(f"{rr.record} {n}", v) for n, v in rr.objects("visits")),
                breaks=tuple(breaks),
            )
        )
    left = []
    for name, t in r.objects("left_out", []):
        tr = RecordReader(f"sweeping plan {name}", t, _LEFT_KEYS)
        left.append(
            LeftOutTask(
                task_id=tr.text("task_id", non_empty=True),
                segment_id=tr.text("segment_id", ""),
                highway=tr.text("highway", ""),
                length_m=tr.number("length_m"),
                reason=tr.text("reason", ""),
            )
        )
    return build_record(
        "sweeping plan",
        SweepingPlan,
        district=r.text("district", non_empty=True),
        day=day,
        activity=r.text("activity"),
        routes=tuple(routes),
        left_out=tuple(left),
        objective=r.number("objective", 0.0),
        solver_status=r.text("solver_status", ""),
    )
