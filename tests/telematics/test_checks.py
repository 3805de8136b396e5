"""VehicleChecker: every alert type on hand-made days, look-alikes, streaming equals batch, replay.

The days are simulated on the straight-ish synthetic road of
tests/telematics/synthetic.py (stops every 500 m east of the depot), so each
violation is placed by hand and every number can be checked.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import pytest

from core.domain import AlertType, Plan, Route, TimeWindow
from core.errors import ValidationError
from telematics.checks import CheckRules, SweepPlan, TrackColumns, VehicleChecker, check_track
from telematics.simulate import (
    DetourSpec,
    Pause,
    SimulatedTrack,
    SkipStop,
    Speeding,
    displace_fixes,
    drop_fixes,
    simulate_plan,
)
from tests.telematics.synthetic import (
    DAY_START_UTC,
    ORIGIN,
    bump_via,
    make_plan,
    make_route,
    road_xy,
    to_latlon,
)

STOPS = [500.0 * k for k in range(1, 9)]


def windowed(route: Route, windows: dict[int, tuple[int, int]]) -> Route:
    """The route with fixed-time windows (seconds since midnight) on the given stop indices."""
    stops = list(route.stops)
    for k, (a, b) in windows.items():
        stops[k] = dataclasses.replace(stops[k], window=TimeWindow(a, b))
    return dataclasses.replace(route, stops=tuple(stops))


ROUTE = make_route("T1", STOPS, speed_mps=10.0, service_s=90)
LATE_AT = 5  # stop index with a window the hold-up will miss
ROUTE_W = windowed(
    ROUTE,
    {
        LATE_AT: (ROUTE.stops[LATE_AT].start_s - 1800, ROUTE.stops[LATE_AT].start_s + 600),
        2: (ROUTE.stops[2].start_s - 1800, ROUTE.stops[2].start_s + 1800),
    },
)
PLAN = make_plan(ROUTE_W)
RULES = CheckRules(default_limit_mps=13.0)


def run(
    sim_events: list[Any] | None = None, *, seed: int = 0, interval_s: float = 5.0, plan: Plan = PLAN
) -> tuple[list[Any], Any, SimulatedTrack]:
    """Simulate the plan with events, check it in one push, return (alerts, checker, track)."""
    sim = simulate_plan(
        plan, day_start_utc=DAY_START_UTC, interval_s=interval_s, seed=seed, events=sim_events or []
    )
    track = sim.tracks["T1"]
    checker = VehicleChecker.for_route(
        plan.routes[0], day_start_utc=DAY_START_UTC, rules=RULES, lat0=ORIGIN[0], lon0=ORIGIN[1]
    )
    result = check_track(checker, track)
    return result.alerts, checker, track


def kinds(alerts: list[Any]) -> list[str]:
    return sorted(a.type.value for a in alerts)


def test_a_clean_day_raises_nothing_and_serves_every_stop() -> None:
    """The plan driven as planned, 5-15 m noise: no alert, every collection stop served on time."""
    alerts, checker, _ = run()
    assert alerts == []
    report = checker.stop_report()
    assert [v.status for v in report] == ["served"] * len(STOPS)
    for v, stop in zip(report, ROUTE.collections, strict=True):
        assert v.arrival_utc == pytest.approx(DAY_START_UTC + stop.arrival_s, abs=6.0)
        assert v.distance_m is not None
        assert v.distance_m < 20.0


def test_each_violation_raises_its_alert_and_nothing_else() -> None:
    """Detour, skipped stop, hold-up (late), speeding leg and gap each give exactly their own alert."""
    detour = DetourSpec("T1", 3, bump_via(1000.0, 1500.0, 1100.0, 1400.0, height=400.0))
    hold_up = Pause("T1", LATE_AT, 0.5, 1800.0)  # 30 min held up on the way to the windowed stop
    events = [detour, SkipStop("T1", 4), hold_up, Speeding("T1", 7, 1.6)]
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=1, events=events)
    track = sim.tracks["T1"]
    # a 5.5 min silence while driving the 4 km back to the depot
    leaving = next(v["departure_utc"] for v in sim.visits if v["stop_index"] == 8)
    sim = drop_fixes(sim, "T1", leaving + 30.0, leaving + 360.0)
    checker = VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES)
    alerts = check_track(checker, sim.tracks["T1"]).alerts
    assert kinds(alerts) == ["detour", "gps_gap", "late_stop", "missed_stop", "speeding"]
    by = {a.type: a for a in alerts}
    assert by[AlertType.MISSED_STOP].stop_id == ROUTE.stops[4].ref_id
    assert by[AlertType.LATE_STOP].stop_id == ROUTE.stops[LATE_AT].ref_id
    window_end = DAY_START_UTC + ROUTE_W.stops[LATE_AT].window.end_s  # type: ignore[union-attr]
    assert by[AlertType.LATE_STOP].measured["lateness_s"] == pytest.approx(
        by[AlertType.LATE_STOP].start_utc - window_end, abs=1e-6
    )
    assert 360.0 < by[AlertType.DETOUR].measured["max_distance_m"] < 450.0
    assert by[AlertType.DETOUR].measured["extra_m"] == pytest.approx(sim.labels[0]["extra_m"], rel=0.25)
    assert by[AlertType.SPEEDING].measured["max_speed_mps"] > 14.0
    assert by[AlertType.GPS_GAP].measured["gap_s"] > 300.0
    assert len(track) > len(sim.tracks["T1"])


def test_lookalikes_do_not_alarm() -> None:
    """Red lights, a 4 min stop in the corridor, speed 5 % over, 20-60 s dropouts and GPS jumps: no alert."""
    events = [Pause("T1", 2, 0.5, 45.0), Pause("T1", 3, 0.3, 90.0), Pause("T1", 6, 0.6, 240.0)]
    events += [Speeding("T1", 7, 1.05)]
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=2, events=events)
    t = sim.tracks["T1"].ts_utc
    n = len(t)
    for at, length in ((t[n // 8], 40.0), (t[n // 2], 60.0), (t[3 * n // 4], 20.0)):
        sim = drop_fixes(sim, "T1", float(at), float(at) + length)
    t = sim.tracks["T1"].ts_utc
    n = len(t)
    sim = displace_fixes(
        sim, "T1", [float(t[n // 10]), float(t[n // 3]), float(t[2 * n // 3])], 900.0, -1200.0
    )
    checker = VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES)
    result = check_track(checker, sim.tracks["T1"])
    assert result.alerts == []
    assert len(result.outlier_ts) == 3
    assert all(v.status == "served" for v in result.stops)


def test_parked_silence_is_no_gap_but_moving_silence_is() -> None:
    """Device off 13 min during a long stay at a stop: no gap; a silence while driving: a gap."""
    stops = list(ROUTE.stops)
    stops[3] = dataclasses.replace(stops[3], departure_s=stops[3].departure_s + 1800)
    later = [dataclasses.replace(s, arrival_s=s.arrival_s + 1800, start_s=s.start_s + 1800,
                                 departure_s=s.departure_s + 1800) for s in stops[4:]]  # fmt: skip
    route = dataclasses.replace(ROUTE, stops=(*stops[:4], *later))
    plan = make_plan(route)
    sim = simulate_plan(plan, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=3)
    parked = DAY_START_UTC + route.stops[3].arrival_s  # the bin is lifted 945 s after arrival
    quiet = drop_fixes(sim, "T1", parked + 1000.0, parked + 1800.0)
    checker = VehicleChecker.for_route(route, day_start_utc=DAY_START_UTC, rules=RULES)
    assert check_track(checker, quiet.tracks["T1"]).alerts == []
    driving = DAY_START_UTC + route.stops[6].departure_s + 10.0
    moving = drop_fixes(sim, "T1", driving, driving + 600.0)
    checker = VehicleChecker.for_route(route, day_start_utc=DAY_START_UTC, rules=RULES)
    assert kinds(check_track(checker, moving.tracks["T1"]).alerts) == ["gps_gap"]


def test_a_stop_hidden_in_a_long_silence_is_unverified_not_missed() -> None:
    """A skipped stop inside a 10 min silence (no lift counter) cannot be judged: unverified, no alert."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=4, events=[SkipStop("T1", 4)])
    a = DAY_START_UTC + ROUTE.stops[3].departure_s + 5.0
    sim = drop_fixes(sim, "T1", a, a + 700.0)
    track = dataclasses.replace(sim.tracks["T1"], bin_lifts=None)
    checker = VehicleChecker.for_route(
        ROUTE_W,
        day_start_utc=DAY_START_UTC,
        rules=RULES,
    )
    result = check_track(checker, track)
    assert "missed_stop" not in kinds(result.alerts)
    assert [v.status for v in result.stops][3] == "unverified"


