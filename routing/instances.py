"""Benchmark instance readers: files from the literature -> the product's own domain model.

Three families, each mapped into a :class:`core.domain.District` plus the
matrices :func:`routing.model.build_problem` takes, so benchmarks exercise the
same model, solver, plan builder and verifier as a real city (no separate
solver):

- :func:`read_wcvrptw` -- Kim, Kim & Sahoo (2006) waste collection VRPTW
  (``../shared/benchmarks/wcvrptw/FORMAT.md``);
- :func:`read_solomon` -- Solomon VRPTW ``.txt`` files (DIMACS convention);
- :func:`read_cvrplib` -- CVRPLIB ``.vrp`` files (``EUC_2D``, e.g. the X set).

Common mapping
--------------
Locations
    Ids are the data-row position with a kind prefix (``d0``, ``f1``, ``c3``):
    ``Instance.row_of[i]`` is the data-row position (0-based, header lines not
    counted) of location ``i`` of :func:`routing.model.locations`. That row
    position, not the file's own id column, is the node number used in
    solution files (``1351`` and ``1599`` carry arbitrary large ids).
Coordinates
    Benchmark coordinates are planar (feet or abstract units), not lat/lon.
    The readers place the depot at (0 deg, 0 deg) and map ``x``/``y`` metres
    east/north of it with an equirectangular projection
    (:data:`METRES_PER_DEGREE` per degree). The lat/lon are **only for
    drawing**: every solver and verifier number comes from the matrices.
Matrices
    ``time_s`` and ``dist_m`` are float64 ``(n, n)`` arrays in locations
    order, the unit of ``dist_m`` chosen so that the model's rounding to whole
    "metres" is exact or negligible (see each reader);
    ``Instance.model_units_per_distance`` converts back to the instance's own
    unit (:meth:`Instance.to_distance`).
Loads
    The benchmark load always lives in the **litres** dimension (``expected_l``,
    ``capacity_l``; WCVRPTW cubic yards are converted at :data:`L_PER_YD3`,
    Solomon/CVRPLIB demand units are taken as litres). The **kg** dimension is
    non-binding: ``expected_kg = 0`` and ``capacity_kg =`` :data:`NONBINDING_KG`.
Objective
    ``cost_per_km = 1`` and ``cost_per_hour = 0``: the solver minimises the
    matrix distance; WCVRPTW adds a large per-vehicle fixed cost (vehicles
    first), Solomon and CVRPLIB have none (their best-known values are
    minimum-distance ones).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from pathlib import Path

import numpy as np

from core.domain import (
    DAY_S,
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    Stream,
    TimeWindow,
    Vehicle,
    VehicleKind,
)
from core.errors import ValidationError

__all__ = [
    "FT_PER_MILE",
    "L_PER_YD3",
    "METRES_PER_DEGREE",
    "M_PER_FT",
    "M_PER_MILE",
    "NONBINDING_KG",
    "BestKnown",
    "Family",
    "Instance",
    "parse_hhmm",
    "read_cvrplib",
    "read_instance",
    "read_sol",
    "read_solomon",
    "read_wcvrptw",
]

FT_PER_MILE = 5280
M_PER_FT = 0.3048
M_PER_MILE = FT_PER_MILE * M_PER_FT  # 1609.344, exact
L_PER_YD3 = 764.554857984
"""Litres per cubic yard (exact: 0.9144 m cubed)."""

METRES_PER_DEGREE = 111_320.0
"""Metres per degree of the synthetic drawing projection (equator, depot at 0/0)."""

NONBINDING_KG = 1e9
"""``capacity_kg`` of benchmark vehicles: the kg dimension never binds (every point has 0 kg)."""

LUNCH_WINDOW = TimeWindow(11 * 3600, 12 * 3600)
"""WCVRPTW lunch must *start* between 11:00 and 12:00 (header text; Benjamin & Beasley 2010)."""

WCVRPTW_SPEED_MPH_DEFAULT = 40.0


class Family(StrEnum):
    """A benchmark family (also the ``wastefleet bench`` sub-command name)."""

    WCVRPTW = "wcvrptw"
    SOLOMON = "solomon"
    CVRPLIB = "cvrplib"


@dataclass(frozen=True, slots=True)
class BestKnown:
    """Best published result of an instance, in the instance's own distance unit.

    Attributes
    ----------
    distance : float
        Best published total distance.
    vehicles : int or None
        Vehicles (routes) of that solution, if known.
    source : str
        Where it comes from (paper, or the ``.sol`` file).
    fewest_vehicles, fewest_vehicles_distance, fewest_vehicles_source
        The fewest vehicles published and the best distance with that count
        (WCVRPTW; hierarchical convention). ``None``/empty when not applicable.
    """

    distance: float
    vehicles: int | None
    source: str
    fewest_vehicles: int | None = None
    fewest_vehicles_distance: float | None = None
    fewest_vehicles_source: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Instance:
    """A benchmark instance mapped into the product's domain model.

    Attributes
    ----------
    name : str
        File stem (``"102_stop"``, ``"C101"``, ``"X-n101-k25"``).
    family : Family
        Which reader produced it.
    path : Path
        The file read.
    district : District
        Depot, facilities, points and fleet (synthetic lat/lon, for drawing only).
    time_s : numpy.ndarray
        float64 ``(n, n)`` travel times (s) in :func:`routing.model.locations` order.
    dist_m : numpy.ndarray
        float64 ``(n, n)`` distances in the model's distance unit (same order);
        see ``model_units_per_distance``.
    row_of : tuple of int
        Location index -> data-row position in the file (0-based; 0 = depot
        in every shipped file).
    distance_unit : str
        The instance's distance unit (``"mi"`` or ``"units"``).
    distance_convention : str
        How the instance's distances are defined (for reports).
    model_units_per_distance : float
        ``dist_m`` units per instance distance unit.
    distance_decimals : int
        Decimals to report distances with.
    best_known : BestKnown or None
        Best published value(s), if found beside the file.
    file_ids : tuple of str
        The file's own id column per data row (messages only).
    xy : numpy.ndarray
        float64 ``(n, 2)`` coordinates as written in the file (feet or
        abstract units), in locations order.
    """

    name: str
    family: Family
    path: Path
    district: District
    time_s: np.ndarray
    dist_m: np.ndarray
    row_of: tuple[int, ...]
    distance_unit: str
    distance_convention: str
    model_units_per_distance: float
    distance_decimals: int
    best_known: BestKnown | None
    file_ids: tuple[str, ...]
    xy: np.ndarray

    @property
    def index_of(self) -> dict[str, int]:
        """Location id -> matrix index (locations order)."""
        ids = [d.id for d in self.district.depots]
        ids += [f.id for f in self.district.facilities]
        ids += [p.id for p in self.district.points]
        return {loc_id: i for i, loc_id in enumerate(ids)}

    @property
    def location_of_row(self) -> dict[int, int]:
        """Data-row position -> location index."""
        return {row: i for i, row in enumerate(self.row_of)}

    @property
    def n_rows(self) -> int:
        """Number of data rows (= locations)."""
        return len(self.row_of)

    def customer_rows(self) -> tuple[int, ...]:
        """Data-row positions of the customers (collection points), sorted."""
        first = len(self.district.depots) + len(self.district.facilities)
        return tuple(sorted(self.row_of[first:]))

    def to_distance(self, model_units: float) -> float:
        """A distance in ``dist_m`` units -> the instance's unit, rounded to its reporting decimals."""
        return round(model_units / self.model_units_per_distance, self.distance_decimals)

    def routes_distance(self, routes: Sequence[Sequence[int]]) -> float:
        """Total distance of routes given as data-row positions (depot included at both ends).

        Sums the instance's arc convention leg by leg (Manhattan miles,
        DIMACS-truncated or rounded ``EUC_2D`` arcs), in the instance's unit.
        """
        loc = self.location_of_row
        total = 0.0
        for route in routes:
            for a, b in pairwise(route):
                total += float(self.dist_m[loc[a], loc[b]])
        return self.to_distance(total)


