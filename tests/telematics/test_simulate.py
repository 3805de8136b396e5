"""simulate_plan: timing along the plan, noise model, detour shifts, determinism, conversion."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.testing as npt
import pytest

from core.domain import Position
from core.errors import ValidationError
from telematics.kernels import project_equirectangular
from telematics.simulate import ACCURACY_PER_SIGMA, DetourSpec, SimulatedTrack, simulate_plan, to_positions
from tests.telematics.synthetic import DAY_START_UTC, ORIGIN, bump_via, make_plan, make_route, road_xy

STOPS = [600.0, 1500.0, 2400.0]
ROUTE = make_route("T1", STOPS)
PLAN = make_plan(ROUTE, make_route("T2", [300.0, 900.0], start_s=8 * 3600))
QUIET = (0.0, 0.0)


def metres(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = project_equirectangular(np.ascontiguousarray(lat), np.ascontiguousarray(lon), *ORIGIN)
    return x, y


def fix_at(track: SimulatedTrack, t_utc: float) -> int:
    """Index of the fix taken at ``t_utc`` (which must be on the fix grid)."""
    ts = track.ts_utc
    i = int(np.searchsorted(ts, t_utc - 1e-6))
    assert ts[i] == pytest.approx(t_utc, abs=1e-6)
    return i


def test_fixes_every_interval_from_first_arrival_to_last_departure() -> None:
    """Each track is sampled every interval_s, starting at the first stop's arrival (UTC)."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, noise_m=QUIET)
    for route in PLAN.routes:
        tr = sim.tracks[route.vehicle_id]
        assert tr.device_id == route.vehicle_id
        assert tr.ts_utc[0] == DAY_START_UTC + route.stops[0].arrival_s
        npt.assert_allclose(np.diff(tr.ts_utc), 5.0)
        assert DAY_START_UTC + route.stops[-1].departure_s - 5.0 < tr.ts_utc[-1]
        assert tr.ts_utc[-1] <= DAY_START_UTC + route.stops[-1].departure_s
        assert {len(tr.lat), len(tr.lon), len(tr.speed_mps), len(tr.accuracy_m)} == {len(tr)}
    assert sim.labels == []


def test_truck_is_at_each_stop_from_arrival_to_departure() -> None:
    """Without noise the truck stands at the stop's road end from arrival to departure, speed about 0."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    tr = sim.tracks["T1"]
    x, y = metres(tr.lat, tr.lon)
    for stop, sx in zip(ROUTE.stops[1:-1], STOPS, strict=True):
        i0 = fix_at(tr, DAY_START_UTC + stop.arrival_s)
        i1 = fix_at(tr, DAY_START_UTC + stop.departure_s)
        npt.assert_allclose(x[i0 : i1 + 1], sx, atol=1e-6)
        assert np.ptp(y[i0 : i1 + 1]) < 1e-6
        assert tr.speed_mps[i0 + 1 : i1].max() < 1.5  # 0 plus speed noise
        assert tr.speed_mps[i0 - 30 : i0 - 2].min() > 5.0  # driving before it


def test_speed_is_constant_along_a_leg_and_matches_its_length_over_time() -> None:
    """Mid-leg positions advance at leg length / planned leg time, and report that speed."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    tr = sim.tracks["T1"]
    stop = ROUTE.stops[2]  # 600 -> 1500 m
    prev = ROUTE.stops[1]
    v = stop.leg_distance_m / (stop.arrival_s - prev.departure_s)
    i0 = fix_at(tr, DAY_START_UTC + prev.departure_s)
    x, y = metres(tr.lat, tr.lon)
    path = np.cumsum(np.hypot(np.diff(x[i0 : i0 + 60]), np.diff(y[i0 : i0 + 60])))
    npt.assert_allclose(path, v * np.arange(1, 60), rtol=2e-3)
    assert np.median(tr.speed_mps[i0 + 1 : i0 + 60]) == pytest.approx(v, rel=0.05)


def test_noise_sigma_is_drawn_in_range_and_matches_the_scatter() -> None:
    """Per-axis noise is zero-mean with the vehicle's sigma, drawn in noise_m; accuracy_m = 1.51 sigma."""
    clean = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    noisy = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=(8.0, 12.0), seed=4)
    for vid in ("T1", "T2"):
        c, n = clean.tracks[vid], noisy.tracks[vid]
        assert 8.0 <= n.noise_sigma_m <= 12.0
        npt.assert_array_equal(c.ts_utc, n.ts_utc)
        cx, cy = metres(c.lat, c.lon)
        nx, ny = metres(n.lat, n.lon)
        k = len(n)
        for err in (nx - cx, ny - cy):  # both within 4 standard errors
            assert abs(err.mean()) < 4 * n.noise_sigma_m / math.sqrt(k)
            assert err.std() == pytest.approx(n.noise_sigma_m, rel=4 / math.sqrt(2 * k))
        npt.assert_allclose(n.accuracy_m, ACCURACY_PER_SIGMA * n.noise_sigma_m)
    assert pytest.approx(1.5096, abs=1e-4) == ACCURACY_PER_SIGMA


