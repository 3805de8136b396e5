"""End to end: simulate a plan with GPS noise, build the corridor, check for detours.

The route (tests/telematics/synthetic.py) runs 5 km east on a straight-ish road
with a collection every 500 m, then back to the depot on the same road.
"""

from __future__ import annotations

import pytest

from core.domain import Alert, AlertType, Route
from telematics.corridor import RouteCorridor, check_detours
from telematics.simulate import DetourSpec, SimulatedDay, simulate_plan
from tests.telematics.synthetic import DAY_START_UTC, ORIGIN, bump_via, make_plan, make_route

STOPS = [500.0 * k for k in range(1, 11)]
ROUTE = make_route("T1", STOPS)
# The leg to stops[3] (1000 -> 1500 m) replaced by a 400 m high, 300 m wide box.
DETOUR = DetourSpec("T1", 3, bump_via(1000.0, 1500.0, 1100.0, 1400.0, height=400.0))


def detect(sim: SimulatedDay, planned: Route) -> list[Alert]:
    """Check the simulated track of the planned route's vehicle against that route."""
    corridor = RouteCorridor.from_route(planned, *ORIGIN)
    tr = sim.tracks[planned.vehicle_id]
    return check_detours(corridor, tr.ts_utc, tr.lat, tr.lon, tr.accuracy_m, vehicle_id=planned.vehicle_id)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_injected_detour_raises_exactly_one_alert_inside_its_label(seed: int) -> None:
    """One DETOUR alert, inside the labelled interval, about 400 m out and about 1.1 km long."""
    sim = simulate_plan(make_plan(ROUTE), day_start_utc=DAY_START_UTC, seed=seed, detours=[DETOUR])
    (label,) = sim.labels
    alerts = detect(sim, ROUTE)
    assert len(alerts) == 1
    (a,) = alerts
    assert a.type == AlertType.DETOUR
    assert label["start_utc"] <= a.start_utc < a.end_utc <= label["end_utc"]
    assert 360.0 < a.measured["max_distance_m"] < 450.0
    # Off route (> 40 m) on about 360 + 300 + 360 m of the box; noise adds a little.
    assert 900.0 < a.measured["off_route_m"] < 1400.0
    assert a.measured["duration_s"] >= 60.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_detour_with_15_m_noise_raises_nothing(seed: int) -> None:
    """The planned route driven with 15 m GPS noise, a fix per second, raises no alert."""
    sim = simulate_plan(
        make_plan(ROUTE), day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=(15.0, 15.0), seed=seed
    )
    assert len(sim.tracks["T1"]) > 2000
    assert detect(sim, ROUTE) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parallel_street_30_m_away_raises_nothing(seed: int) -> None:
    """Driving a parallel street 30 m north of the planned one, with 15 m GPS noise, is no detour."""
    parallel = make_route("T1", STOPS, y_shift=30.0)
    sim = simulate_plan(
        make_plan(parallel), day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=(15.0, 15.0), seed=seed
    )
    assert detect(sim, ROUTE) == []


def test_street_80_m_away_is_one_long_detour() -> None:
    """Control for the test above: a street 80 m away is off-route from yard to yard, one alert."""
    far = make_route("T1", STOPS, y_shift=80.0)
    sim = simulate_plan(make_plan(far), day_start_utc=DAY_START_UTC, interval_s=1.0, noise_m=(5.0, 5.0))
    (a,) = detect(sim, ROUTE)
    track = sim.tracks["T1"]
    assert a.end_utc - a.start_utc > 0.9 * (track.ts_utc[-1] - track.ts_utc[0])
    assert a.measured["max_distance_m"] == pytest.approx(80.0, abs=20.0)
