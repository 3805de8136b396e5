"""Solve one benchmark instance with the product's own chain and report it as the bench contract says.

``wastefleet bench {wcvrptw,solomon,cvrplib} FILE --time-limit S [--solution OUT] [--workers N]``
prints exactly one JSON object on stdout::

    {"instance": ..., "vehicles": ..., "distance": ..., "feasible": true|false,
     "violations": [...], "time_s": ...}

and, with ``--solution``, writes ``{"routes": [[0, ..., 0], ...]}`` where every
number is a data-row position of the instance file (0 = depot; disposal visits
included). These names, fields and units are read by outside scripts: keep them.

The chain is the product's: :mod:`routing.instances` reader ->
:func:`routing.model.build_problem` -> :func:`routing.solve.solve` ->
:func:`routing.plan.to_plan` -> :func:`routing.verify.verify_plan`.

Fields
------
``instance``
    The file stem (``"102_stop"``, ``"C101"``, ``"X-n101-k25"``).
``vehicles``
    Routes that leave the depot (vehicles used; normally each serves customers).
``distance``
    Total distance in the instance's own unit and convention (WCVRPTW:
    Manhattan miles, 3 decimals; Solomon: DIMACS one-decimal-truncated arcs;
    CVRPLIB: rounded ``EUC_2D`` arcs), recomputed on the verifier's side
    (``routing.verify.plan_distance_m`` when it exists, else the sum of the
    instance matrix over the plan's legs), never taken from the solver.
    ``null`` only if no plan at all was produced.
``feasible``
    ``true`` exactly when ``violations`` is empty.
``violations``
    What :func:`routing.verify.verify_plan` reports, plus the benchmark's own
    completeness rules the product may legitimately relax (every customer
    served; for WCVRPTW every route's last visit before the depot is a
    disposal site). Long lists are cut after :data:`MAX_VIOLATIONS_PER_SOURCE`
    entries per source with a closing ``"... and N more"`` entry.
``time_s``
    Wall-clock seconds from reading the file to the verified plan.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, TextIO

from core.domain import Plan, StopKind
from core.errors import FleetError, InfeasiblePlanError
from routing.instances import Family, Instance, read_instance

__all__ = [
    "BENCH_KEYS",
    "MAX_VIOLATIONS_PER_SOURCE",
    "BenchRun",
    "benchmark_violations",
    "default_data_dir",
    "error_result",
    "plan_distance",
    "plan_routes",
    "run",
    "run_cli",
    "solve_instance",
    "write_solution",
]

BENCH_KEYS = ("instance", "vehicles", "distance", "feasible", "violations", "time_s")
"""The keys of the bench JSON object, in print order (a contract)."""

MAX_VIOLATIONS_PER_SOURCE = 50
"""Violations listed per source (verifier, benchmark rules) before ``... and N more``."""

PLAN_DAY = date(2000, 1, 3)
"""The (arbitrary) day benchmark plans are made for."""

DATA_ENV = "WASTEFLEET_BENCH_DATA"
"""Environment variable naming the benchmarks folder (default ``<repo>/../shared/benchmarks``)."""


def default_data_dir() -> Path:
    """The benchmarks folder: ``$WASTEFLEET_BENCH_DATA`` or ``../shared/benchmarks`` beside the repo."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


@dataclass(frozen=True, slots=True)
class BenchRun:
    """One solved instance: the contract dict, the solution routes and what made them."""

    result: dict[str, Any]
    """The bench JSON object (keys :data:`BENCH_KEYS`)."""
    routes: list[list[int]]
    """Routes as data-row positions, depot at both ends, disposal visits included."""
    instance: Instance
    plan: Plan | None


def _cap(items: list[str], limit: int = MAX_VIOLATIONS_PER_SOURCE) -> list[str]:
    if len(items) <= limit:
        return items
    return [*items[:limit], f"... and {len(items) - limit} more"]


def plan_routes(instance: Instance, plan: Plan) -> list[list[int]]:
    """The plan's routes as data-row positions (depot, collections and unloads in order, depot)."""
    index_of = instance.index_of
    return [
        [instance.row_of[index_of[stop.ref_id]] for stop in route.stops]
        for route in plan.routes
        if len(route.stops) > 2
    ]


