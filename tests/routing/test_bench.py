"""Tests of routing.bench and ``wastefleet bench``: the JSON contract, the solution file, the rules.

Solves stop on a solution limit or a time limit of a second or two, so the module runs in seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.domain import Plan, PlanStop, Route, StopKind
from routing.bench import (
    PLAN_DAY,
    benchmark_violations,
    default_data_dir,
    plan_distance,
    run,
)
from routing.instances import read_solomon, read_wcvrptw

DATA = default_data_dir()
REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = ["instance", "vehicles", "distance", "feasible", "violations", "time_s"]
"""The bench JSON keys, in order, as outside scripts read them (spelled out, not imported)."""


def small_solomon(tmp_path: Path, customers: int = 12) -> Path:
    """C101 cut to its depot and first ``customers`` customers (still a valid Solomon file)."""
    lines = (DATA / "solomon" / "C101.txt").read_text().splitlines()
    out, seen = [], 0
    for line in lines:
        tokens = line.split()
        if len(tokens) == 7 and all(t.replace(".", "").isdigit() for t in tokens):
            if seen > customers:
                continue
            seen += 1
        out.append(line)
    path = tmp_path / "C101-12.txt"
    path.write_text("\n".join(out) + "\n")
    return path


def check_routes(routes: list[list[int]], customer_rows: tuple[int, ...], n_rows: int) -> None:
    assert routes, "no route"
    for r in routes:
        assert r[0] == 0
        assert r[-1] == 0
        assert len(r) > 2
        assert all(0 <= x < n_rows for x in r)
    visited = sorted(x for r in routes for x in r[1:-1] if x in set(customer_rows))
    assert visited == sorted(customer_rows)


def test_bench_solomon_cli_end_to_end(tmp_path):
    """`wastefleet bench solomon FILE --time-limit 1 --solution OUT` in a subprocess prints exactly
    one JSON line with exactly the contract keys, progress only on stderr, and writes routes that
    start and end at row 0 and visit every customer row once; the printed distance is the DIMACS
    distance of those routes."""
    instance = small_solomon(tmp_path)
    solution = tmp_path / "out.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "bench",
            "solomon",
            str(instance),
            "--time-limit",
            "1",
            "--solution",
            str(solution),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert list(result) == CONTRACT_KEYS
    assert result["instance"] == "C101-12"
    assert result["feasible"] is True
    assert result["violations"] == []
    assert isinstance(result["time_s"], float)
    assert "bench:" in proc.stderr
    routes = json.loads(solution.read_text())["routes"]
    assert list(json.loads(solution.read_text())) == ["routes"]
    inst = read_solomon(instance)
    check_routes(routes, inst.customer_rows(), inst.n_rows)
    assert result["vehicles"] == len(routes)
    assert result["distance"] == inst.routes_distance(routes)


def test_bench_cli_error_still_prints_one_json_object(tmp_path):
    """A missing file still gives one JSON object (feasible false, the error as violation), exit 1."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "bench",
            "cvrplib",
            str(tmp_path / "nope.vrp"),
            "--time-limit",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()
    result = json.loads(line)
    assert list(result) == CONTRACT_KEYS
    assert result["feasible"] is False
    assert "nope.vrp" in result["violations"][0]


def test_bench_run_c101_distance_is_recomputed_and_verified(tmp_path):
    """In process on C101 (solution-limited): the result's distance equals the instance's DIMACS
    distance of the written routes, at least the BKS, and the plan passes the verifier."""
    out = tmp_path / "sol.json"
    bench = run("solomon", DATA / "solomon" / "C101.txt", 10.0, solution_limit=50, solution_path=out)
    inst = bench.instance
    routes = json.loads(out.read_text())["routes"]
    assert routes == bench.routes
    check_routes(routes, inst.customer_rows(), inst.n_rows)
    assert bench.result["feasible"] is True
    assert bench.result["distance"] == inst.routes_distance(routes) >= 827.3
    assert bench.plan is not None
    assert inst.to_distance(plan_distance(inst, bench.plan)) == bench.result["distance"]


def test_bench_wcvrptw_reports_instead_of_crashing(tmp_path):
    """WCVRPTW 102 solves end to end with a short limit: one result with the contract keys,
    `feasible` exactly when there is no violation (before the unload-trip model lands it is false,
    with the reasons), and every written route runs from row 0 to row 0 over valid rows, serving no
    customer twice."""
    out = tmp_path / "102.json"
    bench = run("wcvrptw", DATA / "wcvrptw" / "102_stop.txt", 3.0, solution_path=out)
    result = bench.result
    assert list(result) == CONTRACT_KEYS
    assert result["feasible"] is (not result["violations"])
    if not result["feasible"]:
        assert all(isinstance(v, str) and v for v in result["violations"])
    routes = json.loads(out.read_text())["routes"]
    inst = bench.instance
    customers = set(inst.customer_rows())
    served = [x for r in routes for x in r[1:-1] if x in customers]
    assert len(served) == len(set(served))
    for r in routes:
        assert (r[0], r[-1]) == (0, 0)
        assert all(0 <= x < inst.n_rows for x in r)
    if result["distance"] is not None:
        assert result["distance"] == pytest.approx(inst.routes_distance(routes), abs=1e-3)
    if result["feasible"]:
        assert len(served) == len(customers)
        assert result["vehicles"] <= len(inst.district.vehicles)


def _route(inst, vehicle_id: str, stops: list[tuple[StopKind, str]]) -> Route:
    """A plan route over the instance's locations, leg distances from its matrix."""
    index_of = inst.index_of
    out = []
    for k, (kind, ref) in enumerate(stops):
        leg = float(inst.dist_m[index_of[stops[k - 1][1]], index_of[ref]]) if k else 0.0
        out.append(
            PlanStop(
                kind=kind,
                ref_id=ref,
                lat=0.0,
                lon=0.0,
                arrival_s=0,
                start_s=0,
                departure_s=0,
                load_kg=0.0,
                load_l=0.0,
                leg_distance_m=leg,
            )
        )
    return Route(vehicle_id, tuple(out))


def test_benchmark_rules_flag_unserved_customers_and_missing_final_dump():
    """The benchmark rules the product may relax are enforced: a customer left out is a violation
    (naming its data row), and a WCVRPTW route whose last visit before the depot is not a disposal
    site is one; a route ending with an unload is not. The plan distance sums the matrix legs."""
    inst = read_wcvrptw(DATA / "wcvrptw" / "102_stop.txt")
    first, second = inst.district.points[0], inst.district.points[1]
    fac = inst.district.facilities[0]
    start, end = (StopKind.DEPOT_START, "d0"), (StopKind.DEPOT_END, "d0")
    no_dump = _route(inst, "v01", [start, (StopKind.COLLECTION, first.id), end])
    with_dump = _route(inst, "v02", [start, (StopKind.COLLECTION, second.id), (StopKind.UNLOAD, fac.id), end])
    plan = Plan(district=inst.name, day=PLAN_DAY, routes=(no_dump, with_dump))
    found = benchmark_violations(inst, plan)
    dump_rules = [v for v in found if "final disposal" in v]
    assert len(dump_rules) == 1
    assert "v01" in dump_rules[0]
    unserved = [v for v in found if "not served" in v]
    assert len(unserved) == len(inst.district.points) - 2
    assert any(v.startswith("customer row 5 ") for v in unserved)
    assert not any(v.startswith("customer row 3 ") for v in unserved)
    legs = [(0, 3), (3, 0), (0, 4), (4, 1), (1, 0)]
    assert plan_distance(inst, plan) == pytest.approx(sum(inst.dist_m[a, b] for a, b in legs))