# --------------------------------------------------------------------------- shared helpers


def _synthetic_lat_lon(x_m: float, y_m: float) -> tuple[float, float]:
    """Planar metres east/north of the depot -> a valid (lat, lon) around (0, 0). Drawing only."""
    lat = max(-89.0, min(89.0, y_m / METRES_PER_DEGREE))
    lon = max(-179.0, min(179.0, x_m / METRES_PER_DEGREE))
    return lat, lon


def _read_lines(path: Path) -> list[str]:
    """Text lines with ``\\r`` stripped (files are ASCII; latin-1 never fails)."""
    return path.read_bytes().decode("latin-1").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _numbers(tokens: Sequence[str]) -> list[float] | None:
    """All tokens as floats, or ``None`` if any is not a number."""
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def read_sol(path: str | Path) -> tuple[list[list[int]], float | None]:
    """Read a CVRPLIB-style ``.sol`` file: ``Route #k: c1 c2 ...`` lines and ``Cost <value>``.

    Returns
    -------
    (routes, cost)
        Customer numbers per route as written (depot omitted), and the cost
        (``None`` if the file has no ``Cost`` line).
    """
    routes: list[list[int]] = []
    cost: float | None = None
    for line in _read_lines(Path(path)):
        text = line.strip()
        m = re.match(r"(?i)route\s*#?\s*\d+\s*:(.*)$", text)
        if m:
            routes.append([int(t) for t in m.group(1).split()])
            continue
        m = re.match(r"(?i)cost\s*:?\s*([-+0-9.eE]+)", text)
        if m:
            cost = float(m.group(1))
    return routes, cost