def plan_distance(instance: Instance, plan: Plan) -> float:
    """Total plan distance in ``instance.dist_m`` units, computed on the verifier's side.

    Uses ``routing.verify.plan_distance_m`` when the verifier provides it
    (called with whichever of ``plan, district, time_s, dist_m, index_of`` it
    names), else sums the instance matrix over consecutive stops.
    """
    import routing.verify as verify

    fn = getattr(verify, "plan_distance_m", None)
    if callable(fn):
        available = {
            "plan": plan,
            "district": instance.district,
            "time_s": instance.time_s,
            "dist_m": instance.dist_m,
            "index_of": instance.index_of,
        }
        try:
            params = inspect.signature(fn).parameters
            required = [
                n
                for n, p in params.items()
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            ]
            if all(n in available for n in required):
                return float(fn(**{n: available[n] for n in params if n in available}))
        except (TypeError, ValueError):
            pass
    index_of = instance.index_of
    total = 0.0
    for route in plan.routes:
        for prev, stop in pairwise(route.stops):
            total += float(instance.dist_m[index_of[prev.ref_id], index_of[stop.ref_id]])
    return total


def benchmark_violations(instance: Instance, plan: Plan) -> list[str]:
    """The benchmark's own rules, beyond the product verifier's.

    - Every customer row is served (the product may leave points unserved
      with a reason; a benchmark solution may not).
    - WCVRPTW: every route's last visit before the depot is a disposal site
      (Kim et al. 2006: routes return empty).
    """
    out: list[str] = []
    index_of = instance.index_of
    served = {s.ref_id for r in plan.routes for s in r.stops if s.kind == StopKind.COLLECTION}
    reasons = {u.point_id: u.reason for u in plan.unserved}
    for p in instance.district.points:
        if p.id not in served:
            row = instance.row_of[index_of[p.id]]
            why = reasons.get(p.id, "not in any route")
            out.append(f"customer row {row} (file id {instance.file_ids[row]}) not served: {why}")
    if instance.family is Family.WCVRPTW:
        for route in plan.routes:
            stops = route.stops
            if any(s.kind == StopKind.COLLECTION for s in stops) and (
                len(stops) < 3 or stops[-2].kind != StopKind.UNLOAD
            ):
                out.append(
                    f"vehicle '{route.vehicle_id}': returns to the depot without a final disposal visit "
                    "(WCVRPTW routes must end empty)"
                )
    return out


def _solve_params(
    time_limit_s: float, workers: int | None, solution_limit: int | None, seed: int | None
) -> tuple[Any, list[str]]:
    """``SolveParams`` for the run, using ``workers``/``seed`` only if this build of it has them."""
    from routing.solve import SolveParams

    names = {f.name for f in dataclasses.fields(SolveParams)}
    kwargs: dict[str, Any] = {"time_limit_s": float(time_limit_s)}
    notes = []
    if solution_limit is not None:
        kwargs["solution_limit"] = solution_limit
    for name, value in (("workers", workers), ("seed", seed)):
        if value is None:
            continue
        if name in names:
            kwargs[name] = value
        else:
            notes.append(f"SolveParams has no '{name}' yet; ignoring {name}={value}")
    return SolveParams(**kwargs), notes


def solve_instance(
    instance: Instance,
    time_limit_s: float,
    *,
    workers: int | None = None,
    solution_limit: int | None = None,
    seed: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    log: TextIO | None = None,
    started: float | None = None,
) -> BenchRun:
    """Solve a read instance with the product chain; verify; build the bench result.

    Parameters
    ----------
    instance : Instance
        From :mod:`routing.instances`.
    time_limit_s : float
        Solver time limit (s).
    workers, seed : int, optional
        Passed to ``SolveParams`` when it supports them (a note goes to ``log`` otherwise).
    solution_limit : int, optional
        Stop after this many solutions (deterministic runs).
    progress : callable, optional
        ``progress(elapsed_s, best_cost)`` from the solver.
    log : file, optional
        Where notes go (stderr in the CLI); ``None`` = silent.
    started : float, optional
        ``time.perf_counter()`` when the run started (default: now).
    """
    from routing.model import build_problem
    from routing.plan import to_plan
    from routing.solve import solve
    from routing.verify import verify_plan

    t0 = time.perf_counter() if started is None else started
    params, notes = _solve_params(time_limit_s, workers, solution_limit, seed)
    for note in notes:
        if log is not None:
            print(f"bench: {note}", file=log)
    district = instance.district
    problem = build_problem(district, instance.time_s, instance.dist_m)
    coords = [(d.lat, d.lon) for d in district.depots]
    coords += [(f.lat, f.lon) for f in district.facilities]
    coords += [(p.lat, p.lon) for p in district.points]

    def leg(a: int, b: int) -> tuple[tuple[tuple[float, float], ...], float, float]:
        return (coords[a], coords[b]), float(instance.dist_m[a, b]), float(instance.time_s[a, b])

    try:
        assignment = solve(problem, params, progress=progress)
    except InfeasiblePlanError as exc:
        result = {
            "instance": instance.name,
            "vehicles": 0,
            "distance": None,
            "feasible": False,
            "violations": [f"no plan: {exc}"],
            "time_s": round(time.perf_counter() - t0, 2),
        }
        return BenchRun(result, [], instance, None)
    plan = to_plan(district, PLAN_DAY, problem, assignment, leg)
    violations = _cap(list(verify_plan(plan, district, instance.time_s, instance.dist_m, instance.index_of)))
    violations += _cap(benchmark_violations(instance, plan))
    routes = plan_routes(instance, plan)
    result = {
        "instance": instance.name,
        "vehicles": len(routes),
        "distance": instance.to_distance(plan_distance(instance, plan)),
        "feasible": not violations,
        "violations": violations,
        "time_s": round(time.perf_counter() - t0, 2),
    }
    return BenchRun(result, routes, instance, plan)


