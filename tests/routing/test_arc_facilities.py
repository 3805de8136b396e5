"""Dump/refill visits and time cost in routing.arc_solve: mid-route dumps, no stacked visits, cost per hour.

Every solve has one worker and a solution limit, so the module is deterministic and runs in seconds.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from routing.arc_construct import path_scanning
from routing.arc_model import ArcFacility, ArcProblem, ArcTask, ArcVehicle, Direction, VisitKind
from routing.arc_solve import PATH_SCANNING, _build_model, _search_parameters, solve_arc
from routing.arc_verify import floyd_warshall, verify_arc
from routing.solve import SolveParams

PARAMS = SolveParams(time_limit_s=10.0, solution_limit=200, workers=1)
THIRD = 100.0 / 3.0
"""A pass's debris (kg): three of them add up to 100 kg in floats, 100.002 kg in the solver's grams."""


def line(n: int, cost: float = 100.0) -> np.ndarray:
    """Shortest paths of a straight street of ``n`` nodes, ``cost`` metres apart."""
    return floyd_warshall(n, [(i, i + 1, cost) for i in range(n - 1)])


def thirds_problem(n_tasks: int = 6) -> ArcProblem:
    """A sweeper with a 100 kg hopper and ``n_tasks`` passes of 100/3 kg along a line; dump mid-line."""
    dist = line(n_tasks + 1)
    tasks = tuple(
        ArcTask(f"s{i}", i, i + 1, 100.0, service_s=72.0, demand={"debris_kg": THIRD}) for i in range(n_tasks)
    )
    sweeper = ArcVehicle("sweeper", 0, capacity={"debris_kg": 100.0}, shift_end_s=86_400.0)
    dump = ArcFacility("dump", n_tasks // 2, frozenset({"debris_kg"}), service_s=600.0)
    return ArcProblem(
        dist, dist / 5.0, tasks, (sweeper,), facilities=(dump,), end_empty=frozenset({"debris_kg"})
    )


def test_first_routes_are_accepted_when_loads_sum_to_the_capacity_in_floats() -> None:
    """Path scanning counts loads in the solver's integer units: its routes must pass the model."""
    problem = thirds_problem()
    kept = tuple(range(len(problem.tasks)))
    model = _build_model(problem, kept, PARAMS)
    model.routing.CloseModelWithParameters(_search_parameters(PARAMS, PATH_SCANNING, 5.0, len(kept)))
    routes = path_scanning(problem, model.nodes)
    indices = [[model.manager.NodeToIndex(i) for i in r] for r in routes]
    assert model.routing.ReadAssignmentFromRoutes(indices, True) is not None
    loads = [0]
    for i in routes[0]:
        loads.append(0 if model.nodes.facility[i] >= 0 else loads[-1] + 1)
    assert max(loads) == 2  # two passes per load: three would be 100.002 kg in the model


def test_a_sweeper_needing_several_hopper_loads_plans_the_mid_route_dumps(
    caplog: pytest.LogCaptureFixture,
) -> None:
    problem = thirds_problem()
    with caplog.at_level(logging.WARNING, logger="routing.arc_solve"):
        solution = solve_arc(problem, PARAMS)
    assert "rejected" not in caplog.text
    assert not solution.unserved
    assert verify_arc(problem, solution) == []
    kinds = [v.kind for v in solution.routes[0].visits]
    last_service = max(k for k, kind in enumerate(kinds) if kind == VisitKind.SERVICE)
    mid_route = [k for k, kind in enumerate(kinds[:last_service]) if kind == VisitKind.FACILITY]
    assert len(mid_route) >= 2  # 6 passes of 33.3 kg, at most 2 per 100 kg load: 3 loads
    assert kinds[-1] == VisitKind.FACILITY  # and it goes home empty


