"""routing.arc_verify: the CARP checker accepts a known-good solution and catches each kind of break."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from routing.arc_model import ArcProblem, ArcTask, ArcVehicle
from routing.arc_solve import solve_arc
from routing.arc_verify import floyd_warshall, verify_arc, verify_carp
from routing.bench import default_data_dir
from routing.carp import read_carp
from routing.solve import SolveParams

GDB19 = default_data_dir() / "carp" / "gdb" / "gdb19.dat"


@pytest.fixture(scope="module")
def inst():  # type: ignore[no-untyped-def]
    return read_carp(GDB19)


def one_edge_per_route(inst) -> list[list[list[int]]]:  # type: ignore[no-untyped-def]
    return [[[e.u, e.v]] for e in inst.required]


def test_one_route_per_edge_is_feasible_and_costed_by_hand(inst) -> None:  # type: ignore[no-untyped-def]
    check = verify_carp(inst, one_edge_per_route(inst))
    d = inst.dist
    depot = inst.depot - 1
    expected = sum(d[depot, e.u - 1] + e.cost + d[e.v - 1, depot] for e in inst.required)
    assert check.feasible, check.violations
    assert check.cost == pytest.approx(expected)
    assert check.vehicles == len(inst.required)


def test_missing_edge(inst) -> None:  # type: ignore[no-untyped-def]
    routes = one_edge_per_route(inst)[1:]
    check = verify_carp(inst, routes)
    e = inst.required[0]
    assert check.violations == (f"required edge ({e.u}, {e.v}) not served",)
    assert not check.feasible


def test_edge_served_twice_and_reversed_is_still_the_same_edge(inst) -> None:  # type: ignore[no-untyped-def]
    routes = one_edge_per_route(inst)
    e = inst.required[0]
    routes.append([[e.v, e.u]])
    check = verify_carp(inst, routes)
    assert len(check.violations) == 1
    assert "more than once" in check.violations[0]


def test_capacity_per_route(inst) -> None:  # type: ignore[no-untyped-def]
    everything = [[[e.u, e.v] for e in inst.required]]
    check = verify_carp(inst, everything)
    assert inst.total_demand > inst.capacity
    assert any("above the capacity" in v for v in check.violations)


def test_unknown_edge_and_bad_node(inst) -> None:  # type: ignore[no-untyped-def]
    required = {(min(e.u, e.v), max(e.u, e.v)) for e in inst.required}
    fake = next(
        (a, b)
        for a in range(1, inst.n_vertices + 1)
        for b in range(a + 1, inst.n_vertices + 1)
        if (a, b) not in required
    )
    routes = [*one_edge_per_route(inst), [[fake[0], fake[1]]], [[0, 1]], [[1]]]
    check = verify_carp(inst, routes)
    text = " | ".join(check.violations)
    assert "is not a required edge" in text
    assert "outside 1.." in text
    assert "not a [from, to] pair" in text


def test_no_path_is_reported() -> None:
    class Edge:
        def __init__(self, u: int, v: int, cost: int, demand: int) -> None:
            self.u, self.v, self.cost, self.demand = u, v, cost, demand

    class Inst:  # two islands: 1-2 and 3-4
        n_vertices, depot, capacity = 4, 1, 10
        required = (Edge(1, 2, 3, 1), Edge(3, 4, 5, 1))
        others = ()

    check = verify_carp(Inst(), [[[1, 2]], [[3, 4]]])
    assert any("no path" in v for v in check.violations)
    assert check.cost == np.inf


def test_verify_arc_catches_a_wrong_direction_and_a_missing_task() -> None:
    dist = floyd_warshall(3, [(0, 1, 10.0), (1, 2, 10.0)])
    tasks = (ArcTask("a", 0, 1, 10.0), ArcTask("b", 1, 2, 10.0))
    problem = ArcProblem(dist, np.zeros_like(dist), tasks, (ArcVehicle("v", 0),))
    solution = solve_arc(problem, SolveParams(time_limit_s=5.0, solution_limit=20, workers=1))
    assert verify_arc(problem, solution) == []
    route = solution.routes[0]
    flipped = replace(route.visits[0], from_node=1, to_node=0)
    broken = replace(solution, routes=(replace(route, visits=(flipped,)),), unserved=())
    problems = " | ".join(verify_arc(problem, broken))
    assert "not an allowed direction" in problems
    assert "task 'b' neither served nor listed as unserved" in problems
