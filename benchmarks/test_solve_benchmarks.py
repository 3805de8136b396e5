"""pytest-benchmark timings of fixed, solution-limited solves (``make bench``; not in ``testpaths``).

Each case reads one shipped instance and runs :func:`routing.bench.solve_instance` (reader output
-> build_problem -> OR-Tools -> to_plan -> independent verifier) with a fixed seed (passed when
``SolveParams`` has one; OR-Tools' routing search is deterministic anyway) and a solution limit
reached long before the time limit, so every round does the same work and the timing is
comparable across commits. The measured distance and gap to the best-known go to ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from routing.bench import BenchRun, default_data_dir, solve_instance
from routing.instances import Instance, read_cvrplib, read_solomon

DATA = default_data_dir()
SEED = 1

CASES: dict[str, tuple[Callable[[Path], Instance], Path, int]] = {
    "C101": (read_solomon, DATA / "solomon" / "C101.txt", 100),
    "X-n101-k25": (read_cvrplib, DATA / "cvrplib" / "X-n101-k25.vrp", 100),
}


@pytest.mark.parametrize("name", list(CASES))
def test_solution_limited_solve(benchmark: BenchmarkFixture, name: str) -> None:
    """A fixed-seed, solution-limited solve is feasible and its distance is at least the best known."""
    reader, path, solutions = CASES[name]
    instance = reader(path)

    def solve_once() -> BenchRun:
        return solve_instance(instance, 120.0, solution_limit=solutions, seed=SEED)

    bench = benchmark.pedantic(solve_once, rounds=3, iterations=1, warmup_rounds=0)
    result = bench.result
    assert result["feasible"], result["violations"][:5]
    best = instance.best_known
    assert best is not None
    assert result["distance"] >= best.distance
    benchmark.extra_info.update(
        {
            "vehicles": result["vehicles"],
            "distance": result["distance"],
            "best_known": best.distance,
            "gap_pct": round(100.0 * (result["distance"] - best.distance) / best.distance, 3),
            "solution_limit": solutions,
        }
    )
