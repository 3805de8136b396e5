"""pytest-benchmark of reading POSITIONS.csv for ``wastefleet police`` (``make bench``; not in ``testpaths``).

A clean file of 1 M fixes (500 vehicles, one fix every 10 s, every sensor column
filled or empty) is read column-wise (:func:`telematics.positions_csv.parse_positions_csv`)
into per-vehicle tracks; the line-by-line reader that names bad lines is timed
on a 50 000-line slice for comparison. Throughput in k fixes/s goes to ``extra_info``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from telematics.positions_csv import HEADER, parse_positions_csv

N_FIXES = 1_000_000
N_VEHICLES = 500


@pytest.fixture(scope="module")
def clean_csv() -> bytes:
    """1 M seeded fixes as POSITIONS.csv bytes."""
    rng = np.random.default_rng(0)
    k = np.arange(N_FIXES)
    t0 = datetime(2026, 12, 1, 22, tzinfo=UTC).timestamp()
    stamps = [
        datetime.fromtimestamp(t0 + 10 * s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for s in range(N_FIXES // N_VEHICLES)
    ]
    lat = 39.29 + rng.normal(0.0, 0.02, N_FIXES)
    lon = -76.61 + rng.normal(0.0, 0.02, N_FIXES)
    speed = rng.uniform(0.0, 15.0, N_FIXES)
    load = rng.uniform(0.0, 30_000.0, N_FIXES)
    lines = [",".join(HEADER)]
    for i in k.tolist():
        tip = "true" if i % 97 == 0 else "false"
        lines.append(
            f"H{i % N_VEHICLES:03d},{stamps[i // N_VEHICLES]},{lat[i]:.7f},{lon[i]:.7f},"
            f"{speed[i]:.2f},,6.0,{load[i]:.1f},{tip}"
        )
    return ("\n".join(lines) + "\n").encode()


def test_columnar_read_1m_fixes(benchmark: BenchmarkFixture, clean_csv: bytes) -> None:
    """Read 1 M fixes column-wise into 500 tracks."""
    out = benchmark.pedantic(parse_positions_csv, args=(clean_csv,), rounds=3, iterations=1)
    assert out.columnar
    assert out.n_fixes == N_FIXES
    assert len(out.tracks) == N_VEHICLES
    benchmark.extra_info["k_fixes_per_s"] = N_FIXES / benchmark.stats.stats.mean / 1e3


def test_line_by_line_read_50k_fixes(benchmark: BenchmarkFixture, clean_csv: bytes) -> None:
    """The reader that names bad lines, on the first 50 000 lines."""
    head = b"\n".join(clean_csv.split(b"\n", 50_001)[:50_001]) + b"\n"
    out = benchmark.pedantic(
        parse_positions_csv, args=(head,), kwargs={"columnar": False}, rounds=3, iterations=1
    )
    assert out.n_fixes == 50_000
    benchmark.extra_info["k_fixes_per_s"] = 50_000 / benchmark.stats.stats.mean / 1e3
