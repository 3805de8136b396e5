"""``wastefleet bench carp``: the JSON contract, the --solution format and the recomputed cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from routing.arc_verify import verify_carp
from routing.bench import default_data_dir
from routing.carp import read_carp
from routing.carp_bench import run_carp

GDB19 = default_data_dir() / "carp" / "gdb" / "gdb19.dat"
REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = ["instance", "cost", "vehicles", "feasible", "time_s", "violations"]
"""The bench JSON keys, in order, as outside scripts read them (spelled out, not imported)."""


def test_bench_carp_cli_prints_one_json_object_and_writes_the_solution(tmp_path: Path) -> None:
    out = tmp_path / "sol.json"
    cmd = [
        sys.executable,
        "-m",
        "api.cli",
        "bench",
        "carp",
        str(GDB19),
        "--time-limit",
        "2",
        "--workers",
        "1",
    ]
    proc = subprocess.run(
        [*cmd, "--solution", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert list(result) == CONTRACT_KEYS
    assert result["instance"] == "gdb19"
    assert result["feasible"] is True
    assert result["violations"] == []
    assert isinstance(result["cost"], int)
    assert isinstance(result["vehicles"], int)
    assert 0 < result["time_s"] < 60

    inst = read_carp(GDB19)
    routes = json.loads(out.read_text())["routes"]
    assert len(routes) == result["vehicles"]
    pairs = [tuple(p) for route in routes for p in route]
    assert all(len(p) == 2 and min(p) >= 1 and max(p) <= inst.n_vertices for p in pairs)  # 1-based file nodes
    assert sorted(tuple(sorted(p)) for p in pairs) == sorted(
        (min(e.u, e.v), max(e.u, e.v)) for e in inst.required
    )
    check = verify_carp(inst, routes)
    assert check.feasible
    assert check.cost == result["cost"]
    assert result["cost"] >= inst.total_cost


def test_bench_carp_cli_error_still_prints_one_json_object(tmp_path: Path) -> None:
    bad = tmp_path / "broken.dat"
    bad.write_text("NOMBRE : broken\nVERTICES : 3\n")
    cmd = [sys.executable, "-m", "api.cli", "bench", "carp", str(bad), "--time-limit", "1"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert list(result) == CONTRACT_KEYS
    assert result["feasible"] is False
    assert result["cost"] is None
    assert "ARISTAS_REQ" in result["violations"][0] or "missing" in result["violations"][0]


def test_run_carp_is_deterministic_on_a_solution_limit() -> None:
    a = run_carp(GDB19, 10.0, workers=1, solution_limit=30)
    b = run_carp(GDB19, 10.0, workers=1, solution_limit=30)
    assert a.routes == b.routes
    assert a.result["cost"] == b.result["cost"]
    assert a.result["feasible"]


def test_two_workers_run_in_parallel_processes_and_agree_with_the_verifier() -> None:
    run = run_carp(GDB19, 20.0, workers=2, solution_limit=20)
    assert run.result["feasible"]
    assert run.solution is not None
    assert run.result["cost"] == run.solution.distance
