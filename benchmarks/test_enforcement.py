"""pytest-benchmark of the enforcement checks on a day of 500 haulers (``make bench``; not in ``testpaths``).

A synthetic city of 20 x 20 km (local metres around Baltimore): 60 construction
sites, 12 spoil fields, a depot, 30 restricted zones of 300 m. Each of 500
haulers shuttles all day between its construction site and its spoil field
along its permit's corridor (a two-segment polyline with a bend), loading 10
min and tipping 5 min, one fix every 10 s (8 640 fixes each, 4.32 M in all),
5 m GPS noise, an on-board scale and a tipping sensor, a delivery ticket per
trip. Every 25th hauler has no permit, every 10th dumps once by the roadside,
every 15th drives a loop off its corridor, permits allow 06:00-22:00 (the
night trips are off hours). Built with numpy in a few seconds, seeded.

Target: the whole day policed (:func:`telematics.enforcement.police_enforcement`)
in under 10 s on 2 cores. Figures on a shared machine are noisy.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numba
import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from core.domain import Alert, Stream
from core.enforcement import DailyWindow, Permit, RestrictedZone, Site, SiteKind, WeighTicket
from telematics import kernels
from telematics.enforcement import EnforcementTrack, police_enforcement

N_HAULERS = 500
INTERVAL_S = 10.0
LAT0, LON0 = 39.29, -76.61
DAY = date(2026, 6, 1)
TZ = "America/New_York"


def _ll(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return kernels.unproject_equirectangular(np.ascontiguousarray(x), np.ascontiguousarray(y), LAT0, LON0)


def _square(x: float, y: float, half: float) -> tuple[tuple[float, float], ...]:
    xs = np.array([x - half, x + half, x + half, x - half])
    ys = np.array([y - half, y - half, y + half, y + half])
    la, lo = _ll(xs, ys)
    return tuple(zip(la.tolist(), lo.tolist(), strict=True))


def synthetic_day(seed: int = 0) -> dict[str, Any]:
    """The benchmark's records: tracks, sites, zones, permits, tickets (see the module docstring)."""
    rng = np.random.default_rng(seed)
    origins_xy = rng.uniform(-10_000, 10_000, (60, 2))
    fields_xy = rng.uniform(-10_000, 10_000, (12, 2))
    sites: list[Site] = [Site("DEPOT", SiteKind.DEPOT, lat=LAT0, lon=LON0, radius_m=150.0)]
    for k, (x, y) in enumerate(origins_xy):
        la, lo = _ll(np.array([x]), np.array([y]))
        sites.append(
            Site(f"C{k}", SiteKind.CONSTRUCTION_SITE, lat=float(la[0]), lon=float(lo[0]), radius_m=80.0)
        )
    for k, (x, y) in enumerate(fields_xy):
        sites.append(
            Site(f"S{k}", SiteKind.SPOIL_FIELD, polygon=_square(x, y, 120.0), approved_for_disposal=True)
        )
    day_hours = (DailyWindow(7 * 3600, 19 * 3600),)
    zones = [
        RestrictedZone(f"Z{k}", f"zone {k}", _square(float(zx), float(zy), 150.0), day_hours)
        for k, (zx, zy) in enumerate(rng.uniform(-9_000, 9_000, (30, 2)))
    ]
    midnight = datetime(2026, 6, 1, 4, 0, tzinfo=UTC).timestamp()  # local midnight (EDT)
    t = midnight + INTERVAL_S * np.arange(int(86_400 / INTERVAL_S))
    tracks: dict[str, EnforcementTrack] = {}
    permits: list[Permit] = []
    tickets: list[WeighTicket] = []
    for h in range(N_HAULERS):
        vid = f"H{h:03d}"
        o = int(rng.integers(60))
        f = int(rng.integers(12))
        a, b = origins_xy[o], fields_xy[f]
        bend = (a + b) / 2 + rng.uniform(-800, 800, 2)
        line = np.array([a, bend, b])
        seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
        length = float(seg.sum())
        speed = float(rng.uniform(8.0, 12.0))
        drive = length / speed
        # one cycle: load 600 s, drive, tip 300 s, drive back; u = position along the line (0..1)
        key = np.cumsum([0.0, 600.0, drive, 300.0, drive])
        cycle = key[-1]
        phase = (t - midnight + rng.uniform(0, cycle)) % cycle
        u = np.interp(phase, key, [0.0, 0.0, 1.0, 1.0, 0.0])
        dist = u * length
        x = np.interp(dist, np.r_[0.0, np.cumsum(seg)], line[:, 0])
        y = np.interp(dist, np.r_[0.0, np.cumsum(seg)], line[:, 1])
        loaded = (phase >= key[1]) & (phase < key[3] - 150.0)
        load = np.where(loaded, 15_000.0, 0.0)
        tipping = ((phase >= key[2] + 100.0) & (phase < key[2] + 200.0)).astype(np.float64)
        moving = ((phase > key[1]) & (phase < key[2])) | (phase > key[3])
        spd = np.where(moving, speed, 0.0)
        if h % 15 == 0:  # a loop 400 m off the corridor mid-morning
            off = (t - midnight > 36_000) & (t - midnight < 36_600)
            x = x + np.where(off, 400.0, 0.0)
        if h % 10 == 0:  # a roadside dump at 14:00 on the way out, loaded
            k = int(np.argmin(np.abs(t - midnight - 50_400)))
            k = k + int(np.argmax(moving[k:] & loaded[k:]))
            stop = slice(k, k + 30)
            x[stop] = x[k]
            y[stop] = y[k]
            spd[stop] = 0.0
            tipping[k + 10 : k + 20] = 1.0
            load[k + 20 :][loaded[k + 20 :]] = 0.0
        x = x + rng.normal(0.0, 5.0, t.shape[0])
        y = y + rng.normal(0.0, 5.0, t.shape[0])
        lat, lon = _ll(x, y)
        tracks[vid] = EnforcementTrack.from_arrays(
            t, lat, lon, speed_mps=spd, load_kg=load, body_tipping=tipping, record=vid
        )
        if h % 25 != 0:
            la, lo = _ll(line[:, 0].copy(), line[:, 1].copy())
            corridor = (tuple(zip(la.tolist(), lo.tolist(), strict=True)),)
            permits.append(
                Permit(
                    f"P{h}",
                    vid,
                    DAY,
                    DAY,
                    (f"C{o}",),
                    (f"S{f}",),
                    (DailyWindow(6 * 3600, 22 * 3600),),
                    corridor,
                )
            )
        ends = np.flatnonzero(np.diff(tipping) < 0)
        for n, i in enumerate(ends.tolist()):
            tickets.append(
                WeighTicket(
                    f"T{h}-{n}", vid, f"S{f}", float(t[i]), 29_000.0, 14_000.0, 15_000.0, Stream.SPOIL
                )
            )
    return {"tracks": tracks, "sites": sites, "zones": zones, "permits": permits, "tickets": tickets}


