"""The ``carp`` family of ``benchmarks/run_table.py``: gdb and val CARP files -> markdown tables.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run_table.py --time-limit 60 --families carp

Every file in ``<data>/carp/{gdb,val}`` goes through
:func:`routing.carp_bench.run_carp` (the function behind ``wastefleet bench
carp``); ``benchmarks/results/carp-<time>s.md`` gets one table per set with
vehicles (trips), cost (recomputed by the independent verifier), the best-known
cost, gap % and time, and the mean gap per set; the raw bench objects go to
``carp-<time>s.json``.

Best-known costs come from ``benchmarks/carp_bks.json``, copied from the
shared benchmarks README, where they are marked **unconfirmed** (recalled from
the literature; gdb and val are reported optimal there).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from routing.arc_local import warm_up
from routing.carp_bench import run_carp

BKS_FILE = Path(__file__).resolve().parent / "carp_bks.json"
SETS = ("gdb", "val")


def best_known() -> dict[str, dict[str, int]]:
    """``{set: {file stem: best-known cost}}`` from :data:`BKS_FILE`."""
    data = json.loads(BKS_FILE.read_text())
    return {s: {k: int(v) for k, v in data[s].items()} for s in SETS}


def carp_files(data: Path, name: str) -> list[Path]:
    """The ``.dat`` files of one set, in natural order (gdb1, gdb2, ..., 1A, 1B, ..., 10D)."""

    def key(p: Path) -> tuple[int, str]:
        m = re.search(r"(\d+)", p.stem)
        return (int(m.group(1)) if m else 0, p.stem)

    return sorted((data / "carp" / name).glob("*.dat"), key=key)


def _gap(cost: float | None, best: int | None) -> float | None:
    if cost is None or best is None or best <= 0:
        return None
    return 100.0 * (cost - best) / best


def render(time_limit_s: float, rows: dict[str, list[dict[str, Any]]], load: tuple[float, float]) -> str:
    """The markdown page: one table per set and the mean gaps."""
    lines = [
        f"# CARP (gdb, val) at {time_limit_s:g} s per instance",
        "",
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {os.cpu_count()} CPUs "
        f"(load average {load[0]:.1f} at start, {load[1]:.1f} at end; timings are noisy when shared).",
        "Cost = served edges + shortest-path deadheads, recomputed by `routing.arc_verify.verify_carp`; "
        "vehicles = trips. Best known: `benchmarks/carp_bks.json` (from the shared README, **unconfirmed**).",
        "",
    ]
    summary = []
    for name in SETS:
        if not rows.get(name):
            continue
        lines += [
            f"## {name}",
            "",
            "| instance | vehicles | cost | best known | gap % | feasible | time s |",
            "|---|---:|---:|---:|---:|---|---:|",
        ]
        gaps = []
        for r in rows[name]:
            gap = r["gap_pct"]
            if r["feasible"] and gap is not None:
                gaps.append(gap)
            cost = "-" if r["cost"] is None else r["cost"]
            best = "-" if r["best_known"] is None else r["best_known"]
            gap_text = "-" if gap is None else f"{gap:.2f}"
            ok = "yes" if r["feasible"] else "NO"
            cells = (r["instance"], r["vehicles"], cost, best, gap_text, ok, f"{r['time_s']:.1f}")
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        mean = statistics.fmean(gaps) if gaps else None
        at_best = sum(1 for g in gaps if g <= 1e-9)
        feasible = sum(1 for r in rows[name] if r["feasible"])
        mean_text = "-" if mean is None else f"{mean:.2f}"
        total = len(rows[name])
        lines += [
            "",
            f"Mean gap {mean_text} % over {len(gaps)} feasible of {total}; at best known: {at_best}.",
            "",
        ]
        summary.append(f"| {name} | {len(rows[name])} | {feasible} | {mean_text} | {at_best} |")
    lines += [
        "## Summary",
        "",
        "| set | instances | feasible | mean gap % | at best known |",
        "|---|---:|---:|---:|---:|",
        *summary,
        "",
    ]
    return "\n".join(lines)


def run_carp_family(
    data: Path, time_limit_s: float, out: Path, *, workers: int | None = None, only: set[str] | None = None
) -> Path | None:
    """Solve every gdb and val file (or those whose stem is in ``only``); write the table and raw JSON.

    Returns the markdown path, or ``None`` when no file was found.
    """
    bks = best_known()
    warm_up()  # compile the Numba kernels once, outside every instance's time budget
    rows: dict[str, list[dict[str, Any]]] = {}
    load_start = os.getloadavg()[0]
    for name in SETS:
        for path in carp_files(data, name):
            if only is not None and path.stem not in only:
                continue
            sys.stderr.write(f"== carp {name}/{path.name}\n")
            t0 = time.perf_counter()
            try:
                result = run_carp(path, time_limit_s, workers=workers, log=sys.stderr).result
            except Exception as exc:  # one broken run must not lose the table
                traceback.print_exc(file=sys.stderr)
                result = {
                    "instance": path.stem,
                    "cost": None,
                    "vehicles": 0,
                    "feasible": False,
                    "time_s": round(time.perf_counter() - t0, 2),
                    "violations": [f"error: {type(exc).__name__}: {exc}"],
                }
            sys.stderr.write(json.dumps(result) + "\n")
            best = bks[name].get(path.stem)
            rows.setdefault(name, []).append(
                {
                    **result,
                    "file": f"{name}/{path.name}",
                    "best_known": best,
                    "gap_pct": _gap(result["cost"], best),
                }
            )
    if not rows:
        return None
    out.mkdir(parents=True, exist_ok=True)
    stem = f"carp-{time_limit_s:g}s"
    md = out / f"{stem}.md"
    md.write_text(render(time_limit_s, rows, (load_start, os.getloadavg()[0])))
    (out / f"{stem}.json").write_text(json.dumps(rows, indent=1) + "\n")
    return md
