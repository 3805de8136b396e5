"""Simulate a day of GPS fixes and truck sensors from a plan, with injected events.

Each truck drives its route's legs (:func:`telematics.corridor.leg_path`, the
same geometry a :class:`~telematics.corridor.RouteCorridor` is built from) so
that it reaches each stop at the planned ``arrival_s``, then stands still until
``departure_s``. Within a leg it moves at constant speed, or, given a
``limit_fn`` (e.g. :meth:`telematics.limits.RoadLimits.path_limits`), at a speed
proportional to each road step's limit (the plan's leg time comes from those
same limits, so the truck drives at the limit). Planned breaks
(:class:`core.domain.PlanBreak`) are taken standing still on their leg. A fix is
taken every ``interval_s`` seconds from the first stop's arrival to the last
stop's departure, stationary or not. A leg with no planned time (arrival equal
to the previous departure) is a jump.

GPS noise: each vehicle draws one sigma uniformly from ``noise_m``; every fix
then gets Gaussian east and north errors with that sigma (m), independent from
fix to fix, or with ``noise_corr_s > 0`` a first-order autoregressive error
(correlation ``exp(-dt / noise_corr_s)`` between fixes ``dt`` apart: real
receivers drift slowly rather than jump), and reports ``accuracy_m =
ACCURACY_PER_SIGMA * sigma``, the radius holding 68 % of such fixes (what
Android reports). Reported speed is the true speed plus
Gaussian noise of ``SPEED_NOISE_MPS``, clipped at 0, so it is about 0 at stops.

Sensors: ``bin_lifts`` is a cumulative counter that rises by one halfway
through each collection stop's service; ``load_kg`` is the planned load after
the last stop left; ``ignition`` is on all day.

Events change what the truck does, and shift every later time:

* :class:`DetourSpec` replaces the leg leading to ``stops[stop_index]`` by
  ``via_coords``, driven at that leg's planned speed (or at the road limits);
* :class:`SkipStop` drives through a collection stop without serving it;
* :class:`Pause` stands still for ``wait_s`` part-way along a leg (a red light,
  a short stop in the corridor, or a long hold-up that makes later stops late);
* :class:`Queue` waits ``wait_s`` in a facility's yard, ``offset_m`` from the
  stop, before its service;
* :class:`Speeding` drives one leg ``factor`` times faster.

After the drive, :func:`drop_fixes`, :func:`displace_fixes` and
:func:`degrade_fixes` make data gaps, GPS jumps and poor-accuracy stretches.
:attr:`SimulatedDay.visits` records what really happened at every stop.

Deterministic per ``seed``: each vehicle's random stream is seeded by
``(seed, crc32(vehicle_id))``, so adding a vehicle does not change the others.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from core.domain import Plan, Position, Route, StopKind
from core.errors import ValidationError
from telematics._validate import check_lat_lon_pairs, check_number
from telematics.corridor import leg_path
from telematics.kernels import EARTH_RADIUS_M

FloatArray = npt.NDArray[np.float64]
LimitFn = Callable[[FloatArray], FloatArray]
"""Per-step speed limits (m/s, NaN unknown) of a ``(k, 2)`` ``(lat, lon)`` path: ``k - 1`` values."""

ACCURACY_PER_SIGMA = math.sqrt(-2.0 * math.log(1.0 - 0.68))
"""Radius holding 68 % of 2-D Gaussian errors, per unit of the per-axis sigma (about 1.51)."""

SPEED_NOISE_MPS = 0.3
"""Standard deviation of the reported speed's noise (m/s)."""

YARD_MOVE_S = 20.0
"""Time to move between a facility's gate and its queue position (s)."""