def test_many_random_passes_are_all_served_with_dumps_between_loads() -> None:
    """40 passes of random debris on a 5 x 8 grid: every pass served, loads within the hopper."""
    rng = np.random.default_rng(7)
    cols, rows = 8, 5
    edges = [(x + cols * y, x + 1 + cols * y, 100.0) for y in range(rows) for x in range(cols - 1)]
    edges += [(x + cols * y, x + cols * (y + 1), 100.0) for y in range(rows - 1) for x in range(cols)]
    dist = floyd_warshall(cols * rows, edges)
    picks = rng.choice(len(edges), size=40, replace=False)
    tasks = tuple(
        ArcTask(
            f"e{k}",
            edges[e][0],
            edges[e][1],
            100.0,
            service_s=72.0,
            demand={"debris_kg": float(rng.uniform(3.0, 9.0))},
            direction=Direction.EITHER,
        )
        for k, e in enumerate(picks)
    )
    total = sum(t.demand["debris_kg"] for t in tasks)
    sweeper = ArcVehicle("sweeper", 0, capacity={"debris_kg": 50.0}, shift_end_s=86_400.0)
    dump = ArcFacility("dump", cols * rows - 1, frozenset({"debris_kg"}), service_s=600.0)
    problem = ArcProblem(
        dist, dist / 5.0, tasks, (sweeper,), facilities=(dump,), end_empty=frozenset({"debris_kg"})
    )
    solution = solve_arc(problem, PARAMS)
    assert not solution.unserved
    assert verify_arc(problem, solution) == []
    visits = solution.routes[0].visits
    dumps = sum(1 for v in visits if v.kind == VisitKind.FACILITY)
    assert dumps >= int(np.ceil(total / 50.0))
    assert max(v.load["debris_kg"] for v in visits) <= 50.0 + 1e-9


def test_back_to_back_visits_to_a_facility_are_forbidden() -> None:
    problem = thirds_problem()
    kept = tuple(range(len(problem.tasks)))
    model = _build_model(problem, kept, PARAMS)
    model.routing.CloseModelWithParameters(_search_parameters(PARAMS, PATH_SCANNING, 5.0, len(kept)))
    a, b = model.copies[0][:2]
    first = model.task_index[0][0]
    assert model.routing.ReadAssignmentFromRoutes([[first, a]], True) is not None
    assert model.routing.ReadAssignmentFromRoutes([[first, a, b]], True) is None


def test_cost_per_hour_charges_the_route_duration_and_picks_the_faster_direction() -> None:
    """Both directions of a street drive 300 m; one takes 20 s of deadhead, the other 200 s."""
    dist = np.full((3, 3), 100.0)
    np.fill_diagonal(dist, 0.0)
    time_s = np.array([[0, 10, 100], [100, 0, 10], [10, 10, 0]], float)  # 0 -> 1 and 2 -> 0 are quick
    task = ArcTask("street", 1, 2, 100.0, service_s=60.0, direction=Direction.EITHER)
    v = ArcVehicle("v", 0, cost_per_distance=1.0, cost_per_hour=360.0)
    solution = solve_arc(ArcProblem(dist, time_s, (task,), (v,)), PARAMS)
    route = solution.routes[0]
    assert (route.visits[0].from_node, route.visits[0].to_node) == (1, 2)
    assert route.end_s - route.start_s == pytest.approx(10.0 + 60.0 + 10.0)
    assert solution.cost == pytest.approx(300.0 + 360.0 * 80.0 / 3600.0)
    free = replace(v, cost_per_hour=0.0)
    assert solve_arc(ArcProblem(dist, time_s, (task,), (free,)), PARAMS).cost == pytest.approx(300.0)


def test_a_facility_visit_costs_its_service_time() -> None:
    """Cost per hour makes a needless refill cost money; the solution never stacks or adds one."""
    dist = line(4)
    tasks = tuple(
        ArcTask(f"w{i}", i, i + 1, 100.0, service_s=45.0, demand={"water_l": 4.0}) for i in range(3)
    )
    washer = ArcVehicle("washer", 0, capacity={"water_l": 10.0}, cost_per_distance=0.001, cost_per_hour=60.0)
    tap = ArcFacility("tap", 2, frozenset({"water_l"}), service_s=300.0)
    problem = ArcProblem(dist, dist / 5.0, tasks, (washer,), facilities=(tap,))
    solution = solve_arc(problem, PARAMS)
    assert not solution.unserved
    assert verify_arc(problem, solution) == []
    visits = solution.routes[0].visits
    assert sum(1 for v in visits if v.kind == VisitKind.FACILITY) == 1  # 12 l in a 10 l tank: one refill
    route = solution.routes[0]
    expected = 0.001 * route.distance + 60.0 * (route.end_s - route.start_s) / 3600.0
    assert solution.cost == pytest.approx(expected)
