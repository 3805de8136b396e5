"""pytest-benchmark throughput of the telematics kernels (``make bench``; not in ``testpaths``).

* Corridor check: distance from each GPS fix to a planned route, capped at the
  reach (:func:`telematics.kernels.corridor_distance`, one grid cell per fix,
  ``prange`` over the fixes). Target: 10 M fixes/s. Also the serial pass with
  segment ids that the streaming checker runs per chunk
  (:func:`telematics.kernels.corridor_nearest`). The route is a 60 km collection
  tour on a 100 m street grid that drives many streets twice; the fixes are a
  1 Hz day along it with 5-15 m noise, 5 % of them 60-600 m off route.
* Stop detection: the dwell pass over a day of speeds
  (:func:`telematics.kernels.dwell_step`, with its validity mask and outputs, as
  the checker runs it) and the bare pass (:func:`telematics.kernels.count_dwells`).
  Target: 200 M fixes/s.

Inputs are fixed (seeded) and every round does the same work; throughput in
M fixes/s goes to ``extra_info``. Threads: ``NUMBA_NUM_THREADS`` (default: all cores).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from telematics import kernels
from telematics.corridor import RouteCorridor

N_CORRIDOR = 2_000_000
N_STOPS = 20_000_000


def grid_tour(seed: int = 0, blocks: int = 600) -> np.ndarray:
    """A random walk over a 100 m street grid, vertices every 25 m, as (x, y) metres."""
    rng = np.random.default_rng(seed)
    pts = [(0.0, 0.0)]
    for _ in range(blocks):
        dx, dy = [(1, 0), (-1, 0), (0, 1), (0, -1)][int(rng.integers(4))]
        for _ in range(4):
            x, y = pts[-1]
            pts.append((x + 25.0 * dx, y + 25.0 * dy))
    return np.array(pts)


@pytest.fixture(scope="module")
def corridor_case() -> tuple[RouteCorridor, np.ndarray, np.ndarray]:
    """The tour's corridor and a day of noisy fixes along it, in time order (metres)."""
    xy = grid_tour()
    lat0, lon0 = 39.29, -76.61
    lat, lon = kernels.unproject_equirectangular(xy[:, 0].copy(), xy[:, 1].copy(), lat0, lon0)
    corridor = RouteCorridor.from_coords(np.column_stack((lat, lon)), lat0, lon0)
    rng = np.random.default_rng(1)
    u = np.sort(rng.uniform(0, xy.shape[0] - 1, N_CORRIDOR))
    s = u.astype(np.int64)
    f = u - s
    sigma = rng.uniform(5.0, 15.0)
    px = xy[s, 0] + f * (xy[s + 1, 0] - xy[s, 0]) + rng.normal(0.0, sigma, N_CORRIDOR)
    py = xy[s, 1] + f * (xy[s + 1, 1] - xy[s, 1]) + rng.normal(0.0, sigma, N_CORRIDOR)
    off = rng.random(N_CORRIDOR) < 0.05
    py[off] += rng.uniform(60.0, 600.0, int(off.sum()))
    return corridor, px, py


def test_corridor_check_throughput(
    benchmark: BenchmarkFixture, corridor_case: tuple[RouteCorridor, np.ndarray, np.ndarray]
) -> None:
    """The capped corridor distance of every fix equals the exact ring search (checked on a sample)."""
    corridor, px, py = corridor_case
    corridor.fast_distance_xy(px[:100], py[:100])  # compile outside the timing
    dist = benchmark.pedantic(
        corridor.fast_distance_xy, args=(px, py), rounds=5, iterations=1, warmup_rounds=1
    )
    sample = np.random.default_rng(2).integers(0, px.shape[0], 2000)
    exact = corridor.distance_xy(px[sample], py[sample], max_search_m=corridor.reach_m)
    np.testing.assert_allclose(dist[sample], exact, rtol=1e-12, atol=1e-9)
    mps = px.shape[0] / benchmark.stats.stats.min / 1e6
    benchmark.extra_info |= {
        "fixes": int(px.shape[0]),
        "segments": corridor.n_segments,
        "threads": numba.get_num_threads(),
        "M_fixes_per_s_best": round(mps, 2),
        "M_fixes_per_s_mean": round(px.shape[0] / benchmark.stats.stats.mean / 1e6, 2),
    }


def test_streaming_nearest_throughput(
    benchmark: BenchmarkFixture, corridor_case: tuple[RouteCorridor, np.ndarray, np.ndarray]
) -> None:
    """The serial nearest-segment pass the streaming checker runs per chunk (distance, segment, t)."""
    corridor, px, py = corridor_case
    corridor.fast_nearest_xy(px[:100], py[:100])
    dist, _, _ = benchmark.pedantic(
        corridor.fast_nearest_xy, args=(px, py), rounds=5, iterations=1, warmup_rounds=1
    )
    np.testing.assert_array_equal(dist, corridor.fast_distance_xy(px, py))
    benchmark.extra_info |= {"M_fixes_per_s_best": round(px.shape[0] / benchmark.stats.stats.min / 1e6, 2)}


@pytest.fixture(scope="module")
def speeds() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A day pattern of stop-and-go speeds at 1 Hz, repeated: (t_s, speed_mps, valid)."""
    rng = np.random.default_rng(3)
    pattern = []
    while sum(len(p) for p in pattern) < 100_000:
        pattern.append(np.abs(rng.normal(9.0, 2.0, int(rng.integers(20, 200)))))  # driving
        pattern.append(np.abs(rng.normal(0.0, 0.3, int(rng.integers(5, 150)))))  # stopped
    day = np.concatenate(pattern)
    speed = np.resize(day, N_STOPS)
    t = np.arange(N_STOPS, dtype=np.float64)
    valid = rng.random(N_STOPS) > 0.01
    return t, speed, valid


def test_stop_detection_throughput(
    benchmark: BenchmarkFixture, speeds: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    """The dwell pass as the checker runs it (mask, state, outputs) finds the same dwells as the bare pass."""
    t, speed, valid = speeds
    state = np.zeros(kernels.EPISODE_STATE_SIZE)

    def run() -> int:
        state[:] = 0.0
        s, _, _ = kernels.dwell_step(state, t, speed, valid, 0, 1.0, 20.0, 60.0, True)
        return int(s.shape[0])

    run()
    found = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert found > 10_000
    benchmark.extra_info |= {
        "fixes": int(t.shape[0]),
        "dwells": found,
        "M_fixes_per_s_best": round(t.shape[0] / benchmark.stats.stats.min / 1e6, 1),
    }


def test_bare_stop_pass_throughput(
    benchmark: BenchmarkFixture, speeds: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    """The bare serial pass (no mask, no outputs) counts the dwells of an all-valid day."""
    t, speed, _ = speeds
    kernels.count_dwells(t[:100], speed[:100], 1.0, 20.0, 60.0)
    found = benchmark.pedantic(
        kernels.count_dwells, args=(t, speed, 1.0, 20.0, 60.0), rounds=5, iterations=1, warmup_rounds=1
    )
    assert found > 10_000
    benchmark.extra_info |= {"M_fixes_per_s_best": round(t.shape[0] / benchmark.stats.stats.min / 1e6, 1)}
