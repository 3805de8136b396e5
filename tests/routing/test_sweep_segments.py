"""Street segments and the day's tasks: merging, direction rules, frequency, area, night windows."""

from __future__ import annotations

from datetime import date, timedelta

import networkx as nx
import pytest
import shapely

from core.errors import ValidationError
from core.roads import RoadNetwork
from routing.arc_model import Direction
from routing.sweep_segments import (
    NIGHT_WINDOW,
    ClassRule,
    Frequency,
    Sides,
    SweepRules,
    is_due,
    street_segments,
    sweep_tasks,
)
from tests.routing.sweep_grid import grid_network, latlon, node, osm_id

ALL = {c: ClassRule() for c in ("primary", "residential", "secondary", "tertiary")}


def test_each_street_between_intersections_is_one_segment() -> None:
    """The grid has 3 x 3 row streets and 4 x 2 column streets; a reverse edge is not a second street."""
    net = grid_network()
    segs = street_segments(net)
    assert len(segs) == 17
    assert len({s.id for s in segs}) == 17
    assert sum(1 for s in segs if s.oneway) == 3
    for s in segs:
        assert s.length_m == pytest.approx(100.0, rel=0.01)
        assert (s.coords[0], s.coords[-1]) == (
            (net.lat[s.a], net.lon[s.a]),
            (net.lat[s.b], net.lon[s.b]),
        )


def test_pass_through_nodes_are_merged_and_intersections_are_not() -> None:
    """A street split at a node with no side street becomes one segment; a class change splits it."""
    g = nx.MultiDiGraph()
    for i in range(5):
        g.add_node(i + 1, y=39.0, x=-76.0 + 0.001 * i)
    g.add_node(9, y=39.001, x=-76.0 + 0.002)

    def street(a: int, b: int, highway: str) -> None:
        for u, v in ((a, b), (b, a)):
            g.add_edge(u, v, highway=highway, oneway=False, length=86.0, travel_time=8.6)

    street(1, 2, "secondary")
    street(2, 3, "secondary")  # node 2 only passes the street on
    street(3, 4, "secondary")  # node 3 has a side street (to 9): an intersection
    street(3, 9, "residential")
    street(4, 5, "tertiary")  # node 4: the class changes
    segs = {s.id: s for s in street_segments(RoadNetwork(g))}
    assert set(segs) == {"1-3", "3-4", "3-9", "4-5"}
    merged = segs["1-3"]
    assert merged.length_m == pytest.approx(172.0)
    assert [int(RoadNetwork(g).osm_ids[n]) for n in merged.nodes] == [1, 2, 3]


def test_one_way_street_gets_one_forward_task_in_its_direction() -> None:
    """Row 2 is one-way eastbound: one forward task per block, tail west of head."""
    net = grid_network()
    tasks = [t for t in sweep_tasks(street_segments(net), SweepRules(ALL)) if t.highway == "secondary"]
    assert len(tasks) == 3
    for t in tasks:
        assert t.direction == Direction.FORWARD
        assert net.graph.has_edge(int(net.osm_ids[t.tail]), int(net.osm_ids[t.head]))
        assert not net.graph.has_edge(int(net.osm_ids[t.head]), int(net.osm_ids[t.tail]))
        assert net.lon[t.head] > net.lon[t.tail]
        assert t.coords[0] == (net.lat[t.tail], net.lon[t.tail])


def test_two_way_main_road_gets_both_sides() -> None:
    """Each primary block gets two forward tasks of opposite directions on the same segment."""
    net = grid_network()
    tasks = [t for t in sweep_tasks(street_segments(net), SweepRules(ALL)) if t.highway == "primary"]
    assert len(tasks) == 6
    by_segment: dict[str, list[tuple[int, int]]] = {}
    for t in tasks:
        assert t.direction == Direction.FORWARD
        by_segment.setdefault(t.segment_id, []).append((t.tail, t.head))
    for pair in by_segment.values():
        assert sorted(pair) == sorted([pair[0], pair[0][::-1]])


