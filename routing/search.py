"""Parallel search driver: several differently configured searches at once, the best result kept.

:func:`routing.solve.solve` builds one :class:`Job` per worker (see
:meth:`routing.solve.SolveParams.portfolio`) and hands them here with the
function that runs one job (:func:`routing.solve.run_job`, a module-level
function so spawned processes can find it by name). Each job runs in a
*spawned* process; improvements are relayed to the caller's progress callback
only when they beat every worker's best so far, and the result with the fewest
unserved mandatory points, then the lowest objective, is returned.

This module knows nothing about OR-Tools: results only need ``dropped`` (location
indices of unserved points) and ``objective`` (objective units).
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import pickle
import queue
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from core.errors import InfeasiblePlanError
from routing.model import RoutingProblem, WarmStart

__all__ = ["GRACE_S", "Job", "Report", "WorkerDiedError", "rank", "run_parallel", "throttled"]

logger = logging.getLogger(__name__)

GRACE_S = 30.0
"""How long (s) after the deadline the driver still waits for a worker's result."""


class _Result(Protocol):
    @property
    def dropped(self) -> tuple[int, ...]: ...

    @property
    def objective(self) -> int: ...


R = TypeVar("R", bound=_Result)

Report = Callable[[float, int, float], None]
"""``report(elapsed_s, dropped mandatory points, objective)`` of a search's improving solution."""


@dataclass(frozen=True, slots=True)
class Job:
    """Everything one search needs; pickled to worker processes."""

    problem: RoutingProblem
    params: Any
    """The :class:`routing.solve.SolveParams` of this search (``workers == 1``)."""
    kept: tuple[int, ...]
    """Location indices of the points in the solver model."""
    ruled_out: dict[int, str]
    """Points the diagnosis left out, with the reason."""
    warm: WarmStart | None
    deadline: float
    """``time.time()`` by which the search must end."""
    t0: float
    """``time.time()`` when the solve started (progress reports elapsed from here)."""


class WorkerDiedError(RuntimeError):
    """A search process ended without a result (killed, or failed to start)."""


def rank(result: _Result, problem: RoutingProblem) -> tuple[int, int]:
    """Sort key of results: fewer dropped mandatory points first, then the objective."""
    mandatory_dropped = sum(1 for p in result.dropped if problem.penalty[p] is None)
    return mandatory_dropped, result.objective


def throttled(progress: Callable[[float, float], None] | None) -> Report | None:
    """A search report calling ``progress(elapsed_s, objective)`` (searches report improvements only)."""
    if progress is None:
        return None

    def report(elapsed_s: float, dropped: int, cost: float) -> None:
        progress(elapsed_s, cost)

    return report


def _worker(jobs_file: str, worker: int, run: Callable[[Job, Report | None], Any], messages: Any) -> None:
    """Process entry point: read job ``worker`` from the file, run it, send progress and the result back.

    The job travels through a file rather than the process arguments so the
    parent never blocks writing a large pickle to a child that fails to start.
    """
    try:
        with open(jobs_file, "rb") as f:
            job = pickle.load(f)[worker]

        def report(elapsed_s: float, dropped: int, best: float) -> None:
            messages.put(("progress", worker, elapsed_s, dropped, best))

        messages.put(("done", worker, run(job, report)))
    except Exception as e:  # sent to the parent, which decides
        messages.put(("error", worker, e))


def run_parallel(
    jobs: Sequence[Job],
    run: Callable[[Job, Report | None], R],
    progress: Callable[[float, float], None] | None,
) -> R:
    """Run ``jobs`` with ``run`` in spawned processes; the best result, progress relayed on improvements.

    ``run`` must be a module-level function (it is pickled by name). If no
    process could run at all (e.g. a script without the ``if __name__ ==
    "__main__":`` guard that ``spawn`` needs), the first job runs in this
    process with a quarter of the budget added.
    """
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    results: dict[int, R] = {}
    failures: dict[int, BaseException] = {}
    best = (math.inf, math.inf)
    callback_error: list[Exception] = []
    grace = jobs[0].deadline + GRACE_S
    with tempfile.TemporaryDirectory(prefix="wastefleet-solve-") as tmp:
        jobs_file = str(Path(tmp) / "jobs.pickle")
        with open(jobs_file, "wb") as f:
            pickle.dump(list(jobs), f, protocol=pickle.HIGHEST_PROTOCOL)
        procs = [
            ctx.Process(target=_worker, args=(jobs_file, i, run, messages), daemon=True)
            for i in range(len(jobs))
        ]
        for proc in procs:
            proc.start()
        try:
            while len(results) + len(failures) < len(jobs):
                try:
                    kind, worker, *rest = messages.get(timeout=0.2)
                except queue.Empty:
                    for i, proc in enumerate(procs):
                        if not proc.is_alive() and i not in results and i not in failures:
                            failures[i] = WorkerDiedError(
                                f"search worker {i} exited with code {proc.exitcode}"
                            )
                    if time.time() > grace:
                        break
                    continue
                if kind == "progress":
                    elapsed, dropped, cost = rest
                    if (dropped, cost) < best:
                        best = (dropped, cost)
                        if progress is not None and not callback_error:
                            try:
                                progress(elapsed, cost)
                            except Exception as e:
                                callback_error.append(e)
                elif kind == "done":
                    results[worker] = rest[0]
                else:
                    failures[worker] = rest[0]
        finally:
            for proc in procs:
                proc.join(timeout=5.0)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(timeout=5.0)
            messages.close()
            messages.cancel_join_thread()
    if callback_error:
        raise callback_error[0]
    for i, err in failures.items():
        logger.warning("search worker %d failed: %s", i, err)
    if results:
        problem = jobs[0].problem
        return min(results.values(), key=lambda a: rank(a, problem))
    errors = [failures[i] for i in sorted(failures)]
    if errors and all(isinstance(e, WorkerDiedError) for e in errors):
        logger.warning("no search process could run; solving in this process instead")
        job = jobs[0]
        spare = max(job.deadline, time.time() + 0.25 * (job.deadline - job.t0))
        return run(replace(job, deadline=spare), throttled(progress))
    first = errors[0] if errors else None
    if isinstance(first, Exception):
        raise first
    raise InfeasiblePlanError(["every search worker failed"])
