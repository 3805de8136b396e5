"""An independent check of a sweeping or washing plan against the day's tasks, the fleet and the roads.

It shares no code with the planner or the solver: it re-derives what it checks
from the tasks (:mod:`routing.sweep_segments`), the district, the work profiles
and the road network's own matrices. Each violation is one line of text naming
the vehicle and the visit; an empty list means the plan is sound.

Checked: every due task served exactly once or left out (with its length);
the direction of each pass (forward tasks tail -> head only) and its geometry;
night windows and shifts; the work time of each pass (length over working
speed); hopper or tank contents recomputed from the lengths, never above
capacity, emptied only at the right facilities (open at the time); sweepers
back empty; deadhead legs that join up and match the network's fastest-path
length; break durations and windows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from core.domain import District, FacilityKind, Stream, Vehicle, VehicleKind
from core.roads import RoadNetwork
from core.sweep_plan import SweepingPlan, SweepRoute, SweepVisit, SweepVisitKind
from routing.sweep_segments import Direction, SweepTask

__all__ = ["verify_sweeping_plan"]

TOL_S = 2
"""Slack for times rounded to whole seconds (s)."""
TOL_M = 1.0
"""Slack for lengths and positions (m)."""
TOL_AMOUNT = 1e-6
"""Slack for loads (kg, litres)."""
_M_PER_DEG = 111_195.0


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two ``(lat, lon)`` points are within ``TOL_M`` of each other."""
    dy = (a[0] - b[0]) * _M_PER_DEG
    dx = (a[1] - b[1]) * _M_PER_DEG * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy) <= TOL_M


