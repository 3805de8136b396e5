"""Street cleaning in the day's pipeline: plan sweeping and washing, and hand sweeps to the checker.

``routing`` must not import ``telematics``, so the glue between a stored
sweeping plan and the compliance checker lives here:

- :func:`sweep_paths` turns planned passes (from a plan or from
  :meth:`core.store.Store.sweep_passes`) into the directed ``(lat, lon)`` paths
  per vehicle that :func:`scheduler.pipeline.police_day` (``sweeps=``) and
  :meth:`telematics.checks.SweepPlan.from_paths` take;
- :func:`stored_sweep_plans` builds one :class:`telematics.checks.SweepPlan` per
  sweeper straight from the store;
- :func:`as_route` turns a sweeping route into a plain :class:`core.domain.Route`
  (stops at the start and end of every swept segment), so the GPS simulator
  can drive it.

Only sweepers report ``brooms_down``; washing is planned and stored but its
coverage is not checked from GPS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import shapely

from core.city import BALTIMORE_CORE_BOX
from core.domain import Depot, District, PlanBreak, PlanStop, Route, StopKind, VehicleKind
from core.roads import RoadNetwork
from core.store import Store
from core.sweep_plan import PlannedPass, SweepingPlan, SweepRoute, SweepVisitKind, planned_passes
from routing.solve import SolveParams
from routing.sweep_segments import ClassRule, Frequency, Sides, StreetSegment, SweepRules, street_segments
from routing.sweeping import DEFAULT_PROFILES, Activity, SweepResult, WorkProfile, plan_sweeping
from telematics.checks import CheckRules, SweepPlan

__all__ = [
    "StreetCleaning",
    "as_route",
    "demo_street_cleaning",
    "plan_street_cleaning",
    "stored_sweep_plans",
    "sweep_paths",
]

LatLonPath = list[tuple[float, float]]
"""A directed polyline of ``(lat, lon)`` degrees."""


@dataclass(frozen=True, slots=True)
class StreetCleaning:
    """What to clean on a day: the rules per activity and the solver settings of each solve.

    ``activities`` maps ``"sweep"`` / ``"wash"`` to its :class:`SweepRules`;
    each activity is solved separately with ``params`` (so the time spent is
    at most ``len(activities) * params.time_limit_s``). ``stall_s`` stops a
    search that has not improved for that long (s).
    """

    activities: Mapping[str, SweepRules]
    params: SolveParams
    profiles: Mapping[VehicleKind, WorkProfile] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    stall_s: float | None = None


def demo_street_cleaning(
    params: SolveParams, area: tuple[float, float, float, float] = BALTIMORE_CORE_BOX
) -> StreetCleaning:
    """The demo's street cleaning of the core area ``(west, south, east, north)`` degrees.

    Sweeping: primary and trunk roads both sides every night (22:00-06:00 only),
    secondary roads both sides daily, tertiary roads one pass on alternate days.
    Washing: primary and secondary roads, one pass daily.
    """
    box = shapely.box(*area)
    night = ClassRule(Sides.BOTH, Frequency.DAILY, night_only=True)
    sweep = SweepRules(
        {
            "primary": night,
            "trunk": night,
            "secondary": ClassRule(Sides.BOTH, Frequency.DAILY),
            "tertiary": ClassRule(Sides.EITHER, Frequency.ALTERNATE_DAYS),
        },
        area=box,
    )
    wash = SweepRules({"primary": ClassRule(Sides.EITHER), "secondary": ClassRule(Sides.EITHER)}, area=box)
    return StreetCleaning({"sweep": sweep, "wash": wash}, params)


def plan_street_cleaning(
    district: District,
    network: RoadNetwork,
    day: date,
    cleaning: StreetCleaning,
    *,
    segments: Sequence[StreetSegment] | None = None,
    progress: Callable[[str, float, float], None] | None = None,
) -> dict[str, SweepResult]:
    """Plan each activity of ``cleaning`` for ``district`` on ``day``; the result per activity name.

    ``progress(activity, elapsed_s, best_cost)`` is called on each improving solution.
    """
    segs = street_segments(network) if segments is None else segments
    out: dict[str, SweepResult] = {}
    for name, rules in cleaning.activities.items():
        report = None
        if progress is not None:
            report = partial(progress, name)
        out[name] = plan_sweeping(
            district,
            network,
            day,
            rules,
            Activity(name),
            cleaning.params,
            profiles=cleaning.profiles,
            segments=segs,
            progress=report,
            stall_s=cleaning.stall_s,
        )
    return out


def sweep_paths(passes: Iterable[PlannedPass] | SweepingPlan) -> dict[str, list[LatLonPath]]:
    """Directed ``(lat, lon)`` paths to sweep per vehicle id, in route order.

    Accepts a plan or its passes (as :meth:`core.store.Store.sweep_passes` returns them).
    """
    items = planned_passes(passes) if isinstance(passes, SweepingPlan) else list(passes)
    out: dict[str, list[LatLonPath]] = {}
    for p in sorted(items, key=lambda p: (p.vehicle_id, p.seq)):
        if len(p.coords) >= 2:
            out.setdefault(p.vehicle_id, []).append(list(p.coords))
    return out


def stored_sweep_plans(
    store: Store,
    plan_id: int,
    *,
    rules: CheckRules | None = None,
    lat0: float | None = None,
    lon0: float | None = None,
) -> dict[str, SweepPlan]:
    """One checker :class:`SweepPlan` per vehicle of stored sweeping plan ``plan_id``.

    ``lat0``/``lon0`` set the local projection origin (default: the first
    point of each vehicle's paths); bins and match distance come from ``rules``.

    Raises
    ------
    core.errors.NotFoundError
        If there is no such sweeping plan.
    """
    r = rules or CheckRules()
    return {
        vid: SweepPlan.from_paths(paths, lat0, lon0, bin_m=r.sweep_bin_m, match_m=r.sweep_match_m)
        for vid, paths in sweep_paths(store.sweep_passes(plan_id)).items()
    }


def as_route(route: SweepRoute, depot: Depot) -> Route:
    """A sweeping route as a plain route the GPS simulator can drive.

    Each service becomes two collection stops with no load: its start (reached
    along the deadhead leg) and its end (reached along the swept geometry, in
    the planned service time); dumps and refills become unload stops; the
    route starts and ends at ``depot``. Breaks keep their start and duration.
    Meant for the simulator: police such a route with ``sweeps=``, not as a
    collection route (its "stops" are not bins).
    """
    here = (depot.lat, depot.lon)
    t0 = route.start_s
    stops = [PlanStop(StopKind.DEPOT_START, depot.id, *here, t0, t0, t0, 0.0, 0.0)]
    for v in route.visits:
        lead = v.deadhead_coords
        if v.kind == SweepVisitKind.SERVICE:
            start_at = v.coords[0]
            stops.append(
                PlanStop(StopKind.COLLECTION, f"{v.ref_id}@start", *start_at, v.arrival_s, v.start_s,
                         v.start_s, v.load_kg, v.water_l, v.deadhead_m, v.deadhead_s, lead)
            )  # fmt: skip
            here = v.coords[-1]
            stops.append(
                PlanStop(StopKind.COLLECTION, v.ref_id, *here, v.end_s, v.end_s, v.end_s, v.load_kg,
                         v.water_l, v.length_m, v.end_s - v.start_s, v.coords)
            )  # fmt: skip
            continue
        here = v.coords[0]
        kind = StopKind.DEPOT_END if v.kind == SweepVisitKind.DEPOT_END else StopKind.UNLOAD
        stops.append(
            PlanStop(kind, v.ref_id, *here, v.arrival_s, v.start_s, v.end_s, v.load_kg, v.water_l,
                     v.deadhead_m, v.deadhead_s, lead)
        )  # fmt: skip
    breaks = []
    for start, duration in route.breaks:
        after = max(k for k, s in enumerate(stops) if s.departure_s <= start or k == 0)
        breaks.append(PlanBreak(after, start, duration))
    return Route(route.vehicle_id, tuple(stops), tuple(breaks))
