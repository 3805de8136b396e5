"""The day's pipeline as plain functions: plan on the road network, police tracks, store.

:func:`police_tracks` runs the full checker of :mod:`telematics.checks` on each
vehicle's day (detours, stops, speeding, GPS gaps, sweeping coverage).

No APScheduler here: the nightly job, the CLI and the API call these same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

import numpy as np

from core.domain import Alert, District, FacilityKind, Plan, Route, Stream, VehicleKind
from core.roads import RoadNetwork
from routing.model import RoutingProblem, build_problem, locations
from routing.plan import PlanKpis, plan_kpis, to_plan
from routing.solve import RawAssignment, SolveParams, solve
from routing.verify import verify_plan
from telematics.checks import CheckRules, DayResult, VehicleChecker, check_track
from telematics.limits import RoadLimits


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


def collection_view(district: District) -> District:
    """The part of ``district`` that collection plans: its collection trucks and waste facilities.

    Sweepers, washers, water points and facilities taking street debris only
    belong to street cleaning (:mod:`scheduler.sweeping`). A district with no
    collection truck is returned unchanged.
    """
    trucks = tuple(v for v in district.vehicles if v.kind == VehicleKind.COLLECTION_TRUCK)
    if not trucks:
        return district
    facilities = tuple(
        f
        for f in district.facilities
        if f.kind != FacilityKind.WATER_POINT and f.accepted_streams - {Stream.STREET_DEBRIS}
    )
    if len(trucks) == len(district.vehicles) and len(facilities) == len(district.facilities):
        return district
    return replace(district, vehicles=trucks, facilities=facilities)


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

    Only :func:`collection_view` of ``district`` is planned (``matrices``, when
    given, must be of that view).
    """
    district = collection_view(district)
    m = matrices or road_matrices(district, network)
    problem = build_problem(district, m.time_s, m.dist_m)
    assignment = solve(problem, params, progress=progress)

    def leg(a: int, b: int) -> tuple[tuple[tuple[float, float], ...], float, float]:
        path = network.route(int(m.nodes[a]), int(m.nodes[b]))
        return path.coords, path.length_m, path.time_s

    plan = to_plan(district, day, problem, assignment, leg)
    violations = verify_plan(plan, district, m.time_s, m.dist_m, m.index_of)
    return PlannedDay(plan, problem, assignment, m, tuple(violations), plan_kpis(plan, district))


def check_rules(rules: DetourRules | CheckRules | None) -> CheckRules:
    """Full checker rules; :class:`DetourRules` set the detour thresholds of the defaults."""
    if rules is None:
        return CheckRules()
    if isinstance(rules, CheckRules):
        return rules
    return replace(
        CheckRules(),
        enter_m=rules.enter_m,
        exit_m=rules.exit_m,
        min_fixes=rules.min_fixes,
        min_duration_s=rules.min_duration_s,
        max_accuracy_m=rules.max_accuracy_m,
    )


def police_day(
    plan: Plan,
    tracks: Mapping[str, Track],
    rules: DetourRules | CheckRules | None = None,
    *,
    day_start_utc: float | None = None,
    road_limits: RoadLimits | None = None,
    vehicle_limits_mps: Mapping[str, float] | None = None,
    sweeps: Mapping[str, Sequence[Sequence[tuple[float, float]]]] | None = None,
) -> dict[str, DayResult]:
    """Run every check on each vehicle's whole day (batch); the result per vehicle id.

    Parameters
    ----------
    plan
        The day's plan: each route's vehicle is checked against it.
    tracks
        Fixes per vehicle id (any object with ``ts_utc``, ``lat``, ``lon`` and
        optionally ``speed_mps``, ``accuracy_m``, ``bin_lifts``, ``brooms_down``).
    rules
        Thresholds; :class:`DetourRules` only set the detour ones.
    day_start_utc
        UNIX time of local midnight of the plan's day: turns plan times into UTC
        for the stop checks (served, late, missed). Without it stops are not checked.
    road_limits
        Road speed limits; without them the vehicle's own limit applies.
    vehicle_limits_mps
        Each vehicle's own speed limit (default ``rules.default_limit_mps``).
    sweeps
        Directed ``(lat, lon)`` paths to sweep per vehicle (coverage check);
        sweepers need no route in ``plan``.

    Tracks of vehicles with neither a route nor a sweep are ignored here.
    """
    full = check_rules(rules)
    limits = vehicle_limits_mps or {}
    out: dict[str, DayResult] = {}
    routes = {r.vehicle_id: r for r in plan.routes}
    for vid in [*routes, *(v for v in (sweeps or {}) if v not in routes)]:
        track = tracks.get(vid)
        if track is None or len(track.ts_utc) == 0:
            continue
        route = routes.get(vid, Route(vid, ()))
        checker = VehicleChecker.for_route(
            route,
            day_start_utc=day_start_utc,
            rules=full,
            road_limits=road_limits,
            vehicle_limit_mps=limits.get(vid),
            sweep_paths=(sweeps or {}).get(vid),
        )
        out[vid] = check_track(checker, track)
    return out


def police_tracks(
    plan: Plan,
    tracks: Mapping[str, Track],
    rules: DetourRules | CheckRules | None = None,
    *,
    day_start_utc: float | None = None,
    road_limits: RoadLimits | None = None,
    vehicle_limits_mps: Mapping[str, float] | None = None,
    sweeps: Mapping[str, Sequence[Sequence[tuple[float, float]]]] | None = None,
) -> list[Alert]:
    """Check each vehicle's track against its planned route; every alert, by vehicle then time.

    Detours, speeding, GPS gaps and GPS jumps always; served, late and missed
    stops when ``day_start_utc`` is given; sweeping coverage for ``sweeps``
    (see :func:`police_day`). Tracks of vehicles without a route in ``plan``
    are ignored here.
    """
    days = police_day(
        plan,
        tracks,
        rules,
        day_start_utc=day_start_utc,
        road_limits=road_limits,
        vehicle_limits_mps=vehicle_limits_mps,
        sweeps=sweeps,
    )
    alerts: list[Alert] = []
    for result in days.values():
        alerts += sorted(result.alerts, key=lambda a: (a.start_utc, a.type.value))
    return alerts