class _Checker:
    """Collects the violations of one plan."""

    def __init__(
        self,
        plan: SweepingPlan,
        tasks: Sequence[SweepTask],
        district: District,
        network: RoadNetwork,
        working_speed_mps: float,
        per_km: float,
    ) -> None:
        self.plan = plan
        self.tasks = {t.id: t for t in tasks}
        self.district = district
        self.network = network
        self.speed = working_speed_mps
        self.per_km = per_km
        self.index = {int(o): i for i, o in enumerate(network.osm_ids.tolist())}
        self.out: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.out.append(f"{where}: {what}")

    def pos(self, osm: int) -> tuple[float, float] | None:
        i = self.index.get(osm)
        return None if i is None else (float(self.network.lat[i]), float(self.network.lon[i]))

    # ------------------------------------------------------------------ coverage

    def coverage(self) -> None:
        served: dict[str, int] = {}
        for r in self.plan.routes:
            for v in r.services:
                served[v.ref_id] = served.get(v.ref_id, 0) + 1
        left = {t.task_id: t for t in self.plan.left_out}
        for tid, n in served.items():
            if tid not in self.tasks:
                self.fail(f"task {tid}", "is served but is not a task of the day")
            elif n > 1:
                self.fail(f"task {tid}", f"is served {n} times")
            if tid in left:
                self.fail(f"task {tid}", "is both served and left out")
        for tid, t in self.tasks.items():
            if tid not in served and tid not in left:
                self.fail(f"task {tid}", "is neither served nor listed as left out")
            if tid in left and abs(left[tid].length_m - t.length_m) > TOL_M:
                got = left[tid].length_m
                self.fail(f"task {tid}", f"is left out with length {got:.1f} m, not {t.length_m:.1f}")
            if tid in left and not left[tid].reason:
                self.fail(f"task {tid}", "is left out without a reason")
        for tid in left:
            if tid not in self.tasks:
                self.fail(f"task {tid}", "is left out but is not a task of the day")

    # ------------------------------------------------------------------ one route

    def route(self, r: SweepRoute, vehicle: Vehicle) -> None:
        who = f"vehicle {r.vehicle_id}"
        if r.start_s < vehicle.shift.start_s - TOL_S or r.end_s > vehicle.shift.end_s + TOL_S:
            shift = f"{vehicle.shift.start_s}-{vehicle.shift.end_s} s"
            self.fail(who, f"works {r.start_s}-{r.end_s} s, outside its shift {shift}")
        if not r.visits or r.visits[-1].kind != SweepVisitKind.DEPOT_END:
            self.fail(who, "does not end at its depot")
        depot = self.district.depot(vehicle.depot_id)
        (node,), _ = self.network.nearest_nodes([depot.lat], [depot.lon])
        here = home = int(node)
        t = r.start_s
        load = 0.0
        capacity = vehicle.capacity_kg if self.plan.activity == "sweep" else vehicle.capacity_l
        for k, v in enumerate(r.visits):
            where = f"{who} visit {k} ({v.ref_id})"
            self.deadhead(where, here, v)
            if v.arrival_s < t + v.deadhead_s - TOL_S:
                self.fail(
                    where, f"arrives at {v.arrival_s} s, before leaving + driving ({t} + {v.deadhead_s} s)"
                )
            if v.kind == SweepVisitKind.SERVICE:
                load += self.service(where, v)
            elif v.kind in (SweepVisitKind.DUMP, SweepVisitKind.REFILL):
                self.facility(where, v)
                load = 0.0
            amount = v.load_kg if self.plan.activity == "sweep" else v.water_l
            if abs(amount - load) > 1e-3 * max(1.0, load):
                self.fail(where, f"reports {amount:.2f} on board, recomputed {load:.2f}")
            if load > capacity + TOL_AMOUNT:
                self.fail(where, f"holds {load:.2f}, above the capacity {capacity:g}")
            t = v.end_s
            here = self.index.get(v.to_osm, here)
        if self.plan.activity == "sweep" and load > TOL_AMOUNT:
            self.fail(who, f"returns to the depot with {load:.2f} kg of debris")
        if here != home:
            self.fail(who, "ends away from its depot")
        for start, duration in r.breaks:
            w = vehicle.break_window
            if duration < vehicle.break_duration_s or not (w.start_s - TOL_S <= start <= w.end_s + TOL_S):
                self.fail(
                    who, f"break at {start} s for {duration} s is outside {w.start_s}-{w.end_s} s or short"
                )

    def deadhead(self, where: str, here: int, v: SweepVisit) -> None:
        start = self.index.get(v.from_osm)
        if start is None:
            self.fail(where, f"starts at unknown OSM node {v.from_osm}")
            return
        _, dist = self.network.matrices([here], [start])
        if abs(float(dist[0, 0]) - v.deadhead_m) > TOL_M:
            self.fail(
                where, f"deadhead {v.deadhead_m:.1f} m, the road network says {float(dist[0, 0]):.1f} m"
            )
        a = (float(self.network.lat[here]), float(self.network.lon[here]))
        b = (float(self.network.lat[start]), float(self.network.lon[start]))
        if here != start and not (
            v.deadhead_coords and _close(v.deadhead_coords[0], a) and _close(v.deadhead_coords[-1], b)
        ):
            self.fail(where, "deadhead geometry does not join the previous position to the work")

    def service(self, where: str, v: SweepVisit) -> float:
        """Check one pass; return what it adds to the hopper or tank."""
        task = self.tasks.get(v.ref_id)
        if task is None:
            return 0.0
        osm = self.network.osm_ids
        ends = (int(osm[task.tail]), int(osm[task.head]))
        allowed = [ends] if task.direction == Direction.FORWARD else [ends, ends[::-1]]
        if (v.from_osm, v.to_osm) not in allowed:
            self.fail(where, f"drives {v.from_osm}->{v.to_osm}, allowed {allowed}")
        a, b = self.pos(v.from_osm), self.pos(v.to_osm)
        if a is None or b is None or not (_close(v.coords[0], a) and _close(v.coords[-1], b)):
            self.fail(where, "swept geometry does not run from its start node to its end node")
        if abs(v.length_m - task.length_m) > TOL_M:
            self.fail(where, f"length {v.length_m:.1f} m, the task is {task.length_m:.1f} m")
        need = task.length_m / self.speed
        if abs((v.end_s - v.start_s) - need) > TOL_S:
            self.fail(where, f"works {v.end_s - v.start_s} s, {need:.0f} s expected at working speed")
        if v.start_s < v.arrival_s:
            self.fail(where, "starts before it arrives")
        w = task.window
        if w is not None and not (w.start_s - TOL_S <= v.start_s <= w.end_s + TOL_S):
            self.fail(where, f"starts at {v.start_s} s, outside its window {w.start_s}-{w.end_s} s")
        return self.per_km * task.length_m / 1000.0

    def facility(self, where: str, v: SweepVisit) -> None:
        fac = next((f for f in self.district.facilities if f.id == v.ref_id), None)
        if fac is None:
            self.fail(where, "names an unknown facility")
            return
        if v.kind == SweepVisitKind.DUMP:
            ok = Stream.STREET_DEBRIS in fac.accepted_streams and fac.kind != FacilityKind.WATER_POINT
        else:
            ok = fac.kind == FacilityKind.WATER_POINT
        if not ok:
            self.fail(where, f"{v.kind.value} at {fac.kind.value} {fac.id}, which does not take it")
        if not fac.opening.start_s - TOL_S <= v.start_s <= fac.opening.end_s + TOL_S:
            self.fail(where, f"at {v.start_s} s, outside the opening hours of {fac.id}")
        if v.end_s - v.start_s < fac.unload_s - TOL_S:
            self.fail(where, f"takes {v.end_s - v.start_s} s, {fac.unload_s} s needed")
        (node,), _ = self.network.nearest_nodes([fac.lat], [fac.lon])
        if int(self.network.osm_ids[int(node)]) != v.from_osm:
            self.fail(where, f"is not at {fac.id}'s road node")


def verify_sweeping_plan(
    plan: SweepingPlan,
    tasks: Sequence[SweepTask],
    district: District,
    network: RoadNetwork,
    *,
    working_speed_mps: float,
    per_km: float,
) -> list[str]:
    """Every violation of ``plan`` (empty when sound).

    Parameters
    ----------
    tasks
        The day's tasks the plan was made for.
    working_speed_mps
        Working speed of the activity (m/s): a pass of ``L`` m takes ``L / speed`` s.
    per_km
        Debris (kg) or water (l) per km served, by the plan's activity.
    """
    check = _Checker(plan, tasks, district, network, working_speed_mps, per_km)
    check.coverage()
    kind = VehicleKind.SWEEPER if plan.activity == "sweep" else VehicleKind.WASHER
    vehicles: Mapping[str, Vehicle] = {v.id: v for v in district.vehicles}
    seen: set[str] = set()
    for r in plan.routes:
        vehicle = vehicles.get(r.vehicle_id)
        if vehicle is None or vehicle.kind != kind:
            check.fail(f"vehicle {r.vehicle_id}", f"is not a {kind.value} of the district")
            continue
        if r.vehicle_id in seen:
            check.fail(f"vehicle {r.vehicle_id}", "has two routes")
        seen.add(r.vehicle_id)
        check.route(r, vehicle)
    return check.out
