"""Streaming state-machine kernels against their naive twins, in one chunk and in random chunks.

Every ``*_step`` kernel must give the same episodes whether a day is fed at once
or split at arbitrary points with the state carried over: that is the property
that makes streaming and batch checking agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import numpy.testing as npt
import pytest
from numpy.typing import NDArray

from telematics import kernels
from tests.telematics import naive

F = np.float64
Arr = NDArray[np.float64]
Bool = NDArray[np.bool_]


def arr(values: Sequence[float]) -> Arr:
    return np.asarray(values, dtype=F)


def splits(rng: np.random.Generator, n: int) -> list[int]:
    """Chunk boundaries 0 = b0 < ... < bk = n, including empty chunks now and then."""
    cuts = sorted(rng.integers(0, n + 1, int(rng.integers(0, 8))).tolist())
    return [0, *cuts, n]


def run_chunks(
    step: Callable[..., tuple[NDArray[np.int64], ...]],
    state_size: int,
    columns: Sequence[np.ndarray],
    bounds: Sequence[int],
    *params: object,
    final: bool | None = True,
) -> list[tuple[int, ...]]:
    """Feed ``columns`` to a step kernel chunk by chunk (state carried); episodes as tuples."""
    state = np.zeros(state_size)
    found: list[tuple[int, ...]] = []
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        chunk = [np.ascontiguousarray(c[a:b]) for c in columns]
        extra = () if final is None else (bool(final) and k == len(bounds) - 2,)
        out = step(state, *chunk, a, *params, *extra)
        found += list(zip(*(o.tolist() for o in out), strict=True))
    return found


def random_track(rng: np.random.Generator, n: int) -> tuple[Arr, Arr, Arr, Arr, Bool]:
    """Times with repeats and gaps, a wandering position, speeds around thresholds, a validity mask."""
    t = np.cumsum(rng.choice([0.0, 1.0, 5.0, 30.0, 400.0], n, p=[0.05, 0.5, 0.3, 0.1, 0.05]))
    x = np.cumsum(rng.normal(0.0, 20.0, n))
    y = np.cumsum(rng.normal(0.0, 20.0, n))
    v = np.where(rng.random(n) < 0.4, rng.uniform(0.0, 1.5, n), rng.uniform(0.5, 25.0, n))
    v[rng.random(n) < 0.05] = np.nan
    valid = rng.random(n) > 0.15
    return t, x, y, v, valid


# --------------------------------------------------------------------------- detours


def naive_detour_closes(
    t: Sequence[float],
    d: Sequence[float],
    valid: Sequence[bool],
    exit_m: float,
    ends: Sequence[int],
    rejoin_s: float,
) -> list[int]:
    """The valid on-route fix that ended each episode, -1 when the data ended first."""
    out = []
    for e in ends:
        nxt = [i for i in range(e + 1, len(t)) if valid[i] and d[i] <= exit_m and t[i] - t[e] >= rejoin_s]
        out.append(nxt[0] if nxt else -1)
    return out


@pytest.mark.parametrize("seed", range(10))
def test_detour_step_in_chunks_matches_naive(seed: int) -> None:
    """detour_step over random chunks equals the naive hysteresis machine with rejoin time and closing fix."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    t = np.cumsum(rng.choice([0.0, 1.0, 5.0, 30.0], n))
    d = np.where(rng.random(n) < 0.5, rng.uniform(0, 45, n), rng.uniform(35, 200, n))
    valid = rng.random(n) > 0.2
    params = (
        50.0,
        float(rng.choice([40.0, 50.0])),
        int(rng.integers(1, 5)),
        float(rng.choice([0.0, 5.0, 30.0])),
        float(rng.choice([0.0, 10.0, 40.0])),
    )
    got = run_chunks(kernels.detour_step, kernels.DETOUR_STATE_SIZE, (t, d, valid), splits(rng, n), *params)
    s, e = naive.detour_episodes(t.tolist(), d.tolist(), valid.tolist(), *params)
    closes = naive_detour_closes(t.tolist(), d.tolist(), valid.tolist(), params[1], e, params[4])
    assert got == list(zip(s, e, closes, strict=True))