@dataclass(frozen=True, slots=True)
class DetourSpec:
    """Drive ``via_coords`` instead of the planned leg leading to ``stops[stop_index]``.

    ``via_coords`` are ``(lat, lon)`` road points from the previous stop to this
    one (computed by the caller on the road network); ``stop_index >= 1``.
    """

    vehicle_id: str
    stop_index: int
    via_coords: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        record = f"DetourSpec of '{self.vehicle_id}'"
        _check_vehicle("DetourSpec", self.vehicle_id)
        check_number(record, "stop_index", self.stop_index, minimum=1, integer=True)
        pts = check_lat_lon_pairs(record, "via_coords", self.via_coords, min_points=1)
        object.__setattr__(self, "via_coords", tuple((float(a), float(b)) for a, b in pts))


@dataclass(frozen=True, slots=True)
class SkipStop:
    """Drive through collection stop ``stops[stop_index]`` without stopping or lifting its bin."""

    vehicle_id: str
    stop_index: int

    def __post_init__(self) -> None:
        _check_vehicle("SkipStop", self.vehicle_id)
        check_number(
            f"SkipStop of '{self.vehicle_id}'", "stop_index", self.stop_index, minimum=1, integer=True
        )


@dataclass(frozen=True, slots=True)
class Pause:
    """Stand still ``wait_s`` seconds after ``frac`` (0..1, by time) of the leg to ``stops[stop_index]``."""

    vehicle_id: str
    stop_index: int
    frac: float
    wait_s: float

    def __post_init__(self) -> None:
        record = f"Pause of '{self.vehicle_id}'"
        _check_vehicle("Pause", self.vehicle_id)
        check_number(record, "stop_index", self.stop_index, minimum=1, integer=True)
        if not (0.0 <= check_number(record, "frac", self.frac) <= 1.0):
            raise ValidationError(record, "frac", f"must lie in [0, 1], got {self.frac!r}")
        check_number(record, "wait_s", self.wait_s, minimum=0.0)


@dataclass(frozen=True, slots=True)
class Queue:
    """Wait ``wait_s`` at ``offset_m`` from ``stops[stop_index]`` (bearing in degrees) before its service."""

    vehicle_id: str
    stop_index: int
    wait_s: float
    offset_m: float = 60.0
    bearing_deg: float = 0.0

    def __post_init__(self) -> None:
        record = f"Queue of '{self.vehicle_id}'"
        _check_vehicle("Queue", self.vehicle_id)
        check_number(record, "stop_index", self.stop_index, minimum=1, integer=True)
        check_number(record, "wait_s", self.wait_s, minimum=0.0)
        check_number(record, "offset_m", self.offset_m, minimum=0.0)
        check_number(record, "bearing_deg", self.bearing_deg)


@dataclass(frozen=True, slots=True)
class Speeding:
    """Drive the leg to ``stops[stop_index]`` ``factor`` times faster than planned."""

    vehicle_id: str
    stop_index: int
    factor: float

    def __post_init__(self) -> None:
        record = f"Speeding of '{self.vehicle_id}'"
        _check_vehicle("Speeding", self.vehicle_id)
        check_number(record, "stop_index", self.stop_index, minimum=1, integer=True)
        check_number(record, "factor", self.factor, minimum=0.0, exclusive=True)


Event = DetourSpec | SkipStop | Pause | Queue | Speeding
"""Anything :func:`simulate_plan` accepts in ``events``."""


