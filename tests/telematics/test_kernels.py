"""Kernels against their naive twins (tests/telematics/naive.py), hand-made and random."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.testing as npt
import pytest
from numpy.typing import NDArray

from telematics import kernels
from tests.telematics import naive

F = np.float64
Arr = NDArray[np.float64]
Segs = tuple[Arr, Arr, Arr, Arr]
Grid = tuple[Arr, Arr, Arr, Arr, float, float, float, int, int, NDArray[np.int64], NDArray[np.int64]]


def arr(values: Sequence[float], dtype: type = F) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


def grid_for(segs: Segs, cell_m: float) -> Grid:
    """The segments and their grid: the arguments of the distance kernels after the point."""
    ax, ay, bx, by = segs
    x0, y0, nx, ny, cell_start, cell_segs = kernels.build_segment_grid(ax, ay, bx, by, cell_m)
    return (ax, ay, bx, by, x0, y0, cell_m, nx, ny, cell_start, cell_segs)


def polyline(xs: list[float], ys: list[float]) -> Segs:
    x, y = arr(xs), arr(ys)
    return x[:-1].copy(), y[:-1].copy(), x[1:].copy(), y[1:].copy()


def random_walk(seed: int, n_seg: int, step_m: float = 80.0) -> Segs:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0.0, step_m, n_seg + 1))
    y = np.cumsum(rng.normal(0.0, step_m, n_seg + 1))
    return x[:-1].copy(), y[:-1].copy(), x[1:].copy(), y[1:].copy()


def assert_matches_naive(px: Arr, py: Arr, segs: Segs, cell_m: float, cap: float) -> None:
    """Kernel distance, segment and t equal the brute-force ones for every point, bit for bit.

    Both sides evaluate the same point-to-segment formula in the same order, so
    any difference means the grid search missed the nearest segment.
    """
    grid = grid_for(segs, cell_m)
    dist = kernels.distance_to_segments(px, py, *grid, cap)
    d2, seg, t = kernels.nearest_on_segments(px, py, *grid, cap)
    ax, ay, bx, by = (s.tolist() for s in segs)
    expect = [naive.nearest(x, y, ax, ay, bx, by, cap) for x, y in zip(px, py, strict=True)]
    npt.assert_array_equal(dist, [e[0] for e in expect])
    npt.assert_array_equal(dist, d2)
    npt.assert_array_equal(seg, [e[1] for e in expect])
    npt.assert_array_equal(t, [e[2] for e in expect])


# --------------------------------------------------------------------------- projection


def test_projection_matches_naive_on_random_points() -> None:
    """project_equirectangular equals the per-point formula (R = 6_371_008.8 m)."""
    rng = np.random.default_rng(7)
    lat = rng.uniform(-60, 60, 500)
    lon = rng.uniform(-180, 180, 500)
    x, y = kernels.project_equirectangular(lat, lon, 39.29, -76.61)
    ex, ey = naive.project(lat.tolist(), lon.tolist(), 39.29, -76.61)
    npt.assert_allclose(x, ex, rtol=1e-12, atol=1e-6)
    npt.assert_allclose(y, ey, rtol=1e-12, atol=1e-6)


def test_projection_scale_one_degree_of_latitude() -> None:
    """One degree of latitude is R * pi / 180 metres north, zero east."""
    x, y = kernels.project_equirectangular(arr([40.0]), arr([10.0]), 39.0, 10.0)
    assert x[0] == 0.0
    assert y[0] == pytest.approx(6_371_008.8 * math.pi / 180, rel=1e-12)


def test_projection_is_continuous_across_the_antimeridian() -> None:
    """Points on both sides of lon = 180 land 0.1 deg east/west of an origin at 179.95, not 360 deg away."""
    x, _ = kernels.project_equirectangular(arr([0.0, 0.0]), arr([-179.95, 179.85]), 0.0, 179.95)
    one_deg = 6_371_008.8 * math.pi / 180
    npt.assert_allclose(x, [0.1 * one_deg, -0.1 * one_deg], rtol=1e-9)


def test_unproject_inverts_project() -> None:
    """unproject_equirectangular(project_equirectangular(p)) == p to 1e-9 degrees."""
    rng = np.random.default_rng(3)
    lat = rng.uniform(39.0, 39.6, 200)
    lon = rng.uniform(-76.9, -76.3, 200)
    x, y = kernels.project_equirectangular(lat, lon, 39.29, -76.61)
    lat2, lon2 = kernels.unproject_equirectangular(x, y, 39.29, -76.61)
    npt.assert_allclose(lat2, lat, atol=1e-9)
    npt.assert_allclose(lon2, lon, atol=1e-9)


# --------------------------------------------------------------------------- grid and distance

# An L-shaped polyline: east 100 m, then north 100 m, then a 45-degree leg.
L_SHAPE = polyline([0.0, 100.0, 100.0, 170.0], [0.0, 0.0, 100.0, 170.0])


@pytest.mark.parametrize(
    ("px", "py", "expect_d", "expect_seg"),
    [
        (100.0, 0.0, 0.0, 0),  # on the shared vertex of segments 0 and 1: lowest id wins
        (0.0, 0.0, 0.0, 0),  # on the first vertex
        (50.0, 0.0, 0.0, 0),  # on a segment's interior
        (100.0, 30.0, 0.0, 1),  # on the vertical segment
        (50.0, 20.0, 20.0, 0),  # beside a segment
        (150.0, 50.0, 50.0, 1),  # closer to the vertical than the diagonal
        (-30.0, -40.0, 50.0, 0),  # beyond the grid, nearest the first vertex
        (170.0, 570.0, 400.0, 2),  # far beyond the grid, nearest the last vertex
    ],
)
def test_distance_hand_made_points(px: float, py: float, expect_d: float, expect_seg: int) -> None:
    """Distance and nearest segment on vertices, segments and outside the grid equal the known values."""
    for cell_m in (10.0, 50.0, 1000.0):
        grid = grid_for(L_SHAPE, cell_m)
        d, seg, _ = kernels.nearest_segment(px, py, *grid, 10_000.0)
        assert d == pytest.approx(expect_d, abs=1e-9)
        assert seg == expect_seg
        assert_matches_naive(arr([px]), arr([py]), L_SHAPE, cell_m, 10_000.0)


def test_distance_cap_is_exact_inside_and_clamps_outside() -> None:
    """Within max_search_m the distance is exact; beyond it the kernel returns max_search_m and seg -1."""
    grid = grid_for(L_SHAPE, 20.0)
    px, py = arr([0.0, 0.0, 0.0]), arr([-299.0, -300.0, -301.0])
    dist = kernels.distance_to_segments(px, py, *grid, 300.0)
    npt.assert_allclose(dist, [299.0, 300.0, 300.0], atol=1e-9)
    _, seg, _ = kernels.nearest_on_segments(px, py, *grid, 300.0)
    npt.assert_array_equal(seg, [0, 0, -1])


def test_distance_with_no_segments_is_the_cap() -> None:
    """An empty segment set yields max_search_m for every point."""
    empty = np.zeros(0)
    grid = grid_for((empty, empty, empty, empty), 50.0)
    dist = kernels.distance_to_segments(arr([0.0, 1e6]), arr([0.0, -1e6]), *grid, 123.0)
    npt.assert_array_equal(dist, [123.0, 123.0])


def test_distance_to_zero_length_segment_is_distance_to_its_point() -> None:
    """A degenerate segment (a == b) behaves as a point (t = 0)."""
    segs = (arr([10.0]), arr([10.0]), arr([10.0]), arr([10.0]))
    grid = grid_for(segs, 50.0)
    d, seg, t = kernels.nearest_segment(13.0, 14.0, *grid, 1e4)
    assert (d, seg, t) == (pytest.approx(5.0), 0, 0.0)


def test_distance_point_on_cell_corners_and_edges() -> None:
    """Points exactly on grid lines (cell edges and corners) get the brute-force distance."""
    segs = random_walk(11, 60, 40.0)
    cell_m = 25.0
    x0, y0, nx, ny, _, _ = kernels.build_segment_grid(*segs, cell_m)
    i, j = np.meshgrid(np.arange(-2, nx + 3), np.arange(-2, ny + 3))
    px = (x0 + i * cell_m).ravel().astype(F)
    py = (y0 + j * cell_m).ravel().astype(F)
    assert_matches_naive(px, py, segs, cell_m, 1e5)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("cell_m", [3.0, 40.0, 250.0])
def test_distance_random_matches_brute_force(seed: int, cell_m: float) -> None:
    """On random polylines and points (inside, around and far outside the grid) the grid search is exact."""
    rng = np.random.default_rng(100 + seed)
    segs = random_walk(seed, int(rng.integers(1, 120)))
    xs = np.concatenate((segs[0], segs[2]))
    ys = np.concatenate((segs[1], segs[3]))
    px = rng.uniform(xs.min() - 800, xs.max() + 800, 300)
    py = rng.uniform(ys.min() - 800, ys.max() + 800, 300)
    cap = float(rng.uniform(50.0, 400.0))
    assert_matches_naive(px, py, segs, cell_m, cap)  # some points beyond the cap
    assert_matches_naive(px, py, segs, cell_m, 1e7)  # effectively uncapped


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distance_sub_metre_near_a_fine_grid_matches_brute_force(seed: int) -> None:
    """With 0.25 m cells and points within a metre of a tangled polyline, the search is still exact."""
    rng = np.random.default_rng(200 + seed)
    segs = random_walk(seed, 40, step_m=2.0)
    f = rng.random(400)
    s = rng.integers(0, 40, 400)
    px = segs[0][s] + f * (segs[2][s] - segs[0][s]) + rng.uniform(-1.0, 1.0, 400)
    py = segs[1][s] + f * (segs[3][s] - segs[1][s]) + rng.uniform(-1.0, 1.0, 400)
    assert_matches_naive(px, py, segs, 0.25, 100.0)


def test_grid_lists_each_segment_in_every_cell_it_crosses() -> None:
    """CSR invariants hold and every point sampled along a segment falls in a cell listing it."""
    segs = random_walk(5, 80, 120.0)
    cell_m = 30.0
    x0, y0, nx, ny, cell_start, cell_segs = kernels.build_segment_grid(*segs, cell_m)
    assert cell_start.shape == (nx * ny + 1,)
    assert cell_start[0] == 0
    assert cell_start[-1] == cell_segs.shape[0]
    assert (np.diff(cell_start) >= 0).all()
    ax, ay, bx, by = segs
    for s in range(ax.shape[0]):
        for f in np.linspace(0.0, 1.0, 101):
            qx = ax[s] + f * (bx[s] - ax[s])
            qy = ay[s] + f * (by[s] - ay[s])
            c = int((qy - y0) // cell_m) * nx + int((qx - x0) // cell_m)
            assert s in cell_segs[cell_start[c] : cell_start[c + 1]]


# --------------------------------------------------------------------------- episodes


def run_both(
    t: Sequence[float], d: Sequence[float], valid: Sequence[bool] | None = None, **kw: float
) -> list[tuple[int, int]]:
    """Kernel episodes, after asserting they equal the naive state machine's."""
    params = {"enter_m": 50.0, "exit_m": 40.0, "min_fixes": 3, "min_duration_s": 10.0} | kw
    v = [True] * len(t) if valid is None else valid
    enter, exit_, fixes, duration = (
        params["enter_m"],
        params["exit_m"],
        int(params["min_fixes"]),
        params["min_duration_s"],
    )
    s, e = kernels.detour_episodes(arr(t), arr(d), arr(v, np.bool_), enter, exit_, fixes, duration)
    ns, ne = naive.detour_episodes(t, d, v, enter, exit_, fixes, duration)
    assert s.tolist() == ns
    assert e.tolist() == ne
    return list(zip(s.tolist(), e.tolist(), strict=True))