def test_narrow_class_gets_one_either_task() -> None:
    """With sides = either, each residential block is one task that may be served either way."""
    net = grid_network()
    rules = SweepRules({**ALL, "residential": ClassRule(sides=Sides.EITHER)})
    tasks = [t for t in sweep_tasks(street_segments(net), rules) if t.highway == "residential"]
    assert len(tasks) == 3
    assert all(t.direction == Direction.EITHER and t.id.endswith("/e") for t in tasks)


def test_night_only_class_gets_the_night_window() -> None:
    """Night-only classes carry the 22:00-06:00 window; the others none."""
    rules = SweepRules({**ALL, "primary": ClassRule(night_only=True)})
    for t in sweep_tasks(street_segments(grid_network()), rules):
        assert t.window == (NIGHT_WINDOW if t.highway == "primary" else None)
    assert (NIGHT_WINDOW.start_s, NIGHT_WINDOW.end_s) == (22 * 3600, 30 * 3600)


def test_classes_not_listed_and_segments_outside_the_area_are_not_served() -> None:
    """Only listed classes; with an area, only segments whose midpoint lies inside."""
    net = grid_network()
    segs = street_segments(net)
    only_primary = sweep_tasks(segs, SweepRules({"primary": ClassRule()}))
    assert {t.highway for t in only_primary} == {"primary"}
    (s0, w0), (s1, w1) = latlon(-0.5, -0.5), latlon(1.2, 1.4)  # rows 0-1, columns 0-1
    area = shapely.box(w0, s0, w1, s1)
    inside = sweep_tasks(segs, SweepRules(ALL, area=area))
    ids = {t.segment_id for t in inside}
    # row 0 and row 1 blocks 0-1 (midpoints at column 0.5), column 0 and column 1 blocks 0-1 (row 0.5)
    expected = {
        f"{osm_id(0, 0)}-{osm_id(0, 1)}",
        f"{osm_id(1, 0)}-{osm_id(1, 1)}",
        f"{osm_id(0, 0)}-{osm_id(1, 0)}",
        f"{osm_id(0, 1)}-{osm_id(1, 1)}",
    }
    assert ids == expected
    assert node(net, 0, 0) in {t.tail for t in inside}


@pytest.mark.parametrize(("frequency", "period"), [(Frequency.ALTERNATE_DAYS, 2), (Frequency.WEEKLY, 7)])
def test_frequency_is_due_once_per_period_and_spreads_the_load(frequency: Frequency, period: int) -> None:
    """Every segment is due exactly once in any ``period`` consecutive days; due sets differ by day."""
    ids = [f"{a}-{a + 1}" for a in range(200)]
    start = date(2026, 12, 1)
    days = [start + timedelta(days=k) for k in range(3 * period)]
    for seg_id in ids:
        due = [is_due(seg_id, frequency, d) for d in days]
        for k in range(len(days) - period + 1):
            assert sum(due[k : k + period]) == 1
    counts = [sum(is_due(s, frequency, d) for s in ids) for d in days[:period]]
    assert min(counts) > 200 / period / 3  # no day takes (almost) nothing
    assert all(is_due(s, Frequency.DAILY, d) for s in ids[:10] for d in days)


def test_due_day_filter_keeps_only_due_segments() -> None:
    """sweep_tasks(day=...) keeps the segments that are_due that day, and both sides together."""
    segs = street_segments(grid_network())
    rules = SweepRules({c: ClassRule(frequency=Frequency.ALTERNATE_DAYS) for c in ALL})
    day = date(2026, 12, 1)
    today = sweep_tasks(segs, rules, day)
    tomorrow = sweep_tasks(segs, rules, day + timedelta(days=1))
    every = sweep_tasks(segs, rules)
    assert {t.id for t in today}.isdisjoint({t.id for t in tomorrow})
    assert {t.id for t in today} | {t.id for t in tomorrow} == {t.id for t in every}
    for t in today:
        assert is_due(t.segment_id, Frequency.ALTERNATE_DAYS, day)


def test_rules_are_validated() -> None:
    """Bad rules name the record and field."""
    with pytest.raises(ValidationError, match="sides"):
        ClassRule(sides="three")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="frequency"):
        ClassRule(frequency="hourly")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="classes"):
        SweepRules({})
    with pytest.raises(ValidationError, match="area"):
        SweepRules(ALL, area=shapely.Point(0, 0))