def test_without_lift_counter_a_long_enough_dwell_serves_and_a_red_light_does_not() -> None:
    """No bin-lift sensor: a 90 s service serves its stop; a 25 s red light by a skipped stop does not."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=5,
                        events=[SkipStop("T1", 4), Pause("T1", 4, 0.98, 25.0)])  # fmt: skip
    track = dataclasses.replace(sim.tracks["T1"], bin_lifts=None)
    checker = VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES)
    result = check_track(checker, track)
    assert kinds(result.alerts) == ["missed_stop"]
    assert result.alerts[0].stop_id == ROUTE.stops[4].ref_id


def test_co_located_stops_served_in_one_dwell_are_told_apart_by_lifts() -> None:
    """Two stops 30 m apart served back to back (no moving fix between): both served; one lift, one served."""
    stops = list(ROUTE_W.stops)
    near = to_latlon(1030.0, 0.0)
    leg = tuple(to_latlon(x, y) for x, y in road_xy(1000.0, 1030.0, step=10.0))
    arrive = stops[2].departure_s + 3
    stops[3] = dataclasses.replace(
        stops[3], lat=near[0], lon=near[1], leg_coords=leg, arrival_s=arrive, start_s=arrive
    )
    stops[3] = dataclasses.replace(stops[3], departure_s=stops[3].start_s + 90)
    shift = stops[3].departure_s - ROUTE_W.stops[3].departure_s
    later = [dataclasses.replace(s, arrival_s=s.arrival_s + shift, start_s=s.start_s + shift,
                                 departure_s=s.departure_s + shift) for s in stops[4:]]  # fmt: skip
    route = dataclasses.replace(ROUTE_W, stops=(*stops[:4], *later))
    for skip, expect in (([], []), ([SkipStop("T1", 3)], [ROUTE.stops[3].ref_id])):
        sim = simulate_plan(
            make_plan(route), day_start_utc=DAY_START_UTC, interval_s=5.0, seed=6, events=skip
        )
        checker = VehicleChecker.for_route(route, day_start_utc=DAY_START_UTC, rules=RULES)
        alerts = check_track(checker, sim.tracks["T1"]).alerts
        assert [a.stop_id for a in alerts if a.type == AlertType.MISSED_STOP] == expect


def test_facility_yard_queue_is_no_detour() -> None:
    """Waiting 20 min 100 m off the road inside the yard radius of the route's ends is no detour."""
    x0 = 0.0
    xy = [(float(x), 0.0) for x in range(1000, -1, -20)] + [(x0, 100.0)] * 240 + [(x0, 0.0)] * 5
    ll = np.array([to_latlon(x, y) for x, y in xy])
    ts = DAY_START_UTC + 30000.0 + 5.0 * np.arange(len(xy))
    checker = VehicleChecker.for_route(ROUTE_W, rules=RULES)
    assert check_track(checker, TrackColumns.from_arrays(ts, ll[:, 0], ll[:, 1])).alerts == []


