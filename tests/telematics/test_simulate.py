"""simulate_plan: timing along the plan, noise model, detour shifts, determinism, conversion."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import numpy.testing as npt
import pytest

from core.domain import PlanBreak, Position, StopKind
from core.errors import ValidationError
from telematics.kernels import project_equirectangular
from telematics.simulate import (
    ACCURACY_PER_SIGMA,
    DetourSpec,
    Pause,
    Queue,
    SimulatedTrack,
    SkipStop,
    Speeding,
    degrade_fixes,
    displace_fixes,
    drop_fixes,
    simulate_plan,
    to_positions,
)
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


# --------------------------------------------------------------------------- events, sensors, degradations


def visit(sim: object, k: int, vid: str = "T1") -> dict[str, float]:
    return next(v for v in sim.visits if v["vehicle_id"] == vid and v["stop_index"] == k)  # type: ignore[attr-defined]


def test_skip_stop_drives_through_and_shifts_the_day_earlier() -> None:
    """A skipped stop has no dwell and no bin lift; the rest of the day comes its service time earlier."""
    base = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    sim = simulate_plan(
        PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET, events=[SkipStop("T1", 2)]
    )
    v = visit(sim, 2)
    assert v["served"] is False
    assert v["arrival_utc"] == v["departure_utc"]
    dwell = ROUTE.stops[2].departure_s - ROUTE.stops[2].arrival_s
    assert visit(sim, 3)["arrival_utc"] == pytest.approx(visit(base, 3)["arrival_utc"] - dwell)
    assert sim.tracks["T1"].bin_lifts[-1] == base.tracks["T1"].bin_lifts[-1] - 1 == len(STOPS) - 1


def test_pause_stands_still_on_the_leg_and_delays_later_stops() -> None:
    """A 300 s pause halfway along a leg is 300 s at zero speed there; later arrivals are 300 s later."""
    base = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    sim = simulate_plan(
        PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET, events=[Pause("T1", 2, 0.5, 300.0)]
    )
    assert visit(sim, 2)["arrival_utc"] == pytest.approx(visit(base, 2)["arrival_utc"] + 300.0)
    tr = sim.tracks["T1"]
    mid = (
        visit(base, 1)["departure_utc"]
        + (visit(base, 2)["arrival_utc"] - visit(base, 1)["departure_utc"]) / 2
    )
    still = (tr.ts_utc > mid + 5) & (tr.ts_utc < mid + 295)
    assert tr.speed_mps[still].max() < 1.5
    x, _ = metres(tr.lat[still], tr.lon[still])
    assert np.ptp(x) < 1e-6
    assert 600.0 < x.mean() < 1500.0


def test_speeding_leg_is_faster_and_labelled() -> None:
    """A leg driven 1.5 times faster takes 2/3 of the time, shows 1.5 times the speed and is labelled."""
    sim = simulate_plan(
        PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET, events=[Speeding("T1", 2, 1.5)]
    )
    (label,) = sim.labels
    assert label["type"] == "speeding"
    assert label["stop_index"] == 2
    planned = ROUTE.stops[2].arrival_s - ROUTE.stops[1].departure_s
    assert label["end_utc"] - label["start_utc"] == pytest.approx(planned / 1.5, abs=0.01)
    tr = sim.tracks["T1"]
    inside = (tr.ts_utc > label["start_utc"] + 2) & (tr.ts_utc < label["end_utc"] - 2)
    assert np.median(tr.speed_mps[inside]) == pytest.approx(
        1.5 * ROUTE.stops[2].leg_distance_m / planned, rel=0.03
    )


def test_limit_fn_sets_the_speed_of_each_road_step() -> None:
    """With a limit function the truck drives each step in proportion to its limit, the leg time unchanged."""

    def limits(path: np.ndarray) -> np.ndarray:
        x, _ = metres(np.ascontiguousarray(path[:-1, 0]), np.ascontiguousarray(path[:-1, 1]))
        return np.where(x < 1000.0, 5.0, 10.0)  # slower west of x = 1000 m

    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET, limit_fn=limits)
    base = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    assert visit(sim, 2)["arrival_utc"] == pytest.approx(visit(base, 2)["arrival_utc"], abs=1e-6)
    tr = sim.tracks["T1"]
    x, _ = metres(tr.lat, tr.lon)
    leg = (tr.ts_utc > visit(sim, 1)["departure_utc"] + 2) & (tr.ts_utc < visit(sim, 2)["arrival_utc"] - 2)
    slow, fast = tr.speed_mps[leg & (x < 950)], tr.speed_mps[leg & (x > 1050)]
    assert np.median(fast) / np.median(slow) == pytest.approx(2.0, rel=0.05)


def test_queue_waits_in_the_yard_before_service() -> None:
    """A facility queue stands offset_m from the stop for wait_s, then serves."""
    stops = list(ROUTE.stops)
    stops[2] = dataclasses.replace(stops[2], kind=StopKind.UNLOAD)
    plan = make_plan(dataclasses.replace(ROUTE, stops=tuple(stops)))
    sim = simulate_plan(plan, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET,
                        events=[Queue("T1", 2, 600.0, 80.0, 0.0)])  # fmt: skip
    tr = sim.tracks["T1"]
    base = simulate_plan(plan, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    arrive = visit(base, 2)["arrival_utc"]
    _x, y = metres(tr.lat, tr.lon)
    queued = (tr.ts_utc > arrive + 25) & (tr.ts_utc < arrive + 615)
    assert np.allclose(y[queued], road_xy(1500.0, 1500.0)[0][1] + 80.0, atol=1e-3)
    assert visit(sim, 2)["arrival_utc"] == pytest.approx(arrive + 640.0)


def test_breaks_are_taken_standing_still() -> None:
    """A planned 20 min break after a stop is spent at rest on the following leg, not spread over it."""
    stops = list(ROUTE.stops)
    stops[2:] = [dataclasses.replace(s, arrival_s=s.arrival_s + 1200, start_s=s.start_s + 1200,
                                     departure_s=s.departure_s + 1200) for s in stops[2:]]  # fmt: skip
    route = dataclasses.replace(ROUTE, stops=tuple(stops), breaks=(PlanBreak(1, stops[1].departure_s, 1200),))
    sim = simulate_plan(make_plan(route), day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    tr = sim.tracks["T1"]
    rest = (tr.ts_utc > DAY_START_UTC + stops[1].departure_s + 2) & (
        tr.ts_utc < DAY_START_UTC + stops[1].departure_s + 1198
    )
    assert tr.speed_mps[rest].max() < 1.5
    assert visit(sim, 2)["arrival_utc"] == pytest.approx(DAY_START_UTC + stops[2].arrival_s, abs=0.01)


def test_sensors_lifts_count_collections_and_load_steps() -> None:
    """bin_lifts rises by one during each collection's service; load_kg follows the plan; ignition on."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    tr = sim.tracks["T1"]
    assert tr.bin_lifts[0] == 0
    assert tr.bin_lifts[-1] == len(STOPS)
    for k in range(1, len(STOPS) + 1):
        v = visit(sim, k)
        mid = np.searchsorted(tr.ts_utc, (v["arrival_utc"] + v["departure_utc"]) / 2)
        assert tr.bin_lifts[np.searchsorted(tr.ts_utc, v["arrival_utc"])] == k - 1
        assert tr.bin_lifts[mid + 1] == k
    assert np.all(tr.ignition == 1.0)
    positions = [p for p in to_positions(sim) if p.device_id == "T1"]
    assert positions[-1].bin_lifts == len(STOPS)
    assert positions[0].ignition is True


