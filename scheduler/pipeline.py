"""The day's pipeline as plain functions: plan on the road network, police tracks, store.

No APScheduler here: the nightly job, the CLI and the API call these same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from core.domain import Alert, District, Plan
from core.roads import RoadNetwork
from routing.model import RoutingProblem, build_problem, locations
from routing.plan import PlanKpis, plan_kpis, to_plan
from routing.solve import RawAssignment, SolveParams, solve
from routing.verify import verify_plan
from telematics.corridor import RouteCorridor, check_detours


@dataclass(frozen=True, slots=True)
class RoadMatrices:
    """Road travel times and distances between a district's locations.

    Rows and columns follow :func:`routing.model.locations`; ``nodes`` is each
    location's snapped road node and ``snap_m`` its distance from that node (m).
    """

    ids: tuple[str, ...]
    nodes: np.ndarray
    snap_m: np.ndarray
    time_s: np.ndarray
    dist_m: np.ndarray

    @property
    def index_of(self) -> dict[str, int]:
        """Location id -> row/column index."""
        return {loc_id: i for i, loc_id in enumerate(self.ids)}


@dataclass(frozen=True, slots=True)
class PlannedDay:
    """A plan with everything used to make and check it."""

    plan: Plan
    problem: RoutingProblem
    assignment: RawAssignment
    matrices: RoadMatrices
    violations: tuple[str, ...]
    kpis: PlanKpis


class Track(Protocol):
    """One device's fixes as parallel arrays (UNIX epoch s, degrees, metres)."""

    @property
    def ts_utc(self) -> np.ndarray: ...
    @property
    def lat(self) -> np.ndarray: ...
    @property
    def lon(self) -> np.ndarray: ...
    @property
    def accuracy_m(self) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class DetourRules:
    """Thresholds of the detour check (m, s, fixes)."""

    enter_m: float = 50.0
    exit_m: float = 40.0
    min_fixes: int = 3
    min_duration_s: float = 60.0
    max_accuracy_m: float = 30.0


def road_matrices(district: District, network: RoadNetwork) -> RoadMatrices:
    """Snap every location of ``district`` to the road network and compute the matrices."""
    locs = locations(district)
    nodes, snap_m = network.nearest_nodes([loc.lat for loc in locs], [loc.lon for loc in locs])
    time_s, dist_m = network.matrices(nodes, nodes)
    return RoadMatrices(tuple(loc.id for loc in locs), nodes, snap_m, time_s, dist_m)


def plan_day(
    district: District,
    network: RoadNetwork,
    day: date,
    params: SolveParams,
    *,
    matrices: RoadMatrices | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> PlannedDay:
    """Plan ``day`` for ``district`` on ``network`` and check the plan independently.

    Parameters
    ----------
    matrices
        Precomputed :func:`road_matrices` (computed here when omitted).
    progress
        Called as ``progress(elapsed_s, best_cost)`` at each improving solution.

    Returns
    -------
    PlannedDay
        ``violations`` lists what the independent verifier found (empty when sound).
    """
    m = matrices or road_matrices(district, network)
    problem = build_problem(district, m.time_s, m.dist_m)
    assignment = solve(problem, params, progress=progress)

    def leg(a: int, b: int) -> tuple[tuple[tuple[float, float], ...], float, float]:
        path = network.route(int(m.nodes[a]), int(m.nodes[b]))
        return path.coords, path.length_m, path.time_s

    plan = to_plan(district, day, problem, assignment, leg)
    violations = verify_plan(plan, district, m.time_s, m.dist_m, m.index_of)
    return PlannedDay(plan, problem, assignment, m, tuple(violations), plan_kpis(plan, district))


def police_tracks(plan: Plan, tracks: Mapping[str, Track], rules: DetourRules | None = None) -> list[Alert]:
    """Check each vehicle's track against its planned route; detour alerts, by vehicle.

    Tracks of vehicles without a route in ``plan`` are ignored here (the full
    checker flags them as unplanned).
    """
    rules = rules or DetourRules()
    alerts: list[Alert] = []
    for route in plan.routes:
        track = tracks.get(route.vehicle_id)
        if track is None or len(track.ts_utc) == 0:
            continue
        corridor = RouteCorridor.from_route(route)
        alerts += check_detours(
            corridor,
            track.ts_utc,
            track.lat,
            track.lon,
            track.accuracy_m,
            vehicle_id=route.vehicle_id,
            enter_m=rules.enter_m,
            exit_m=rules.exit_m,
            min_fixes=rules.min_fixes,
            min_duration_s=rules.min_duration_s,
            max_accuracy_m=rules.max_accuracy_m,
        )
    return alerts