def test_detour_rejoin_time_keeps_a_crossing_inside_one_detour() -> None:
    """Crossing the planned road for 10 s mid-detour splits it without rejoin time, not with 30 s."""
    t = arr(np.arange(0, 200, 10))
    d = arr([0, 90, 90, 90, 90, 90, 90, 5, 90, 90, 90, 90, 90, 90, 0, 0, 0, 0, 0, 0])
    valid = np.ones(20, dtype=np.bool_)
    params = (50.0, 40.0, 3, 30.0)
    assert run_chunks(kernels.detour_step, 6, (t, d, valid), [0, 20], *params, 0.0) == [
        (1, 6, 7),
        (8, 13, 14),
    ]
    assert run_chunks(kernels.detour_step, 6, (t, d, valid), [0, 20], *params, 30.0) == [(1, 13, 16)]


def test_detour_step_without_final_keeps_the_episode_open() -> None:
    """An episode still open at a chunk end is neither reported nor lost; a later chunk closes it."""
    state = np.zeros(kernels.DETOUR_STATE_SIZE)
    t, d = arr([0, 10, 20, 30]), arr([0, 99, 99, 99])
    valid = np.ones(4, dtype=np.bool_)
    s, _, _ = kernels.detour_step(state, t, d, valid, 0, 50.0, 40.0, 3, 10.0, 0.0, False)
    assert s.tolist() == []
    s, e, c = kernels.detour_step(
        state, arr([40, 50]), arr([99, 0]), valid[:2], 4, 50.0, 40.0, 3, 10.0, 0.0, False
    )
    assert (s.tolist(), e.tolist(), c.tolist()) == ([1], [4], [5])


# --------------------------------------------------------------------------- dwells


