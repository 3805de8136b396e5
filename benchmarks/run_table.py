"""Run every benchmark instance at one time budget and write markdown tables to benchmarks/results/.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run_table.py --time-limit 60 --families solomon,cvrplib --pyvrp

Each instance in ``<data>/{wcvrptw,solomon,cvrplib}`` (default data folder:
``../shared/benchmarks`` beside the repository, or ``--data``) goes through
:func:`routing.bench.run` -- the function behind ``wastefleet bench`` -- and the
table ``benchmarks/results/<family>-<time>s.md`` gets one row per instance:
vehicles, distance (instance unit, verifier side), best published distance (and
vehicles), gap %, feasibility (independent verifier + benchmark rules) and time,
plus a mean-gap row. The raw bench JSON objects go to ``<family>-<time>s.json``.

With ``--pyvrp`` (``pip install -e '.[bench]'``) PyVRP solves the same instance
data -- built from the same reader, so the same arc convention -- at the same
time budget, side by side, where it can model the family (Solomon, CVRPLIB).
PyVRP cannot model WCVRPTW (no driver break, no daily route capacity or stop
limit, reloads only at depots); the table says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from routing.bench import default_data_dir, error_result, run
from routing.instances import Family, Instance, read_instance

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PYVRP_SEED = 1

PYVRP_WCVRPTW_NOTE = (
    "PyVRP is not run on WCVRPTW: it has no driver break, no daily route capacity and no per-route "
    "stop limit, and it reloads only at depots, so it cannot model this family's dump trips with lunch."
)


@dataclass(frozen=True, slots=True)
class PeerResult:
    """PyVRP's answer on one instance, recomputed in the instance's convention."""

    vehicles: int
    distance: float
    feasible: bool
    time_s: float
    note: str = ""


def instance_files(data: Path, family: Family) -> list[Path]:
    """The instance files of a family folder, smallest first."""
    folder = data / family.value
    pattern = {Family.WCVRPTW: "*_stop.txt", Family.SOLOMON: "*.txt", Family.CVRPLIB: "*.vrp"}[family]
    files = [p for p in folder.glob(pattern) if p.is_file()]

    def size_key(p: Path) -> tuple[int, str]:
        m = re.search(r"(\d+)", p.stem if family is not Family.CVRPLIB else p.stem.split("-n")[-1])
        return (int(m.group(1)) if m else 0, p.name)

    return sorted(files, key=size_key)


def _log(message: str) -> None:
    """Progress goes to stderr."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- PyVRP


