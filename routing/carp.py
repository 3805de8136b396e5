"""CARPLIB benchmark files (gdb, val, egl) -> :class:`CarpInstance` -> :class:`routing.arc_model.ArcProblem`.

Format (``/work/shared/benchmarks/carp/README.md``): a header of ``KEYWORD :
value`` lines in Spanish (``NOMBRE``, ``VERTICES``, ``ARISTAS_REQ``,
``ARISTAS_NOREQ``, ``CAPACIDAD``, ``DEPOSITO``, ...), then lines
``( u, v) coste c demanda d`` for required edges and ``( u, v) coste c`` for
the others. Nodes are numbered from 1 in the file; the graph is undirected and
not complete. The header total ``COSTE_TOTAL_REQ`` is wrong in many files, so
it is kept only as ``header_total_cost`` and the real sum is recomputed.

Benchmark convention: the fleet is unlimited (``VEHICULOS`` is
informational), every vehicle makes one trip from the depot and back, the
capacity bounds each trip, and the objective is the total cost of all trips,
serviced plus deadheaded edges. Deadheading follows shortest paths
(:func:`shortest_paths`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from core.errors import ValidationError
from routing.arc_model import CARP_DIMENSION, ArcProblem, ArcTask, ArcVehicle, Direction

__all__ = [
    "EXTRA_VEHICLES",
    "CarpEdge",
    "CarpInstance",
    "carp_problem",
    "read_carp",
    "shortest_paths",
    "task_id",
]

EXTRA_VEHICLES = 2
"""Vehicles offered beyond ``ceil(total demand / capacity)`` (a bin-packing lower bound on the trips)."""

_EDGE = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*coste\s+(\d+)(?:\s+demanda\s+(\d+))?", re.IGNORECASE)
_HEADER = re.compile(r"^\s*([A-Z_]+)\s*:\s*(.*?)\s*$")
_INT_KEYS = (
    "VERTICES",
    "ARISTAS_REQ",
    "ARISTAS_NOREQ",
    "VEHICULOS",
    "CAPACIDAD",
    "COSTE_TOTAL_REQ",
    "DEPOSITO",
)


@dataclass(frozen=True, slots=True)
class CarpEdge:
    """One undirected edge as in the file (1-based node numbers).

    Attributes
    ----------
    u, v : int
        End nodes (file numbering, from 1).
    cost : int
        Traversal cost (serviced or deadheaded).
    demand : int
        Demand (> 0 for required edges, 0 for the others).
    """

    u: int
    v: int
    cost: int
    demand: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class CarpInstance:
    """A parsed CARP file.

    Attributes
    ----------
    name : str
        ``NOMBRE`` (e.g. ``"gdb1"``, ``"val1A"``).
    n_vertices : int
        ``VERTICES``; nodes are ``1 .. n_vertices``.
    capacity : int
        ``CAPACIDAD`` (capacity of each trip).
    depot : int
        ``DEPOSITO`` (file numbering, always 1 in these sets).
    vehicles_in_file : int
        ``VEHICULOS`` (informational: the benchmark fleet is unlimited).
    required : tuple of CarpEdge
        Required edges, in file order.
    others : tuple of CarpEdge
        Non-required edges (may be deadheaded).
    header_total_cost : int or None
        ``COSTE_TOTAL_REQ`` as written (often wrong; see :attr:`total_cost`).
    header_upper_bound : str
        ``COMENTARIO`` as written (an old upper bound, or a dummy).
    dist : numpy.ndarray
        ``(n_vertices, n_vertices)`` shortest-path costs, 0-based (node ``i``
        of the file is row ``i - 1``); ``inf`` = disconnected.
    """

    name: str
    n_vertices: int
    capacity: int
    depot: int
    vehicles_in_file: int
    required: tuple[CarpEdge, ...]
    others: tuple[CarpEdge, ...]
    header_total_cost: int | None
    header_upper_bound: str
    dist: np.ndarray

    @property
    def total_cost(self) -> int:
        """Sum of the required-edge costs, recomputed (a lower bound on any solution)."""
        return sum(e.cost for e in self.required)

    @property
    def total_demand(self) -> int:
        """Sum of the required-edge demands."""
        return sum(e.demand for e in self.required)

    @property
    def min_trips(self) -> int:
        """``ceil(total demand / capacity)``: no solution has fewer trips."""
        return math.ceil(self.total_demand / self.capacity) if self.capacity else 0


def shortest_paths(n: int, edges: list[CarpEdge] | tuple[CarpEdge, ...]) -> np.ndarray:
    """All-pairs shortest-path costs of an undirected graph on nodes ``1 .. n`` (0-based result).

    Parallel edges keep the cheapest; ``inf`` marks disconnected pairs.
    """
    best: dict[tuple[int, int], int] = {}
    for e in edges:
        key = (min(e.u, e.v) - 1, max(e.u, e.v) - 1)
        if key[0] != key[1]:
            best[key] = min(best.get(key, e.cost), e.cost)
    rows = [a for a, _ in best] + [b for _, b in best]
    cols = [b for _, b in best] + [a for a, _ in best]
    data = list(best.values()) * 2
    graph = coo_matrix((np.asarray(data, dtype=np.float64), (rows, cols)), shape=(n, n)).tocsr()
    # Zero-cost edges would vanish from a sparse matrix; none occur in these sets (costs >= 1).
    return np.asarray(shortest_path(graph, method="D", directed=False), dtype=np.float64)


def read_carp(path: str | Path) -> CarpInstance:
    """Parse a CARPLIB file.

    Raises
    ------
    core.errors.ValidationError
        A header value is missing or not an integer, an edge names a node
        outside ``1 .. VERTICES``, a required edge has no demand, or the edge
        counts differ from ``ARISTAS_REQ`` / ``ARISTAS_NOREQ``.
    """
    path = Path(path)
    record = f"CARP file '{path.name}'"
    text = path.read_text(encoding="latin-1")
    header: dict[str, str] = {}
    required: list[CarpEdge] = []
    others: list[CarpEdge] = []
    section = ""
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _EDGE.search(line)
        if m:
            u, v, cost = int(m[1]), int(m[2]), int(m[3])
            if section == "LISTA_ARISTAS_REQ":
                if m[4] is None:
                    raise ValidationError(record, f"line {lineno}", "required edge without 'demanda'")
                required.append(CarpEdge(u, v, cost, int(m[4])))
            else:
                others.append(CarpEdge(u, v, cost, int(m[4] or 0)))
            continue
        h = _HEADER.match(line)
        if h:
            key, value = h[1].upper(), h[2]
            if key.startswith("LISTA_ARISTAS"):
                section = key
            else:
                header[key] = value
    values: dict[str, int] = {}
    for key in _INT_KEYS:
        raw = header.get(key)
        if raw is None:
            if key == "COSTE_TOTAL_REQ":
                continue
            if key == "DEPOSITO":
                raw = "1"
            else:
                raise ValidationError(record, key, "is missing")
        try:
            values[key] = int(raw.split()[0])
        except (ValueError, IndexError) as exc:
            raise ValidationError(record, key, f"must be an integer, got {raw!r}") from exc
    n = values["VERTICES"]
    for edge in (*required, *others):
        for node in (edge.u, edge.v):
            if not 1 <= node <= n:
                raise ValidationError(
                    record, "LISTA_ARISTAS", f"edge ({edge.u}, {edge.v}) names node {node} outside 1..{n}"
                )
    if len(required) != values["ARISTAS_REQ"]:
        raise ValidationError(
            record, "ARISTAS_REQ", f"says {values['ARISTAS_REQ']}, the file lists {len(required)}"
        )
    if len(others) != values["ARISTAS_NOREQ"]:
        msg = f"says {values['ARISTAS_NOREQ']}, the file lists {len(others)}"
        raise ValidationError(record, "ARISTAS_NOREQ", msg)
    if not 1 <= values["DEPOSITO"] <= n:
        raise ValidationError(record, "DEPOSITO", f"must be a node in 1..{n}, got {values['DEPOSITO']}")
    return CarpInstance(
        name=header.get("NOMBRE", path.stem).strip() or path.stem,
        n_vertices=n,
        capacity=values["CAPACIDAD"],
        depot=values["DEPOSITO"],
        vehicles_in_file=values["VEHICULOS"],
        required=tuple(required),
        others=tuple(others),
        header_total_cost=values.get("COSTE_TOTAL_REQ"),
        header_upper_bound=header.get("COMENTARIO", ""),
        dist=shortest_paths(n, [*required, *others]),
    )


def task_id(index: int) -> str:
    """Id of the arc-model task of required edge ``index`` (0-based file order)."""
    return f"e{index}"


def carp_problem(instance: CarpInstance, *, vehicles: int | None = None) -> ArcProblem:
    """The arc-routing problem of a CARP instance.

    Every required edge is an ``either`` task (tail = ``u - 1``, head = ``v -
    1``, id :func:`task_id`) with service cost = its cost and one demand
    dimension :data:`routing.arc_model.CARP_DIMENSION`; no times, no
    facilities; identical vehicles at the depot with capacity ``CAPACIDAD``,
    cost 1 per unit and no fixed cost, so the objective is the CARP total cost.

    Parameters
    ----------
    instance : CarpInstance
        The parsed file.
    vehicles : int, optional
        Fleet size; default ``min_trips + EXTRA_VEHICLES`` (the fleet is
        unlimited in the benchmark; unused vehicles cost nothing).
    """
    k = instance.min_trips + EXTRA_VEHICLES if vehicles is None else vehicles
    tasks = tuple(
        ArcTask(
            id=task_id(i),
            tail=e.u - 1,
            head=e.v - 1,
            service_cost=float(e.cost),
            demand={CARP_DIMENSION: float(e.demand)},
            direction=Direction.EITHER,
        )
        for i, e in enumerate(instance.required)
    )
    depot = instance.depot - 1
    fleet = tuple(
        ArcVehicle(id=f"v{j + 1}", start=depot, capacity={CARP_DIMENSION: float(instance.capacity)})
        for j in range(max(1, k))
    )
    n = instance.n_vertices
    return ArcProblem(
        dist=instance.dist,
        time_s=np.zeros((n, n)),
        tasks=tasks,
        vehicles=fleet,
        name=instance.name,
    )