def _check_vehicle(record: str, vehicle_id: Any) -> None:
    if not isinstance(vehicle_id, str) or not vehicle_id.strip():
        raise ValidationError(record, "vehicle_id", f"must be a non-empty string, got {vehicle_id!r}")


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedTrack:
    """One device's simulated fixes as columns (``device_id`` is the vehicle id).

    ``ts_utc`` is UNIX epoch seconds; ``noise_sigma_m`` the per-axis GPS sigma
    drawn for this vehicle (m). Sensor columns are ``None`` when not simulated.
    """

    device_id: str
    ts_utc: FloatArray
    lat: FloatArray
    lon: FloatArray
    speed_mps: FloatArray
    accuracy_m: FloatArray
    noise_sigma_m: float
    bin_lifts: FloatArray | None = None
    load_kg: FloatArray | None = None
    brooms_down: FloatArray | None = None
    ignition: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.ts_utc.shape[0])

    def select(self, keep: npt.NDArray[np.bool_]) -> SimulatedTrack:
        """A copy with only the fixes where ``keep`` is True."""
        cols: dict[str, Any] = {
            f.name: (v[keep] if isinstance(v, np.ndarray) else v)
            for f in dataclasses.fields(self)
            for v in (getattr(self, f.name),)
        }
        return SimulatedTrack(**cols)


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedDay:
    """A simulated day: one track per vehicle with stops, and the ground truth.

    ``labels`` holds one dict per injected detour: ``vehicle_id``, ``type``
    (``"detour"``), ``start_utc`` and ``end_utc`` (leaving the previous stop and
    reaching ``stops[stop_index]`` on the detour), ``stop_index`` and ``extra_m``
    (detour length minus planned leg length, m); and one per :class:`Speeding`
    leg (``type`` ``"speeding"``, the leg's drive). ``visits`` holds one dict per
    stop: ``vehicle_id``, ``stop_index``, ``ref_id``, ``kind``, ``arrival_utc``,
    ``departure_utc`` and ``served`` (False for a skipped stop).
    """

    tracks: dict[str, SimulatedTrack]
    labels: list[dict[str, Any]]
    seed: int
    visits: list[dict[str, Any]] = field(default_factory=list)


def simulate_plan(
    plan: Plan,
    *,
    day_start_utc: float,
    interval_s: float | Mapping[str, float] = 5.0,
    noise_m: tuple[float, float] = (5.0, 15.0),
    seed: int = 0,
    detours: Sequence[DetourSpec] = (),
    events: Sequence[Event] = (),
    limit_fn: LimitFn | None = None,
    noise_corr_s: float = 0.0,
) -> SimulatedDay:
    """Simulate every vehicle of ``plan`` driving its route, with GPS noise and sensors.

    Parameters
    ----------
    plan : the day's plan; routes without stops get no track.
    day_start_utc : UNIX epoch seconds of local midnight of the plan's day
        (plan times are seconds since then).
    interval_s : time between fixes (s), > 0; one value, or one per vehicle id
        (vehicles not listed get 5 s).
    noise_m : ``(low, high)`` range of the per-vehicle GPS sigma (m), ``0 <= low <= high``.
    seed : random seed (>= 0).
    detours : legs to replace, at most one per (vehicle, stop) (the same as
        passing them in ``events``).
    events : detours, skipped stops, pauses, queues and speeding legs.
    limit_fn : per-step road speed limits; the truck's speed follows them.
    noise_corr_s : correlation time of the GPS error (s); 0 draws it independently per fix.

    Returns
    -------
    SimulatedDay

    Raises
    ------
    ValidationError : bad arguments, an event naming an unknown vehicle or stop
        (or a skip/queue at the wrong kind of stop), a detour on a leg with no
        planned length or time (its speed is unknown), or a plan whose stop
        arrives before the previous one departs.
    """
    record = "simulate_plan"
    day0 = check_number(record, "day_start_utc", day_start_utc)
    if isinstance(interval_s, Mapping):
        steps = {
            str(k): check_number(record, "interval_s", v, minimum=0.0, exclusive=True)
            for k, v in interval_s.items()
        }
        default_step = 5.0
    else:
        steps = {}
        default_step = check_number(record, "interval_s", interval_s, minimum=0.0, exclusive=True)
    lo, hi = _check_noise(record, noise_m)
    corr_s = check_number(record, "noise_corr_s", noise_corr_s, minimum=0.0)
    seed_i = int(check_number(record, "seed", seed, minimum=0, integer=True))
    routes: dict[str, Route] = {}
    for route in plan.routes:
        if route.vehicle_id in routes:
            raise ValidationError(record, "plan", f"has two routes for vehicle '{route.vehicle_id}'")
        routes[route.vehicle_id] = route
    by_leg = _index_events(record, routes, [*detours, *events], "detours" if not events else "events")

    tracks: dict[str, SimulatedTrack] = {}
    labels: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for vid, route in routes.items():
        if not route.stops:
            continue
        tl = _timeline(route, by_leg, limit_fn)
        rng = np.random.default_rng([seed_i, zlib.crc32(vid.encode())])
        sigma = float(rng.uniform(lo, hi))
        tracks[vid] = _sample(vid, tl, day0, steps.get(vid, default_step), sigma, rng, corr_s)
        for stop_index, t_start, t_end, extra_m in tl.detours:
            labels.append(
                {
                    "vehicle_id": vid,
                    "type": "detour",
                    "start_utc": day0 + t_start,
                    "end_utc": day0 + t_end,
                    "stop_index": stop_index,
                    "extra_m": extra_m,
                }
            )
        for stop_index, t_start, t_end in tl.speeding:
            labels.append(
                {
                    "vehicle_id": vid,
                    "type": "speeding",
                    "start_utc": day0 + t_start,
                    "end_utc": day0 + t_end,
                    "stop_index": stop_index,
                }
            )
        for v in tl.visits:
            visits.append(
                {
                    "vehicle_id": vid,
                    **v,
                    "arrival_utc": day0 + v["arrival_s"],
                    "departure_utc": day0 + v["departure_s"],
                }
            )
    return SimulatedDay(tracks=tracks, labels=labels, seed=seed_i, visits=visits)