def test_streaming_in_random_chunks_equals_batch() -> None:
    """Pushing the day in random pieces gives exactly the batch alerts (same keys, measures, evidence)."""
    events = [DetourSpec("T1", 3, bump_via(1000.0, 1500.0, 1100.0, 1400.0, height=400.0))]
    events += [SkipStop("T1", 4), Pause("T1", LATE_AT, 0.5, 1800.0), Speeding("T1", 7, 1.6)]
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=2.0, seed=7, events=events)
    t = sim.tracks["T1"].ts_utc
    n = len(t)
    sim = drop_fixes(sim, "T1", float(t[n - 180]), float(t[n - 180]) + 330.0)  # driving home
    sim = displace_fixes(sim, "T1", [float(t[100]), float(t[n // 2])], 2000.0, 0.0)
    track = sim.tracks["T1"]
    batch = check_track(VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES), track)
    assert len(batch.alerts) == 5
    rng = np.random.default_rng(0)
    for _ in range(3):
        checker = VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES)
        cuts = [0, *sorted(rng.integers(0, len(track), 40).tolist()), len(track)]
        streamed = []
        for a, b in itertools.pairwise(cuts):
            keep = np.zeros(len(track), dtype=bool)
            keep[a:b] = True
            streamed += checker.push_track(track.select(keep))
        streamed += checker.close()
        assert sorted(streamed, key=lambda a: a.key) == sorted(batch.alerts, key=lambda a: a.key)
        assert checker.stop_report() == batch.stops


def test_out_of_order_fixes_replay_to_the_batch_result() -> None:
    """Fixes pushed in shuffled chunks end with the batch's alerts; nothing is returned twice."""
    events = [SkipStop("T1", 4), Speeding("T1", 7, 1.6)]
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=8, events=events)
    track = sim.tracks["T1"]
    batch = check_track(VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES), track)
    checker = VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES)
    order = np.random.default_rng(1).permutation(len(track))
    returned = []
    for part in np.array_split(order, 7):
        keep = np.zeros(len(track), dtype=bool)
        keep[part] = True
        returned += checker.push_track(track.select(keep))
        returned += checker.push_track(track.select(keep))  # repeats are ignored
    returned += checker.close()
    assert sorted(checker.alerts, key=lambda a: a.key) == sorted(batch.alerts, key=lambda a: a.key)
    assert len({a.key for a in returned}) == len(returned)
    assert {a.key for a in batch.alerts} <= {a.key for a in returned}


