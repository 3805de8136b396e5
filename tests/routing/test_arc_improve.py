"""routing.arc_improve.or_opt: chains move within their trip, never across a dump; nothing grows."""

from __future__ import annotations

import numpy as np

from routing.arc_construct import Nodes, facility_copies, node_table
from routing.arc_improve import or_opt
from routing.arc_model import ArcFacility, ArcProblem, ArcTask, ArcVehicle
from routing.arc_verify import floyd_warshall


def _deadhead(problem: ArcProblem, nodes: Nodes, route: list[int], matrix: np.ndarray) -> float:
    v = problem.vehicles[0]
    at, total = v.start, 0.0
    for i in route:
        total += matrix[at, nodes.src[i]]
        at = int(nodes.dst[i])
    return total + matrix[at, v.end_node]


def _trips(nodes: Nodes, route: list[int]) -> list[tuple[int, set[int]]]:
    """(facility node number or -1 at the end, set of service nodes) per trip."""
    out, trip = [], set()
    for i in route:
        if nodes.facility[i] >= 0:
            out.append((i, trip))
            trip = set()
        else:
            trip.add(i)
    return [*out, (-1, trip)]


def test_a_zigzag_trip_is_straightened() -> None:
    """Passes along a line served 0, 4, 1, 3, 2 (blocks): Or-opt finds the 0..4 sweep."""
    dist = floyd_warshall(6, [(i, i + 1, 100.0) for i in range(5)])
    tasks = tuple(ArcTask(f"s{i}", i, i + 1, 100.0) for i in range(5))
    problem = ArcProblem(dist, dist / 10.0, tasks, (ArcVehicle("v", 0),))
    nodes = node_table(problem, range(5), facility_copies(problem, range(5)))
    of_task = {int(nodes.task[i]): i for i in range(nodes.size) if nodes.task[i] >= 0}
    zigzag = [of_task[t] for t in (0, 4, 1, 3, 2)]
    (better,) = or_opt(problem, nodes, [zigzag])
    assert [int(nodes.task[i]) for i in better] == [0, 1, 2, 3, 4]
    assert _deadhead(problem, nodes, better, dist) == 500.0  # only the way back
    assert _deadhead(problem, nodes, zigzag, dist) > 500.0


def test_trips_keep_their_passes_and_nothing_grows() -> None:
    rng = np.random.default_rng(5)
    cols, rows = 7, 6
    edges = [(x + cols * y, x + 1 + cols * y, 100.0) for y in range(rows) for x in range(cols - 1)]
    edges += [(x + cols * y, x + cols * (y + 1), 100.0) for y in range(rows - 1) for x in range(cols)]
    dist = floyd_warshall(cols * rows, edges)
    time_s = dist / rng.uniform(5.0, 15.0, size=dist.shape)
    time_s = np.minimum(time_s, time_s.T)
    picks = rng.choice(len(edges), size=40, replace=False)
    tasks = tuple(
        ArcTask(f"e{k}", edges[e][0], edges[e][1], 100.0, demand={"kg": 1.0}) for k, e in enumerate(picks)
    )
    v = ArcVehicle("v", 0, capacity={"kg": 10.0}, cost_per_distance=1.0, cost_per_hour=36.0)
    dump = ArcFacility("dump", cols * rows - 1, frozenset({"kg"}))
    problem = ArcProblem(dist, time_s, tasks, (v,), facilities=(dump,))
    kept = range(len(tasks))
    nodes = node_table(problem, kept, facility_copies(problem, kept))
    service = [int(i) for i in rng.permutation(np.flatnonzero(nodes.task >= 0))]
    copies = [int(i) for i in np.flatnonzero(nodes.facility >= 0)]
    route = []
    for k, i in enumerate(service):
        if k and k % 10 == 0:
            route.append(copies.pop())
        route.append(i)
    (better,) = or_opt(problem, nodes, [route])
    assert _trips(nodes, better) == _trips(nodes, route)
    cost = dist + 36.0 / 3600.0 * time_s
    assert _deadhead(problem, nodes, better, cost) < 0.8 * _deadhead(problem, nodes, route, cost)
    assert _deadhead(problem, nodes, better, time_s) <= _deadhead(problem, nodes, route, time_s) + 1e-6