def write_solution(path: str | Path, routes: list[list[int]]) -> None:
    """Write ``{"routes": [[0, ..., 0], ...]}`` (data-row positions) to ``path``."""
    Path(path).write_text(json.dumps({"routes": routes}) + "\n", encoding="utf-8")


def run(
    family: Family | str,
    path: str | Path,
    time_limit_s: float,
    *,
    solution_path: str | Path | None = None,
    workers: int | None = None,
    solution_limit: int | None = None,
    seed: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    log: TextIO | None = None,
) -> BenchRun:
    """Read, solve, verify one instance file; optionally write the solution file.

    This is the function behind ``wastefleet bench`` and ``benchmarks/run_table.py``.
    The Numba kernels of the ruin-and-recreate start are compiled (or loaded
    from Numba's on-disk cache, about 0.5 s) before the clock starts: a first
    compile on a new machine takes about 20 s and is not part of the search.
    """
    from routing import rr_kernels

    rr_kernels.warm_up()
    t0 = time.perf_counter()
    instance = read_instance(family, path)
    if log is not None:
        d = instance.district
        print(
            f"bench: {instance.name}: {len(d.points)} customers, {len(d.facilities)} facilities, "
            f"{len(d.vehicles)} vehicles available, time limit {time_limit_s:g} s",
            file=log,
        )
    bench = solve_instance(
        instance,
        time_limit_s,
        workers=workers,
        solution_limit=solution_limit,
        seed=seed,
        progress=progress,
        log=log,
        started=t0,
    )
    if solution_path is not None:
        write_solution(solution_path, bench.routes)
    return bench


def error_result(instance: str, exc: BaseException, elapsed_s: float) -> dict[str, Any]:
    """The bench object of a run that failed: infeasible, the error as its only violation."""
    return {
        "instance": instance,
        "vehicles": 0,
        "distance": None,
        "feasible": False,
        "violations": [f"error: {type(exc).__name__}: {exc}"],
        "time_s": round(elapsed_s, 2),
    }


def _stderr_progress(stream: TextIO, every_s: float = 2.0) -> Callable[[float, float], None]:
    last = [-every_s]

    def report(elapsed_s: float, cost: float) -> None:
        if elapsed_s - last[0] >= every_s:
            last[0] = elapsed_s
            print(f"bench: {elapsed_s:7.1f} s  best cost {cost:,.3f}", file=stream, flush=True)

    return report


def run_cli(family: str, file: str, time_limit_s: float, solution: str | None, workers: int | None) -> int:
    """``wastefleet bench``: one JSON object on stdout, progress on stderr; exit 0 if it ran.

    Any failure still prints one JSON object (``feasible: false``, the error
    as the violation) and returns 1; the traceback goes to stderr.
    """
    err = sys.stderr
    t0 = time.perf_counter()
    try:
        bench = run(
            family,
            file,
            time_limit_s,
            solution_path=solution,
            workers=workers,
            progress=_stderr_progress(err),
            log=err,
        )
        result, status = bench.result, 0
    except (FleetError, OSError, ValueError, KeyError, IndexError, RuntimeError) as exc:
        traceback.print_exc(file=err)
        result, status = error_result(Path(file).stem, exc, time.perf_counter() - t0), 1
    sys.stdout.write(json.dumps({k: result[k] for k in BENCH_KEYS}) + "\n")
    sys.stdout.flush()
    return status
