"""Labelled violation scenarios built on the real road network (for the simulator and evaluation).

A detour here is a real drivable path: from the start of a planned leg to a road
node well away from the whole planned route, then on to the leg's end.
:func:`quick_plan` makes small collection plans without the solver, and
:func:`build_scenario` turns one into a labelled day: violations the checker
must find, look-alikes it must not alarm on, and the ground truth.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.spatial import cKDTree

from core.domain import Plan, PlanBreak, PlanStop, Route, StopKind, TimeWindow
from core.roads import RoadNetwork
from telematics import kernels
from telematics.checks import yard_points
from telematics.corridor import RouteCorridor
from telematics.simulate import (
    DetourSpec,
    Pause,
    Queue,
    SimulatedDay,
    SimulatedTrack,
    SkipStop,
    Speeding,
    degrade_fixes,
    displace_fixes,
    drop_fixes,
    simulate_plan,
)

if TYPE_CHECKING:
    from telematics.limits import RoadLimits


def _local_xy(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """:func:`telematics.kernels.project_equirectangular` as one ``(n, 2)`` array (m)."""
    x, y = kernels.project_equirectangular(
        np.ascontiguousarray(lat, dtype=np.float64), np.ascontiguousarray(lon, dtype=np.float64), lat0, lon0
    )
    return np.column_stack((x, y))


def _densify(xy: np.ndarray, step_m: float) -> np.ndarray:
    """The polyline ``xy`` resampled so no two consecutive points are over ``step_m`` apart."""
    out = [xy[:1]]
    for a, b in itertools.pairwise(xy):
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / step_m)))
        t = np.arange(1, n + 1)[:, None] / n
        out.append(a + t * (b - a))
    return np.vstack(out)


def plan_detour(
    plan: Plan,
    network: RoadNetwork,
    rng: np.random.Generator,
    *,
    vehicle_id: str | None = None,
    min_offset_m: float = 400.0,
    max_offset_m: float = 1000.0,
    min_leg_m: float = 400.0,
) -> DetourSpec | None:
    """A detour for one route of ``plan``: a leg replaced by a real path via a far node.

    Parameters
    ----------
    plan
        The plan to perturb.
    network
        The road network the plan was made on.
    rng
        Random generator (decides vehicle, leg and via node).
    vehicle_id
        Route to perturb; default: the longest route.
    min_offset_m, max_offset_m
        The via node lies at least ``min_offset_m`` from every point of the
        vehicle's planned path and at most ``max_offset_m`` from the leg's middle.
    min_leg_m
        Only legs at least this long are considered (m).

    Returns
    -------
    DetourSpec or None
        A detour that leaves the planned route once and comes back once (its
        fastest paths out and back never touch the route in between); ``None``
        when no leg of the route admits such a detour.
    """
    routes = [r for r in plan.routes if vehicle_id is None or r.vehicle_id == vehicle_id]
    if not routes:
        return None
    route = max(routes, key=lambda r: r.distance_m)
    coords = np.array([c for s in route.stops for c in s.leg_coords])
    if len(coords) < 2:
        return None
    lat0, lon0 = float(coords[:, 0].mean()), float(coords[:, 1].mean())
    route_xy = _densify(_local_xy(coords[:, 0], coords[:, 1], lat0, lon0), step_m=10.0)
    nodes_xy = _local_xy(network.lat, network.lon, lat0, lon0)
    far_from_route = cKDTree(route_xy).query(nodes_xy)[0] >= min_offset_m
    # keep clear of the depot yard at both ends, where the corridor check looks away
    for end in (route.stops[0], route.stops[-1]):
        end_xy = _local_xy(np.array([end.lat]), np.array([end.lon]), lat0, lon0)
        far_from_route &= np.hypot(*(nodes_xy - end_xy).T) >= max_offset_m
    legs = [
        i
        for i, s in enumerate(route.stops)
        if i > 0 and s.kind == StopKind.COLLECTION and s.leg_distance_m >= min_leg_m
    ]
    rng.shuffle(legs)
    for i in legs:
        leg = np.array(route.stops[i].leg_coords)
        mid = leg[len(leg) // 2 : len(leg) // 2 + 1]
        mid_xy = _local_xy(mid[:, 0], mid[:, 1], lat0, lon0)
        near_mid = np.hypot(*(nodes_xy - mid_xy).T) <= max_offset_m
        candidates = np.flatnonzero(far_from_route & near_mid)
        if len(candidates) == 0:
            continue
        prev, stop = route.stops[i - 1], route.stops[i]
        ends, _ = network.nearest_nodes([prev.lat, stop.lat], [prev.lon, stop.lon])
        first = int(rng.choice(candidates))
        others = [int(c) for c in rng.permutation(candidates)[:10] if c != first]
        for via in [first, *others]:
            out = network.route(int(ends[0]), via)
            back = network.route(via, int(ends[1]))
            # from where the truck stood at the previous stop to where it stands at this one
            src: tuple[float, float] = prev.leg_coords[-1] if prev.leg_coords else (prev.lat, prev.lon)
            dst: tuple[float, float] = stop.leg_coords[-1] if stop.leg_coords else (stop.lat, stop.lon)
            via_coords = (src, *out.coords, *back.coords[1:], dst)
            pts = np.array(via_coords)
            path_xy = _densify(_local_xy(pts[:, 0], pts[:, 1], lat0, lon0), step_m=10.0)
            off = cKDTree(route_xy).query(path_xy)[0] > 50.0
            if int(np.count_nonzero(off[1:] & ~off[:-1])) + int(off[0]) == 1:  # leaves the route once
                return DetourSpec(vehicle_id=route.vehicle_id, stop_index=i, via_coords=via_coords)
    return None


# --------------------------------------------------------------------------- labelled days for evaluation

DISTRICT_TZ = "America/New_York"
"""Time zone of the quick plans (the embedded network is Baltimore)."""

SWEEPER_ID = "S1"
"""Vehicle id of the simulated sweeper."""


@dataclass(frozen=True, slots=True, eq=False)
class Scenario:
    """One simulated day with its ground truth.

    ``labels`` are the violations the checker must find: dicts with ``type``
    (an alert type value), ``vehicle_id``, ``start_utc``, ``end_utc`` and, for
    stop alerts, ``stop_id``. ``lookalikes`` list what was injected that must
    not alarm (``kind``, ``vehicle_id``, ``start_utc``, ``end_utc``).
    ``sweep_paths`` are the sweeper's directed paths; its track is in
    ``sim.tracks`` like the trucks'. ``ignored`` are cases too close to a
    threshold to call: an alert on one is neither right nor wrong.
    """

    seed: int
    plan: Plan
    day_start_utc: float
    sim: SimulatedDay
    labels: list[dict[str, Any]]
    lookalikes: list[dict[str, Any]]
    sweep_paths: dict[str, list[list[tuple[float, float]]]]
    ignored: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def quick_plan(
    network: RoadNetwork,
    rng: np.random.Generator,
    *,
    day: date,
    n_vehicles: int = 3,
    stops: tuple[int, int] = (12, 18),
    window_share: float = 0.35,
    break_share: float = 0.5,
) -> Plan:
    """A small collection plan on the road network, without the solver: fast and repeatable.

    A depot and a transfer station at random nodes; each truck gets a cluster of
    collection nodes within 800 m of a random centre (at least 25 m apart; each
    bin stands up to 25 m from its node, where the truck stops),
    served in nearest-neighbour order from the depot, with one unload at the
    transfer station after about 60 % of its stops. Legs are the network's
    fastest paths with their travel times; service takes 45-150 s, unloading
    600 s; a share of stops get a fixed-time window around their planned
    start; some trucks take a 30 min break after a stop mid-route.
    """
    lat0, lon0 = float(network.lat.mean()), float(network.lon.mean())
    xy = _local_xy(network.lat, network.lon, lat0, lon0)
    centre = xy.mean(axis=0)
    central = np.flatnonzero(np.hypot(*(xy - centre).T) < 2500.0)
    depot = int(rng.choice(central))
    far = np.hypot(*(xy - xy[depot]).T)
    facility = int(rng.choice(np.flatnonzero((far > 1500.0) & (far < 3000.0))))
    routes = []
    for v in range(n_vehicles):
        hub = int(rng.choice(np.flatnonzero((far > 600.0) & (far < 2500.0))))
        near = np.flatnonzero(np.hypot(*(xy - xy[hub]).T) < 800.0)
        rng.shuffle(near)
        chosen: list[int] = []
        for node in near.tolist():
            if node in (depot, facility) or any(np.hypot(*(xy[node] - xy[c])) < 25.0 for c in chosen):
                continue
            chosen.append(node)
            if len(chosen) >= int(rng.integers(stops[0], stops[1] + 1)):
                break
        order: list[int] = []
        here = depot
        left = list(chosen)
        while left:
            nxt = min(left, key=lambda c: float(np.hypot(*(xy[c] - xy[here]))))
            order.append(nxt)
            left.remove(nxt)
            here = nxt
        unload_at = max(1, round(0.6 * len(order)))
        seq = [(n, StopKind.COLLECTION) for n in order[:unload_at]]
        seq += [(facility, StopKind.UNLOAD)] + [(n, StopKind.COLLECTION) for n in order[unload_at:]]
        seq += [(depot, StopKind.DEPOT_END)]
        t = 7 * 3600 + int(rng.integers(0, 1800))
        plan_stops = [
            PlanStop(
                StopKind.DEPOT_START,
                "D1",
                float(network.lat[depot]),
                float(network.lon[depot]),
                t,
                t,
                t,
                0.0,
                0.0,
            )
        ]
        breaks: list[PlanBreak] = []
        break_after = (
            int(rng.integers(2, len(seq) - 2)) if rng.random() < break_share and len(seq) > 5 else -1
        )
        load = 0.0
        prev = depot
        for k, (node, kind) in enumerate(seq, start=1):
            path = network.route(prev, node)
            leg_s = round(path.time_s)
            pause = 0
            if k - 1 == break_after:
                breaks.append(PlanBreak(after_stop=k - 1, start_s=t, duration_s=1800))
                pause = 1800
            arrival = t + leg_s + pause
            service = {StopKind.COLLECTION: int(rng.integers(45, 151)), StopKind.UNLOAD: 600}.get(kind, 0)
            load = (
                0.0 if kind == StopKind.UNLOAD else load + (float(rng.uniform(50, 300)) if service else 0.0)
            )
            window = None
            if kind == StopKind.COLLECTION and rng.random() < window_share:
                window = TimeWindow(
                    max(0, arrival - int(rng.integers(20, 61)) * 60), arrival + int(rng.integers(10, 31)) * 60
                )
            ref = {StopKind.COLLECTION: f"P{v}-{k}", StopKind.UNLOAD: "F1", StopKind.DEPOT_END: "D1"}[kind]
            lat, lon = float(network.lat[node]), float(network.lon[node])
            if kind == StopKind.COLLECTION:  # the bin stands at the kerb, up to 25 m from the road node
                off, bearing = float(rng.uniform(0.0, 25.0)), float(rng.uniform(0.0, 2 * math.pi))
                lat += math.degrees(off * math.cos(bearing) / 6_371_008.8)
                lon += math.degrees(off * math.sin(bearing) / (6_371_008.8 * math.cos(math.radians(lat))))
            plan_stops.append(
                PlanStop(
                    kind,
                    ref,
                    lat,
                    lon,
                    arrival,
                    arrival,
                    arrival + service,
                    load,
                    load * 4.0,
                    leg_distance_m=path.length_m,
                    leg_time_s=leg_s,
                    leg_coords=path.coords,
                    window=window,
                )
            )
            t = arrival + service
            prev = node
        routes.append(Route(f"T{v + 1}", tuple(plan_stops), tuple(breaks)))
    return Plan("quick", day, tuple(routes))


def _sweeper_route(network: RoadNetwork, rng: np.random.Generator, start_s: int) -> Route:
    """A sweeper's day: one 1.5-3 km road path, cut into four legs, swept at 2 m/s."""
    lat0, lon0 = float(network.lat.mean()), float(network.lon.mean())
    xy = _local_xy(network.lat, network.lon, lat0, lon0)
    for _ in range(50):
        a = int(rng.integers(0, xy.shape[0]))
        d = np.hypot(*(xy - xy[a]).T)
        cands = np.flatnonzero((d > 1200.0) & (d < 2500.0))
        if cands.size == 0:
            continue
        path = network.route(a, int(rng.choice(cands)))
        if 1500.0 <= path.length_m <= 4000.0 and len(path.coords) >= 9:
            break
    coords = list(path.coords)
    cuts = np.linspace(0, len(coords) - 1, 5).round().astype(int).tolist()
    t = start_s
    stops = [PlanStop(StopKind.DEPOT_START, "W0", *coords[0], t, t, t, 0.0, 0.0)]
    for k in range(1, 5):
        leg = tuple(coords[cuts[k - 1] : cuts[k] + 1])
        length = float(sum(math.dist(_local_xy(np.array([p[0]]), np.array([p[1]]), lat0, lon0)[0],
                                     _local_xy(np.array([q[0]]), np.array([q[1]]), lat0, lon0)[0])
                           for p, q in itertools.pairwise(leg)))  # fmt: skip
        leg_s = max(1, round(length / 2.0))
        t += leg_s
        kind = StopKind.DEPOT_END if k == 4 else StopKind.COLLECTION
        stops.append(
            PlanStop(
                kind,
                f"W{k}",
                *leg[-1],
                t,
                t,
                t,
                0.0,
                0.0,
                leg_distance_m=length,
                leg_time_s=leg_s,
                leg_coords=leg,
            )
        )
    return Route(SWEEPER_ID, tuple(stops))