def test_episode_thresholds_are_strict_to_enter_and_inclusive_to_exit() -> None:
    """dist == enter_m does not start an episode; dist == exit_m ends it."""
    t = [0, 5, 10, 15, 20, 25, 30, 35]
    d = [0, 50, 50.000001, 45, 41, 60, 40, 0]
    assert run_both(t, d) == [(2, 5)]


def test_episode_min_fixes_and_min_duration_at_the_limit() -> None:
    """An episode with exactly min_fixes fixes and exactly min_duration_s is kept; one less is not."""
    t = [0, 5, 10, 15, 20, 25, 30, 35, 40]
    d = [0, 99, 99, 99, 0, 99, 99, 0, 0]
    assert run_both(t, d, min_fixes=3, min_duration_s=10.0) == [(1, 3)]
    assert run_both(t, d, min_fixes=3, min_duration_s=10.000001) == []
    assert run_both(t, d, min_fixes=2, min_duration_s=5.0) == [(1, 3), (5, 6)]


def test_episode_poor_accuracy_fixes_are_skipped() -> None:
    """Invalid fixes neither start, extend (count) nor end an episode."""
    t = [0, 5, 10, 15, 20, 25, 30, 35]
    d = [0, 99, 99, 0, 99, 0, 0, 0]
    valid = [True, True, True, False, True, True, True, True]
    # The invalid on-route fix at 15 s does not end the episode: 3 valid off fixes, 1..4.
    assert run_both(t, d, valid) == [(1, 4)]
    # An invalid off-route fix does not start one, nor count toward min_fixes.
    valid2 = [True, False, True, True, True, True, True, True]
    assert run_both(t, d, valid2) == []
    assert run_both(t, d, valid2, min_fixes=2) == []  # fixes 2 and 4 are split by valid fix 3 (d=0)
    # Off fixes 1 (invalid), 2, 3: two count, so min_fixes=3 drops it and min_fixes=2 keeps it.
    assert run_both(t, [0, 99, 99, 99, 0, 0, 0, 0], valid2, min_fixes=3, min_duration_s=0.0) == []
    assert run_both(t, [0, 99, 99, 99, 0, 0, 0, 0], valid2, min_fixes=2, min_duration_s=0.0) == [(2, 3)]


