"""``wastefleet bench carp FILE --time-limit S [--solution OUT] [--workers N]``: one CARP instance.

Prints exactly one JSON object on stdout::

    {"instance": ..., "cost": ..., "vehicles": ..., "feasible": true|false, "time_s": ...,
     "violations": [...]}

and, with ``--solution``, writes ``{"routes": [[[from, to], [from, to], ...], ...]}``:
each route lists its served edges in order as ``[from, to]`` node pairs in the
file's own node numbers (1-based), ``from -> to`` being the direction served;
each route leaves the depot, deadheads along shortest paths between the edges
and returns. These names, fields and units are read by outside scripts: keep them.

Fields
------
``instance``
    ``NOMBRE`` of the file (``"gdb1"``, ``"val1A"``).
``cost``
    Total cost in the file's cost unit (served edges + shortest-path
    deadheads), recomputed by :func:`routing.arc_verify.verify_carp` from the
    file's edges, never taken from the solver. ``null`` if no solution.
``vehicles``
    Routes (trips) serving at least one edge.
``feasible``
    ``true`` exactly when ``violations`` is empty (every required edge served
    once, capacity per route, paths exist).
``time_s``
    Wall-clock seconds from reading the file to the verified solution.
``violations``
    What the verifier reports (cut after 50 with ``"... and N more"``).

Chain: :func:`routing.carp.read_carp` -> :func:`routing.carp.carp_problem`
-> :func:`routing.arc_solve.solve_arc` -> :func:`routing.arc_verify.verify_carp`.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from core.errors import FleetError, InfeasiblePlanError
from routing.arc_model import ArcSolution
from routing.arc_verify import verify_carp
from routing.carp import CarpInstance, carp_problem, read_carp

__all__ = ["CARP_KEYS", "CarpRun", "run_carp", "run_carp_cli", "solution_routes", "write_carp_solution"]

CARP_KEYS = ("instance", "cost", "vehicles", "feasible", "time_s", "violations")
"""The keys of the bench JSON object, in print order (a contract)."""

MAX_VIOLATIONS = 50


@dataclass(frozen=True, slots=True)
class CarpRun:
    """One solved CARP instance: the contract dict and the routes as 1-based ``[from, to]`` pairs."""

    result: dict[str, Any]
    routes: list[list[list[int]]]
    instance: CarpInstance
    solution: ArcSolution | None


def solution_routes(solution: ArcSolution) -> list[list[list[int]]]:
    """Used routes as served edges ``[from, to]`` in file numbering (graph node + 1)."""
    return [[[v.from_node + 1, v.to_node + 1] for v in r.services] for r in solution.routes if r.services]


def write_carp_solution(path: str | Path, routes: list[list[list[int]]]) -> None:
    """Write ``{"routes": [[[from, to], ...], ...]}`` to ``path``."""
    Path(path).write_text(json.dumps({"routes": routes}) + "\n", encoding="utf-8")


def run_carp(
    path: str | Path,
    time_limit_s: float,
    *,
    solution_path: str | Path | None = None,
    workers: int | None = None,
    solution_limit: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    log: TextIO | None = None,
) -> CarpRun:
    """Read, solve and verify one CARP file; optionally write the solution file.

    The function behind ``wastefleet bench carp`` and ``benchmarks/run_table.py``'s ``carp`` family.
    """
    from routing.arc_solve import solve_arc
    from routing.solve import SolveParams

    t0 = time.perf_counter()
    instance = read_carp(path)
    problem = carp_problem(instance)
    if log is not None:
        print(
            f"bench: {instance.name}: {len(instance.required)} required edges, {instance.n_vertices} nodes, "
            f"capacity {instance.capacity}, {len(problem.vehicles)} vehicles offered, "
            f"time limit {time_limit_s:g} s",
            file=log,
        )
    kwargs: dict[str, Any] = {"time_limit_s": float(time_limit_s)}
    if workers is not None:
        kwargs["workers"] = workers
    if solution_limit is not None:
        kwargs["solution_limit"] = solution_limit
    try:
        solution = solve_arc(problem, SolveParams(**kwargs), progress=progress)
    except InfeasiblePlanError as exc:
        result = {
            "instance": instance.name,
            "cost": None,
            "vehicles": 0,
            "feasible": False,
            "time_s": round(time.perf_counter() - t0, 2),
            "violations": [f"no solution: {exc}"],
        }
        return CarpRun(result, [], instance, None)
    routes = solution_routes(solution)
    check = verify_carp(instance, routes)
    violations = list(check.violations)
    if len(violations) > MAX_VIOLATIONS:
        violations = [*violations[:MAX_VIOLATIONS], f"... and {len(violations) - MAX_VIOLATIONS} more"]
    cost = check.cost
    result = {
        "instance": instance.name,
        "cost": round(cost) if float(cost).is_integer() else cost,
        "vehicles": check.vehicles,
        "feasible": check.feasible,
        "time_s": round(time.perf_counter() - t0, 2),
        "violations": violations,
    }
    if solution_path is not None:
        write_carp_solution(solution_path, routes)
    return CarpRun(result, routes, instance, solution)


def _stderr_progress(stream: TextIO, every_s: float = 2.0) -> Callable[[float, float], None]:
    last = [-every_s]

    def report(elapsed_s: float, cost: float) -> None:
        if elapsed_s - last[0] >= every_s:
            last[0] = elapsed_s
            print(f"bench: {elapsed_s:7.1f} s  best cost {cost:,.1f}", file=stream, flush=True)

    return report


def run_carp_cli(file: str, time_limit_s: float, solution: str | None, workers: int | None) -> int:
    """``wastefleet bench carp``: one JSON object on stdout, progress on stderr; exit 0 if it ran.

    Any failure still prints one JSON object (``feasible: false``, the error as
    the violation) and returns 1; the traceback goes to stderr.
    """
    err = sys.stderr
    t0 = time.perf_counter()
    try:
        progress = _stderr_progress(err)
        run = run_carp(
            file, time_limit_s, solution_path=solution, workers=workers, progress=progress, log=err
        )
        result, status = run.result, 0
    except (FleetError, OSError, ValueError, KeyError, IndexError, RuntimeError) as exc:
        traceback.print_exc(file=err)
        result = {
            "instance": Path(file).stem,
            "cost": None,
            "vehicles": 0,
            "feasible": False,
            "time_s": round(time.perf_counter() - t0, 2),
            "violations": [f"error: {type(exc).__name__}: {exc}"],
        }
        status = 1
    sys.stdout.write(json.dumps({k: result[k] for k in CARP_KEYS}) + "\n")
    sys.stdout.flush()
    return status