def _free_time(
    rng: np.random.Generator, t0: float, t1: float, length: float, busy: list[tuple[float, float]]
) -> float | None:
    """A start in ``[t0, t1 - length]`` whose span misses every busy interval; None after 50 tries.

    Look-alikes are kept off the labelled violations, so each case tests one thing:
    a violation must be found, a look-alike must not alarm.
    """
    for _ in range(50):
        start = float(rng.uniform(t0, max(t0, t1 - length)))
        if all(start + length < a or start > b for a, b in busy):
            return start
    return None


def build_scenario(
    network: RoadNetwork,
    seed: int,
    *,
    limits: RoadLimits | None = None,
    day: date = date(2026, 12, 1),
    grace_s: float = 120.0,
    max_gap_s: float = 300.0,
    detour_m: float = 50.0,
    detour_s: float = 60.0,
    rejoin_s: float = 30.0,
    yard_m: float = 200.0,
) -> Scenario:
    """A labelled day on ``network``: three trucks and a sweeper, violations and look-alikes.

    Violations (each truck, each with some probability): a detour through a
    road node 400-1000 m off the route, one or two skipped collection stops, a
    hold-up that makes a windowed stop late, a leg driven 1.3-1.6 times the
    limit, a 6-15 min GPS gap while moving; the sweeper leaves about a quarter
    of its path unswept (brooms up, or three times too fast) half the time.
    Look-alikes (always): red-light waits of 15-100 s, a 2-5 min stop in the
    corridor, a 8-30 min queue in the transfer station's yard, legs driven at
    1.02-1.06 times the limit, GPS noise of 5-15 m, 20-90 s dropouts, the
    device off during a parked break, single-fix jumps of 300-3000 m, a burst of
    60 m noise with honest accuracy, and a sweeper lifting its brooms briefly.
    Look-alikes that remove or blur fixes are kept off the violations, so each
    case tests one thing.

    Ground truth follows what really happened in the simulation. A detour is
    labelled when the noise-free truck was over ``detour_m`` off the planned
    road, outside the ``yard_m`` yards of depot and facilities, for
    ``detour_s`` + 15 s or more (back on the road for less than ``rejoin_s``
    does not end it); within 15 s of ``detour_s`` it is too close
    to call and left out of the scoring (``ignored``); shorter excursions are
    look-alikes. Every served windowed stop reached later than its window end +
    ``grace_s`` is labelled late (a hold-up delays the stops after it too),
    unless a labelled GPS gap hides the arrival (it ends less than 5 min before
    it); skipped stops are labelled missed.
    """
    from core.geojson import day_start_utc as local_midnight

    rng = np.random.default_rng(seed)
    plan = quick_plan(network, rng, day=day)
    day0 = local_midnight(day, DISTRICT_TZ)
    sweeper = _sweeper_route(network, rng, 8 * 3600 + int(rng.integers(0, 3600)))
    events: list[Any] = []
    lookalikes: list[dict[str, Any]] = []
    factors: dict[tuple[str, int], float] = {}
    for route in plan.routes:
        _truck_events(route, plan, network, rng, grace_s, events, lookalikes, factors)

    limit_fn = limits.path_limits if limits is not None else None
    intervals = {r.vehicle_id: float(rng.choice([1.0, 2.0, 5.0, 10.0])) for r in plan.routes}
    sim = simulate_plan(
        plan, day_start_utc=day0, interval_s=intervals, seed=seed, events=events, limit_fn=limit_fn
    )
    sweep_sim = simulate_plan(
        Plan(plan.district, plan.day, (sweeper,)),
        day_start_utc=day0,
        interval_s=float(rng.choice([1.0, 2.0])),
        noise_m=(2.0, 5.0),
        noise_corr_s=60.0,
        seed=seed,
    )
    clean = simulate_plan(
        plan, day_start_utc=day0, interval_s=intervals, noise_m=(0.0, 0.0), seed=seed, events=events,
        limit_fn=limit_fn,
    )  # fmt: skip
    labels, ignored = _detour_truth(plan, clean, detour_m, detour_s, rejoin_s, yard_m, lookalikes)
    for lab in sim.labels:
        if lab["type"] == "speeding" and factors.get((lab["vehicle_id"], lab["stop_index"]), 1.0) >= 1.3:
            labels.append({k: lab[k] for k in ("type", "vehicle_id", "start_utc", "end_utc")})
    skipped = {(e.vehicle_id, e.stop_index) for e in events if isinstance(e, SkipStop)}
    routes = {r.vehicle_id: r for r in plan.routes}
    late: list[dict[str, Any]] = []
    for v in sim.visits:
        stop = routes[v["vehicle_id"]].stops[v["stop_index"]]
        entry = {
            "vehicle_id": v["vehicle_id"],
            "stop_id": stop.ref_id,
            "start_utc": v["arrival_utc"],
            "end_utc": v["departure_utc"],
        }
        if (v["vehicle_id"], v["stop_index"]) in skipped:
            labels.append({"type": "missed_stop", **entry})
        elif (
            stop.kind == StopKind.COLLECTION
            and stop.window is not None
            and v["arrival_utc"] > day0 + stop.window.end_s + grace_s
        ):
            late.append({"type": "late_stop", **entry})
    sim, hidden = _after_the_drive(plan, sim, rng, seed, max_gap_s, labels, late, lookalikes)
    for lab in late:
        if not any(
            vid == lab["vehicle_id"] and a - 60 <= lab["start_utc"] <= b + 300 for vid, a, b in hidden
        ):
            labels.append(lab)
    sweep_track = _sweeper_day(sweep_sim, rng, labels, lookalikes)
    sim = dataclasses.replace(sim, tracks={**sim.tracks, SWEEPER_ID: sweep_track})
    sweep_path = [
        c for k, s in enumerate(sweeper.stops) for c in (s.leg_coords[1:] if k > 1 else s.leg_coords)
    ]
    return Scenario(seed, plan, day0, sim, labels, lookalikes, {SWEEPER_ID: [sweep_path]}, ignored)