def test_episode_duplicate_timestamps_count_as_fixes_but_not_as_time() -> None:
    """Three off fixes at one timestamp meet min_fixes but last 0 s."""
    t = [0, 5, 5, 5, 10]
    d = [0, 99, 99, 99, 0]
    assert run_both(t, d, min_duration_s=0.0) == [(1, 3)]
    assert run_both(t, d, min_duration_s=1.0) == []


def test_episode_open_at_the_end_is_closed_at_the_last_valid_fix() -> None:
    """A vehicle still off-route when the data stop yields an episode ending at its last valid off fix."""
    t = [0, 5, 10, 15, 20, 25]
    d = [0, 99, 99, 99, 99, 0]
    assert run_both(t, d, [True, True, True, True, True, False]) == [(1, 4)]


def test_episode_empty_input() -> None:
    """No fixes, no episodes."""
    assert run_both([], []) == []


@pytest.mark.parametrize("seed", range(8))
def test_episodes_random_match_naive(seed: int) -> None:
    """Random distances, validity masks, duplicate times and thresholds: kernel equals naive machine."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    t = np.cumsum(rng.choice([0.0, 1.0, 5.0, 30.0], n)).tolist()
    d = np.where(rng.random(n) < 0.5, rng.uniform(0, 45, n), rng.uniform(35, 200, n))
    d = np.where(rng.random(n) < 0.1, rng.choice([40.0, 50.0], n), d).tolist()
    valid = (rng.random(n) > 0.2).tolist()
    run_both(
        t,
        d,
        valid,
        enter_m=50.0,
        exit_m=float(rng.choice([40.0, 50.0])),
        min_fixes=int(rng.integers(1, 5)),
        min_duration_s=float(rng.choice([0.0, 5.0, 30.0])),
    )


# --------------------------------------------------------------------------- path length


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_path_length_matches_naive(seed: int) -> None:
    """path_length_m sums the straight steps between i0 and i1 inclusive; 0 for i1 <= i0."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(0, 100, 50), rng.normal(0, 100, 50)
    for i0, i1 in ((0, 49), (3, 17), (10, 10), (12, 11)):
        expect = naive.path_length(x.tolist(), y.tolist(), i0, i1)
        assert kernels.path_length_m(x, y, i0, i1) == pytest.approx(expect, rel=1e-12, abs=0.0)


