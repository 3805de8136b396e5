"""The enforcement kernels against their slow reference twins (shapely for geometry)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.enforcement import DailyWindow, RestrictedZone, Site, SiteKind
from telematics import enforcement_kernels as ek
from telematics import kernels
from telematics.enforcement_places import PlaceIndex
from tests.telematics import naive_enforcement as naive

LAT0, LON0 = 39.29, -76.61


def _random_places(rng: np.random.Generator, n: int) -> tuple[list[dict[str, object]], PlaceIndex]:
    """``n`` random circles and star-shaped (possibly concave) polygons, some with windows."""
    ids: list[str] = []
    shapes: list[tuple[tuple[tuple[float, float], ...], tuple[float, float] | None, float]] = []
    windows: list[list[DailyWindow]] = []
    ref: list[dict[str, object]] = []
    for p in range(n):
        cx, cy = rng.uniform(-2_000, 2_000, 2)
        w: list[tuple[float, float]] = []
        if rng.random() < 0.4:
            w = [(float(a), float(b)) for a, b in rng.integers(0, 86_400, (int(rng.integers(1, 3)), 2))]
        if rng.random() < 0.5:
            r = float(rng.uniform(20, 300))
            la, lo = kernels.unproject_equirectangular(np.array([cx]), np.array([cy]), LAT0, LON0)
            shapes.append(((), (float(la[0]), float(lo[0])), r))
            ref.append({"kind": "circle", "cx": cx, "cy": cy, "r": r, "windows": w})
        else:
            k = int(rng.integers(3, 9))
            ang = np.sort(rng.uniform(0, 2 * math.pi, k))
            rad = rng.uniform(50, 400, k)
            xs, ys = cx + rad * np.cos(ang), cy + rad * np.sin(ang)
            la, lo = kernels.unproject_equirectangular(xs, ys, LAT0, LON0)
            shapes.append((tuple(zip(la.tolist(), lo.tolist(), strict=True)), None, 0.0))
            # the reference uses the very same projected vertices the index holds
            px, py = kernels.project_equirectangular(la, lo, LAT0, LON0)
            ref.append(
                {"kind": "polygon", "xy": list(zip(px.tolist(), py.tolist(), strict=True)), "windows": w}
            )
        ids.append(f"P{p}")
        windows.append([DailyWindow(int(a), int(b)) for a, b in w])
    return ref, PlaceIndex.build(ids, shapes, windows, LAT0, LON0, margin_m=60.0, cell_m=150.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [-20.0, 0.0, 45.0])
def test_locate_matches_brute_force_shapely(seed: int, margin: float) -> None:
    rng = np.random.default_rng(seed)
    ref, index = _random_places(rng, 25)
    x = rng.uniform(-2_500, 2_500, 1500)
    y = rng.uniform(-2_500, 2_500, 1500)
    local = rng.uniform(-86_400, 2 * 86_400, 1500)
    eligible = rng.random(25) < 0.8
    got = index.locate(x, y, margin_m=margin, local_s=local, eligible=eligible)
    par = index.locate(x, y, margin_m=margin, local_s=local, eligible=eligible, parallel=True)
    want = [naive.locate(x[i], y[i], local[i], margin, ref, eligible.tolist()) for i in range(x.shape[0])]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(par, got)
    assert (got >= 0).sum() > 50  # the test exercises hits, not only misses


def test_signed_distance_matches_shapely() -> None:
    rng = np.random.default_rng(5)
    ref, index = _random_places(rng, 10)
    x = rng.uniform(-2_500, 2_500, 300)
    y = rng.uniform(-2_500, 2_500, 300)
    for p in range(10):
        got = index.distances(p, x, y)
        want = [naive.signed_distance(x[i], y[i], ref[p]) for i in range(300)]
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_place_grid_lists_every_place_whose_box_meets_a_cell() -> None:
    rng = np.random.default_rng(3)
    bx0 = rng.uniform(0, 1000, 40)
    by0 = rng.uniform(0, 1000, 40)
    bx1 = bx0 + rng.uniform(0, 300, 40)
    by1 = by0 + rng.uniform(0, 300, 40)
    x0, y0, nx, ny, start, places = ek.build_place_grid(bx0, by0, bx1, by1, 70.0)
    for j in range(ny):
        for i in range(nx):
            c = j * nx + i
            lo_x, lo_y = x0 + i * 70.0, y0 + j * 70.0
            want = [
                p
                for p in range(40)
                if bx0[p] < lo_x + 70.0 and bx1[p] >= lo_x and by0[p] < lo_y + 70.0 and by1[p] >= lo_y
            ]
            assert places[start[c] : start[c + 1]].tolist() == want


def test_sites_and_zones_index_from_the_model() -> None:
    """A circle site and a zone with night hours answer as the model says."""
    site = Site("C1", SiteKind.CONSTRUCTION_SITE, lat=LAT0, lon=LON0, radius_m=100.0)
    lat1 = LAT0 + 500 / 111_195
    zone = RestrictedZone(
        "Z",
        "school",
        ((lat1 - 0.001, LON0 - 0.001), (lat1 - 0.001, LON0 + 0.001), (lat1 + 0.001, LON0)),
        (DailyWindow.parse("22:00-06:00"),),
    )
    sites = PlaceIndex.from_sites([site], LAT0, LON0, margin_m=40.0)
    zones = PlaceIndex.from_zones([zone], LAT0, LON0)
    x = np.array([0.0, 130.0, 150.0, 0.0, 0.0])
    y = np.array([0.0, 0.0, 0.0, 500.0, 500.0])
    assert sites.locate(x, y, margin_m=40.0).tolist() == [0, 0, -1, -1, -1]
    local = np.array([0.0, 0.0, 0.0, 23 * 3600.0, 12 * 3600.0])
    assert zones.locate(x, y, local_s=local).tolist() == [-1, -1, -1, 0, -1]


@pytest.mark.parametrize("seed", range(6))
def test_debounce_level_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    t = np.cumsum(rng.uniform(1, 20, n))
    level = np.repeat(rng.choice([0.0, 15_000.0, 2_000.0], n // 20), 20)
    v = level + rng.normal(0, 300, n)
    v[rng.random(n) < 0.05] = np.nan
    v[rng.random(n) < 0.03] = 0.0  # one-fix glitches
    got = ek.debounce_level(t, v, 3_000.0, 1_500.0, 60.0)
    want = naive.debounce_level(t.tolist(), v.tolist(), 3_000.0, 1_500.0, 60.0)
    assert got.tolist() == want
    assert {-1, 0, 1} >= set(got.tolist())
    assert len(set(got.tolist())) >= 2


def test_debounce_ignores_a_one_fix_drop() -> None:
    t = np.arange(0.0, 300.0, 10.0)
    v = np.full(t.shape[0], 15_000.0)
    v[15] = 0.0
    assert (ek.debounce_level(t, v, 3_000.0, 1_500.0, 60.0) == 1).all()


@pytest.mark.parametrize("seed", range(5))
def test_runs_match_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    t = np.cumsum(rng.choice([1.0, 5.0, 200.0], n, p=[0.6, 0.38, 0.02]))
    flag = rng.random(n) < 0.7
    got = ek.runs_of(flag, t, 3, 10.0, 60.0)
    assert [tuple(r) for r in got.tolist()] == naive.runs(flag.tolist(), t.tolist(), 3, 10.0, 60.0)


@pytest.mark.parametrize("seed", range(4))
def test_dwell_measures_and_medians_match_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 600
    t = np.cumsum(rng.uniform(2, 15, n))
    speed = np.where(rng.random(n) < 0.5, 0.2, 8.0)
    speed = np.repeat(speed[::15], 15)[:n]
    x = np.cumsum(rng.normal(0, 5, n))
    y = np.cumsum(rng.normal(0, 5, n))
    tip = (rng.random(n) < 0.3).astype(float)
    tip[rng.random(n) < 0.1] = np.nan
    load = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 20_000, n))
    valid = rng.random(n) < 0.95
    starts, ends, _ = kernels.dwell_step(
        np.zeros(kernels.EPISODE_STATE_SIZE), t, speed, valid, 0, 1.0, 20.0, 120.0, True
    )
    assert starts.size > 3
    mx, my, tip_s = ek.dwell_measures(t, x, y, tip, valid, starts, ends)
    bound_lo = np.zeros(starts.shape[0], dtype=np.int64)
    bound_hi = np.full(starts.shape[0], n - 1, dtype=np.int64)
    before, after = ek.median_around(t, load, starts, ends, 90.0, bound_lo, bound_hi)
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        keep = [i for i in range(s, e + 1) if valid[i]]
        assert mx[k] == pytest.approx(np.median(x[keep]))
        assert my[k] == pytest.approx(np.median(y[keep]))
        assert tip_s[k] == naive.longest_tipping(t.tolist(), tip.tolist(), valid.tolist(), s, e)
        b, a = naive.median_around(t.tolist(), load.tolist(), s, e, 90.0)
        np.testing.assert_equal([before[k], after[k]], [b, a])


@pytest.mark.parametrize("seed", range(4))
def test_split_at_moves_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    x = np.cumsum(np.where(rng.random(n) < 0.05, rng.uniform(50, 300, n), rng.normal(0, 8, n)))
    y = rng.normal(0, 8, n)
    valid = rng.random(n) < 0.9
    cut = np.sort(rng.choice(np.arange(1, n), 20, replace=False))
    starts = np.r_[0, cut[1::2]].astype(np.int64)
    ends = np.r_[cut[::2] - 1, n - 1][: starts.shape[0]].astype(np.int64)
    keep = ends >= starts
    starts, ends = starts[keep], ends[keep]
    got_s, got_e = ek.split_at_moves(x, y, valid, starts, ends, 60.0)
    want = naive.split_at_moves(x.tolist(), y.tolist(), valid.tolist(), starts.tolist(), ends.tolist(), 60.0)
    assert list(zip(got_s.tolist(), got_e.tolist(), strict=True)) == want
    assert len(want) > starts.shape[0]  # some stops were split


@pytest.mark.parametrize("seed", range(4))
def test_join_close_stops_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    t = np.cumsum(rng.uniform(1, 20, n))
    x = np.cumsum(rng.normal(0, 30, n))
    y = np.cumsum(rng.normal(0, 30, n))
    cut = np.sort(rng.choice(np.arange(1, n), 60, replace=False))
    starts = cut[0::2].astype(np.int64)
    ends = (cut[1::2] - 1).astype(np.int64)[: starts.shape[0]]
    starts = starts[: ends.shape[0]]
    got_s, got_e = ek.join_close_stops(t, x, y, starts, ends, 40.0, 60.0)
    want = naive.join_close_stops(
        t.tolist(), x.tolist(), y.tolist(), starts.tolist(), ends.tolist(), 40.0, 60.0
    )
    assert list(zip(got_s.tolist(), got_e.tolist(), strict=True)) == want
    assert 0 < len(want) < starts.shape[0]  # some stops were joined


@pytest.mark.parametrize("seed", range(4))
def test_centered_speed_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    t = np.cumsum(rng.choice([0.0, 1.0, 5.0, 40.0], n, p=[0.05, 0.5, 0.4, 0.05]))
    x = np.cumsum(rng.normal(0, 10, n))
    y = np.cumsum(rng.normal(0, 10, n))
    valid = rng.random(n) < 0.9
    got = ek.centered_speed(t, x, y, valid, 12.0)
    want = naive.centered_speed(t.tolist(), x.tolist(), y.tolist(), valid.tolist(), 12.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    assert np.isfinite(got).sum() > n // 2
