"""routing.arc_construct's first routes: look-ahead tie-breaking and the best of the scan variants."""

from __future__ import annotations

import numpy as np

from routing.arc_construct import (
    SCAN_VARIANTS,
    Nodes,
    best_path_scanning,
    facility_copies,
    node_table,
    path_scanning,
)
from routing.arc_model import ArcProblem, ArcTask, ArcVehicle, Direction
from routing.arc_verify import floyd_warshall


def _nodes(problem: ArcProblem) -> Nodes:
    kept = range(len(problem.tasks))
    return node_table(problem, kept, facility_copies(problem, kept))


def _score(problem: ArcProblem, nodes: Nodes, routes: list[list[int]]) -> tuple[int, float]:
    served, driven = 0, 0.0
    for v, route in zip(problem.vehicles, routes, strict=True):
        at = v.start
        for i in route:
            driven += problem.dist[at, nodes.src[i]] + problem.tasks[int(nodes.task[i])].service_cost
            served += 1
            at = int(nodes.dst[i])
        if route:
            driven += problem.dist[at, v.end_node]
    return -served, driven


def test_look_ahead_prefers_the_street_that_leads_on_to_more_work() -> None:
    """From the depot (0) streets 0->1 and 0->2 are equally near; only 2 leads on to 2->3."""
    dist = floyd_warshall(4, [(0, 1, 100.0), (0, 2, 100.0), (2, 3, 100.0)])
    tasks = (ArcTask("a", 0, 1, 100.0), ArcTask("b", 0, 2, 100.0), ArcTask("c", 2, 3, 100.0))
    problem = ArcProblem(dist, np.zeros_like(dist), tasks, (ArcVehicle("v", 0),))
    nodes = _nodes(problem)
    ids = lambda route: [tasks[int(nodes.task[i])].id for i in route]  # noqa: E731
    assert ids(path_scanning(problem, nodes, lookahead=False)[0])[0] == "a"  # first in node order
    assert ids(path_scanning(problem, nodes, lookahead=True)[0])[:2] == ["b", "c"]


def test_best_scan_is_no_worse_than_any_variant() -> None:
    rng = np.random.default_rng(11)
    cols, rows = 6, 5
    edges = [
        (x + cols * y, x + 1 + cols * y, float(rng.integers(50, 150)))
        for y in range(rows)
        for x in range(cols - 1)
    ]
    edges += [
        (x + cols * y, x + cols * (y + 1), float(rng.integers(50, 150)))
        for y in range(rows - 1)
        for x in range(cols)
    ]
    dist = floyd_warshall(cols * rows, edges)
    picks = rng.choice(len(edges), size=30, replace=False)
    tasks = tuple(
        ArcTask(f"e{k}", edges[e][0], edges[e][1], edges[e][2], direction=Direction.EITHER)
        for k, e in enumerate(picks)
    )
    problem = ArcProblem(dist, np.zeros_like(dist), tasks, (ArcVehicle("v", 7), ArcVehicle("w", 22)))
    nodes = _nodes(problem)
    best = _score(problem, nodes, best_path_scanning(problem, nodes))
    variants = [
        _score(problem, nodes, path_scanning(problem, nodes, seed_rule=r, lookahead=la))
        for r, la in SCAN_VARIANTS
    ]
    assert best == min(variants)
    assert best[0] == -len(tasks)
