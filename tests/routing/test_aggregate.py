"""Co-located points served as one stop: which points merge, the merged problem, and plans read back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.domain import CollectionPoint, District, Stream, TimeWindow
from routing.aggregate import MAX_GROUP_SHARE, group_colocated
from routing.model import WarmStart, build_problem
from routing.solve import SolveParams
from tests.routing.helpers import FAST, at, hm, matrices, plan_for, plan_problems, served_by, with_points


def _twins(city: District, *ids: str, x: float = 1, y: float = 1, **kw: object) -> District:
    """``city`` with extra residual points at one grid place (100 kg, 500 l, 60 s unless overridden)."""
    fields: dict[str, object] = {"stream": Stream.RESIDUAL, "expected_kg": 100.0, "expected_l": 500.0}
    fields.update(kw)
    return with_points(city, *(CollectionPoint(pid, *at(x, y), **fields) for pid in ids))  # type: ignore[arg-type]


def _problem(city: District):
    m = matrices(city)
    return build_problem(city, m.time_s, m.dist_m)


def test_points_at_one_place_merge_and_others_stay(tiny_city):
    """Three bins at (1, 1) become one stop with their demands, services and stops added up."""
    p = _problem(_twins(tiny_city, "a", "b", "c", expected_kg=50.0))
    g = group_colocated(p)
    assert g is not None
    ix = p.index_of()
    merged = [ms for ms in g.members if len(ms) > 1]
    assert [sorted(ms) for ms in merged] == [sorted([ix["a"], ix["b"], ix["c"]])]
    assert len(g.problem.points) == len(p.points) - 2
    loc = g.members.index(merged[0])
    assert g.problem.demand_kg[loc] == 150
    assert g.problem.service_s[loc] == sum(p.service_s[m] for m in merged[0])
    assert g.problem.stops_at(loc) == 3
    assert g.problem.stops_at(g.members.index((ix["p1"],))) == 1
    assert g.problem.stops_at(0) == 0, "the depot is no stop"
    assert g.problem.dist_m[0, loc] == p.dist_m[0, ix["a"]]


def test_nothing_to_merge_gives_none(tiny_city):
    assert group_colocated(_problem(tiny_city)) is None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"stream": Stream.RECYCLABLES}, "another stream"),
        ({"penalty": 50.0}, "optional"),
        ({"time_windows": (TimeWindow(hm(9), hm(10)),)}, "other windows"),
    ],
)
def test_points_that_differ_do_not_merge(tiny_city, change, why):
    city = _twins(_twins(tiny_city, "a", expected_kg=50.0), "b", **{"expected_kg": 50.0, **change})
    if "stream" in change:
        city = replace(
            city,
            facilities=tuple(
                replace(f, accepted_streams=frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}))
                for f in city.facilities
            ),
        )
    assert group_colocated(_problem(city)) is None, why


def test_a_group_holds_at_most_its_share_of_the_smallest_capacity(tiny_city):
    """1000 kg trucks, 100 kg bins: at most 250 kg = 2 bins per group, so 5 bins make 3 groups."""
    p = _problem(_twins(tiny_city, *"abcde"))
    g = group_colocated(p)
    assert g is not None
    sizes = sorted(len(ms) for ms in g.members if len(ms) > 1)
    assert sizes == [2, 2], "two pairs; the fifth bin stays on its own"
    assert MAX_GROUP_SHARE * 1000 >= 200
    assert all(g.problem.demand_kg[i] <= 250 for i in g.problem.points)


def test_the_window_ends_earlier_by_the_service_before_the_last_member(tiny_city):
    """Members are served back to back, shortest first: the group must start early enough for the last."""
    win = (TimeWindow(hm(7), hm(8)),)
    city = _twins(tiny_city, "a", time_windows=win, service_s=120)
    city = _twins(city, "b", time_windows=win, service_s=300)
    p = _problem(city)
    g = group_colocated(p)
    assert g is not None
    loc = next(i for i, ms in enumerate(g.members) if len(ms) > 1)
    ix = p.index_of()
    assert g.members[loc] == (ix["a"], ix["b"]), "shorter service first"
    assert g.problem.windows[loc] == ((hm(7), hm(8) - 120),)
    times = g.expand_times([0, loc, 0], [hm(6), hm(7, 30), hm(9)], p)
    assert times == [hm(6), hm(7, 30), hm(7, 32), hm(9)]


def test_a_window_too_short_for_the_group_keeps_the_points_apart(tiny_city):
    win = (TimeWindow(hm(7), hm(7, 1)),)
    city = _twins(tiny_city, "a", "b", time_windows=win, service_s=120)
    assert group_colocated(_problem(city)) is None


def test_solve_serves_every_merged_point_in_a_sound_plan(tiny_city):
    """The plan lists each original point, back to back, and passes the independent checks."""
    city = _twins(tiny_city, "a", "b", "c", x=2, y=0, expected_kg=50.0)
    solved = plan_for(city)
    assert set(served_by(solved.plan)) == {p.id for p in city.points}
    assert not solved.assignment.dropped
    assert plan_problems(solved.plan, city, solved.m) == []
    route = next(r for r in solved.plan.routes if r.collections)
    ids = [s.ref_id for s in route.stops]
    first = min(ids.index(x) for x in "abc")
    assert sorted(ids[first : first + 3]) == ["a", "b", "c"], "the group is served back to back"


def test_merged_stops_count_against_max_stops(tiny_city):
    """max 6 stops per truck: 5 singles + a group of 3 are 8 stops (6 if the group counted once)."""
    city = _twins(tiny_city, "a", "b", "c", x=2, y=0, expected_kg=50.0)
    city = replace(city, vehicles=tuple(replace(v, max_stops=6) for v in city.vehicles))
    merged = plan_for(city)
    alone = plan_for(city, replace(FAST, group_colocated=False))
    for solved in (merged, alone):
        assert plan_problems(solved.plan, city, solved.m) == []
        assert all(len(r.collections) <= 6 for r in solved.plan.routes)
    assert set(served_by(merged.plan)) == set(served_by(alone.plan))


def test_group_colocated_is_validated():
    with pytest.raises(Exception, match="group_colocated"):
        SolveParams(group_colocated="yes")  # type: ignore[arg-type]


def test_a_warm_start_keeps_merged_points_with_their_truck(tiny_city):
    """Yesterday truck-2 (the dearer one) served everything: with a high change penalty it still does."""
    city = _twins(tiny_city, "a", "b", "c", x=2, y=0, expected_kg=50.0)
    p = _problem(city)
    f = p.index_of()["F"]
    warm = WarmStart(routes=((), (*p.points, f)), change_penalty=10**9)
    g = group_colocated(p)
    assert g is not None
    merged_warm = g.merge_warm(warm)
    assert len(merged_warm.routes[1]) == len(warm.routes[1]) - 2, "three bins, one stop"
    cheap = plan_for(city)
    assert set(served_by(cheap.plan).values()) == {"truck-1"}, "without the warm start the cheaper truck"
    today = plan_for(city, warm_start=warm)
    assert set(served_by(today.plan).values()) == {"truck-2"}
    assert set(served_by(today.plan)) == {q.id for q in city.points}
    assert plan_problems(today.plan, city, today.m) == []