def _best_from_sol(path: Path) -> BestKnown | None:
    sol = path.with_suffix(".sol")
    if not sol.is_file():
        return None
    routes, cost = read_sol(sol)
    if cost is None:
        return None
    return BestKnown(distance=cost, vehicles=len(routes), source=f"{sol.name} (published best-known)")


def _vehicle(
    vid: str,
    *,
    depot_id: str,
    capacity_l: float,
    shift: TimeWindow,
    fixed_cost: float,
    break_duration_s: int = 0,
    break_window: TimeWindow = LUNCH_WINDOW,
    max_route_l: float | None = None,
    max_stops: int | None = None,
    max_speed_mps: float = 25.0,
) -> Vehicle:
    return Vehicle(
        id=vid,
        kind=VehicleKind.COLLECTION_TRUCK,
        depot_id=depot_id,
        streams=frozenset({Stream.RESIDUAL}),
        capacity_kg=NONBINDING_KG,
        capacity_l=capacity_l,
        shift=shift,
        break_window=break_window,
        break_duration_s=break_duration_s,
        fixed_cost=fixed_cost,
        cost_per_km=1.0,
        cost_per_hour=0.0,
        max_speed_mps=max_speed_mps,
        max_route_l=max_route_l,
        max_stops=max_stops,
    )


# --------------------------------------------------------------------------- WCVRPTW