def test_same_seed_same_day_other_seed_other_noise() -> None:
    """Simulation is deterministic per seed, and a vehicle's stream ignores the other vehicles."""
    a = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, seed=1)
    b = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, seed=1)
    c = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, seed=2)
    alone = simulate_plan(make_plan(ROUTE), day_start_utc=DAY_START_UTC, seed=1)
    for name in ("ts_utc", "lat", "lon", "speed_mps", "accuracy_m"):
        npt.assert_array_equal(getattr(a.tracks["T1"], name), getattr(b.tracks["T1"], name))
        npt.assert_array_equal(getattr(a.tracks["T1"], name), getattr(alone.tracks["T1"], name))
    assert not np.array_equal(a.tracks["T1"].lat, c.tracks["T1"].lat)


def test_detour_takes_longer_at_the_leg_speed_and_shifts_the_rest_of_the_day() -> None:
    """A detour leg is driven at the planned leg's speed; later stops shift by the extra time; labelled."""
    via = bump_via(600.0, 1500.0, 900.0, 1200.0, height=400.0)
    spec = DetourSpec("T1", 2, via)
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET, detours=[spec])
    prev, stop = ROUTE.stops[1], ROUTE.stops[2]
    v = stop.leg_distance_m / (stop.arrival_s - prev.departure_s)
    bump_xy = [*road_xy(600.0, 900.0), (900.0, 400.0), (1200.0, 400.0), *road_xy(1200.0, 1500.0)]
    via_m = sum(math.dist(p, q) for p, q in itertools.pairwise(bump_xy))
    extra_s = (via_m - stop.leg_distance_m) / v
    (label,) = sim.labels
    assert label["vehicle_id"] == "T1"
    assert label["type"] == "detour"
    assert label["stop_index"] == 2
    assert label["start_utc"] == DAY_START_UTC + prev.departure_s
    assert label["end_utc"] == pytest.approx(DAY_START_UTC + stop.arrival_s + extra_s, abs=0.01)
    assert label["extra_m"] == pytest.approx(via_m - stop.leg_distance_m, rel=1e-3)
    # The whole rest of the day shifts: the last fix is extra_s later; T2 is untouched.
    base = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    span = sim.tracks["T1"].ts_utc[-1] - base.tracks["T1"].ts_utc[-1]
    assert span == pytest.approx(extra_s, abs=1.0)
    npt.assert_array_equal(sim.tracks["T2"].lat, base.tracks["T2"].lat)
    # Mid-detour the truck is on the bump, 400 m north of the road.
    tr = sim.tracks["T1"]
    _, y = metres(tr.lat, tr.lon)
    mid = fix_at(tr, round((label["start_utc"] + label["end_utc"]) / 2))
    assert y[mid] == pytest.approx(400.0, abs=1e-6)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (DetourSpec("T9", 1, ((39.29, -76.61),)), "detours[0]"),
        (DetourSpec("T1", 5, ((39.29, -76.61),)), "detours[0]"),
    ],
)
def test_bad_detours_are_rejected(spec: DetourSpec, field: str) -> None:
    """A detour naming an unknown vehicle or a stop beyond the route raises ValidationError."""
    with pytest.raises(ValidationError, match=field.replace("[", r"\[").replace("]", r"\]")):
        simulate_plan(PLAN, day_start_utc=DAY_START_UTC, detours=[spec])


def test_detour_spec_validates_itself() -> None:
    """DetourSpec rejects stop 0 (no leg leads to it) and bad coordinates; a plan rejects repeats."""
    with pytest.raises(ValidationError, match="stop_index"):
        DetourSpec("T1", 0, ((39.29, -76.61),))
    with pytest.raises(ValidationError, match="via_coords"):
        DetourSpec("T1", 1, ((139.29, -76.61),))
    spec = DetourSpec("T1", 1, ((39.29, -76.61),))
    with pytest.raises(ValidationError, match="detours"):
        simulate_plan(PLAN, day_start_utc=DAY_START_UTC, detours=[spec, spec])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"interval_s": 0.0}, "interval_s"),
        ({"noise_m": (10.0, 5.0)}, "noise_m"),
        ({"noise_m": 5.0}, "noise_m"),
        ({"seed": -1}, "seed"),
        ({"day_start_utc": float("nan")}, "day_start_utc"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, object], field: str) -> None:
    """Bad simulation arguments raise ValidationError naming the argument."""
    args: dict[str, object] = {"day_start_utc": DAY_START_UTC} | kwargs
    with pytest.raises(ValidationError, match=f"field '{field}'"):
        simulate_plan(PLAN, **args)  # type: ignore[arg-type]


def test_to_positions_lists_every_fix_as_a_position() -> None:
    """to_positions returns one valid Position per fix, per vehicle in time order, carrying every column."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, seed=3)
    positions = to_positions(sim)
    assert len(positions) == sum(len(t) for t in sim.tracks.values())
    assert all(isinstance(p, Position) for p in positions)
    n1 = len(sim.tracks["T1"])
    first, last_t1 = positions[0], positions[n1 - 1]
    tr = sim.tracks["T1"]
    assert (first.device_id, first.ts_utc, first.lat, first.lon) == ("T1", tr.ts_utc[0], tr.lat[0], tr.lon[0])
    assert (first.speed_mps, first.accuracy_m) == (tr.speed_mps[0], tr.accuracy_m[0])
    assert last_t1.ts_utc == tr.ts_utc[-1]
    assert positions[n1].device_id == "T2"
