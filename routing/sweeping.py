"""Street sweeping and washing plans on the real road network: tasks -> arc problem -> drivable plan.

:func:`plan_sweeping` selects the day's tasks (:mod:`routing.sweep_segments`),
builds a capacitated arc-routing problem (:func:`build_sweep_problem`), solves
it with :func:`routing.arc_solve.solve_arc` and turns the answer into a
:class:`core.sweep_plan.SweepingPlan` with road geometry (:func:`to_sweeping_plan`).

The model
---------
- **Vehicles**: ``sweep`` uses the district's :attr:`VehicleKind.SWEEPER` vehicles,
  ``wash`` its :attr:`VehicleKind.WASHER` vehicles. A sweeper's capacity is its
  debris hopper (``capacity_kg``), a washer's its water tank (``capacity_l``).
  Shift and break come from the vehicle; cost is ``cost_per_km`` per km driven
  (working or not), ``cost_per_hour`` per hour from leaving the depot to
  returning (so a needless dump or refill costs its unloading time) and
  ``fixed_cost`` per vehicle used.
- **Work**: a :class:`WorkProfile` per vehicle kind gives the working speed
  (about 5 km/h sweeping, 8 km/h washing) and what a km adds (debris kg, water
  litres). Serving a task takes its length over the working speed; deadheading
  runs at road speed (fastest paths of :class:`core.roads.RoadNetwork`).
- **Facilities**: sweepers empty the hopper at facilities that accept
  ``street_debris`` (water points excluded) and must return empty; washers
  refill at :attr:`FacilityKind.WATER_POINT` facilities. Both carry on
  after the visit (dump-and-continue).
- Every task is mandatory; what the solver cannot fit is left out with its reason.
- Deadhead and work times are whole seconds rounded up, the way the solver's
  integer model counts them, so its greedy first routes (planned in floats)
  are not rejected by the model for a few seconds past the shift end.
- Every plan is checked twice: the arc solution against its arc problem
  (:func:`routing.arc_verify.verify_arc`) and the drivable plan against the
  tasks, fleet and roads (:func:`routing.sweep_verify.verify_sweeping_plan`).

Distances are metres, times seconds since local midnight (night work runs past 86 400).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np

from core.domain import District, FacilityKind, Stream, Vehicle, VehicleKind
from core.errors import ValidationError
from core.roads import RoadNetwork
from core.sweep_plan import LeftOutTask, SweepingPlan, SweepRoute, SweepVisit, SweepVisitKind
from routing.arc_model import (
    ArcFacility,
    ArcProblem,
    ArcRoute,
    ArcSolution,
    ArcTask,
    ArcVehicle,
    VisitKind,
)
from routing.arc_solve import solve_arc
from routing.arc_verify import verify_arc
from routing.solve import SolveParams
from routing.sweep_segments import StreetSegment, SweepRules, SweepTask, street_segments, sweep_tasks
from routing.sweep_verify import verify_sweeping_plan

__all__ = [
    "DEBRIS_KG",
    "DEFAULT_PROFILES",
    "WATER_L",
    "Activity",
    "SweepProblem",
    "SweepResult",
    "WorkProfile",
    "build_sweep_problem",
    "plan_sweeping",
    "to_sweeping_plan",
]

DEBRIS_KG = "debris_kg"
"""Arc-problem dimension of a sweeper's hopper (kg of debris picked up)."""
WATER_L = "water_l"
"""Arc-problem dimension of a washer's tank (litres used since the last refill)."""


class Activity(StrEnum):
    """What a plan does to the streets."""

    SWEEP = "sweep"
    WASH = "wash"

    @property
    def vehicle_kind(self) -> VehicleKind:
        """The vehicle kind that does it."""
        return VehicleKind.SWEEPER if self is Activity.SWEEP else VehicleKind.WASHER

    @property
    def dimension(self) -> str:
        """The capacity dimension it fills."""
        return DEBRIS_KG if self is Activity.SWEEP else WATER_L