def test_alert_evidence_is_geojson_with_the_track_piece() -> None:
    """Every alert carries a FeatureCollection of [lon, lat] positions near its place and type."""
    events = [DetourSpec("T1", 3, bump_via(1000.0, 1500.0, 1100.0, 1400.0, height=400.0))]
    events += [SkipStop("T1", 4), Pause("T1", LATE_AT, 0.5, 1800.0), Speeding("T1", 7, 1.6)]
    alerts, _, _ = run(events, seed=9)
    assert len(alerts) == 4
    for a in alerts:
        ev = a.evidence
        assert ev["type"] == "FeatureCollection"
        coords = []
        for f in ev["features"]:
            assert f["type"] == "Feature"
            g = f["geometry"]
            coords += [g["coordinates"]] if g["type"] == "Point" else g["coordinates"]
        lon, lat = np.array(coords).T
        assert np.all(np.abs(lat - ORIGIN[0]) < 0.1)
        assert np.all(np.abs(lon - ORIGIN[1]) < 0.1)
        assert any(f["properties"].get("alert_type") == a.type.value for f in ev["features"])


def test_sweeping_coverage_shortfall() -> None:
    """A sweeper covering the plan gets no alert; brooms up on 40 % of it gives one coverage_shortfall."""
    path = [to_latlon(x, 0.0) for x in range(0, 2001, 50)]
    sweep = SweepPlan.from_paths([path], *ORIGIN)
    n = 1000
    x = np.linspace(-10.0, 2010.0, n)
    rng = np.random.default_rng(0)
    ll = np.array([to_latlon(xi, float(rng.normal(0, 2.0))) for xi in x])
    ts = DAY_START_UTC + 30000.0 + np.arange(n) * (x[1] - x[0]) / 2.0
    speed = np.full(n, 2.0)

    def check(brooms: np.ndarray) -> list[Any]:
        checker = VehicleChecker("S1", rules=RULES, sweep=sweep)
        track = TrackColumns.from_arrays(ts, ll[:, 0], ll[:, 1], speed_mps=speed, brooms_down=brooms)
        result = check_track(checker, track)
        assert result.coverage is not None
        return result.alerts

    assert check(np.ones(n)) == []
    brooms = np.ones(n)
    brooms[300:700] = 0.0
    (alert,) = check(brooms)
    assert alert.type == AlertType.COVERAGE_SHORTFALL
    assert alert.measured["coverage"] == pytest.approx(0.6, abs=0.03)
    assert alert.evidence["features"][0]["geometry"]["type"] == "MultiLineString"


