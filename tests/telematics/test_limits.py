"""Speed limits by road: the most generous road near a fix (kernel vs naive), the road under a path."""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest

from core.errors import ValidationError
from telematics import kernels
from telematics.limits import KPH, RoadLimits
from tests.telematics import naive
from tests.telematics.synthetic import ORIGIN, to_latlon


@pytest.mark.parametrize("seed", range(4))
def test_max_value_near_matches_naive(seed: int) -> None:
    """max_value_near equals the naive max over segments within the radius (NaN values ignored)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    x = np.cumsum(rng.normal(0, 50, n + 1))
    y = np.cumsum(rng.normal(0, 50, n + 1))
    ax, ay, bx, by = x[:-1].copy(), y[:-1].copy(), x[1:].copy(), y[1:].copy()
    values = rng.choice([8.3, 11.1, 13.9, 25.0, np.nan], n)
    radius = float(rng.uniform(5, 40))
    x0, y0, nx, ny, start, pack = kernels.build_reach_grid(ax, ay, bx, by, np.ones(n, np.bool_), 10.0, 40.0)
    px = rng.uniform(x.min() - 60, x.max() + 60, 300)
    py = rng.uniform(y.min() - 60, y.max() + 60, 300)
    got = kernels.max_value_near(px, py, x0, y0, 10.0, nx, ny, start, pack, values, radius)
    expect = [
        naive.max_value_near(
            a, b, ax.tolist(), ay.tolist(), bx.tolist(), by.tolist(), values.tolist(), radius
        )
        for a, b in zip(px, py, strict=True)
    ]
    npt.assert_array_equal(got, expect)


def two_roads() -> RoadLimits:
    """An east-west 50 km/h road at y = 0 and a 30 km/h one at y = 30 m (parallel)."""
    fast = [to_latlon(x, 0.0) for x in range(0, 1001, 100)]
    slow = [to_latlon(x, 30.0) for x in range(0, 1001, 100)]
    return RoadLimits.from_lines([(fast, 50 * KPH), (slow, 30 * KPH)], lat0=ORIGIN[0], lon0=ORIGIN[1])


def test_limits_are_the_most_generous_road_within_reach() -> None:
    """Between two parallel roads a fix gets the higher limit; beyond both it gets NaN."""
    limits = two_roads()
    lat, lon = np.array([to_latlon(500, 35.0), to_latlon(500, 60.0), to_latlon(500, 80.0)]).T
    got = limits.limits_at(lat, lon)
    assert got[0] == pytest.approx(50 * KPH)  # 35 m from the fast road, 5 m from the slow one
    assert got[1] == pytest.approx(30 * KPH)  # only the slow road within 40 m
    assert math.isnan(got[2])
    near = limits.nearest_limits(*np.array([to_latlon(500, 20.0)]).T)
    assert near[0] == pytest.approx(30 * KPH)


def test_path_limits_follow_the_road_under_each_step() -> None:
    """path_limits gives each step of a drawn path the limit of the road it lies on."""
    limits = two_roads()
    npt.assert_allclose(
        limits.path_limits([to_latlon(0, 0.0), to_latlon(300, 0.0), to_latlon(600, 0.0)]), [50 * KPH] * 2
    )
    npt.assert_allclose(limits.path_limits([to_latlon(0, 30.0), to_latlon(300, 30.0)]), [30 * KPH])


def test_from_lines_rejects_bad_input() -> None:
    """Empty road lists, one-point roads and non-positive limits raise ValidationError."""
    with pytest.raises(ValidationError, match="lines"):
        RoadLimits.from_lines([])
    with pytest.raises(ValidationError, match="lines"):
        RoadLimits.from_lines([([to_latlon(0, 0)], 10.0)])
    with pytest.raises(ValidationError, match="limit"):
        RoadLimits.from_lines([([to_latlon(0, 0), to_latlon(10, 0)], 0.0)])