def _truck_events(
    route: Route,
    plan: Plan,
    network: RoadNetwork,
    rng: np.random.Generator,
    grace_s: float,
    events: list[Any],
    lookalikes: list[dict[str, Any]],
    factors: dict[tuple[str, int], float],
) -> None:
    """Violations and look-alikes of one truck, as simulation events (appended in place)."""
    vid = route.vehicle_id
    n = len(route.stops)
    busy: set[int] = set()  # stop indices whose leg or stop already carries a violation

    def free(k: int) -> bool:
        return all(abs(k - b) > 1 for b in busy)

    collections = [k for k, s in enumerate(route.stops) if s.kind == StopKind.COLLECTION]
    if rng.random() < 0.5:
        spec = plan_detour(Plan(plan.district, plan.day, (route,)), network, rng, vehicle_id=vid)
        if spec is not None:
            events.append(spec)
            busy.add(spec.stop_index)
    if rng.random() < 0.6:
        for k in rng.permutation(collections).tolist()[: int(rng.integers(1, 3))]:
            if free(k):
                events.append(SkipStop(vid, k))
                busy.add(k)
    if rng.random() < 0.5:
        windowed = [k for k in collections if k >= 2 and route.stops[k].window is not None and free(k)]
        if windowed:
            k = int(rng.choice(windowed))
            window = route.stops[k].window
            assert window is not None
            wait = max(0, window.end_s - route.stops[k].arrival_s) + grace_s + float(rng.uniform(300, 1200))
            events.append(Pause(vid, k, float(rng.uniform(0.3, 0.7)), wait))
            busy.add(k)
    drive = {k: route.stops[k].leg_time_s for k in range(1, n)}
    if rng.random() < 0.5:
        legs = [
            k for k in range(1, n) if drive[k] >= 50 and free(k) and route.stops[k].kind != StopKind.DEPOT_END
        ]
        if legs:
            k = int(rng.choice(legs))
            factors[(vid, k)] = float(rng.uniform(1.3, 1.6))
            events.append(Speeding(vid, k, factors[(vid, k)]))
            busy.add(k)
    calm = [k for k in range(1, n) if k not in busy and (vid, k) not in factors]
    for k in rng.choice(calm, size=min(len(calm), int(rng.integers(4, 9))), replace=False).tolist():
        events.append(Pause(vid, k, float(rng.uniform(0.2, 0.8)), float(rng.uniform(15, 100))))
        lookalikes.append({"kind": "red_light", "vehicle_id": vid, "stop_index": k})
    k = int(rng.choice(calm))
    events.append(Pause(vid, k, float(rng.uniform(0.2, 0.8)), float(rng.uniform(120, 300))))
    lookalikes.append({"kind": "short_stop_in_corridor", "vehicle_id": vid, "stop_index": k})
    for k, s in enumerate(route.stops):
        if s.kind == StopKind.UNLOAD:
            events.append(
                Queue(
                    vid,
                    k,
                    float(rng.uniform(480, 1800)),
                    float(rng.uniform(30, 110)),
                    float(rng.uniform(0, 360)),
                )
            )
            lookalikes.append({"kind": "facility_queue", "vehicle_id": vid, "stop_index": k})
    near = [k for k in calm if drive[k] >= 30]
    for k in rng.permutation(near).tolist()[:2]:
        events.append(Speeding(vid, k, float(rng.uniform(1.02, 1.06))))
        factors[(vid, k)] = 1.0
        lookalikes.append({"kind": "speed_near_limit", "vehicle_id": vid, "stop_index": k})