def test_idempotent_keys_across_reruns() -> None:
    """Checking the same fixes twice gives alerts with the same keys (the store adds nothing)."""
    events = [SkipStop("T1", 4), Speeding("T1", 7, 1.6)]
    first, _, _ = run(events, seed=10)
    second, _, _ = run(events, seed=10)
    assert [a.key for a in first] == [a.key for a in second]
    assert len({a.key for a in first}) == len(first)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"exit_m": 60.0}, "exit_m"),
        ({"min_fixes": 0}, "min_fixes"),
        ({"stop_radius_m": -1.0}, "stop_radius_m"),
        ({"min_coverage": 1.5}, "min_coverage"),
        ({"checks": ["speeding", "bogus"]}, "checks"),
        ({"alert_early": "yes"}, "alert_early"),
        ({"jump_max_speed_mps": 0.0}, "jump_max_speed_mps"),
    ],
)
def test_rules_reject_bad_thresholds(kwargs: dict[str, Any], field: str) -> None:
    """CheckRules validates every threshold and names the field."""
    with pytest.raises(ValidationError, match=field):
        CheckRules(**kwargs)


def test_track_columns_reject_malformed_input() -> None:
    """Unequal lengths, NaN positions or out-of-range coordinates raise ValidationError."""
    with pytest.raises(ValidationError, match="lat"):
        TrackColumns.from_arrays([1.0, 2.0], [39.0], [-76.0, -76.0])
    with pytest.raises(ValidationError, match="lon"):
        TrackColumns.from_arrays([1.0], [39.0], [math.nan])
    with pytest.raises(ValidationError, match="lat"):
        TrackColumns.from_arrays([1.0], [99.0], [0.0])
    checker = VehicleChecker("T9")
    checker.close()
    with pytest.raises(ValidationError, match="closed"):
        checker.push([1.0], [39.0], [-76.0])


def test_stops_are_matched_where_the_truck_stands_not_at_the_kerbside_bin() -> None:
    """Bins 35 m off the road (the leg still ends on the road): every stop is served, none missed."""
    stops = [
        dataclasses.replace(s, lat=s.lat + 35.0 / 111_195.0) if s.kind.value == "collection" else s
        for s in ROUTE_W.stops
    ]
    route = dataclasses.replace(ROUTE_W, stops=tuple(stops))
    sim = simulate_plan(make_plan(route), day_start_utc=DAY_START_UTC, interval_s=5.0, seed=11)
    checker = VehicleChecker.for_route(route, day_start_utc=DAY_START_UTC, rules=RULES)
    result = check_track(checker, sim.tracks["T1"])
    assert result.alerts == []
    assert [v.status for v in result.stops] == ["served"] * len(STOPS)


def test_lifts_in_a_long_silence_go_to_the_next_stops_in_plan_order() -> None:
    """Three stops served inside a 7 min silence are unverified (lifted, unseen), not missed."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=12)
    a = next(v["departure_utc"] for v in sim.visits if v["stop_index"] == 2) + 20.0
    b = next(v["arrival_utc"] for v in sim.visits if v["stop_index"] == 6) - 20.0
    sim = drop_fixes(sim, "T1", a, b)
    checker = VehicleChecker.for_route(ROUTE_W, day_start_utc=DAY_START_UTC, rules=RULES)
    result = check_track(checker, sim.tracks["T1"])
    assert b - a > 400.0
    assert [v.status for v in result.stops] == ["served"] * 2 + ["unverified"] * 3 + ["served"] * 3
    assert kinds(result.alerts) == ["gps_gap"]