def pyvrp_solve(instance: Instance, time_limit_s: float, seed: int = PYVRP_SEED) -> PeerResult:
    """Solve the instance's data with PyVRP (integer matrices from the same reader).

    Only for instances without facilities (Solomon, CVRPLIB): one depot, the
    district's fleet size and capacity, client windows and service times, the
    reader's integer distance and duration matrices.
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    if not hasattr(pyvrp, "Location"):
        raise RuntimeError(
            "the PyVRP adapter uses the ProblemData(locations, clients, ...) API of pyvrp >= 0.14; "
            "upgrade with .venv/bin/pip install -U pyvrp"
        )
    d = instance.district
    if d.facilities:
        raise ValueError("PyVRP peer: instances with facilities are not supported")
    veh = d.vehicles[0]
    locs = [pyvrp.Location(float(x), float(y)) for x, y in instance.xy]
    depots = [pyvrp.Depot(0, tw_early=veh.shift.start_s, tw_late=veh.shift.end_s)]
    clients = []
    for i, p in enumerate(d.points, start=1):
        kwargs: dict[str, Any] = {}
        if p.time_windows:
            kwargs = {"tw_early": p.time_windows[0].start_s, "tw_late": p.time_windows[-1].end_s}
        clients.append(
            pyvrp.Client(i, delivery=[round(p.expected_l)], service_duration=int(p.service_s), **kwargs)
        )
    vtype = pyvrp.VehicleType(
        num_available=len(d.vehicles),
        capacity=[int(veh.capacity_l)],
        tw_early=veh.shift.start_s,
        tw_late=veh.shift.end_s,
    )
    dist = np.rint(instance.dist_m).astype(np.int64)
    dur = np.rint(instance.time_s).astype(np.int64)
    data = pyvrp.ProblemData(locs, clients, depots, [vtype], [dist], [dur])
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    best = result.best
    routes = []
    for route in best.routes():
        rows = [instance.row_of[0]]
        rows += [instance.row_of[clients[s.idx].location] for s in route if s.is_client()]
        rows.append(instance.row_of[0])
        routes.append(rows)
    served = sorted(r for route in routes for r in route[1:-1])
    complete = served == sorted(instance.customer_rows())
    distance = instance.routes_distance(routes)
    own = instance.to_distance(float(best.distance()))
    note = "" if abs(own - distance) < 1e-6 else f"PyVRP says {own}, recomputed {distance}"
    return PeerResult(
        vehicles=best.num_routes(),
        distance=distance,
        feasible=bool(best.is_feasible()) and complete,
        time_s=round(float(result.runtime), 2),
        note=note,
    )


# --------------------------------------------------------------------------- table


def _gap(distance: float | None, best: float | None) -> float | None:
    if distance is None or best is None or best <= 0:
        return None
    return 100.0 * (distance - best) / best


def _fmt(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:.{decimals}f}"


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def render_table(
    family: Family,
    time_limit_s: float,
    rows: list[tuple[Instance, dict[str, Any], PeerResult | None]],
    with_peer: bool,
    load: tuple[float, float] | None = None,
) -> str:
    """The markdown report of one family at one budget (PyVRP columns where PyVRP can model it)."""
    peer_note = with_peer and family is Family.WCVRPTW
    with_peer = with_peer and family is not Family.WCVRPTW
    decimals = 1 if family is not Family.CVRPLIB else 0
    head = ["instance", "vehicles", "distance", "best published (veh)"]
    if family is Family.WCVRPTW:
        head.append("fewest veh published (dist)")
    head += ["gap %", "feasible", "time s"]
    if with_peer:
        head += ["PyVRP veh", "PyVRP distance", "PyVRP gap %", "PyVRP feasible", "PyVRP time s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    gaps: list[float] = []
    peer_gaps: list[float] = []
    n_feasible = n_peer_feasible = 0
    notes: list[str] = []
    for inst, res, peer in rows:
        bk = inst.best_known
        best = bk.distance if bk else None
        gap = _gap(res["distance"], best)
        if res["feasible"]:
            n_feasible += 1
            if gap is not None:
                gaps.append(gap)
        cells = [
            inst.name,
            str(res["vehicles"]),
            _fmt(res["distance"], max(decimals, 1) if family is Family.WCVRPTW else decimals),
            "-" if bk is None else f"{bk.distance:g} ({bk.vehicles if bk.vehicles is not None else '?'})",
        ]
        if family is Family.WCVRPTW:
            few = (
                "-"
                if bk is None or bk.fewest_vehicles is None
                else f"{bk.fewest_vehicles} ({bk.fewest_vehicles_distance:g})"
            )
            cells.append(few)
        cells += [
            _fmt(gap, 2) if res["feasible"] else "- (infeasible)",
            "yes" if res["feasible"] else f"no ({len(res['violations'])} violations)",
            f"{res['time_s']:.1f}",
        ]
        if with_peer:
            if peer is None:
                cells += ["n/a", "n/a", "n/a", "n/a", "n/a"]
            else:
                pgap = _gap(peer.distance, best) if peer.feasible else None
                if peer.feasible:
                    n_peer_feasible += 1
                    if pgap is not None:
                        peer_gaps.append(pgap)
                cells += [
                    str(peer.vehicles),
                    _fmt(peer.distance, decimals),
                    _fmt(pgap, 2),
                    "yes" if peer.feasible else "no",
                    f"{peer.time_s:.1f}",
                ]
                if peer.note:
                    notes.append(f"{inst.name}: {peer.note}")
        if not res["feasible"] and res["violations"]:
            notes.append(f"{inst.name}: first violation: {res['violations'][0]}")
        lines.append("| " + " | ".join(cells) + " |")
    mean = _mean(gaps)
    summary = ["**mean**", "", "", ""]
    if family is Family.WCVRPTW:
        summary.append("")
    summary += [
        f"**{_fmt(mean, 2)}** ({len(gaps)} of {len(rows)} feasible with a reference)",
        f"{n_feasible}/{len(rows)}",
        "",
    ]
    if with_peer:
        summary += ["", "", f"**{_fmt(_mean(peer_gaps), 2)}**", f"{n_peer_feasible}/{len(rows)}", ""]
    lines.append("| " + " | ".join(summary) + " |")

    unit = rows[0][0].distance_convention if rows else ""
    out = [
        f"# {family.value} at {time_limit_s:g} s per instance",
        "",
        f"- run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "- wastefleet: `routing.bench.run` (the `wastefleet bench` chain: reader -> build_problem -> "
        "OR-Tools solve with default SolveParams -> to_plan -> independent verifier)",
        f"- distance: {unit}; gap % = 100 x (distance - best published) / best published; the mean is "
        "over feasible runs only",
        "- feasible: no violation from routing.verify.verify_plan and the benchmark rules "
        "(every customer served; WCVRPTW routes end with a disposal visit)",
    ]
    if peer_note:
        out.append(f"- {PYVRP_WCVRPTW_NOTE}")
    if with_peer:
        out.append(
            f"- PyVRP: `pyvrp.solve`, MaxRuntime({time_limit_s:g}), seed {PYVRP_SEED}, on the same "
            "integer matrices from the same reader; its distance is recomputed from its routes"
        )
    out += ["", *lines, ""]
    if notes:
        out += ["Notes:", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(out)


def raw_row(inst: Instance, res: dict[str, Any], peer: PeerResult | None) -> dict[str, Any]:
    """One JSON record: the bench object plus reference, gap and PyVRP's answer."""
    bk = inst.best_known
    best = bk.distance if bk else None
    return {
        **res,
        "best_known": best,
        "best_known_vehicles": bk.vehicles if bk else None,
        "gap_pct": _gap(res["distance"], best),
        "pyvrp": None
        if peer is None
        else {
            "vehicles": peer.vehicles,
            "distance": peer.distance,
            "feasible": peer.feasible,
            "time_s": peer.time_s,
            "gap_pct": _gap(peer.distance, best),
        },
    }