def _haversine(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distance from each point to ``(lat0, lon0)`` (m)."""
    from core.geo import haversine_m

    return haversine_m(lat, lon, lat0, lon0)


def _detour_truth(
    plan: Plan,
    clean: SimulatedDay,
    detour_m: float,
    detour_s: float,
    rejoin_s: float,
    yard_m: float,
    lookalikes: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Detour labels (and too-close-to-call cases) from the noise-free drive against the corridor."""
    labels: list[dict[str, Any]] = []
    ignored: list[dict[str, Any]] = []
    routes = {r.vehicle_id: r for r in plan.routes}
    for lab in clean.labels:
        if lab["type"] != "detour":
            continue
        vid = lab["vehicle_id"]
        track = clean.tracks[vid]
        inside = (track.ts_utc >= lab["start_utc"]) & (track.ts_utc <= lab["end_utc"])
        lat, lon = track.lat[inside], track.lon[inside]
        off = RouteCorridor.from_route(routes[vid]).distance_m(lat, lon) > detour_m
        for ylat, ylon in yard_points(routes[vid]):  # leaving the road in a yard is no detour
            off &= _haversine(lat, lon, ylat, ylon) > yard_m
        t_in = track.ts_utc[inside]
        runs: list[list[float]] = []
        for k in np.flatnonzero(off).tolist():
            if runs and t_in[k] - runs[-1][1] < rejoin_s:
                runs[-1][1] = float(t_in[k])
            else:
                runs.append([float(t_in[k]), float(t_in[k])])
        for a, b in runs:
            entry = {"type": "detour", "vehicle_id": vid, "start_utc": a, "end_utc": b}
            if b - a >= detour_s + 15.0:
                labels.append(entry)
            elif b - a >= detour_s - 15.0:
                ignored.append(entry)  # too close to the threshold to call either way
            else:
                lookalikes.append({"kind": "short_excursion", "vehicle_id": vid, "start_utc": a})
    return labels, ignored


def _after_the_drive(
    plan: Plan,
    sim: SimulatedDay,
    rng: np.random.Generator,
    seed: int,
    max_gap_s: float,
    labels: list[dict[str, Any]],
    late: list[dict[str, Any]],
    lookalikes: list[dict[str, Any]],
) -> tuple[SimulatedDay, list[tuple[str, float, float]]]:
    """Gaps while moving (labelled), dropouts, the device off in a parked break, jumps, noise bursts."""
    visits: dict[str, list[dict[str, Any]]] = {}
    for v in sim.visits:
        visits.setdefault(v["vehicle_id"], []).append(v)
    hidden: list[tuple[str, float, float]] = []
    for route in plan.routes:
        vid = route.vehicle_id
        track = sim.tracks[vid]
        busy = [
            (lab["start_utc"] - 600, lab["end_utc"] + 600)
            for lab in [*labels, *late]
            if lab["vehicle_id"] == vid
        ]
        if rng.random() < 0.5:
            fast = track.speed_mps > 4.0
            moving = track.ts_utc[1:][fast[1:] & fast[:-1]]  # moving, and moving at the fix before
            ok = [
                t for t in moving.tolist()
                if all(not (a - 900 <= t <= b) for a, b in busy) and t < track.ts_utc[-1] - 1800
            ]  # fmt: skip
            if ok:
                start = float(rng.choice(ok))
                end = start + float(rng.uniform(max_gap_s + 60, 900))
                sim = drop_fixes(sim, vid, start, end)
                labels.append({"type": "gps_gap", "vehicle_id": vid, "start_utc": start, "end_utc": end})
                hidden.append((vid, start, end))
                busy.append((start - 300, end + 300))
        for b in route.breaks:
            dep = next(v["departure_utc"] for v in visits[vid] if v["stop_index"] == b.after_stop)
            sim = drop_fixes(sim, vid, dep + 120, dep + b.duration_s - 120)
            lookalikes.append({"kind": "device_off_parked", "vehicle_id": vid, "start_utc": dep + 120})
        track = sim.tracks[vid]
        t0, t1 = float(track.ts_utc[0]), float(track.ts_utc[-1])
        for _ in range(int(rng.integers(2, 5))):
            length = float(rng.uniform(20, 90))
            found = _free_time(rng, t0, t1, length, busy)
            if found is not None:
                sim = drop_fixes(sim, vid, found, found + length)
                lookalikes.append({"kind": "dropout", "vehicle_id": vid, "start_utc": found})
        track = sim.tracks[vid]
        for _ in range(int(rng.integers(2, 6))):
            at = float(rng.choice(track.ts_utc))
            dist, bearing = float(rng.uniform(300, 3000)), float(rng.uniform(0, 2 * math.pi))
            sim = displace_fixes(sim, vid, [at], dist * math.sin(bearing), dist * math.cos(bearing))
            lookalikes.append({"kind": "gps_jump", "vehicle_id": vid, "start_utc": at})
        length = float(rng.uniform(60, 180))
        found = _free_time(rng, t0, t1, length, busy)
        if found is not None:
            sim = degrade_fixes(sim, vid, found, found + length, 60.0, seed=seed)
            lookalikes.append({"kind": "noise_burst", "vehicle_id": vid, "start_utc": found})
    return sim, hidden


def _sweeper_day(
    sweep_sim: SimulatedDay,
    rng: np.random.Generator,
    labels: list[dict[str, Any]],
    lookalikes: list[dict[str, Any]],
) -> SimulatedTrack:
    """The sweeper's brooms: down but for brief lifts, and half the time one leg left unswept (labelled)."""
    track = sweep_sim.tracks[SWEEPER_ID]
    brooms = np.ones(len(track))
    for _ in range(int(rng.integers(2, 4))):
        at = float(rng.uniform(track.ts_utc[0], track.ts_utc[-1]))
        brooms[(track.ts_utc >= at) & (track.ts_utc <= at + float(rng.uniform(5, 15)))] = 0.0
    lookalikes.append(
        {"kind": "brooms_lifted_briefly", "vehicle_id": SWEEPER_ID, "start_utc": float(track.ts_utc[0])}
    )
    speed = track.speed_mps
    if rng.random() < 0.5:
        legs = [(p["departure_utc"], v["arrival_utc"]) for p, v in itertools.pairwise(sweep_sim.visits)]
        a, b = legs[int(rng.integers(0, len(legs)))]
        inside = (track.ts_utc >= a) & (track.ts_utc <= b)
        if rng.random() < 0.5:
            brooms[inside] = 0.0
        else:
            speed = speed.copy()
            speed[inside] = 6.0 + rng.normal(0.0, 0.3, int(inside.sum()))
        labels.append(
            {
                "type": "coverage_shortfall",
                "vehicle_id": SWEEPER_ID,
                "start_utc": float(track.ts_utc[0]),
                "end_utc": float(track.ts_utc[-1]),
            }
        )
    return dataclasses.replace(track, brooms_down=brooms, speed_mps=speed)