def to_positions(sim: SimulatedDay) -> list[Position]:
    """Every simulated fix as a :class:`core.domain.Position`, per vehicle then by time."""
    out: list[Position] = []
    for track in sim.tracks.values():
        n = len(track)
        lifts = track.bin_lifts if track.bin_lifts is not None else np.full(n, np.nan)
        load = track.load_kg if track.load_kg is not None else np.full(n, np.nan)
        brooms = track.brooms_down if track.brooms_down is not None else np.full(n, np.nan)
        ignition = track.ignition if track.ignition is not None else np.full(n, np.nan)
        for t, la, lo, v, acc, lift, kg, br, ig in zip(
            track.ts_utc.tolist(),
            track.lat.tolist(),
            track.lon.tolist(),
            track.speed_mps.tolist(),
            track.accuracy_m.tolist(),
            lifts.tolist(),
            load.tolist(),
            brooms.tolist(),
            ignition.tolist(),
            strict=True,
        ):
            out.append(
                Position(
                    track.device_id,
                    t,
                    la,
                    lo,
                    speed_mps=v,
                    accuracy_m=acc,
                    bin_lifts=None if math.isnan(lift) else int(lift),
                    load_kg=None if math.isnan(kg) else kg,
                    brooms_down=None if math.isnan(br) else bool(br),
                    ignition=None if math.isnan(ig) else bool(ig),
                )
            )
    return out


# --------------------------------------------------------------------------- after the drive


def drop_fixes(sim: SimulatedDay, vehicle_id: str, start_utc: float, end_utc: float) -> SimulatedDay:
    """A copy without ``vehicle_id``'s fixes in ``[start_utc, end_utc]`` (a data gap)."""
    track = _track(sim, "drop_fixes", vehicle_id)
    keep = (track.ts_utc < start_utc) | (track.ts_utc > end_utc)
    return dataclasses.replace(sim, tracks={**sim.tracks, vehicle_id: track.select(keep)})