def test_gaps_jumps_and_noise_bursts_after_the_drive() -> None:
    """drop_fixes removes a span, displace_fixes moves a fix, degrade_fixes adds noise and honest accuracy."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    tr = sim.tracks["T1"]
    t0 = float(tr.ts_utc[100])
    gap = drop_fixes(sim, "T1", t0, t0 + 99.0).tracks["T1"]
    assert len(gap) == len(tr) - 100
    assert not np.any((gap.ts_utc >= t0) & (gap.ts_utc <= t0 + 99.0))
    moved = displace_fixes(sim, "T1", [t0], 300.0, 400.0).tracks["T1"]
    x0, y0 = metres(tr.lat[100:101], tr.lon[100:101])
    x1, y1 = metres(moved.lat[100:101], moved.lon[100:101])
    assert math.hypot(x1[0] - x0[0], y1[0] - y0[0]) == pytest.approx(500.0, rel=1e-3)
    noisy = degrade_fixes(sim, "T1", t0, t0 + 200.0, 60.0).tracks["T1"]
    assert noisy.accuracy_m[150] > 85.0
    assert noisy.accuracy_m[50] == tr.accuracy_m[50]
    with pytest.raises(ValidationError, match="vehicle_id"):
        drop_fixes(sim, "T9", 0.0, 1.0)


def test_correlated_noise_keeps_sigma_and_drifts_slowly() -> None:
    """With noise_corr_s the error keeps its sigma but consecutive errors correlate (exp(-dt/tau))."""
    clean = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=QUIET)
    sim = simulate_plan(
        PLAN, day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=(8.0, 8.0), noise_corr_s=30.0
    )
    cx, _ = metres(clean.tracks["T1"].lat, clean.tracks["T1"].lon)
    nx, _ = metres(sim.tracks["T1"].lat, sim.tracks["T1"].lon)
    err = nx - cx
    assert err.std() == pytest.approx(8.0, rel=0.25)
    assert np.corrcoef(err[1:], err[:-1])[0, 1] == pytest.approx(math.exp(-1 / 30), abs=0.02)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (SkipStop("T1", len(STOPS) + 1), "no collection stop"),
        (Queue("T1", 2, 60.0), "no facility"),
        (Pause("T9", 2, 0.5, 60.0), "no route"),
    ],
)
def test_events_are_checked_against_the_plan(event: object, message: str) -> None:
    """Skips at a depot, queues away from a facility and events of unknown vehicles raise ValidationError."""
    with pytest.raises(ValidationError, match=message):
        simulate_plan(PLAN, day_start_utc=DAY_START_UTC, events=[event])  # type: ignore[list-item]
