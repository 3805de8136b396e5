"""routing.arc_solve on small grids checked by hand or by brute force.

Every solve is bounded by a solution limit (OR-Tools) and an iteration limit (memetic phase), with
one worker, so the module is deterministic and runs in seconds.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from core.errors import ValidationError
from routing.arc_model import ArcFacility, ArcProblem, ArcTask, ArcVehicle, Direction, VisitKind
from routing.arc_solve import carp_arrays, diagnose_tasks, solve_arc
from routing.arc_verify import floyd_warshall, verify_arc
from routing.solve import SolveParams

NIGHT = (22 * 3600.0, 30 * 3600.0)
"""22:00-06:00 (next day), in seconds since midnight."""


def grid(cols: int, rows: int, cost: float = 100.0) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """A ``cols x rows`` node grid, node ``x + cols * y``, streets of ``cost`` metres; shortest paths."""
    edges = []
    for y in range(rows):
        for x in range(cols):
            n = x + cols * y
            if x + 1 < cols:
                edges.append((n, n + 1, cost))
            if y + 1 < rows:
                edges.append((n, n + cols, cost))
    return floyd_warshall(cols * rows, edges), edges


def params(first: str = "auto", limit: int = 100) -> SolveParams:
    """One worker, a solution limit; the time limit is only a safety net."""
    return SolveParams(time_limit_s=5.0, solution_limit=limit, workers=1, first_solution=first)


def brute_force_carp(problem: ArcProblem, trips_max: int) -> float:
    """Cheapest CARP cost over every order, direction and cut into at most ``trips_max`` trips."""
    tasks = problem.tasks
    depot = problem.vehicles[0].start
    cap = problem.vehicles[0].capacity["demand"]
    d = problem.dist
    best = math.inf
    for order in itertools.permutations(range(len(tasks))):
        for cuts in itertools.product((False, True), repeat=len(tasks) - 1):
            if sum(cuts) + 1 > trips_max:
                continue
            trips: list[list[int]] = [[order[0]]]
            for k, cut in enumerate(cuts, start=1):
                if cut:
                    trips.append([])
                trips[-1].append(order[k])
            if any(sum(tasks[t].demand["demand"] for t in trip) > cap for trip in trips):
                continue
            total = 0.0
            for trip in trips:
                # best directions of the trip by a two-state pass (exact for a fixed order)
                f = {}
                for a, b in tasks[trip[0]].directions():
                    f[(a, b)] = d[depot, a] + tasks[trip[0]].service_cost
                for t in trip[1:]:
                    g = {}
                    for a, b in tasks[t].directions():
                        g[(a, b)] = min(v + d[e, a] for (_, e), v in f.items()) + tasks[t].service_cost
                    f = g
                total += min(v + d[e, depot] for (_, e), v in f.items())
            best = min(best, total)
    return best


def small_carp(capacity: float) -> ArcProblem:
    """3 x 2 grid, depot at node 0, five required streets of different demand, unit cost rate."""
    dist, edges = grid(3, 2)
    picks = [0, 2, 3, 4, 6]
    tasks = tuple(
        ArcTask(
            f"s{i}", edges[e][0], edges[e][1], 100.0, demand={"demand": float(1 + i % 3)}, direction="either"
        )
        for i, e in enumerate(picks)
    )
    vehicles = tuple(ArcVehicle(f"v{k}", 0, capacity={"demand": capacity}) for k in range(3))
    return ArcProblem(dist, np.zeros_like(dist), tasks, vehicles, name="grid")


@pytest.mark.parametrize("capacity", [100.0, 5.0])
@pytest.mark.parametrize("first", ["auto", "path_cheapest_arc"])
def test_small_grid_reaches_the_brute_force_optimum(capacity: float, first: str) -> None:
    problem = small_carp(capacity)
    assert (carp_arrays(problem, range(5)) is not None) is True
    solution = solve_arc(problem, params(first))
    assert not solution.unserved
    assert verify_arc(problem, solution) == []
    assert solution.distance == pytest.approx(brute_force_carp(problem, len(problem.vehicles)))
    assert solution.cost == pytest.approx(solution.distance)


def timed_line() -> tuple[np.ndarray, np.ndarray]:
    """Nodes 0-1-2-3 on a line, 100 m apart, 10 s per 100 m (both ways)."""
    dist, _ = (floyd_warshall(4, [(0, 1, 100.0), (1, 2, 100.0), (2, 3, 100.0)]), None)
    return dist, dist / 10.0


def test_forward_tasks_are_served_in_their_direction_only() -> None:
    dist, time_s = timed_line()
    # Serving 3->2 then 1->0 would be the natural sweep home; the one-way rules forbid it.
    tasks = (
        ArcTask("a", 2, 3, 100.0, service_s=72.0, direction=Direction.FORWARD),
        ArcTask("b", 0, 1, 100.0, service_s=72.0, direction=Direction.FORWARD),
        ArcTask("c", 2, 1, 100.0, service_s=72.0, direction=Direction.EITHER),
    )
    problem = ArcProblem(dist, time_s, tasks, (ArcVehicle("sweeper", 0),))
    solution = solve_arc(problem, params())
    assert verify_arc(problem, solution) == []
    visits = {v.id: (v.from_node, v.to_node) for v in solution.routes[0].services}
    assert visits["a"] == (2, 3)
    assert visits["b"] == (0, 1)
    assert visits["c"] in {(2, 1), (1, 2)}
    assert not solution.unserved


def test_night_only_task_is_never_scheduled_by_day() -> None:
    dist, time_s = timed_line()
    tasks = (
        ArcTask("arterial", 1, 2, 100.0, service_s=72.0, windows=(NIGHT,)),
        ArcTask("side", 2, 3, 100.0, service_s=72.0),
    )
    day = ArcVehicle("day", 0, shift_start_s=6 * 3600.0, shift_end_s=18 * 3600.0)
    night = ArcVehicle("night", 0, shift_start_s=21 * 3600.0, shift_end_s=31 * 3600.0, fixed_cost=50.0)
    only_day = ArcProblem(dist, time_s, tasks, (day,))
    solution = solve_arc(only_day, params())
    assert [u.task_id for u in solution.unserved] == ["arterial"]
    assert "window" in solution.unserved[0].reason
    assert verify_arc(only_day, solution) == []

    both = ArcProblem(dist, time_s, tasks, (day, night))
    solution = solve_arc(both, params())
    assert not solution.unserved
    assert verify_arc(both, solution) == []
    for route in solution.routes:
        for v in route.services:
            if v.id == "arterial":
                assert route.vehicle_id == "night"
                assert NIGHT[0] <= v.start_s <= NIGHT[1]


def test_refill_is_inserted_when_the_tank_would_run_dry() -> None:
    dist, _ = grid(3, 2)
    time_s = dist / 5.0
    # Three streets of 4 l each, a 10 l tank: the washer must refill at the water point (node 5).
    streets = [(0, 1), (1, 2), (3, 4)]
    tasks = tuple(
        ArcTask(f"w{i}", a, b, 100.0, service_s=45.0, demand={"water_l": 4.0}, direction=Direction.EITHER)
        for i, (a, b) in enumerate(streets)
    )
    washer = ArcVehicle("washer", 0, capacity={"water_l": 10.0})
    tap = ArcFacility("tap", 5, frozenset({"water_l"}), service_s=300.0)
    problem = ArcProblem(dist, time_s, tasks, (washer,), facilities=(tap,))
    assert carp_arrays(problem, range(3)) is None  # times and a facility: OR-Tools from path scanning
    solution = solve_arc(problem, params())
    assert not solution.unserved
    assert verify_arc(problem, solution) == []
    visits = solution.routes[0].visits
    kinds = [v.kind for v in visits]
    assert VisitKind.FACILITY in kinds
    first_refill = kinds.index(VisitKind.FACILITY)
    assert 0 < first_refill < len(visits) - 1  # between services, not a pointless last stop
    assert all(v.load["water_l"] <= 10.0 for v in visits)
    assert visits[first_refill].load["water_l"] == 0.0

    no_tap = ArcProblem(dist, time_s, tasks, (washer,))
    solution = solve_arc(no_tap, params())
    assert len(solution.unserved) == 1  # 8 l fit in the tank, the third street does not
    assert "capacity: needs 4 water_l, the most room left on a vehicle is 2" in solution.unserved[0].reason
    assert verify_arc(no_tap, solution) == []


def test_hopper_is_emptied_before_the_route_ends() -> None:
    dist, _ = grid(3, 2)
    tasks = (ArcTask("s", 0, 1, 100.0, service_s=60.0, demand={"debris_kg": 30.0}),)
    sweeper = ArcVehicle("sweeper", 0, capacity={"debris_kg": 500.0})
    dump = ArcFacility("dump", 5, frozenset({"debris_kg"}), service_s=600.0)
    problem = ArcProblem(
        dist, dist / 5.0, tasks, (sweeper,), facilities=(dump,), end_empty=frozenset({"debris_kg"})
    )
    solution = solve_arc(problem, params())
    assert verify_arc(problem, solution) == []
    visits = solution.routes[0].visits
    assert [v.kind for v in visits] == [VisitKind.SERVICE, VisitKind.FACILITY]
    assert solution.routes[0].deadhead_dist == pytest.approx(dist[1, 5] + dist[5, 0])


def test_diagnosis_names_capacity_and_vehicle_rules() -> None:
    dist, time_s = timed_line()
    tasks = (
        ArcTask("heavy", 0, 1, 100.0, demand={"debris_kg": 900.0}, vehicles=frozenset({"sweeper"})),
        ArcTask("reserved", 1, 2, 100.0, vehicles=frozenset({"washer"})),
        ArcTask("fine", 2, 3, 100.0, demand={"debris_kg": 10.0}),
    )
    problem = ArcProblem(
        dist,
        time_s,
        tasks,
        (ArcVehicle("sweeper", 0, capacity={"debris_kg": 500.0}), ArcVehicle("washer", 0)),
    )
    reasons = diagnose_tasks(problem)
    assert set(reasons) == {0}
    assert "capacity" in reasons[0]
    solution = solve_arc(problem, params())
    assert [u.task_id for u in solution.unserved] == ["heavy"]
    assert {v.id for r in solution.routes if r.vehicle_id == "washer" for v in r.services} >= {"reserved"}


def test_optional_task_left_out_when_its_penalty_is_cheaper() -> None:
    dist, time_s = timed_line()
    tasks = (ArcTask("far", 2, 3, 100.0, penalty=1.0), ArcTask("near", 0, 1, 100.0))
    problem = ArcProblem(dist, time_s, tasks, (ArcVehicle("v", 0),))
    solution = solve_arc(problem, params())
    assert [u.task_id for u in solution.unserved] == ["far"]
    assert "optional" in solution.unserved[0].reason
    assert solution.cost == pytest.approx(200.0 + 1.0)


def test_model_rejects_bad_records_naming_the_field() -> None:
    dist, time_s = timed_line()
    with pytest.raises(ValidationError, match=r"ArcTask 'x'.*head"):
        ArcProblem(dist, time_s, (ArcTask("x", 0, 9, 1.0),), (ArcVehicle("v", 0),))
    with pytest.raises(ValidationError, match="direction"):
        ArcTask("y", 0, 1, 1.0, direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="windows"):
        ArcTask("z", 0, 1, 1.0, windows=((5.0, 1.0),))
    with pytest.raises(ValidationError, match="appears twice"):
        ArcProblem(dist, time_s, (ArcTask("x", 0, 1, 1.0), ArcTask("x", 1, 2, 1.0)), (ArcVehicle("v", 0),))


def test_a_task_that_fits_alone_but_not_with_the_rest_is_left_out_for_time() -> None:
    dist, time_s = timed_line()
    tasks = (ArcTask("a", 0, 1, 100.0, service_s=600.0), ArcTask("b", 2, 3, 100.0, service_s=600.0))
    # Each task alone: at most 30 s of driving + 600 s of work + 30 s back; both need > 1200 s.
    short = ArcVehicle("v", 0, shift_start_s=0.0, shift_end_s=1000.0)
    problem = ArcProblem(dist, time_s, tasks, (short,))
    assert diagnose_tasks(problem) == {}
    solution = solve_arc(problem, params())
    assert len(solution.unserved) == 1
    assert ": time:" in solution.unserved[0].reason
    assert verify_arc(problem, solution) == []
