"""The ``wastefleet`` command line: ``demo``, ``serve``, ``bench`` and ``evaluate``.

Run ``wastefleet --help`` or ``wastefleet COMMAND --help`` for the options.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli_enforcement import add_parsers as add_enforcement_parsers
from core.errors import FleetError
from core.settings import Settings

if TYPE_CHECKING:
    from scheduler.demo import DemoResult

console = Console()
if not console.is_terminal:  # piped or in CI: wide enough for the summary table
    console = Console(width=150)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from core.store import Store
    from routing.solve import SolveParams
    from scheduler.demo import STEPS, run_demo

    day = date.fromisoformat(args.day) if args.day else date.today() + timedelta(days=1)
    output = Path(args.output) if args.output else settings.output_dir
    params = SolveParams(time_limit_s=args.time_limit)
    started = time.perf_counter()
    with Store.open(settings.sqlalchemy_url) as store:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        with progress:
            steps = progress.add_task("demo", total=len(STEPS), info="")
            solver = progress.add_task("solver", total=args.time_limit, info="", visible=False)
            best = [float("inf")]

            def step(name: str) -> None:
                done = STEPS.index(name)
                progress.update(steps, completed=done, description=f"demo: {name}")
                progress.update(solver, visible=name == STEPS[2])

            def on_solution(elapsed_s: float, cost: float) -> None:
                if cost < best[0]:
                    best[0] = cost
                    info = f"best cost {cost:,.0f}"
                    progress.update(solver, completed=min(elapsed_s, args.time_limit), info=info)

            result = run_demo(
                osm_file=Path(args.osm) if args.osm else settings.osm_file,
                cache_dir=settings.cache_dir,
                store=store,
                output_dir=output,
                day=day,
                params=params,
                seed=args.seed,
                n_points=args.points,
                district_file=Path(args.district) if args.district else None,
                step=step,
                solver_progress=on_solution,
                sweep_time_limit_s=args.sweep_time_limit,
            )
            progress.update(steps, completed=len(STEPS), description="demo: done")
            progress.update(solver, completed=args.time_limit)
    _print_summary(result, time.perf_counter() - started)
    swept_ok = all(not r.violations for r in result.cleaning.values())
    return 1 if result.planned.violations or not swept_ok else 0


def _print_summary(result: DemoResult, elapsed_s: float) -> None:
    kpis = result.planned.kpis
    streams = sorted({s for k in kpis["vehicles"].values() for s in k["kg_by_stream"]})
    alerts_by_vehicle: dict[str, int] = {}
    for a in result.alerts:
        alerts_by_vehicle[a.vehicle_id] = alerts_by_vehicle.get(a.vehicle_id, 0) + 1
    table = Table(title=f"Plan {result.plan_id}: {result.district.name}, {result.planned.plan.day}")
    for col in ("vehicle", "stops", "km", "hours", "load %", *(f"t {s}" for s in streams), "alerts"):
        table.add_column(col, justify="left" if col == "vehicle" else "right")
    rows = [*kpis["vehicles"].items(), ("TOTAL", kpis["total"])]
    for vid, k in rows:
        alerts = len(result.alerts) if vid == "TOTAL" else alerts_by_vehicle.get(vid, 0)
        table.add_row(
            vid,
            str(k["stops"]),
            f"{k['km']:.1f}",
            f"{k['hours']:.2f}",
            f"{100 * k['kg_utilisation']:.0f}",
            *(f"{k['kg_by_stream'].get(s, 0.0) / 1000:.2f}" for s in streams),
            str(alerts),
        )
    console.print(table)
    plan = result.planned.plan
    console.print(
        f"vehicles used: {len(plan.routes)} of {len(result.planned.problem.vehicles)}; "
        f"points served: {sum(len(r.collections) for r in plan.routes)} of {len(result.district.points)}; "
        f"unserved: {len(plan.unserved)}"
    )
    for u in plan.unserved:
        console.print(f"  unserved {u.point_id}: {u.reason}")
    verdict = (
        "0 violations" if not result.planned.violations else f"{len(result.planned.violations)} violations"
    )
    console.print(f"independent verifier: {verdict}")
    for v in result.planned.violations[:20]:
        console.print(f"  [red]{v}[/red]")
    for a in result.alerts:
        figures = ", ".join(f"{k}={v:.0f}" for k, v in a.measured.items() if isinstance(v, int | float))
        where = f" at stop {a.stop_id}" if a.stop_id else ""
        console.print(f"alert {a.type.value} {a.vehicle_id}{where}: {figures}")
    console.print(
        f"stored: plan {result.plan_id}, {result.positions_stored} new positions, "
        f"{result.alerts_stored} new alerts"
    )
    _print_street_cleaning(result)
    for name, path in result.files.items():
        console.print(f"wrote {name}: {path}")
    console.print(f"done in {elapsed_s:.1f} s")


_DONE = {"sweep": "swept", "wash": "washed"}


def _print_street_cleaning(result: DemoResult) -> None:
    """One line per sweeping/washing plan (coverage, km swept and deadheaded), then its vehicles."""
    for activity, r in result.cleaning.items():
        p = r.plan
        by_class = ", ".join(f"{k} {100 * v:.1f} %" for k, v in p.coverage_by_class().items())
        console.print(
            f"{activity}: coverage {100 * p.coverage():.1f} % ({by_class or 'nothing due'}); "
            f"{p.swept_m / 1000:.1f} km {_DONE.get(activity, activity)}, "
            f"{p.deadhead_m / 1000:.1f} km deadhead; "
            f"{len(p.routes)} vehicle(s); {len(p.left_out)} pass(es) left out; "
            f"verifier: {len(r.violations)} violation(s)"
        )
        for v in r.violations[:10]:
            console.print(f"  [red]{v}[/red]")
        for route in p.routes:
            console.print(
                f"  {route.vehicle_id}: {len(route.services)} segments, {route.swept_m / 1000:.1f} km + "
                f"{route.deadhead_m / 1000:.1f} km deadhead, "
                f"{route.start_s / 3600:.2f}-{route.end_s / 3600:.2f} h, "
                f"{route.dumps} dump(s), {route.refills} refill(s)"
            )
        reasons: dict[str, int] = {}
        for t in p.left_out:
            reasons[t.reason] = reasons.get(t.reason, 0) + 1
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:5]:
            console.print(f"  left out {n}: {reason}")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.main import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    if args.family == "carp":
        from routing.carp_bench import run_carp_cli

        return run_carp_cli(args.file, args.time_limit, args.solution, args.workers)
    from routing.bench import run_cli

    return run_cli(args.family, args.file, args.time_limit, args.solution, args.workers)


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from core.roads import RoadNetwork
    from telematics.enforcement_eval import evaluate_enforcement
    from telematics.evaluate import evaluate_telematics

    network = RoadNetwork.load(Path(args.osm) if args.osm else settings.osm_file, settings.cache_dir)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    evaluate = evaluate_enforcement if args.target == "enforcement" else evaluate_telematics
    scores = {k: v.as_dict() for k, v in evaluate(network, seeds).items()}
    if args.json:
        sys.stdout.write(json.dumps(scores) + "\n")
        return 0
    table = Table(
        title=f"{args.target} checks over {args.seeds} simulated days (seeds {seeds.start}-{seeds.stop - 1})"
    )
    for col in ("alert type", "precision", "recall", "true pos.", "false pos.", "false neg."):
        table.add_column(col, justify="left" if col == "alert type" else "right")
    for kind, s in scores.items():
        table.add_row(
            kind,
            f"{s['precision']:.3f}",
            f"{s['recall']:.3f}",
            str(s["true_positives"]),
            str(s["false_positives"]),
            str(s["false_negatives"]),
        )
    console.print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wastefleet`` command."""
    parser = argparse.ArgumentParser(prog="wastefleet", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="plan, simulate and police one day on the embedded default city")
    demo.add_argument("--seed", type=int, default=7, help="seed of district, detour and GPS noise")
    demo.add_argument("--points", type=int, default=300, help="number of collection points")
    demo.add_argument("--time-limit", type=float, default=30.0, help="solver time limit (s)")
    demo.add_argument(
        "--sweep-time-limit", type=float, default=8.0, help="time limit per street-cleaning solve (s)"
    )
    demo.add_argument("--day", help="planned day, YYYY-MM-DD (default: tomorrow)")
    demo.add_argument("--output", help="output folder (default: settings output_dir)")
    demo.add_argument("--osm", help="OSM XML road network file (default: the embedded Baltimore extract)")
    demo.add_argument("--district", help="district JSON file to plan instead of a generated one")
    serve = sub.add_parser("serve", help="start the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    bench = sub.add_parser(
        "bench", help="solve one benchmark instance file; print one JSON object (progress on stderr)"
    )
    bench.add_argument(
        "family", choices=("wcvrptw", "solomon", "cvrplib", "carp"), help="instance file format"
    )
    bench.add_argument("file", help="instance file")
    bench.add_argument("--time-limit", type=float, required=True, help="solver time limit (s)")
    bench.add_argument(
        "--solution",
        help='write {"routes": [[0, ..., 0], ...]} (data-row positions; carp: [[[from, to], ...], ...]) here',
    )
    bench.add_argument("--workers", type=int, help="parallel solver workers (if the solver supports them)")
    evaluate = sub.add_parser("evaluate", help="measure a checker against labelled simulated days")
    evaluate.add_argument("target", choices=("telematics", "enforcement"), help="what to evaluate")
    evaluate.add_argument("--seeds", type=int, default=20, help="number of simulated days")
    evaluate.add_argument("--first-seed", type=int, default=0, help="seed of the first day")
    evaluate.add_argument("--osm", help="OSM XML road network file (default: the embedded Baltimore extract)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(enforcement_handlers=add_enforcement_parsers(sub))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wastefleet`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    settings = Settings()
    commands = {"demo": _demo, "serve": _serve, "bench": _bench, "evaluate": _evaluate}
    commands |= args.enforcement_handlers
    try:
        return commands[args.command](args, settings)
    except FleetError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
