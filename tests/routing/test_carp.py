"""routing.carp: the CARPLIB reader on real gdb/val files and on broken copies."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from core.errors import ValidationError
from routing.arc_model import CARP_DIMENSION, Direction
from routing.arc_verify import floyd_warshall
from routing.bench import default_data_dir
from routing.carp import EXTRA_VEHICLES, carp_problem, read_carp, task_id

CARP = default_data_dir() / "carp"


def _edge_lines(path: Path) -> list[tuple[int, int, int, int | None]]:
    """Edges parsed the plain way: whitespace and punctuation split (independent of the reader's regex)."""
    out = []
    for line in path.read_text().splitlines():
        if "coste" not in line:
            continue
        words = line.replace("(", " ").replace(")", " ").replace(",", " ").split()
        u, v, cost = int(words[0]), int(words[1]), int(words[3])
        demand = int(words[5]) if "demanda" in words else None
        out.append((u, v, cost, demand))
    return out


def test_reads_gdb1_and_recomputes_totals() -> None:
    path = CARP / "gdb" / "gdb1.dat"
    inst = read_carp(path)
    edges = _edge_lines(path)
    assert inst.name == "gdb1"
    assert (inst.n_vertices, inst.capacity, inst.depot, inst.vehicles_in_file) == (12, 5, 1, 5)
    assert len(inst.required) == len(edges) == 22
    assert inst.others == ()
    assert inst.total_cost == sum(c for _, _, c, _ in edges)
    assert inst.total_demand == sum(d or 0 for _, _, _, d in edges)
    assert inst.min_trips == -(-inst.total_demand // inst.capacity)
    header = int(re.search(r"COSTE_TOTAL_REQ\s*:\s*(\d+)", path.read_text())[1])  # type: ignore[index]
    assert inst.header_total_cost == header


def test_val1a_header_total_is_wrong_and_ignored() -> None:
    inst = read_carp(CARP / "val" / "1A.dat")
    assert inst.name == "val1A"
    assert inst.header_total_cost == 220
    assert inst.total_cost == 146  # the README's worked example


def test_shortest_paths_match_floyd_warshall() -> None:
    inst = read_carp(CARP / "val" / "2C.dat")
    edges = [(e.u - 1, e.v - 1, float(e.cost)) for e in (*inst.required, *inst.others)]
    expected = floyd_warshall(inst.n_vertices, edges)
    assert np.allclose(inst.dist, expected)
    assert np.allclose(inst.dist, inst.dist.T)
    assert np.all(np.diagonal(inst.dist) == 0)


def test_carp_problem_is_every_edge_either_one_dimension_and_spare_vehicles() -> None:
    inst = read_carp(CARP / "gdb" / "gdb19.dat")
    problem = carp_problem(inst)
    assert len(problem.tasks) == len(inst.required)
    assert all(t.direction == Direction.EITHER for t in problem.tasks)
    for i, (t, e) in enumerate(zip(problem.tasks, inst.required, strict=True)):
        assert t.id == task_id(i)
        assert (t.tail, t.head, t.service_cost) == (e.u - 1, e.v - 1, e.cost)
        assert dict(t.demand) == {CARP_DIMENSION: e.demand}
    assert len(problem.vehicles) == inst.min_trips + EXTRA_VEHICLES
    assert {v.start for v in problem.vehicles} == {inst.depot - 1}
    assert all(v.capacity == {CARP_DIMENSION: inst.capacity} and v.fixed_cost == 0 for v in problem.vehicles)
    assert problem.lower_bound() == inst.total_cost


def test_bad_files_name_the_field(tmp_path: Path) -> None:
    text = (CARP / "gdb" / "gdb19.dat").read_text()
    wrong_count = tmp_path / "count.dat"
    wrong_count.write_text(re.sub(r"ARISTAS_REQ\s*:\s*\d+", "ARISTAS_REQ : 99", text))
    with pytest.raises(ValidationError, match="ARISTAS_REQ"):
        read_carp(wrong_count)
    bad_node = tmp_path / "node.dat"
    bad_node.write_text(text.replace("( 1,", "( 77,", 1))
    with pytest.raises(ValidationError, match="outside"):
        read_carp(bad_node)
    no_capacity = tmp_path / "cap.dat"
    no_capacity.write_text(re.sub(r".*CAPACIDAD.*\n", "", text))
    with pytest.raises(ValidationError, match="CAPACIDAD"):
        read_carp(no_capacity)


SMALL = """ NOMBRE : tiny
 COMENTARIO : 0 (cota superior)
 VERTICES : 4
 ARISTAS_REQ : 2
 ARISTAS_NOREQ : 2
 VEHICULOS : 1
 CAPACIDAD : 5
 TIPO_COSTES_ARISTAS : EXPLICITOS
 COSTE_TOTAL_REQ : 999
 LISTA_ARISTAS_REQ :
 ( 1, 2)  coste 4 demanda 3
 ( 3, 4)  coste 2 demanda 3
 LISTA_ARISTAS_NOREQ :
 ( 2, 3)  coste 1
 ( 4, 1)  coste 10
 DEPOSITO :   1
"""


def test_non_required_edges_are_read_and_used_for_deadheading(tmp_path: Path) -> None:
    path = tmp_path / "tiny.dat"
    path.write_text(SMALL)
    inst = read_carp(path)
    assert [(e.u, e.v, e.cost, e.demand) for e in inst.others] == [(2, 3, 1, 0), (4, 1, 10, 0)]
    assert inst.total_cost == 6
    assert inst.header_total_cost == 999
    # 4 -> 1 is cheaper through 3 and 2 (2 + 1 + 4 = 7) than the direct non-required edge (10)
    assert inst.dist[3, 0] == 7
    assert inst.min_trips == 2  # demand 6 > capacity 5
    problem = carp_problem(inst)
    assert len(problem.vehicles) == 2 + EXTRA_VEHICLES
