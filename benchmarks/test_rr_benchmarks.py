"""pytest-benchmark timings of the SISR ruin-and-recreate search (routing.rr_kernels, ``make bench``).

Every round does the same work (seed 0, an iteration limit), so timings compare across commits.
The distance reached and its gap to the best published value go to ``extra_info``.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from routing import rr_start
from routing.bench import default_data_dir
from routing.instances import read_instance
from routing.model import build_problem
from routing.rr_kernels import sisr
from routing.solve import SolveParams

DATA = default_data_dir()


@pytest.mark.parametrize(
    ("family", "path"), [("solomon", "solomon/R101.txt"), ("cvrplib", "cvrplib/X-n101-k25.vrp")]
)
def test_sisr_5000_iterations(benchmark: BenchmarkFixture, family: str, path: str) -> None:
    """5000 ruin-and-recreate steps from the greedy start, seed 0."""
    inst = read_instance(family, DATA / path)
    problem = build_problem(inst.district, inst.time_s, inst.dist_m)
    arrays = rr_start.arrays(problem, list(problem.points), SolveParams().weights)

    def once() -> int:
        result = sisr(arrays, seed_value=0, max_iterations=5000)
        assert result.unassigned == []
        return result.cost

    cost = benchmark.pedantic(once, rounds=2, iterations=1, warmup_rounds=1)
    distance = inst.to_distance(cost)
    benchmark.extra_info["distance"] = distance
    if inst.best_known is not None:
        best = inst.best_known.distance
        benchmark.extra_info["gap_pct"] = round(100 * (distance - best) / best, 3)
