"""Lunch breaks as OR-Tools break intervals: where they fall, how the plan schedules around them."""

from __future__ import annotations

from dataclasses import replace

from core.domain import CollectionPoint, District, PlanBreak, Stream, TimeWindow
from tests.routing.helpers import at, hm, plan_for, plan_problems


def _point(pid: str, x: float, y: float, *windows: TimeWindow) -> CollectionPoint:
    return CollectionPoint(
        pid, *at(x, y), stream=Stream.RESIDUAL, expected_kg=50, expected_l=100, time_windows=windows
    )


def _lunch_city(tiny_city: District, *, lunch: TimeWindow, duration_s: int = 3600) -> District:
    """One truck; Z must be served 10:00-10:30 (the route is under way before lunch), A from 11:00:30."""
    truck = replace(tiny_city.vehicles[0], break_window=lunch, break_duration_s=duration_s)
    points = (
        _point("Z", 0, 1, TimeWindow(hm(10), hm(10, 30))),
        _point("A", 1, 1, TimeWindow(hm(11, 0, 30), hm(12, 30))),
    )
    return replace(tiny_city, points=points, vehicles=(truck,))


def test_break_moves_a_stop_after_lunch(tiny_city):
    """Lunch must start at 11:00 sharp: A (open from 11:00:30) is served after 12:00, not at 11:00:30."""
    city = _lunch_city(tiny_city, lunch=TimeWindow(hm(11), hm(11)))
    s = plan_for(city)
    [route] = s.plan.routes
    ids = [st.ref_id for st in route.stops]
    assert ids == ["D", "Z", "A", "F", "D"]
    a = route.stops[2]
    assert a.start_s >= hm(12)
    [brk] = route.breaks
    assert brk == PlanBreak(after_stop=1, start_s=hm(11), duration_s=3600)
    z = route.stops[1]
    assert a.arrival_s == max(z.departure_s + a.leg_time_s, brk.start_s) + 3600
    assert plan_problems(s.plan, city, s.m) == []

    no_lunch = _lunch_city(tiny_city, lunch=TimeWindow(hm(11), hm(11)), duration_s=0)
    [free] = plan_for(no_lunch).plan.routes
    assert free.stops[2].start_s == hm(11, 0, 30), "without the break A is served as soon as it opens"
    assert free.breaks == ()


def test_break_in_a_long_route_lands_in_its_window(tiny_city):
    """A route from 10:00 to past 13:00 takes its hour in the gap the solver chose, starting 11:00-12:00."""
    city = replace(
        tiny_city,
        points=(
            _point("early", 0, 1, TimeWindow(hm(10), hm(10, 10))),
            _point("late", 2, 2, TimeWindow(hm(13), hm(13, 10))),
            *tiny_city.points[2:4],
        ),
        vehicles=(tiny_city.vehicles[0],),
    )
    s = plan_for(city)
    [route] = s.plan.routes
    [brk] = route.breaks
    assert hm(11) <= brk.start_s <= hm(12)
    before, after = route.stops[brk.after_stop], route.stops[brk.after_stop + 1]
    assert brk.start_s >= before.departure_s
    assert after.arrival_s >= before.departure_s + brk.duration_s + after.leg_time_s
    assert brk.start_s + brk.duration_s <= after.start_s
    assert plan_problems(s.plan, city, s.m) == []


def test_route_ending_before_lunch_has_no_break(tiny_city):
    """tiny_city's route is back at 06:36:40, before the break window: no break on the route."""
    [route] = plan_for(tiny_city).plan.routes
    assert route.breaks == ()


def test_route_starting_after_lunch_has_no_break(tiny_city):
    """A lone 13:00 point: the truck leaves after a whole break fits before it, so none is on the route."""
    city = replace(tiny_city, points=(_point("one", 1, 0, TimeWindow(hm(13), hm(13, 30))),))
    [route] = plan_for(city).plan.routes
    assert route.stops[0].departure_s >= hm(12)
    assert route.breaks == ()


def test_solver_reports_the_break_interval(tiny_city):
    """RawAssignment.breaks carries the solver's break (start in the window, its duration) per vehicle."""
    city = _lunch_city(tiny_city, lunch=TimeWindow(hm(11), hm(11, 30)))
    s = plan_for(city)
    [(start, duration)] = s.assignment.breaks[0]
    assert hm(11) <= start <= hm(11, 30)
    assert duration == 3600