def render_summary(out: Path, time_limit_s: float) -> str | None:
    """Mean gaps per family (and Solomon + CVRPLIB together) from the ``<family>-<t>s.json`` files."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for family in Family:
        path = out / f"{family.value}-{time_limit_s:g}s.json"
        if path.is_file():
            groups[family.value] = json.loads(path.read_text())
    if not groups:
        return None
    vrp = [r for f in (Family.SOLOMON.value, Family.CVRPLIB.value) for r in groups.get(f, [])]
    if Family.SOLOMON.value in groups and Family.CVRPLIB.value in groups:
        groups["solomon + cvrplib"] = vrp
    lines = [
        f"# Summary at {time_limit_s:g} s per instance",
        "",
        "Mean gap % to the best published distance over feasible runs (PyVRP: same budget, same data).",
        "",
        "| family | instances | feasible | mean gap % | PyVRP feasible | PyVRP mean gap % |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows in groups.items():
        ours = [r["gap_pct"] for r in rows if r["feasible"] and r.get("gap_pct") is not None]
        peers = [r["pyvrp"] for r in rows if r.get("pyvrp")]
        peer_gaps = [p["gap_pct"] for p in peers if p["feasible"] and p.get("gap_pct") is not None]
        lines.append(
            f"| {name} | {len(rows)} | {sum(1 for r in rows if r['feasible'])} | {_fmt(_mean(ours), 2)} | "
            + (
                f"{sum(1 for p in peers if p['feasible'])} | {_fmt(_mean(peer_gaps), 2)} |"
                if peers
                else "n/a | n/a |"
            )
        )
    return "\n".join([*lines, ""])


def main(argv: list[str] | None = None) -> int:
    """Run the table(s); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, required=True, help="solver time limit per instance (s)")
    parser.add_argument(
        "--families", default="wcvrptw,solomon,cvrplib", help="comma-separated families (also: carp)"
    )
    parser.add_argument("--pyvrp", action="store_true", help="also run PyVRP at the same budget")
    parser.add_argument(
        "--data", type=Path, default=None, help="benchmarks folder (default ../shared/benchmarks)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    parser.add_argument("--workers", type=int, default=None, help="solver workers (if supported)")
    parser.add_argument("--only", default=None, help="comma-separated instance names to run (default all)")
    args = parser.parse_args(argv)
    data = args.data or default_data_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    for name in [f.strip() for f in args.families.split(",") if f.strip()]:
        if name == "carp":  # arc routing (gdb, val): its own table, see benchmarks/carp_table.py
            from carp_table import run_carp_family

            md = run_carp_family(data, args.time_limit, args.out, workers=args.workers, only=only)
            _log(f"wrote {md}" if md else f"no carp instances under {data}")
            continue
        family = Family(name)
        rows: list[tuple[Instance, dict[str, Any], PeerResult | None]] = []
        load_start = os.getloadavg()[0]
        for path in instance_files(data, family):
            if only is not None and path.stem not in only:
                continue
            _log(f"== {family.value} {path.name}")
            instance = read_instance(family, path)
            t0 = time.perf_counter()
            try:
                result = run(family, path, args.time_limit, workers=args.workers, log=sys.stderr).result
            except Exception as exc:  # one broken run must not lose the table
                traceback.print_exc(file=sys.stderr)
                result = error_result(path.stem, exc, time.perf_counter() - t0)
            _log(json.dumps(result))
            peer = None
            if args.pyvrp and family is not Family.WCVRPTW:
                t0 = time.perf_counter()
                peer = pyvrp_solve(instance, args.time_limit)
                _log(f"   PyVRP: {peer} ({time.perf_counter() - t0:.1f} s)")
            rows.append((instance, result, peer))
        if not rows:
            _log(f"no {family.value} instances under {data}")
            continue
        stem = f"{family.value}-{args.time_limit:g}s"
        (args.out / f"{stem}.md").write_text(
            render_table(family, args.time_limit, rows, args.pyvrp, (load_start, os.getloadavg()[0]))
        )
        raw = [raw_row(inst, res, peer) for inst, res, peer in rows]
        (args.out / f"{stem}.json").write_text(json.dumps(raw, indent=1) + "\n")
        _log(f"wrote {args.out / (stem + '.md')}")
    summary = render_summary(args.out, args.time_limit)
    if summary is not None:
        (args.out / f"summary-{args.time_limit:g}s.md").write_text(summary)
        _log(f"wrote {args.out / f'summary-{args.time_limit:g}s.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