def test_path_length_of_a_3_4_5_step() -> None:
    """A single 3-4-5 step is 5 m long."""
    assert kernels.path_length_m(arr([0.0, 3.0]), arr([0.0, 4.0]), 0, 1) == 5.0


# --------------------------------------------------------------------------- one-cell reach grid


def reach_grid_for(segs: Segs, keep: NDArray[np.bool_], cell_m: float, reach_m: float) -> tuple:
    """The grid arguments of the reach kernels after the point."""
    x0, y0, nx, ny, start, pack = kernels.build_reach_grid(*segs, keep, cell_m, reach_m)
    return (x0, y0, cell_m, nx, ny, start, pack)


def assert_reach_matches_naive(
    px: Arr, py: Arr, segs: Segs, keep: NDArray[np.bool_], cell_m: float, reach_m: float, cap: float
) -> None:
    """corridor_distance / corridor_nearest equal brute force over the kept segments, bit for bit."""
    grid = reach_grid_for(segs, keep, cell_m, reach_m)
    dist = kernels.corridor_distance(px, py, *grid, cap)
    d2, seg, t = kernels.corridor_nearest(px, py, *grid, cap)
    ax, ay, bx, by = (s.tolist() for s in segs)
    expect = [
        naive.nearest_kept(x, y, ax, ay, bx, by, keep.tolist(), cap) for x, y in zip(px, py, strict=True)
    ]
    npt.assert_array_equal(dist, [e[0] for e in expect])
    npt.assert_array_equal(d2, dist)
    npt.assert_array_equal(seg, [e[1] for e in expect])
    npt.assert_array_equal(t, [e[2] for e in expect])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize(("cell_m", "reach_m"), [(5.0, 40.0), (25.0, 60.0), (80.0, 100.0)])