def displace_fixes(
    sim: SimulatedDay, vehicle_id: str, ts_utc: Sequence[float], east_m: float, north_m: float
) -> SimulatedDay:
    """A copy whose fixes at ``ts_utc`` (nearest fix each) jump ``east_m``/``north_m`` away (GPS outliers)."""
    track = _track(sim, "displace_fixes", vehicle_id)
    idx = np.clip(np.searchsorted(track.ts_utc, np.asarray(ts_utc, dtype=np.float64)), 0, len(track) - 1)
    lat, lon = track.lat.copy(), track.lon.copy()
    lat[idx] += np.degrees(north_m / EARTH_RADIUS_M)
    lon[idx] += np.degrees(east_m / (EARTH_RADIUS_M * np.cos(np.radians(lat[idx]))))
    moved = dataclasses.replace(track, lat=lat, lon=lon)
    return dataclasses.replace(sim, tracks={**sim.tracks, vehicle_id: moved})


def degrade_fixes(
    sim: SimulatedDay, vehicle_id: str, start_utc: float, end_utc: float, sigma_m: float, seed: int = 0
) -> SimulatedDay:
    """A copy whose fixes in ``[start_utc, end_utc]`` get extra noise ``sigma_m`` and report that accuracy."""
    track = _track(sim, "degrade_fixes", vehicle_id)
    sel = np.flatnonzero((track.ts_utc >= start_utc) & (track.ts_utc <= end_utc))
    rng = np.random.default_rng([seed, zlib.crc32(vehicle_id.encode()), 7])
    lat, lon, acc = track.lat.copy(), track.lon.copy(), track.accuracy_m.copy()
    north = rng.normal(0.0, sigma_m, sel.shape[0])
    east = rng.normal(0.0, sigma_m, sel.shape[0])
    lat[sel] += np.degrees(north / EARTH_RADIUS_M)
    lon[sel] += np.degrees(east / (EARTH_RADIUS_M * np.cos(np.radians(lat[sel]))))
    acc[sel] = ACCURACY_PER_SIGMA * math.hypot(sigma_m, track.noise_sigma_m)
    moved = dataclasses.replace(track, lat=lat, lon=lon, accuracy_m=acc)
    return dataclasses.replace(sim, tracks={**sim.tracks, vehicle_id: moved})


def _track(sim: SimulatedDay, record: str, vehicle_id: str) -> SimulatedTrack:
    if vehicle_id not in sim.tracks:
        raise ValidationError(record, "vehicle_id", f"has no simulated track: {vehicle_id!r}")
    return sim.tracks[vehicle_id]


# --------------------------------------------------------------------------- internals


def _check_noise(record: str, noise_m: Any) -> tuple[float, float]:
    try:
        lo_raw, hi_raw = noise_m
    except (TypeError, ValueError):
        raise ValidationError(record, "noise_m", f"must be a (low, high) pair, got {noise_m!r}") from None
    lo = check_number(record, "noise_m", lo_raw, minimum=0.0)
    hi = check_number(record, "noise_m", hi_raw, minimum=0.0)
    if hi < lo:
        raise ValidationError(record, "noise_m", f"must have low <= high, got {noise_m!r}")
    return lo, hi


@dataclass
class _LegEvents:
    detour: DetourSpec | None = None
    skip: bool = False
    pauses: list[Pause] = field(default_factory=list)
    queue: Queue | None = None
    factor: float = 1.0


