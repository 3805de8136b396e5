"""Simulate a day of GPS fixes from a plan, with optional injected detours.

Each truck drives its route's legs (:func:`telematics.corridor.leg_path`, the
same geometry a :class:`~telematics.corridor.RouteCorridor` is built from) at
constant speed per leg, so that it reaches each stop at the planned
``arrival_s``, then stands still until ``departure_s``. A fix is taken every
``interval_s`` seconds from the first stop's arrival to the last stop's
departure, stationary or not. A leg with no planned time (arrival equal to the
previous departure) is a jump.

GPS noise: each vehicle draws one sigma uniformly from ``noise_m``; every fix
then gets independent Gaussian east and north errors with that sigma (m), and
reports ``accuracy_m = ACCURACY_PER_SIGMA * sigma``, the radius holding 68 % of
such fixes (what Android reports). Reported speed is the true speed plus
Gaussian noise of ``SPEED_NOISE_MPS``, clipped at 0, so it is about 0 at stops.

A :class:`DetourSpec` replaces the leg leading to ``stops[stop_index]`` by
``via_coords``, driven at that leg's planned speed, so the detour takes longer
and every later time shifts by the difference. Labels record each detour leg.

Deterministic per ``seed``: each vehicle's random stream is seeded by
``(seed, crc32(vehicle_id))``, so adding a vehicle does not change the others.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.domain import Plan, Position, Route
from core.errors import ValidationError
from telematics._validate import check_lat_lon_pairs, check_number
from telematics.corridor import leg_path
from telematics.kernels import EARTH_RADIUS_M

FloatArray = npt.NDArray[np.float64]

ACCURACY_PER_SIGMA = math.sqrt(-2.0 * math.log(1.0 - 0.68))
"""Radius holding 68 % of 2-D Gaussian errors, per unit of the per-axis sigma (about 1.51)."""

SPEED_NOISE_MPS = 0.3
"""Standard deviation of the reported speed's noise (m/s)."""


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
        if not isinstance(self.vehicle_id, str) or not self.vehicle_id.strip():
            raise ValidationError(
                "DetourSpec", "vehicle_id", f"must be a non-empty string, got {self.vehicle_id!r}"
            )
        check_number(record, "stop_index", self.stop_index, minimum=1, integer=True)
        pts = check_lat_lon_pairs(record, "via_coords", self.via_coords, min_points=1)
        object.__setattr__(self, "via_coords", tuple((float(a), float(b)) for a, b in pts))


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedTrack:
    """One device's simulated fixes as columns (``device_id`` is the vehicle id).

    ``ts_utc`` is UNIX epoch seconds; ``noise_sigma_m`` the per-axis GPS sigma
    drawn for this vehicle (m).
    """

    device_id: str
    ts_utc: FloatArray
    lat: FloatArray
    lon: FloatArray
    speed_mps: FloatArray
    accuracy_m: FloatArray
    noise_sigma_m: float

    def __len__(self) -> int:
        return int(self.ts_utc.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedDay:
    """A simulated day: one track per vehicle with stops, and the ground truth.

    ``labels`` holds one dict per injected detour: ``vehicle_id``, ``type``
    (``"detour"``), ``start_utc`` and ``end_utc`` (leaving the previous stop and
    reaching ``stops[stop_index]`` on the detour), ``stop_index`` and ``extra_m``
    (detour length minus planned leg length, m).
    """

    tracks: dict[str, SimulatedTrack]
    labels: list[dict[str, Any]]
    seed: int


def simulate_plan(
    plan: Plan,
    *,
    day_start_utc: float,
    interval_s: float = 5.0,
    noise_m: tuple[float, float] = (5.0, 15.0),
    seed: int = 0,
    detours: Sequence[DetourSpec] = (),
) -> SimulatedDay:
    """Simulate every vehicle of ``plan`` driving its route, with GPS noise.

    Parameters
    ----------
    plan : the day's plan; routes without stops get no track.
    day_start_utc : UNIX epoch seconds of local midnight of the plan's day
        (plan times are seconds since then).
    interval_s : time between fixes (s), > 0.
    noise_m : ``(low, high)`` range of the per-vehicle GPS sigma (m), ``0 <= low <= high``.
    seed : random seed (>= 0).
    detours : legs to replace, at most one per (vehicle, stop).

    Returns
    -------
    SimulatedDay

    Raises
    ------
    ValidationError : bad arguments, a detour naming an unknown vehicle or stop,
        a detour on a leg with no planned length or time (its speed is unknown),
        or a plan whose stop arrives before the previous one departs.
    """
    record = "simulate_plan"
    day0 = check_number(record, "day_start_utc", day_start_utc)
    step = check_number(record, "interval_s", interval_s, minimum=0.0, exclusive=True)
    lo, hi = _check_noise(record, noise_m)
    seed_i = int(check_number(record, "seed", seed, minimum=0, integer=True))
    routes: dict[str, Route] = {}
    for route in plan.routes:
        if route.vehicle_id in routes:
            raise ValidationError(record, "plan", f"has two routes for vehicle '{route.vehicle_id}'")
        routes[route.vehicle_id] = route
    by_leg: dict[tuple[str, int], DetourSpec] = {}
    for i, spec in enumerate(detours):
        if not isinstance(spec, DetourSpec):
            raise ValidationError(record, f"detours[{i}]", f"must be a DetourSpec, got {type(spec).__name__}")
        if spec.vehicle_id not in routes:
            raise ValidationError(record, f"detours[{i}]", f"names vehicle '{spec.vehicle_id}' with no route")
        n_stops = len(routes[spec.vehicle_id].stops)
        if spec.stop_index >= n_stops:
            msg = f"stop_index {spec.stop_index} is beyond the route of '{spec.vehicle_id}' ({n_stops} stops)"
            raise ValidationError(record, f"detours[{i}]", msg)
        if (spec.vehicle_id, spec.stop_index) in by_leg:
            msg = f"repeats the detour of '{spec.vehicle_id}' to stop {spec.stop_index}"
            raise ValidationError(record, f"detours[{i}]", msg)
        by_leg[(spec.vehicle_id, spec.stop_index)] = spec

    tracks: dict[str, SimulatedTrack] = {}
    labels: list[dict[str, Any]] = []
    for vid, route in routes.items():
        if not route.stops:
            continue
        key_t, key_lat, key_lon, legs = _timeline(route, by_leg)
        rng = np.random.default_rng([seed_i, zlib.crc32(vid.encode())])
        sigma = float(rng.uniform(lo, hi))
        tracks[vid] = _sample(vid, key_t, key_lat, key_lon, day0, step, sigma, rng)
        for stop_index, t_start, t_end, extra_m in legs:
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
    return SimulatedDay(tracks=tracks, labels=labels, seed=seed_i)


def to_positions(sim: SimulatedDay) -> list[Position]:
    """Every simulated fix as a :class:`core.domain.Position`, per vehicle then by time."""
    out: list[Position] = []
    for track in sim.tracks.values():
        for t, la, lo, v, acc in zip(
            track.ts_utc.tolist(),
            track.lat.tolist(),
            track.lon.tolist(),
            track.speed_mps.tolist(),
            track.accuracy_m.tolist(),
            strict=True,
        ):
            out.append(Position(track.device_id, t, la, lo, speed_mps=v, accuracy_m=acc))
    return out


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


def _haversine_m(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Great-circle length of each step of a (lat, lon) path, radius ``EARTH_RADIUS_M`` (m)."""
    p = np.radians(lat)
    dp = np.diff(p)
    dl = np.radians(np.diff(lon))
    h = np.sin(dp / 2) ** 2 + np.cos(p[:-1]) * np.cos(p[1:]) * np.sin(dl / 2) ** 2
    out: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out


def _timeline(
    route: Route, by_leg: dict[tuple[str, int], DetourSpec]
) -> tuple[FloatArray, FloatArray, FloatArray, list[tuple[int, float, float, float]]]:
    """Key points ``(t_s, lat, lon)`` of the truck's motion, linear in between.

    Times are seconds since local midnight. Also returns each detour leg as
    ``(stop_index, start_s, end_s, extra_m)``.
    """
    stops = route.stops
    first = stops[0]
    kt = [float(first.arrival_s), float(first.departure_s)]
    pos = (float(first.lat), float(first.lon))
    klat = [pos[0], pos[0]]
    klon = [pos[1], pos[1]]
    delay = 0.0
    legs: list[tuple[int, float, float, float]] = []
    for k in range(1, len(stops)):
        stop = stops[k]
        planned_s = float(stop.arrival_s - stops[k - 1].departure_s)
        if planned_s < 0:
            prev_s = stops[k - 1].departure_s
            msg = f"arrives at {stop.arrival_s} s, before the previous stop departs ({prev_s} s)"
            raise ValidationError(f"Route of '{route.vehicle_id}'", f"stops[{k}].arrival_s", msg)
        planned = np.array(leg_path(pos, stop.leg_coords, (stop.lat, stop.lon)))
        planned_m = float(_haversine_m(planned[:, 0], planned[:, 1]).sum())
        spec = by_leg.get((route.vehicle_id, k))
        path, leg_s = planned, planned_s
        if spec is not None:
            if planned_m <= 0 or planned_s <= 0:
                msg = f"leg to stop {k} has no planned length or time to take a speed from"
                raise ValidationError("simulate_plan", "detours", f"vehicle '{route.vehicle_id}': {msg}")
            path = np.array(leg_path(pos, spec.via_coords, (stop.lat, stop.lon)))
        steps = _haversine_m(path[:, 0], path[:, 1])
        path_m = float(steps.sum())
        if spec is not None:
            leg_s = planned_s * path_m / planned_m
        depart = kt[-1]
        cum = np.concatenate(([0.0], np.cumsum(steps)))
        frac = cum / path_m if path_m > 0 else np.zeros_like(cum)
        kt.extend((depart + frac[1:] * leg_s).tolist())
        klat.extend(path[1:, 0].tolist())
        klon.extend(path[1:, 1].tolist())
        if spec is not None:
            legs.append((k, depart, depart + leg_s, path_m - planned_m))
        delay += leg_s - planned_s
        pos = (float(path[-1, 0]), float(path[-1, 1]))
        # Stand still from arrival to departure (shifted by the delay so far).
        kt.append(float(stop.departure_s) + delay)
        klat.append(pos[0])
        klon.append(pos[1])
    # Rounding can leave a key time a hair before its predecessor; keep them sorted.
    t_arr = np.maximum.accumulate(np.array(kt))
    return t_arr, np.array(klat), np.array(klon), legs


def _sample(
    vehicle_id: str,
    key_t: FloatArray,
    key_lat: FloatArray,
    key_lon: FloatArray,
    day0: float,
    interval_s: float,
    sigma: float,
    rng: np.random.Generator,
) -> SimulatedTrack:
    """Fixes every ``interval_s`` along the key points, with noise drawn from ``rng``."""
    n = math.floor((key_t[-1] - key_t[0]) / interval_s + 1e-9) + 1
    t = key_t[0] + interval_s * np.arange(n, dtype=np.float64)
    i = np.clip(np.searchsorted(key_t, t, side="right") - 1, 0, key_t.shape[0] - 2)
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
    lat_noisy = lat + np.degrees(north / EARTH_RADIUS_M)
    lon_noisy = lon + np.degrees(east / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    lon_noisy = (lon_noisy + 180.0) % 360.0 - 180.0
    speed_noisy = np.maximum(speed + rng.normal(0.0, SPEED_NOISE_MPS, n), 0.0)
    return SimulatedTrack(
        device_id=vehicle_id,
        ts_utc=day0 + t,
        lat=lat_noisy,
        lon=lon_noisy,
        speed_mps=speed_noisy,
        accuracy_m=np.full(n, ACCURACY_PER_SIGMA * sigma),
        noise_sigma_m=sigma,
    )