@dataclass(frozen=True, slots=True)
class WorkProfile:
    """How a kind of vehicle works: speed while working (m/s) and what one km adds (kg, litres)."""

    working_speed_mps: float
    debris_kg_per_km: float = 0.0
    water_l_per_km: float = 0.0

    def __post_init__(self) -> None:
        for name in ("working_speed_mps", "debris_kg_per_km", "water_l_per_km"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValidationError("WorkProfile", name, f"must be a finite number >= 0, got {value!r}")
        if self.working_speed_mps <= 0:
            raise ValidationError("WorkProfile", "working_speed_mps", "must be > 0")


DEFAULT_PROFILES: Mapping[VehicleKind, WorkProfile] = {
    VehicleKind.SWEEPER: WorkProfile(working_speed_mps=5.0 / 3.6, debris_kg_per_km=60.0),
    VehicleKind.WASHER: WorkProfile(working_speed_mps=8.0 / 3.6, water_l_per_km=1_500.0),
}
"""Mechanical sweeper: 5 km/h, 60 kg of debris per km of kerb. Washer: 8 km/h, 1500 l per km."""


@dataclass(frozen=True, slots=True, eq=False)
class SweepProblem:
    """An arc problem made from a district, with the maps back to the road network.

    Attributes
    ----------
    activity
        Sweeping or washing.
    arc
        The arc-routing problem; its node ``i`` is road-network node ``road_nodes[i]``.
    road_nodes
        int64 road-network node index of each arc-problem node (sorted, unique).
    tasks
        Task id -> the street task it stands for.
    depot_of
        Vehicle id -> depot id.
    """

    activity: Activity
    arc: ArcProblem
    road_nodes: np.ndarray
    tasks: Mapping[str, SweepTask]
    depot_of: Mapping[str, str]


@dataclass(frozen=True, slots=True, eq=False)
class SweepResult:
    """A planned day of one activity with what made it (``problem``/``solution`` are ``None`` when
    the fleet had no vehicle of the kind) and what the checks found (``violations``, empty when
    sound): :func:`routing.arc_verify.verify_arc` on the solution (lines prefixed ``arc solution:``)
    and :func:`routing.sweep_verify.verify_sweeping_plan` on the plan."""

    plan: SweepingPlan
    tasks: tuple[SweepTask, ...]
    problem: SweepProblem | None
    solution: ArcSolution | None
    violations: tuple[str, ...] = ()


def _fleet(district: District, activity: Activity) -> tuple[Vehicle, ...]:
    return tuple(v for v in district.vehicles if v.kind == activity.vehicle_kind)


def build_sweep_problem(
    district: District,
    network: RoadNetwork,
    tasks: Sequence[SweepTask],
    activity: Activity,
    *,
    profiles: Mapping[VehicleKind, WorkProfile] = DEFAULT_PROFILES,
) -> SweepProblem:
    """The arc-routing problem of ``tasks`` for the district's sweepers or washers.

    Raises
    ------
    ValidationError
        If the district has no vehicle of the activity's kind, or no work profile for it.
    """
    activity = Activity(activity)
    vehicles = _fleet(district, activity)
    record = f"District '{district.name}'"
    if not vehicles:
        raise ValidationError(
            record, "vehicles", f"holds no {activity.vehicle_kind.value} for {activity.value}"
        )
    profile = profiles.get(activity.vehicle_kind)
    if profile is None:
        raise ValidationError("profiles", activity.vehicle_kind.value, "has no WorkProfile")
    dim = activity.dimension
    rate = profile.debris_kg_per_km if activity is Activity.SWEEP else profile.water_l_per_km
    if activity is Activity.SWEEP:
        sites = [
            f
            for f in district.facilities
            if Stream.STREET_DEBRIS in f.accepted_streams and f.kind != FacilityKind.WATER_POINT
        ]
    else:
        sites = [f for f in district.facilities if f.kind == FacilityKind.WATER_POINT]

    depots = {d.id: d for d in district.depots}
    places = [depots[v.depot_id] for v in vehicles] + sites
    place_nodes, _ = network.nearest_nodes([p.lat for p in places], [p.lon for p in places])
    task_nodes = [n for t in tasks for n in (t.tail, t.head)]
    road_nodes = np.unique(np.concatenate([np.asarray(task_nodes, dtype=np.int64), place_nodes]))
    local = {int(n): i for i, n in enumerate(road_nodes.tolist())}
    time_s, dist_m = network.matrices(road_nodes, road_nodes)
    time_s = np.ceil(time_s)  # whole seconds, as the solver model counts them (see the module docstring)

    arc_tasks = tuple(
        ArcTask(
            id=t.id,
            tail=local[t.tail],
            head=local[t.head],
            service_cost=t.length_m,
            service_s=float(math.ceil(t.length_m / profile.working_speed_mps)),
            demand={dim: rate * t.length_m / 1000.0},
            direction=t.direction,
            windows=() if t.window is None else ((float(t.window.start_s), float(t.window.end_s)),),
        )
        for t in tasks
    )
    arc_vehicles = tuple(
        ArcVehicle(
            id=v.id,
            start=local[int(place_nodes[k])],
            capacity={dim: v.capacity_kg if activity is Activity.SWEEP else v.capacity_l},
            shift_start_s=float(v.shift.start_s),
            shift_end_s=float(v.shift.end_s),
            break_s=float(v.break_duration_s),
            break_start_min_s=float(v.break_window.start_s),
            break_start_max_s=float(v.break_window.end_s),
            cost_per_distance=v.cost_per_km / 1000.0,
            fixed_cost=v.fixed_cost,
            cost_per_hour=v.cost_per_hour,
        )
        for k, v in enumerate(vehicles)
    )
    arc_facilities = tuple(
        ArcFacility(
            id=f.id,
            node=local[int(place_nodes[len(vehicles) + j])],
            resets=frozenset({dim}),
            service_s=float(f.unload_s),
            windows=((float(f.opening.start_s), float(f.opening.end_s)),),
        )
        for j, f in enumerate(sites)
    )
    arc = ArcProblem(
        dist=dist_m,
        time_s=time_s,
        tasks=arc_tasks,
        vehicles=arc_vehicles,
        facilities=arc_facilities,
        end_empty=frozenset({DEBRIS_KG}) if activity is Activity.SWEEP else frozenset(),
        coords=tuple(zip(network.lat[road_nodes].tolist(), network.lon[road_nodes].tolist(), strict=True)),
        name=f"{district.name} {activity.value}",
    )
    return SweepProblem(
        activity=activity,
        arc=arc,
        road_nodes=road_nodes,
        tasks={t.id: t for t in tasks},
        depot_of={v.id: v.depot_id for v in vehicles},
    )


Coords = tuple[tuple[float, float], ...]


def _s(value: float) -> int:
    """Seconds since midnight as a whole second (rounded to nearest)."""
    return round(value)


def _leg(network: RoadNetwork, src: int, dst: int) -> tuple[float, int, Coords]:
    """Deadhead from road node ``src`` to ``dst``: length (m), time (s), geometry (empty if the same node)."""
    if src == dst:
        return 0.0, 0, ()
    path = network.route(src, dst)
    return path.length_m, _s(path.time_s), path.coords


def _reason(task: SweepTask, reason: str, vehicles: Sequence[ArcVehicle]) -> str:
    """The solver's reason, prefixed ``window ...:`` when no vehicle works during the task's window."""
    w = task.window
    if w is None or any(v.shift_start_s <= w.end_s and w.start_s <= v.shift_end_s for v in vehicles):
        return reason
    start, end = (f"{t // 3600 % 24:02d}:{t % 3600 // 60:02d}" for t in (w.start_s, w.end_s))
    return f"window {start}-{end}: no vehicle works then ({reason})"


def _route(problem: SweepProblem, arc_route: ArcRoute, network: RoadNetwork) -> SweepRoute:
    """One vehicle's visits with road geometry: deadhead legs from the network, swept pieces from tasks."""
    osm = network.osm_ids
    facility_kind = SweepVisitKind.DUMP if problem.activity is Activity.SWEEP else SweepVisitKind.REFILL
    vehicle = next(v for v in problem.arc.vehicles if v.id == arc_route.vehicle_id)
    at = int(problem.road_nodes[vehicle.start])
    visits: list[SweepVisit] = []
    for v in arc_route.visits:
        a, b = int(problem.road_nodes[v.from_node]), int(problem.road_nodes[v.to_node])
        dead_m, dead_s, dead_coords = _leg(network, at, a)
        arrival = _s(v.arrive_s)
        start = max(arrival, _s(v.start_s))
        task = problem.tasks[v.id] if v.kind == VisitKind.SERVICE else None
        coords: Coords = ((float(network.lat[a]), float(network.lon[a])),)
        if task is not None:
            coords = task.coords if (a, b) == (task.tail, task.head) else task.coords[::-1]
        visits.append(
            SweepVisit(
                facility_kind if task is None else SweepVisitKind.SERVICE,
                v.id,
                from_osm=int(osm[a]),
                to_osm=int(osm[b]),
                arrival_s=arrival,
                start_s=start,
                end_s=max(start, _s(v.end_s)),
                segment_id=task.segment_id if task else "",
                highway=task.highway if task else "",
                length_m=task.length_m if task else 0.0,
                coords=coords,
                deadhead_m=dead_m,
                deadhead_s=dead_s,
                deadhead_coords=dead_coords,
                load_kg=float(v.load.get(DEBRIS_KG, 0.0)),
                water_l=float(v.load.get(WATER_L, 0.0)),
            )
        )
        at = b
    home = int(problem.road_nodes[vehicle.end_node])
    dead_m, dead_s, dead_coords = _leg(network, at, home)
    end = max(_s(arc_route.end_s), visits[-1].end_s if visits else 0)
    depot_id = problem.depot_of[vehicle.id]
    visits.append(
        SweepVisit(
            SweepVisitKind.DEPOT_END,
            depot_id,
            from_osm=int(osm[home]),
            to_osm=int(osm[home]),
            arrival_s=end,
            start_s=end,
            end_s=end,
            deadhead_m=dead_m,
            deadhead_s=dead_s,
            deadhead_coords=dead_coords,
            coords=((float(network.lat[home]), float(network.lon[home])),),
            load_kg=visits[-1].load_kg if visits else 0.0,
            water_l=visits[-1].water_l if visits else 0.0,
        )
    )
    breaks = tuple((_s(s), _s(d)) for s, d in arc_route.breaks)
    return SweepRoute(vehicle.id, depot_id, _s(arc_route.start_s), end, tuple(visits), breaks)


def to_sweeping_plan(
    problem: SweepProblem, solution: ArcSolution, network: RoadNetwork, district: str, day: date
) -> SweepingPlan:
    """The solver's answer as a drivable plan: deadhead legs along the roads, swept geometry, loads."""
    left = []
    for u in solution.unserved:
        task = problem.tasks[u.task_id]
        reason = _reason(task, u.reason, problem.arc.vehicles)
        left.append(LeftOutTask(u.task_id, task.segment_id, task.highway, task.length_m, reason))
    return SweepingPlan(
        district=district,
        day=day,
        activity=problem.activity.value,
        routes=tuple(_route(problem, r, network) for r in solution.routes if r.used),
        left_out=tuple(left),
        objective=float(solution.cost),
        solver_status=solution.status,
    )


def plan_sweeping(
    district: District,
    network: RoadNetwork,
    day: date,
    rules: SweepRules,
    activity: Activity | str,
    params: SolveParams,
    *,
    profiles: Mapping[VehicleKind, WorkProfile] = DEFAULT_PROFILES,
    segments: Sequence[StreetSegment] | None = None,
    progress: Callable[[float, float], None] | None = None,
    stall_s: float | None = None,
) -> SweepResult:
    """Plan one day of sweeping or washing for ``district`` on ``network``.

    Parameters
    ----------
    rules
        Which classes (and area) to serve, with sides, frequency and night windows.
    activity
        ``"sweep"`` (the district's sweepers) or ``"wash"`` (its washers).
    params
        Solver settings (time limit, solution limit, workers).
    segments
        Precomputed :func:`street_segments` of ``network`` (computed when omitted).
    progress, stall_s
        Passed to :func:`routing.arc_solve.solve_arc`.

    Returns
    -------
    SweepResult
        The plan, re-checked by the independent verifier; when the fleet has no
        vehicle of the kind, every due task is left out with that reason.
    """
    activity = Activity(activity)
    segs = street_segments(network) if segments is None else segments
    tasks = tuple(sweep_tasks(segs, rules, day))
    if not _fleet(district, activity):
        reason = f"no {activity.vehicle_kind.value} in the fleet"
        left = tuple(LeftOutTask(t.id, t.segment_id, t.highway, t.length_m, reason) for t in tasks)
        plan = SweepingPlan(district.name, day, activity.value, (), left, 0.0, "no_vehicles")
        return SweepResult(plan, tasks, None, None)
    problem = build_sweep_problem(district, network, tasks, activity, profiles=profiles)
    solution = solve_arc(problem.arc, params, progress=progress, stall_s=stall_s)
    plan = to_sweeping_plan(problem, solution, network, district.name, day)
    profile = profiles[activity.vehicle_kind]
    rate = profile.debris_kg_per_km if activity is Activity.SWEEP else profile.water_l_per_km
    violations = [f"arc solution: {v}" for v in verify_arc(problem.arc, solution)]
    violations += verify_sweeping_plan(
        plan, tasks, district, network, working_speed_mps=profile.working_speed_mps, per_km=rate
    )
    return SweepResult(plan, tasks, problem, solution, tuple(violations))