def test_reach_grid_random_matches_brute_force(seed: int, cell_m: float, reach_m: float) -> None:
    """Capped distance, segment and t from one cell equal brute force, inside and outside the grid."""
    rng = np.random.default_rng(300 + seed)
    segs = random_walk(seed, int(rng.integers(1, 150)), step_m=60.0)
    keep = rng.random(segs[0].shape[0]) < 0.8
    keep[0] = True
    xs = np.concatenate((segs[0], segs[2]))
    ys = np.concatenate((segs[1], segs[3]))
    px = rng.uniform(xs.min() - 300, xs.max() + 300, 400)
    py = rng.uniform(ys.min() - 300, ys.max() + 300, 400)
    for cap in (reach_m, float(rng.uniform(1.0, reach_m))):
        assert_reach_matches_naive(px, py, segs, keep, cell_m, reach_m, cap)


def test_reach_grid_points_on_cell_lines_and_vertices() -> None:
    """Points exactly on grid lines, on vertices and on shared ends get the brute-force answer."""
    segs = random_walk(9, 50, 30.0)
    keep = np.ones(50, dtype=np.bool_)
    cell_m, reach_m = 20.0, 50.0
    x0, y0, nx, ny, _, _ = kernels.build_reach_grid(*segs, keep, cell_m, reach_m)
    i, j = np.meshgrid(np.arange(-1, nx + 2), np.arange(-1, ny + 2))
    px = np.concatenate(((x0 + i * cell_m).ravel(), segs[0], segs[2]))
    py = np.concatenate(((y0 + j * cell_m).ravel(), segs[1], segs[3]))
    assert_reach_matches_naive(px, py, segs, keep, cell_m, reach_m, reach_m)


def test_reach_grid_cells_are_sorted_and_complete() -> None:
    """Each cell lists every kept segment within half-diagonal + reach of its centre, sorted by it."""
    segs = random_walk(4, 40, 50.0)
    keep = np.ones(40, dtype=np.bool_)
    keep[[3, 7]] = False
    cell_m, reach_m = 30.0, 45.0
    x0, y0, nx, ny, start, pack = kernels.build_reach_grid(*segs, keep, cell_m, reach_m)
    radius = cell_m / math.sqrt(2.0) + reach_m
    ax, ay, bx, by = (s.tolist() for s in segs)
    for c in range(nx * ny):
        cx = x0 + (c % nx + 0.5) * cell_m
        cy = y0 + (c // nx + 0.5) * cell_m
        rows = pack[start[c] : start[c + 1]]
        expect = {
            s
            for s in range(40)
            if keep[s] and naive.point_segment(cx, cy, ax[s], ay[s], bx[s], by[s])[0] <= radius
        }
        assert {int(s) for s in rows[:, kernels.PACK_SEG]} == expect
        assert (np.diff(rows[:, kernels.PACK_KEY]) >= 0).all()
        for row in rows:
            d, _ = naive.point_segment(
                cx, cy, ax[int(row[5])], ay[int(row[5])], bx[int(row[5])], by[int(row[5])]
            )
            assert row[kernels.PACK_KEY] == pytest.approx(d, abs=1e-9)


def test_reach_grid_empty_and_far_points_get_the_cap() -> None:
    """No segments, or points beyond the grid, give exactly the cap and segment -1."""
    empty = np.zeros(0)
    grid = reach_grid_for((empty, empty, empty, empty), np.zeros(0, np.bool_), 10.0, 50.0)
    d, seg, _ = kernels.corridor_nearest(arr([0.0, 5.0]), arr([0.0, 1e6]), *grid, 50.0)
    npt.assert_array_equal(d, [50.0, 50.0])
    npt.assert_array_equal(seg, [-1, -1])
    grid = reach_grid_for(L_SHAPE, np.ones(3, np.bool_), 10.0, 50.0)
    d, seg, _ = kernels.corridor_nearest(arr([-60.0, 50.0, 1e9]), arr([0.0, -49.0, 0.0]), *grid, 50.0)
    npt.assert_array_equal(d, [50.0, 49.0, 50.0])
    npt.assert_array_equal(seg, [-1, 0, -1])
