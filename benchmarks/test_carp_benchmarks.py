"""pytest-benchmark timings of the CARP kernels and an iteration-limited memetic search (``make bench``).

Every round does the same work (fixed seeds, iteration limits), so timings compare across commits.
The cost reached and its gap to the (unconfirmed) best known go to ``extra_info``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from routing.arc_local import CarpArrays, memetic
from routing.arc_solve import carp_arrays
from routing.bench import default_data_dir
from routing.carp import carp_problem, read_carp

DATA = default_data_dir() / "carp"
BKS = json.loads((Path(__file__).resolve().parent / "carp_bks.json").read_text())


def _arrays(path: Path) -> CarpArrays:
    problem = carp_problem(read_carp(path))
    arrays = carp_arrays(problem, range(len(problem.tasks)))
    assert arrays is not None
    return arrays


@pytest.mark.parametrize("name", ["gdb8", "4D"])
def test_split_and_local_search(benchmark: BenchmarkFixture, name: str) -> None:
    """Split a fixed random giant tour and descend to a local optimum."""
    folder = "gdb" if name.startswith("gdb") else "val"
    arrays = _arrays(DATA / folder / f"{name}.dat")
    tour = np.random.default_rng(1).permutation(arrays.n_tasks)

    def once() -> float:
        _, routes, lengths = arrays.split(tour)
        return arrays.improve(routes, lengths)

    cost = benchmark(once)
    assert arrays.excess(*arrays.split(tour)[1:]) == 0
    benchmark.extra_info["cost"] = cost


@pytest.mark.parametrize("name", ["4D", "10D"])
def test_memetic_200_offspring(benchmark: BenchmarkFixture, name: str) -> None:
    """200 offspring of the memetic phase from seed 0."""
    arrays = _arrays(DATA / "val" / f"{name}.dat")

    def once() -> float:
        return memetic(arrays, deadline=float("inf"), seed=0, max_iterations=200)[0]

    cost = benchmark.pedantic(once, rounds=2, iterations=1, warmup_rounds=0)
    best = BKS["val"][name]
    assert cost >= best
    benchmark.extra_info.update(
        {"cost": cost, "best_known": best, "gap_pct": round(100 * (cost - best) / best, 3)}
    )