@pytest.mark.parametrize("seed", range(10))
def test_dwell_step_in_chunks_matches_naive(seed: int) -> None:
    """dwell_step over random chunks equals the naive run finder (NaN is moving; long silences split)."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(0, 400))
    t, _, _, v, valid = random_track(rng, n)
    params = (
        float(rng.choice([0.5, 1.0])),
        float(rng.choice([0.0, 10.0, 60.0])),
        float(rng.choice([20.0, 1e9])),
    )
    got = run_chunks(kernels.dwell_step, kernels.EPISODE_STATE_SIZE, (t, v, valid), splits(rng, n), *params)
    assert got == naive.dwells(t.tolist(), v.tolist(), valid.tolist(), *params)
    every = np.ones(n, dtype=np.bool_)
    nan_free = np.nan_to_num(v, nan=99.0)
    assert kernels.count_dwells(t, nan_free, *params) == len(
        naive.dwells(t.tolist(), nan_free.tolist(), every.tolist(), *params)
    )


def test_dwell_threshold_and_duration_are_inclusive() -> None:
    """Speed equal to stop_mps is a stop; a dwell exactly min_dwell_s long is kept, shorter is not."""
    t = arr([0, 5, 10, 15, 20, 25])
    v = arr([9, 1.0, 0.0, 1.0, 9, 9])
    valid = np.ones(6, dtype=np.bool_)
    got = run_chunks(kernels.dwell_step, 5, (t, v, valid), [0, 6], 1.0, 10.0, 60.0)
    assert got == [(1, 3, 4)]
    assert run_chunks(kernels.dwell_step, 5, (t, v, valid), [0, 6], 1.0, 10.5, 60.0) == []


def test_dwell_is_split_at_a_long_silence() -> None:
    """Two slow stretches 100 s apart with no fix between are two dwells when split_s is 60 s."""
    t = arr([0, 10, 20, 30, 130, 140, 150, 160])
    v = arr([0.0] * 8)
    valid = np.ones(8, dtype=np.bool_)
    assert run_chunks(kernels.dwell_step, 5, (t, v, valid), [0, 8], 1.0, 20.0, 60.0) == [
        (0, 3, 4),
        (4, 7, -1),
    ]
    assert run_chunks(kernels.dwell_step, 5, (t, v, valid), [0, 8], 1.0, 20.0, 1e9) == [(0, 7, -1)]


# --------------------------------------------------------------------------- speeding


@pytest.mark.parametrize("seed", range(10))
def test_speeding_step_in_chunks_matches_naive(seed: int) -> None:
    """speeding_step over random chunks equals the naive runs with tolerance, min duration and release."""
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(0, 400))
    t, _, _, v, valid = random_track(rng, n)
    limit = rng.choice([8.0, 13.9, np.nan], n, p=[0.45, 0.45, 0.1])
    params = (
        float(rng.choice([0.0, 0.1])),
        float(rng.choice([0.0, 1.0])),
        float(rng.choice([0.0, 10.0, 20.0])),
        float(rng.choice([0.0, 5.0, 30.0])),
    )
    cols = (t, v, limit, valid)
    got = run_chunks(kernels.speeding_step, kernels.EPISODE_STATE_SIZE, cols, splits(rng, n), *params)
    assert got == naive.speeding(t.tolist(), v.tolist(), limit.tolist(), valid.tolist(), *params)


def test_speeding_release_bridges_a_short_dip() -> None:
    """One slower fix inside a speeding run splits it without release time, not with 10 s of it."""
    t = arr(np.arange(0, 60, 5))
    v = arr([10, 20, 20, 20, 12, 20, 20, 20, 10, 10, 10, 10])
    limit = np.full(12, 13.9)
    valid = np.ones(12, dtype=np.bool_)
    cols = (t, v, limit, valid)
    assert run_chunks(kernels.speeding_step, 5, cols, [0, 12], 0.1, 1.0, 10.0, 0.0) == [(1, 3, 4), (5, 7, 8)]
    assert run_chunks(kernels.speeding_step, 5, cols, [0, 12], 0.1, 1.0, 10.0, 10.0) == [(1, 7, 9)]


# --------------------------------------------------------------------------- gaps


@pytest.mark.parametrize("seed", range(10))
def test_gap_step_in_chunks_matches_naive(seed: int) -> None:
    """gap_step over random chunks equals the naive pairwise rule (moving at an end, far apart, work done)."""
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(0, 400))
    t, x, y, v, valid = random_track(rng, n)
    work = np.cumsum(rng.random(n) < 0.05).astype(F)
    work[rng.random(n) < 0.1] = np.nan
    params = (float(rng.choice([60.0, 300.0])), 2.0, float(rng.choice([50.0, 300.0])))
    cols = (t, x, y, v, work, valid)
    got = run_chunks(kernels.gap_step, kernels.GAP_STATE_SIZE, cols, splits(rng, n), *params, final=None)
    assert got == naive.gaps(*(c.tolist() for c in cols), *params)


def test_parked_gap_is_silent_moving_far_or_working_gap_is_not() -> None:
    """A 20 min silence parked is no gap; moving before it, reappearing 1 km away, or lifting bins is."""
    t = arr([0, 5, 1205, 1210])
    valid = np.ones(4, dtype=np.bool_)

    def find(
        v: Sequence[float], x: Sequence[float], work: Sequence[float] = (3, 3, 3, 3)
    ) -> list[tuple[int, ...]]:
        cols = (t, arr(x), arr([0] * 4), arr(v), arr(work), valid)
        return run_chunks(
            kernels.gap_step, kernels.GAP_STATE_SIZE, cols, [0, 4], 300.0, 2.0, 300.0, final=None
        )

    assert find([0.1, 0.2, 0.0, 0.1], [0, 3, 10, 12]) == []
    assert find([0.1, 9.0, 0.0, 0.1], [0, 3, 10, 12]) == [(1, 2)]
    assert find([0.1, 0.2, 0.0, 0.1], [0, 3, 1000, 1002]) == [(1, 2)]
    assert find([0.1, 0.2, 0.0, 0.1], [0, 3, 10, 12], [3, 3, 5, 5]) == [(1, 2)]
    assert find([0.1, 0.2, 0.0, 0.1], [0, 3, 10, 12], [3, 3, np.nan, 5]) == []


# --------------------------------------------------------------------------- jumps


@pytest.mark.parametrize("seed", range(10))
def test_jump_step_in_chunks_matches_naive(seed: int) -> None:
    """jump_step over random chunks flags exactly the fixes the naive pending-list rule flags."""
    rng = np.random.default_rng(400 + seed)
    n = int(rng.integers(0, 400))
    t = np.cumsum(rng.choice([0.0, 1.0, 5.0, 60.0], n))
    x = np.cumsum(rng.normal(0.0, 10.0, n))
    y = np.cumsum(rng.normal(0.0, 10.0, n))
    jump = rng.random(n) < 0.1
    x[jump] += rng.choice([-1, 1], jump.sum()) * rng.uniform(200, 3000, jump.sum())
    params = (30.0, float(rng.choice([20.0, 100.0])), int(rng.integers(1, 4)))
    state = np.zeros(kernels.JUMP_STATE_SIZE)
    bounds = splits(rng, n)
    got = np.concatenate(
        [np.zeros(0, np.bool_)]
        + [kernels.jump_step(state, t[a:b], x[a:b], y[a:b], *params) for a, b in itertools.pairwise(bounds)]
    )
    assert got.tolist() == naive.jumps(t.tolist(), x.tolist(), y.tolist(), *params)


def test_single_spike_is_an_outlier_and_a_relocation_is_accepted() -> None:
    """A one-fix 2 km spike is flagged; a vehicle truly elsewhere is accepted after confirm_fixes fixes."""
    t = arr(np.arange(10) * 5.0)
    x = arr([0, 10, 2000, 30, 40, 5000, 5010, 5020, 5030, 5040])
    out = kernels.jump_step(np.zeros(8), t, x, np.zeros(10), 50.0, 50.0, 3)
    assert np.flatnonzero(out).tolist() == [2, 5, 6]


# --------------------------------------------------------------------------- implied speed


@pytest.mark.parametrize("seed", range(5))
def test_implied_speed_matches_naive_and_needs_no_later_fix(seed: int) -> None:
    """implied_speed equals the naive look-back average; a prefix of the track gives the same values."""
    rng = np.random.default_rng(500 + seed)
    n = int(rng.integers(1, 300))
    t, x, y, _, valid = random_track(rng, n)
    full = kernels.implied_speed(t, x, y, valid, 20.0, 0)
    npt.assert_allclose(
        full, naive.implied_speed(t.tolist(), x.tolist(), y.tolist(), valid.tolist(), 20.0), rtol=1e-12
    )
    m = int(rng.integers(1, n + 1))
    i0 = int(rng.integers(0, m))
    part = kernels.implied_speed(t[:m], x[:m], y[:m], valid[:m], 20.0, i0)
    npt.assert_array_equal(part, full[i0:m])


# --------------------------------------------------------------------------- coverage


def sweep_case(rng: np.random.Generator, n_seg: int, n_fix: int) -> tuple:
    """Random directed segments and a track wandering over them with brooms and speeds near the limits."""
    x = np.cumsum(rng.normal(0.0, 40.0, n_seg + 1))
    y = np.cumsum(rng.normal(0.0, 40.0, n_seg + 1))
    segs = (x[:-1].copy(), y[:-1].copy(), x[1:].copy(), y[1:].copy())
    # Fixes walk along the polyline (either way), with noise, so many pairs match.
    u = np.clip(np.cumsum(rng.normal(0.1, 0.3, n_fix)) % n_seg, 0, n_seg - 1e-9)
    s = u.astype(int)
    f = u - s
    px = x[s] + f * (x[s + 1] - x[s]) + rng.normal(0, 3.0, n_fix)
    py = y[s] + f * (y[s + 1] - y[s]) + rng.normal(0, 3.0, n_fix)
    t = np.cumsum(rng.choice([0.0, 1.0, 2.0, 40.0], n_fix, p=[0.05, 0.6, 0.3, 0.05]))
    v = rng.uniform(0.0, 5.0, n_fix)
    brooms = (rng.random(n_fix) < 0.85).astype(F)
    valid = rng.random(n_fix) > 0.1
    bins = rng.integers(1, 12, n_seg)
    return segs, (t, px, py, v, brooms, valid), bins


@pytest.mark.parametrize("seed", range(6))
def test_coverage_step_in_chunks_matches_naive(seed: int) -> None:
    """Covered bins from coverage_step over random chunks equal the naive all-pairs, all-segments rule."""
    rng = np.random.default_rng(600 + seed)
    n_seg = int(rng.integers(1, 30))
    segs, cols, bins = sweep_case(rng, n_seg, int(rng.integers(0, 600)))
    match_m, min_cos = 12.0, float(rng.choice([0.5, 0.8]))
    params = (match_m, min_cos, 0.5, 4.0, 30.0, float(rng.choice([0.0, 6.0])))
    x0, y0, nx, ny, start, pack = kernels.build_reach_grid(*segs, np.ones(n_seg, np.bool_), 10.0, match_m)
    bin_start = np.concatenate(([0], np.cumsum(bins))).astype(np.int64)
    covered = np.zeros(bin_start[-1], dtype=np.bool_)
    state = np.zeros(kernels.COVERAGE_STATE_SIZE)
    n = cols[0].shape[0]
    bounds = splits(rng, n)
    for a, b in itertools.pairwise(bounds):
        chunk = [np.ascontiguousarray(c[a:b]) for c in cols]
        kernels.coverage_step(state, *chunk, x0, y0, 10.0, nx, ny, start, pack, *params, bin_start, covered)
    lists = [c.tolist() for c in cols]
    expect = naive.coverage(*lists, *(s.tolist() for s in segs), bins.tolist(), *params)
    assert [covered[bin_start[s] : bin_start[s + 1]].tolist() for s in range(n_seg)] == expect
    assert covered.any() or n < 10


def test_coverage_counts_only_the_right_direction_with_brooms_at_sweeping_speed() -> None:
    """A 100 m segment east: swept east fully; west, brooms up or too fast sweeps nothing."""
    segs = (arr([0.0]), arr([0.0]), arr([100.0]), arr([0.0]))
    x0, y0, nx, ny, start, pack = kernels.build_reach_grid(*segs, np.ones(1, np.bool_), 10.0, 15.0)
    bin_start = np.array([0, 20], dtype=np.int64)

    def swept(xs: Arr, v: float, brooms: float) -> float:
        covered = np.zeros(20, dtype=np.bool_)
        n = xs.shape[0]
        t = np.arange(n, dtype=F)
        kernels.coverage_step(
            np.zeros(5), t, xs, np.full(n, 3.0), np.full(n, v), np.full(n, brooms), np.ones(n, np.bool_),
            x0, y0, 10.0, nx, ny, start, pack, 15.0, 0.8, 0.5, 4.0, 30.0, 0.0, bin_start, covered,
        )  # fmt: skip
        return float(covered.mean())

    east = np.arange(-4.0, 105.0, 2.0)
    assert swept(east, 2.0, 1.0) == 1.0
    assert swept(east[::-1].copy(), 2.0, 1.0) == 0.0
    assert swept(east, 2.0, 0.0) == 0.0
    assert swept(east, 6.0, 1.0) == 0.0
    assert swept(np.arange(0.0, 50.0, 2.0), 2.0, 1.0) == pytest.approx(0.5, abs=0.05)