@pytest.fixture(scope="module")
def fleet_day() -> dict[str, Any]:
    return synthetic_day()


def _police(records: dict[str, Any]) -> list[Alert]:
    return police_enforcement(
        records["tracks"],
        sites=records["sites"],
        zones=records["zones"],
        permits=records["permits"],
        tickets=records["tickets"],
        day=DAY,
        timezone=TZ,
    )


def test_police_500_haulers(benchmark: BenchmarkFixture, fleet_day: dict[str, Any]) -> None:
    """A day of 500 haulers (4.32 M fixes) policed in under 10 s; the injected dumps are all found."""
    tracks = fleet_day["tracks"]
    assert isinstance(tracks, dict)
    fixes = sum(len(tr) for tr in tracks.values())
    small = dict(fleet_day, tracks={k: tracks[k] for k in list(tracks)[:2]})
    _police(small)  # compile outside the timing
    alerts = benchmark.pedantic(_police, args=(fleet_day,), rounds=3, iterations=1, warmup_rounds=0)
    dumps = {a.vehicle_id for a in alerts if a.type.value == "illegal_dump"}
    assert {f"H{h:03d}" for h in range(0, N_HAULERS, 10)} <= dumps
    assert benchmark.stats is not None
    best = benchmark.stats.stats.min
    benchmark.extra_info |= {
        "fixes": fixes,
        "haulers": len(tracks),
        "alerts": len(alerts),
        "threads": numba.get_num_threads(),
        "best_s": round(best, 3),
        "m_fixes_per_s": round(fixes / best / 1e6, 2),
    }
    assert best < 10.0