def _index_events(
    record: str, routes: dict[str, Route], events: Sequence[Any], name: str
) -> dict[tuple[str, int], _LegEvents]:
    """Events by (vehicle, stop index), checked against the routes."""
    out: dict[tuple[str, int], _LegEvents] = {}
    for i, ev in enumerate(events):
        where = f"{name}[{i}]"
        if not isinstance(ev, DetourSpec | SkipStop | Pause | Queue | Speeding):
            raise ValidationError(record, where, f"must be a simulation event, got {type(ev).__name__}")
        if ev.vehicle_id not in routes:
            raise ValidationError(record, where, f"names vehicle '{ev.vehicle_id}' with no route")
        stops = routes[ev.vehicle_id].stops
        if ev.stop_index >= len(stops):
            msg = f"stop_index {ev.stop_index} is beyond the route of '{ev.vehicle_id}' ({len(stops)} stops)"
            raise ValidationError(record, where, msg)
        leg = out.setdefault((ev.vehicle_id, ev.stop_index), _LegEvents())
        kind = stops[ev.stop_index].kind
        if isinstance(ev, DetourSpec):
            if leg.detour is not None:
                msg = f"repeats the detour of '{ev.vehicle_id}' to stop {ev.stop_index}"
                raise ValidationError(record, where, msg)
            leg.detour = ev
        elif isinstance(ev, SkipStop):
            if kind != StopKind.COLLECTION:
                raise ValidationError(
                    record, where, f"skips stop {ev.stop_index}, which is no collection stop"
                )
            leg.skip = True
        elif isinstance(ev, Pause):
            leg.pauses.append(ev)
        elif isinstance(ev, Queue):
            if kind != StopKind.UNLOAD:
                raise ValidationError(record, where, f"queues at stop {ev.stop_index}, which is no facility")
            leg.queue = ev
        else:
            leg.factor *= ev.factor
    return out