def parse_hhmm(value: str | float) -> int:
    """An HHMM time of the WCVRPTW files -> seconds since midnight.

    ``0700`` = 07:00, ``1445`` = 14:45; missing leading zeros are fine
    (``400`` = 04:00, ``0`` = 00:00); ``2400`` = 86400 s (end of day).
    Invalid minutes (``1675``, ``0775``, ``875``: always ``..75`` in the
    files) are read as **decimal hours**: ``1675`` = 16.75 h = 16:45,
    ``0775`` = 07:45, ``875`` = 08:45 (the quarter-hour grid they evidently
    mean).

    Raises
    ------
    core.errors.ValidationError
        Negative or non-numeric values.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError("WCVRPTW time", "HHMM", f"must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValidationError("WCVRPTW time", "HHMM", f"must be >= 0, got {value!r}")
    v = round(number)
    hours, minutes = divmod(v, 100)
    if minutes >= 60:
        return round(v / 100 * 3600)
    return hours * 3600 + minutes * 60


@dataclass(frozen=True, slots=True)
class _WcRow:
    file_id: str
    x_ft: float
    y_ft: float
    early_s: int
    late_s: int
    service_s: float
    load_yd3: float
    kind: int


def _wc_header_value(line: str, what: str, path: Path) -> float:
    text = line.split("//", 1)[0].strip()
    tokens = text.split() or line.split()
    try:
        return float(tokens[0].strip('"'))
    except (IndexError, ValueError):
        msg = f"must start with a number: {line!r}"
        raise ValidationError(f"WCVRPTW file '{path.name}'", what, msg) from None


def _wc_parse(path: Path) -> tuple[dict[str, float], list[_WcRow]]:
    lines = [ln for ln in _read_lines(path) if ln.strip()]
    names = ("trip_capacity", "day_capacity", "max_stops", "lunch_s", "speed_mph")
    if len(lines) < len(names) + 2:
        raise ValidationError(f"WCVRPTW file '{path.name}'", "header", "is too short")
    header = {name: _wc_header_value(lines[i], name, path) for i, name in enumerate(names)}
    rows: list[_WcRow] = []
    for line in lines[len(names) :]:
        tokens = line.split()
        if len(tokens) < 8:
            continue
        nums = _numbers(tokens[:8])
        if nums is None:
            continue  # the column header
        kind = int(nums[7])
        if kind not in (0, 1, 2):
            msg = f"Stop_Type must be 0, 1 or 2, got {tokens[7]!r} (data row {len(rows)})"
            raise ValidationError(f"WCVRPTW file '{path.name}'", "Stop_Type", msg)
        rows.append(
            _WcRow(
                file_id=tokens[0],
                x_ft=nums[1],
                y_ft=nums[2],
                early_s=parse_hhmm(tokens[3]),
                late_s=parse_hhmm(tokens[4]),
                service_s=nums[5],
                load_yd3=nums[6],
                kind=kind,
            )
        )
    return header, rows


def _wc_published(path: Path) -> BestKnown | None:
    """Best published WCVRPTW values from ``published_results.csv`` beside the file.

    Best distance: the lowest distance in any row. Fewest vehicles: over rows
    Benjamin & Beasley (2010) accept, i.e. leaving out Kim's A1 insertion
    heuristic (whose counts they call partly incorrect) and rows whose vehicle
    count is flagged ambiguous; with the best distance at that count.
    """
    csv_path = path.parent / "published_results.csv"
    m = re.match(r"(\d+)", path.stem)
    if not csv_path.is_file() or m is None:
        return None
    key = m.group(1)
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("instance", "").strip() == key]
    parsed = []
    for r in rows:
        try:
            parsed.append((float(r["total_distance_miles"]), int(r["vehicles"]), r))
        except (KeyError, ValueError):
            continue
    if not parsed:
        return None

    def label(r: dict[str, str]) -> str:
        return f"{r.get('paper', '')} {r.get('table', '')}, {r.get('algorithm', '')}".strip()

    dist, veh, best = min(parsed, key=lambda t: (t[0], t[1]))
    trusted = [
        t
        for t in parsed
        if not t[2].get("algorithm", "").startswith("A1")
        and "ambiguous" not in t[2].get("confirmed", "").lower()
    ]
    few_v = few_d = None
    few_src = ""
    if trusted:
        few_d, few_v, few = min(trusted, key=lambda t: (t[1], t[0]))
        few_src = label(few)
    return BestKnown(
        distance=dist,
        vehicles=veh,
        source=label(best),
        fewest_vehicles=few_v,
        fewest_vehicles_distance=few_d,
        fewest_vehicles_source=few_src,
    )


def _wc_fleet_lower_bound(
    rows_customers_service_s: np.ndarray,
    nearest_s: np.ndarray,
    total_load: float,
    header: dict[str, float],
    n_customers: int,
    day_s: float,
    dump_s: float,
) -> int:
    """A simple lower bound on the WCVRPTW fleet: load, stop count and working time.

    ``max(ceil(load / day capacity), ceil(customers / max stops), ceil(work / (day - lunch)))``
    where work = service of every customer + the shortest way out of every
    customer + ``ceil(load / trip capacity)`` dumps (service + shortest way to a
    disposal site).
    """
    by_load = math.ceil(total_load / header["day_capacity"] - 1e-9) if header["day_capacity"] > 0 else 1
    by_stops = math.ceil(n_customers / header["max_stops"]) if header["max_stops"] > 0 else 1
    trips = math.ceil(total_load / header["trip_capacity"] - 1e-9) if header["trip_capacity"] > 0 else 0
    work = float(rows_customers_service_s.sum() + nearest_s.sum()) + trips * dump_s
    usable = max(1.0, day_s - header["lunch_s"])
    by_time = math.ceil(work / usable - 1e-9)
    return max(1, by_load, by_stops, by_time)


def read_wcvrptw(path: str | Path, *, vehicles: int | None = None) -> Instance:
    """Read a Kim et al. (2006) WCVRPTW ``*_stop.txt`` file into the domain model.

    Mapping (FORMAT.md):

    - depot row -> :class:`~core.domain.Depot` ``d<row>``; its window is every
      vehicle's shift (leave no earlier, return no later);
    - disposal rows (type 2, anywhere in the file) -> :class:`~core.domain.Facility`
      ``f<row>`` (landfill accepting ``residual``), opening = its window,
      ``unload_s`` = its service time, tipping bays = fleet size (no bay limit
      in the benchmark), no daily tonnage limit;
    - customers (type 1) -> :class:`~core.domain.CollectionPoint` ``c<row>``,
      stream ``residual``, ``expected_l`` = load x :data:`L_PER_YD3` (zero-load
      customers are kept, as B&B 2010 do), 0 kg, service time, and their
      window unless it covers the whole depot window;
    - header line 1 -> ``capacity_l`` (per trip), line 2 -> ``max_route_l``
      (per day), line 3 -> ``max_stops``, line 4 -> a lunch break of that
      length starting in 11:00-12:00, line 5 -> speed;
    - unlimited homogeneous fleet -> ``vehicles`` trucks (default
      ``ceil(1.5 x`` :func:`_wc_fleet_lower_bound` ``) + 2``, and at least
      2 more than any published count of the instance), each with a
      fixed cost above the distance of any plan that dumps at most once per
      collection (so vehicles are minimised first, then distance).

    Distances: Manhattan on the feet coordinates (the paper's convention),
    held in ``dist_m`` as true metres (ft x 0.3048; the model rounds each arc
    to whole metres, i.e. at most 0.5 m per leg in the objective only);
    reported in miles (``Instance.to_distance``). Times: miles x 3600 / speed
    seconds, unrounded (the model rounds each leg up to whole seconds, so its
    plans stay feasible under the exact times). Time windows: :func:`parse_hhmm`.
    """
    path = Path(path)
    header, rows = _wc_parse(path)
    record = f"WCVRPTW file '{path.name}'"
    depots = [i for i, r in enumerate(rows) if r.kind == 0]
    if len(depots) != 1:
        msg = f"must have exactly one depot row (type 0), got {len(depots)}"
        raise ValidationError(record, "Stop_Type", msg)
    disposal = [i for i, r in enumerate(rows) if r.kind == 2]
    customers = [i for i, r in enumerate(rows) if r.kind == 1]
    if not disposal:
        raise ValidationError(record, "Stop_Type", "must have at least one disposal row (type 2)")
    order = depots + disposal + customers  # locations order -> data row
    dep = rows[depots[0]]
    speed = header["speed_mph"] if header["speed_mph"] > 0 else WCVRPTW_SPEED_MPH_DEFAULT

    xy = np.array([[rows[i].x_ft, rows[i].y_ft] for i in order], dtype=np.float64)
    feet = np.abs(xy[:, None, 0] - xy[None, :, 0]) + np.abs(xy[:, None, 1] - xy[None, :, 1])
    dist_m = feet * M_PER_FT
    time_s = feet / FT_PER_MILE * 3600.0 / speed

    shift = TimeWindow(dep.early_s, max(dep.early_s, dep.late_s))
    best = _wc_published(path)
    n_fac = len(disposal)
    cust_locs = np.arange(1 + n_fac, len(order))
    total_load = float(sum(rows[i].load_yd3 for i in customers))
    if vehicles is None:
        t_off = time_s[np.ix_(cust_locs, np.arange(len(order)))].copy()
        t_off[np.arange(len(cust_locs)), cust_locs] = np.inf
        nearest = t_off.min(axis=1) if len(order) > 1 else np.zeros(len(cust_locs))
        to_dump = time_s[np.ix_(cust_locs, np.arange(1, 1 + n_fac))].min() if len(cust_locs) else 0.0
        dump_s = float(to_dump + min(rows[i].service_s for i in disposal))
        lb = _wc_fleet_lower_bound(
            np.array([rows[i].service_s for i in customers]),
            np.where(np.isfinite(nearest), nearest, 0.0),
            total_load,
            header,
            len(customers),
            shift.end_s - shift.start_s,
            dump_s,
        )
        vehicles = math.ceil(1.5 * lb) + 2
        published = [v for v in (best.vehicles, best.fewest_vehicles) if v] if best else []
        vehicles = max([vehicles, *(v + 2 for v in published)])
    if vehicles < 1:
        raise ValidationError(record, "vehicles", f"must be >= 1, got {vehicles}")

    # Fixed cost (currency = km at cost_per_km 1): above any plan's distance.
    legs = 2 * len(customers) + 2 * vehicles
    fixed_cost = math.ceil(legs * float(dist_m.max(initial=0.0)) / 1000.0) + 1.0

    def place(i: int) -> tuple[float, float]:
        r = rows[i]
        return _synthetic_lat_lon((r.x_ft - dep.x_ft) * M_PER_FT, (r.y_ft - dep.y_ft) * M_PER_FT)

    depot = Depot(f"d{depots[0]}", f"depot (Stop_ID {dep.file_id})", *place(depots[0]))
    facilities = []
    for i in disposal:
        r = rows[i]
        facilities.append(
            Facility(
                id=f"f{i}",
                name=f"disposal site (Stop_ID {r.file_id})",
                kind=FacilityKind.LANDFILL,
                lat=place(i)[0],
                lon=place(i)[1],
                accepted_streams=frozenset({Stream.RESIDUAL}),
                opening=TimeWindow(r.early_s, max(r.early_s, r.late_s)),
                unload_s=round(r.service_s),
                tipping_bays=max(1, vehicles),
            )
        )
    points = []
    for i in customers:
        r = rows[i]
        if r.late_s < r.early_s:
            raise ValidationError(
                record, "Late_St_Time", f"is before Early_St_Time on data row {i} (Stop_ID {r.file_id})"
            )
        covers = r.early_s <= shift.start_s and r.late_s >= shift.end_s
        windows = () if covers else (TimeWindow(r.early_s, r.late_s),)
        points.append(
            CollectionPoint(
                id=f"c{i}",
                lat=place(i)[0],
                lon=place(i)[1],
                stream=Stream.RESIDUAL,
                expected_kg=0.0,
                expected_l=max(0.0, r.load_yd3) * L_PER_YD3,
                service_s=round(r.service_s),
                time_windows=windows,
                address=f"Stop_ID {r.file_id}",
            )
        )
    fleet = tuple(
        _vehicle(
            f"v{k + 1:02d}",
            depot_id=depot.id,
            capacity_l=header["trip_capacity"] * L_PER_YD3,
            shift=shift,
            fixed_cost=fixed_cost,
            break_duration_s=round(header["lunch_s"]),
            break_window=LUNCH_WINDOW,
            max_route_l=header["day_capacity"] * L_PER_YD3,
            max_stops=round(header["max_stops"]) if header["max_stops"] > 0 else None,
            max_speed_mps=speed * M_PER_MILE / 3600.0,
        )
        for k in range(vehicles)
    )
    district = District(
        name=path.stem,
        timezone="UTC",
        depots=(depot,),
        facilities=tuple(facilities),
        points=tuple(points),
        vehicles=fleet,
    )
    return Instance(
        name=path.stem,
        family=Family.WCVRPTW,
        path=path,
        district=district,
        time_s=time_s,
        dist_m=dist_m,
        row_of=tuple(order),
        distance_unit="mi",
        distance_convention="Manhattan feet / 5280 per leg (Kim et al. 2006), miles",
        model_units_per_distance=M_PER_MILE,
        distance_decimals=3,
        best_known=best,
        file_ids=tuple(r.file_id for r in rows),
        xy=xy,
    )


# --------------------------------------------------------------------------- Solomon

SOLOMON_TIME_SCALE = 10
"""Solomon time/distance unit = 10 s and 10 m: DIMACS one-decimal truncation becomes whole seconds/metres."""


def read_solomon(path: str | Path) -> Instance:
    """Read a Solomon VRPTW ``.txt`` file into the domain model (DIMACS convention).

    - Row 0 (customer number 0) is the depot ``d0``; its window is the shift.
    - ``NUMBER`` vehicles of ``CAPACITY`` (litres dimension), no fixed cost,
      no break; customers ``c<row>`` with demand, service time and their
      ``[READY, DUE]`` window (service start).
    - Arcs: Euclidean distance **truncated to one decimal** (DIMACS), travel
      time = distance. One Solomon unit is mapped to 10 m and 10 s, so every
      arc is a whole number of metres and seconds and the model's integers are
      exact; ``Instance.to_distance`` divides by 10 again.
    - Best-known: the ``.sol`` file beside the instance (``Cost``, routes).
    """
    path = Path(path)
    record = f"Solomon file '{path.name}'"
    lines = _read_lines(path)
    n_vehicles = capacity = None
    rows: list[list[float]] = []
    for k, line in enumerate(lines):
        tokens = line.split()
        if n_vehicles is None and tokens and tokens[0].upper() == "NUMBER":
            for nxt in lines[k + 1 :]:
                nums = _numbers(nxt.split())
                if nums is not None and len(nums) >= 2:
                    n_vehicles, capacity = int(nums[0]), float(nums[1])
                    break
            continue
        nums = _numbers(tokens)
        if nums is not None and len(nums) == 7:
            rows.append(nums)
    if n_vehicles is None or capacity is None:
        raise ValidationError(record, "VEHICLE", "must give NUMBER and CAPACITY")
    if len(rows) < 2:
        raise ValidationError(record, "CUSTOMER", f"must list the depot and customers, got {len(rows)} rows")
    s = SOLOMON_TIME_SCALE
    xy = np.array([[r[1], r[2]] for r in rows], dtype=np.float64)
    euclid = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    units = np.floor(euclid * s + 1e-9)  # DIMACS: truncate to one decimal, in tenths
    dep = rows[0]
    shift = TimeWindow(round(dep[4] * s), round(dep[5] * s))

    def place(r: list[float]) -> tuple[float, float]:
        return _synthetic_lat_lon((r[1] - dep[1]) * s, (r[2] - dep[2]) * s)

    points = tuple(
        CollectionPoint(
            id=f"c{i}",
            lat=place(r)[0],
            lon=place(r)[1],
            stream=Stream.RESIDUAL,
            expected_kg=0.0,
            expected_l=r[3],
            service_s=round(r[6] * s),
            time_windows=(TimeWindow(round(r[4] * s), round(r[5] * s)),),
            address=f"customer {int(r[0])}",
        )
        for i, r in enumerate(rows)
        if i > 0
    )
    fleet = tuple(
        _vehicle(f"v{k + 1:02d}", depot_id="d0", capacity_l=capacity, shift=shift, fixed_cost=0.0)
        for k in range(n_vehicles)
    )
    district = District(
        name=path.stem,
        timezone="UTC",
        depots=(Depot("d0", "depot", *place(dep)),),
        facilities=(),
        points=points,
        vehicles=fleet,
    )
    return Instance(
        name=path.stem,
        family=Family.SOLOMON,
        path=path,
        district=district,
        time_s=units.copy(),
        dist_m=units,
        row_of=tuple(range(len(rows))),
        distance_unit="units",
        distance_convention="Euclidean, each arc truncated to one decimal (DIMACS)",
        model_units_per_distance=float(s),
        distance_decimals=1,
        best_known=_best_from_sol(path),
        file_ids=tuple(str(int(r[0])) for r in rows),
        xy=xy,
    )


# --------------------------------------------------------------------------- CVRPLIB


def _vrplib_sections(path: Path) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    """``KEY : value`` specifications and ``*_SECTION`` bodies of a VRPLIB file."""
    spec: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for line in _read_lines(path):
        text = line.strip()
        if not text:
            continue
        upper = text.upper()
        if upper == "EOF":
            break
        head = upper.split()[0].rstrip(":")
        if head.endswith("_SECTION"):
            current = head
            sections[current] = []
            continue
        if ":" in text and not _numbers(text.split()):
            key, _, value = text.partition(":")
            spec[key.strip().upper()] = value.strip().strip('"')
            current = None
            continue
        if current is not None:
            sections[current].append(text.split())
    return spec, sections


def read_cvrplib(path: str | Path, *, vehicles: int | None = None) -> Instance:
    """Read a CVRPLIB ``.vrp`` file (``EUC_2D``) into the domain model.

    - ``NODE_COORD_SECTION`` order is the data-row order (X set: node id - 1,
      the numbering of the ``.sol`` files); the ``DEPOT_SECTION`` node is ``d<row>``.
    - ``CAPACITY`` in the litres dimension, ``DEMAND_SECTION`` per customer,
      no time windows, no service times, no fixed cost.
    - Arcs: ``EUC_2D`` = Euclidean distance rounded to the nearest integer
      (TSPLIB ``nint``); 1 unit = 1 m; travel times are 0 (no time constraint;
      shift = two days).
    - Fleet: unlimited in the benchmark -> ``vehicles`` (default: ``VEHICLES``
      if given, else ``ceil(total demand / capacity)`` + ``max(2, 15 %)``).
    - Best-known: the ``.sol`` file beside the instance.
    """
    path = Path(path)
    record = f"CVRPLIB file '{path.name}'"
    spec, sections = _vrplib_sections(path)
    weight_type = spec.get("EDGE_WEIGHT_TYPE", "EUC_2D").upper()
    if weight_type != "EUC_2D":
        raise ValidationError(record, "EDGE_WEIGHT_TYPE", f"must be EUC_2D, got {weight_type!r}")
    try:
        capacity = float(spec["CAPACITY"])
    except (KeyError, ValueError):
        raise ValidationError(record, "CAPACITY", "must be given as a number") from None
    coords = sections.get("NODE_COORD_SECTION", [])
    if not coords:
        raise ValidationError(record, "NODE_COORD_SECTION", "is missing or empty")
    node_ids = [t[0] for t in coords]
    row_of_id = {nid: k for k, nid in enumerate(node_ids)}
    xy = np.array([[float(t[1]), float(t[2])] for t in coords], dtype=np.float64)
    if "DIMENSION" in spec and int(float(spec["DIMENSION"])) != len(coords):
        msg = f"says {spec['DIMENSION']} nodes, NODE_COORD_SECTION has {len(coords)}"
        raise ValidationError(record, "DIMENSION", msg)
    demand = [0.0] * len(coords)
    for t in sections.get("DEMAND_SECTION", []):
        if t[0] not in row_of_id:
            raise ValidationError(record, "DEMAND_SECTION", f"names unknown node {t[0]!r}")
        demand[row_of_id[t[0]]] = float(t[1])
    depot_ids = [t[0] for t in sections.get("DEPOT_SECTION", []) if t and t[0] != "-1"]
    depot_ids = depot_ids or [node_ids[0]]
    if len(depot_ids) != 1 or depot_ids[0] not in row_of_id:
        raise ValidationError(record, "DEPOT_SECTION", f"must name exactly one known node, got {depot_ids}")
    depot_row = row_of_id[depot_ids[0]]
    customers = [k for k in range(len(coords)) if k != depot_row]
    order = [depot_row, *customers]
    oxy = xy[order]
    dist = np.floor(np.hypot(oxy[:, None, 0] - oxy[None, :, 0], oxy[:, None, 1] - oxy[None, :, 1]) + 0.5)
    if vehicles is None:
        if "VEHICLES" in spec:
            vehicles = int(float(spec["VEHICLES"]))
        else:
            lb = max(1, math.ceil(sum(demand) / capacity - 1e-9))
            vehicles = lb + max(2, math.ceil(0.15 * lb))
    dx, dy = xy[depot_row]

    def place(k: int) -> tuple[float, float]:
        return _synthetic_lat_lon(float(xy[k, 0] - dx), float(xy[k, 1] - dy))

    points = tuple(
        CollectionPoint(
            id=f"c{k}",
            lat=place(k)[0],
            lon=place(k)[1],
            stream=Stream.RESIDUAL,
            expected_kg=0.0,
            expected_l=demand[k],
            service_s=0,
            address=f"node {node_ids[k]}",
        )
        for k in customers
    )
    fleet = tuple(
        _vehicle(
            f"v{k + 1:02d}",
            depot_id=f"d{depot_row}",
            capacity_l=capacity,
            shift=TimeWindow(0, 2 * DAY_S),
            fixed_cost=0.0,
        )
        for k in range(vehicles)
    )
    district = District(
        name=spec.get("NAME", path.stem) or path.stem,
        timezone="UTC",
        depots=(Depot(f"d{depot_row}", f"depot (node {node_ids[depot_row]})", *place(depot_row)),),
        facilities=(),
        points=points,
        vehicles=fleet,
    )
    return Instance(
        name=path.stem,
        family=Family.CVRPLIB,
        path=path,
        district=district,
        time_s=np.zeros_like(dist),
        dist_m=dist,
        row_of=tuple(order),
        distance_unit="units",
        distance_convention="EUC_2D: Euclidean rounded to the nearest integer per arc",
        model_units_per_distance=1.0,
        distance_decimals=0,
        best_known=_best_from_sol(path),
        file_ids=tuple(node_ids),
        xy=oxy,
    )


def read_instance(family: Family | str, path: str | Path) -> Instance:
    """Read ``path`` with the reader of ``family`` (``wcvrptw``, ``solomon`` or ``cvrplib``)."""
    fam = Family(family)
    if fam is Family.WCVRPTW:
        return read_wcvrptw(path)
    if fam is Family.SOLOMON:
        return read_solomon(path)
    return read_cvrplib(path)