def _haversine_m(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Great-circle length of each step of a (lat, lon) path, radius ``EARTH_RADIUS_M`` (m)."""
    p = np.radians(lat)
    dp = np.diff(p)
    dl = np.radians(np.diff(lon))
    h = np.sin(dp / 2) ** 2 + np.cos(p[:-1]) * np.cos(p[1:]) * np.sin(dl / 2) ** 2
    out: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out


@dataclass
class _Timeline:
    """Key points of a truck's motion (linear in between) and what happened, in s since midnight."""

    t: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lifts: list[float] = field(default_factory=list)
    loads: list[tuple[float, float]] = field(default_factory=list)
    detours: list[tuple[int, float, float, float]] = field(default_factory=list)
    speeding: list[tuple[int, float, float]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)

    def add(self, t: float, lat: float, lon: float) -> None:
        self.t.append(t)
        self.lat.append(lat)
        self.lon.append(lon)


def _offset(lat: float, lon: float, dist_m: float, bearing_deg: float) -> tuple[float, float]:
    b = math.radians(bearing_deg)
    dlat = math.degrees(dist_m * math.cos(b) / EARTH_RADIUS_M)
    dlon = math.degrees(dist_m * math.sin(b) / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def _timeline(route: Route, by_leg: dict[tuple[str, int], _LegEvents], limit_fn: LimitFn | None) -> _Timeline:
    """Key points ``(t_s, lat, lon)`` of the truck's motion, sensors and what happened at each stop."""
    stops = route.stops
    vid = route.vehicle_id
    tl = _Timeline()
    first = stops[0]
    pos = (float(first.lat), float(first.lon))
    tl.add(float(first.arrival_s), *pos)
    tl.add(float(first.departure_s), *pos)
    tl.visits.append(_visit(0, first, first.arrival_s, first.departure_s, True))
    tl.loads.append((float(first.departure_s), float(first.load_kg)))
    breaks: dict[int, list[tuple[float, float]]] = {}
    for b in route.breaks:
        prev = stops[b.after_stop] if b.after_stop < len(stops) else None
        if prev is not None and b.after_stop + 1 < len(stops):
            breaks.setdefault(b.after_stop + 1, []).append(
                (float(b.start_s - prev.departure_s), float(b.duration_s))
            )
    for k in range(1, len(stops)):
        stop = stops[k]
        ev = by_leg.get((vid, k), _LegEvents())
        planned_s = float(stop.arrival_s - stops[k - 1].departure_s)
        if planned_s < 0:
            prev_s = stops[k - 1].departure_s
            msg = f"arrives at {stop.arrival_s} s, before the previous stop departs ({prev_s} s)"
            raise ValidationError(f"Route of '{vid}'", f"stops[{k}].arrival_s", msg)
        leg_breaks = breaks.get(k, [])
        drive_planned = max(0.0, planned_s - sum(d for _, d in leg_breaks))
        planned = np.array(leg_path(pos, stop.leg_coords, (stop.lat, stop.lon)))
        planned_m = float(_haversine_m(planned[:, 0], planned[:, 1]).sum())
        path = planned
        if ev.detour is not None:
            if planned_m <= 0 or planned_s <= 0:
                msg = f"leg to stop {k} has no planned length or time to take a speed from"
                raise ValidationError("simulate_plan", "detours", f"vehicle '{vid}': {msg}")
            path = np.array(leg_path(pos, ev.detour.via_coords, (stop.lat, stop.lon)))
        steps = _haversine_m(path[:, 0], path[:, 1])
        path_m = float(steps.sum())
        weights = steps.copy()
        if limit_fn is not None and steps.shape[0]:
            lim = np.asarray(limit_fn(path), dtype=np.float64)
            avg = planned_m / drive_planned if drive_planned > 0 else math.nan
            lim = np.where(np.isfinite(lim) & (lim > 0), lim, avg)
            weights = np.where(np.isfinite(lim), steps / lim, steps)
        if ev.detour is None:
            drive_s = drive_planned
        elif limit_fn is not None and np.isfinite(weights).all() and weights.sum() > 0:
            drive_s = float(weights.sum())
        else:
            drive_s = drive_planned * path_m / planned_m
        drive_s /= ev.factor
        depart = tl.t[-1]
        total_w = float(weights.sum())
        cum = np.concatenate(([0.0], np.cumsum(weights)))
        frac = cum / total_w if total_w > 0 else np.linspace(0.0, 1.0, cum.shape[0])
        pauses = [(p.frac * drive_s, p.wait_s) for p in ev.pauses]
        pauses += [(min(max(off, 0.0), drive_s), dur) for off, dur in leg_breaks]
        key_t = frac * drive_s
        waited = 0.0
        j = 1
        for at, wait in sorted(pauses):
            while j < key_t.shape[0] and key_t[j] <= at:
                tl.add(depart + waited + key_t[j], float(path[j, 0]), float(path[j, 1]))
                j += 1
            if j >= key_t.shape[0]:
                la, lo = float(path[-1, 0]), float(path[-1, 1])
            else:
                span = key_t[j] - key_t[j - 1]
                f = (at - key_t[j - 1]) / span if span > 0 else 0.0
                la = float(path[j - 1, 0] + f * (path[j, 0] - path[j - 1, 0]))
                lo = float(path[j - 1, 1] + f * (path[j, 1] - path[j - 1, 1]))
            tl.add(depart + waited + at, la, lo)
            waited += wait
            tl.add(depart + waited + at, la, lo)
        while j < key_t.shape[0]:
            tl.add(depart + waited + key_t[j], float(path[j, 0]), float(path[j, 1]))
            j += 1
        arrive = depart + waited + drive_s
        if ev.detour is not None:
            tl.detours.append((k, depart, arrive, path_m - planned_m))
        if ev.factor != 1.0:
            tl.speeding.append((k, depart, arrive))
        pos = (float(path[-1, 0]), float(path[-1, 1]))
        if ev.queue is not None:
            q = ev.queue
            yard = _offset(pos[0], pos[1], q.offset_m, q.bearing_deg)
            tl.add(tl.t[-1] + YARD_MOVE_S, *yard)
            tl.add(tl.t[-1] + q.wait_s, *yard)
            tl.add(tl.t[-1] + YARD_MOVE_S, *pos)
        arrival = tl.t[-1]
        dwell = 0.0 if ev.skip else float(stop.departure_s - stop.arrival_s)
        departure = arrival + dwell
        if dwell > 0:
            tl.add(departure, *pos)
        if stop.kind == StopKind.COLLECTION and not ev.skip:
            tl.lifts.append(arrival + dwell / 2)
        tl.loads.append((departure, float(stop.load_kg)))
        tl.visits.append(_visit(k, stop, arrival, departure, not ev.skip))
    # Rounding can leave a key time a hair before its predecessor; keep them sorted.
    tl.t = np.maximum.accumulate(np.array(tl.t)).tolist()
    return tl


def _ar1(z: FloatArray, phi: float, gain: float) -> FloatArray:
    """``e[0] = z[0]``, ``e[k] = phi * e[k-1] + gain * z[k]``: stationary when ``gain = sqrt(1 - phi^2)``."""
    from scipy.signal import lfilter

    out = np.empty_like(z)
    out[0] = z[0]
    out[1:] = lfilter([gain], [1.0, -phi], z[1:], zi=[phi * z[0]])[0]
    return out


def _visit(k: int, stop: Any, arrival: float, departure: float, served: bool) -> dict[str, Any]:
    return {
        "stop_index": k,
        "ref_id": stop.ref_id,
        "kind": stop.kind.value,
        "arrival_s": float(arrival),
        "departure_s": float(departure),
        "served": served,
    }


def _sample(
    vehicle_id: str,
    tl: _Timeline,
    day0: float,
    interval_s: float,
    sigma: float,
    rng: np.random.Generator,
    corr_s: float = 0.0,
) -> SimulatedTrack:
    """Fixes every ``interval_s`` along the key points, with noise drawn from ``rng``."""
    key_t = np.array(tl.t)
    key_lat = np.array(tl.lat)
    key_lon = np.array(tl.lon)
    n = math.floor((key_t[-1] - key_t[0]) / interval_s + 1e-9) + 1
    t = key_t[0] + interval_s * np.arange(n, dtype=np.float64)
    i = np.clip(np.searchsorted(key_t, t, side="right") - 1, 0, max(key_t.shape[0] - 2, 0))
    if key_t.shape[0] < 2:
        key_t = np.append(key_t, key_t)
        key_lat = np.append(key_lat, key_lat)
        key_lon = np.append(key_lon, key_lon)
    dt = key_t[i + 1] - key_t[i]
    span = dt > 0
    f = np.where(span, (t - key_t[i]) / np.where(span, dt, 1.0), 0.0)
    f = np.clip(f, 0.0, 1.0)
    lat = key_lat[i] + f * (key_lat[i + 1] - key_lat[i])
    lon = key_lon[i] + f * (key_lon[i + 1] - key_lon[i])
    step_m = _haversine_m(key_lat, key_lon)
    speed = np.where(span, step_m[i] / np.where(span, dt, 1.0), 0.0)

    east = rng.normal(0.0, 1.0, n) * sigma
    north = rng.normal(0.0, 1.0, n) * sigma
    if corr_s > 0 and n > 1:
        phi = math.exp(-interval_s / corr_s)
        gain = math.sqrt(1.0 - phi * phi)
        east = _ar1(east, phi, gain)
        north = _ar1(north, phi, gain)
    lat_noisy = lat + np.degrees(north / EARTH_RADIUS_M)
    lon_noisy = lon + np.degrees(east / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    lon_noisy = (lon_noisy + 180.0) % 360.0 - 180.0
    speed_noisy = np.maximum(speed + rng.normal(0.0, SPEED_NOISE_MPS, n), 0.0)
    lifts = np.searchsorted(np.sort(np.array(tl.lifts)), t, side="right").astype(np.float64)
    load_t = np.array([a for a, _ in tl.loads])
    load_v = np.array([b for _, b in tl.loads])
    load = load_v[np.clip(np.searchsorted(load_t, t, side="right") - 1, 0, load_v.shape[0] - 1)]
    return SimulatedTrack(
        device_id=vehicle_id,
        ts_utc=day0 + t,
        lat=lat_noisy,
        lon=lon_noisy,
        speed_mps=speed_noisy,
        accuracy_m=np.full(n, ACCURACY_PER_SIGMA * sigma),
        noise_sigma_m=sigma,
        bin_lifts=lifts,
        load_kg=load,
        ignition=np.ones(n),
    )
