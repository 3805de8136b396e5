"""Tests of routing.verify on hand-built plans (no solver): a sound plan passes, each broken rule is caught.

The city (x east, y north; one grid unit = 10 km of road, Manhattan metric,
10 m/s, so 1000 s per unit)::

    y=2   p2  p3  p4
    y=1   p1  .   p5
    y=0   D   .   .   F, K

- Depot ``D`` (0, 0). Facility ``F`` (3, 0): residual + recyclables, open
  06:00-18:00, 900 s unload, 2 tipping bays. Facility ``K`` at the same place:
  kitchen waste only.
- ``p1``-``p4`` residual, 400 kg, 2000 l, 600 s service, mandatory; ``p5``
  optional (penalty 50), listed unserved by the plans here.
- Trucks ``T1``-``T3``: residual only, 1000 kg, 8000 l; shift 06:00-15:00; a
  3600 s break starting in 11:00-12:00; fixed cost 100, 1 per km, 30 per hour.

The sound plan (``T1``): D -> p1 -> p2 -> F -> p3 -> p4 -> (lunch) -> F -> D,
two trips of 800 kg; the lunch break starts 11:00 in the middle of the
3000 s leg p4 -> F (left p4 at 10:15, 2700 s driven), so F is reached at
10:15 + 3000 s + 3600 s = 12:05.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from core.domain import (
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    Plan,
    PlanBreak,
    PlanStop,
    Route,
    StopKind,
    Stream,
    TimeWindow,
    UnservedPoint,
    Vehicle,
    VehicleKind,
)
from routing.verify import plan_cost, plan_distance_m, verify_plan

UNIT_M = 10_000.0
SPEED_MPS = 10.0
DAY = date(2026, 3, 2)

XY = {
    "D": (0, 0),
    "F": (3, 0),
    "K": (3, 0),
    "p1": (0, 1),
    "p2": (0, 2),
    "p3": (1, 2),
    "p4": (2, 2),
    "p5": (2, 1),
}


def hm(h: int, m: int = 0, s: int = 0) -> int:
    """Seconds since midnight."""
    return h * 3600 + m * 60 + s


def _clock(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def _at(pid: str) -> tuple[float, float]:
    x, y = XY[pid]
    return 52.0 + y / 10.0, 13.0 + x / 10.0


def make_city() -> District:
    """The city of the module docstring."""
    point = {"stream": Stream.RESIDUAL, "expected_kg": 400.0, "expected_l": 2000.0, "service_s": 600}
    truck = {
        "kind": VehicleKind.COLLECTION_TRUCK,
        "depot_id": "D",
        "streams": frozenset({Stream.RESIDUAL}),
        "capacity_kg": 1000.0,
        "capacity_l": 8000.0,
        "shift": TimeWindow(hm(6), hm(15)),
        "break_window": TimeWindow(hm(11), hm(12)),
        "break_duration_s": 3600,
        "fixed_cost": 100.0,
        "cost_per_km": 1.0,
        "cost_per_hour": 30.0,
    }
    return District(
        name="hand",
        timezone="Europe/Berlin",
        depots=(Depot("D", "Depot", *_at("D")),),
        facilities=(
            Facility(
                "F",
                "Transfer",
                FacilityKind.TRANSFER_STATION,
                *_at("F"),
                frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}),
                opening=TimeWindow(hm(6), hm(18)),
                unload_s=900,
                tipping_bays=2,
            ),
            Facility(
                "K",
                "Kitchen plant",
                FacilityKind.KITCHEN_WASTE_PLANT,
                *_at("K"),
                frozenset({Stream.KITCHEN}),
                opening=TimeWindow(hm(6), hm(18)),
                unload_s=900,
            ),
        ),
        points=(
            *(CollectionPoint(pid, *_at(pid), **point) for pid in ("p1", "p2", "p3", "p4")),  # type: ignore[arg-type]
            CollectionPoint("p5", *_at("p5"), penalty=50.0, **point),  # type: ignore[arg-type]
        ),
        vehicles=tuple(Vehicle(vid, **truck) for vid in ("T1", "T2", "T3")),  # type: ignore[arg-type]
    )


CITY = make_city()
IDS = ["D", "F", "K", "p1", "p2", "p3", "p4", "p5"]
INDEX = {pid: i for i, pid in enumerate(IDS)}
DIST = np.array([[(abs(XY[a][0] - XY[b][0]) + abs(XY[a][1] - XY[b][1])) * UNIT_M for b in IDS] for a in IDS])
TIME = DIST / SPEED_MPS


# --------------------------------------------------------------------------- hand-built plans


def build_route(
    district: District,
    vid: str,
    ids: list[str],
    depart: int,
    *,
    brk: tuple[int, int] | None = None,
    not_before: dict[int, int] | None = None,
) -> Route:
    """A route D -> ``ids`` -> D leaving at ``depart``, every stop as early as allowed.

    ``brk = (after_stop, start_s)`` puts the vehicle's break in that gap: the
    truck drives until ``start_s``, pauses, drives the rest. ``not_before``
    maps stop positions to the earliest service start there.
    """
    vehicle = next(v for v in district.vehicles if v.id == vid)
    points = {p.id: p for p in district.points}
    facilities = {f.id: f for f in district.facilities}
    not_before = not_before or {}
    seq = [vehicle.depot_id, *ids, vehicle.depot_id]
    stops = [PlanStop(StopKind.DEPOT_START, seq[0], *_at(seq[0]), depart, depart, depart, 0.0, 0.0)]
    kg = litres = 0.0
    for pos in range(1, len(seq)):
        a, b = seq[pos - 1], seq[pos]
        dep = stops[-1].departure_s
        travel = int(TIME[INDEX[a], INDEX[b]])
        arrival = dep + travel
        if brk is not None and brk[0] == pos - 1:
            arrival = max(dep + travel, brk[1]) + vehicle.break_duration_s
        start, service, window = arrival, 0, None
        if pos == len(seq) - 1:
            kind = StopKind.DEPOT_END
        elif b in facilities:
            kind, window = StopKind.UNLOAD, facilities[b].opening
            start, service = max(arrival, window.start_s), facilities[b].unload_s
            kg = litres = 0.0
        else:
            kind, point = StopKind.COLLECTION, points[b]
            window = next((w for w in point.time_windows if w.end_s >= arrival), None)
            start = max(arrival, window.start_s if window else arrival)
            service = point.service_s
            kg += point.expected_kg
            litres += point.expected_l
        start = max(start, not_before.get(pos, start))
        stops.append(
            PlanStop(
                kind,
                b,
                *_at(b),
                arrival_s=arrival,
                start_s=start,
                departure_s=start + service,
                load_kg=kg,
                load_l=litres,
                leg_distance_m=float(DIST[INDEX[a], INDEX[b]]),
                leg_time_s=travel,
                window=window,
            )
        )
    breaks = () if brk is None else (PlanBreak(brk[0], brk[1], vehicle.break_duration_s),)
    return Route(vid, tuple(stops), breaks)


def plan_of(*routes: Route, unserved: tuple[str, ...] = ("p5",)) -> Plan:
    """A plan of these routes, listing ``unserved`` points as unserved."""
    return Plan("hand", DAY, tuple(routes), tuple(UnservedPoint(pid, "test") for pid in unserved))


TWO_TRIPS = ["p1", "p2", "F", "p3", "p4", "F"]
LUNCH = (5, hm(11))
"""The break in the gap after stop 5 (p4), starting 11:00 in the middle of the leg to F."""


def sound_route(district: District = CITY, **kw: object) -> Route:
    """T1's sound route: two trips, two unloads at F, lunch mid-leg p4 -> F."""
    return build_route(district, "T1", TWO_TRIPS, hm(6), brk=LUNCH, **kw)  # type: ignore[arg-type]


def check(plan: Plan, district: District = CITY, **kw: float) -> list[str]:
    """``verify_plan`` on the hand matrices."""
    return verify_plan(plan, district, TIME, DIST, INDEX, **kw)


def with_stop(route: Route, pos: int, **changes: object) -> Route:
    """The route with one stop's fields replaced."""
    stops = list(route.stops)
    stops[pos] = replace(stops[pos], **changes)  # type: ignore[arg-type]
    return replace(route, stops=tuple(stops))


def vehicles(district: District, **changes: object) -> District:
    """The district with every vehicle's fields replaced."""
    return replace(district, vehicles=tuple(replace(v, **changes) for v in district.vehicles))  # type: ignore[arg-type]


def facility(district: District, fid: str, **changes: object) -> District:
    """The district with one facility's fields replaced."""
    return replace(
        district,
        facilities=tuple(replace(f, **changes) if f.id == fid else f for f in district.facilities),  # type: ignore[arg-type]
    )


def point(district: District, pid: str, **changes: object) -> District:
    """The district with one point's fields replaced."""
    return replace(
        district,
        points=tuple(replace(p, **changes) if p.id == pid else p for p in district.points),  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- the sound plan


def test_sound_plan_is_hand_checked() -> None:
    """The hand plan's schedule and loads are the hand-computed ones (the helper builds what we think)."""
    route = sound_route()
    times = [(s.ref_id, s.arrival_s, s.start_s, s.departure_s) for s in route.stops]
    assert times == [
        ("D", hm(6), hm(6), hm(6)),
        ("p1", hm(6, 16, 40), hm(6, 16, 40), hm(6, 26, 40)),
        ("p2", hm(6, 43, 20), hm(6, 43, 20), hm(6, 53, 20)),
        ("F", hm(8, 16, 40), hm(8, 16, 40), hm(8, 31, 40)),
        ("p3", hm(9, 38, 20), hm(9, 38, 20), hm(9, 48, 20)),
        ("p4", hm(10, 5), hm(10, 5), hm(10, 15)),
        ("F", hm(12, 5), hm(12, 5), hm(12, 20)),
        ("D", hm(13, 10), hm(13, 10), hm(13, 10)),
    ]
    assert [s.load_kg for s in route.stops] == [0, 400, 800, 0, 400, 800, 0, 0]
    assert route.breaks == (PlanBreak(5, hm(11), 3600),)


def test_sound_plan_has_no_violations() -> None:
    """Two trips, two unloads and a lunch break in the middle of a leg: zero violations."""
    assert check(plan_of(sound_route())) == []


def test_cost_and_distance_recomputed_from_the_matrices() -> None:
    """plan_cost = fixed 100 + 180 km x 1 + 5 h driven x 30 + p5's penalty 50; distance 180 km."""
    plan = plan_of(sound_route())
    assert plan_distance_m(plan, DIST, INDEX) == pytest.approx(180_000.0)
    assert plan_cost(plan, CITY, TIME, DIST, INDEX) == pytest.approx(100 + 180 + 150 + 50)


def test_plan_distance_ignores_stated_legs() -> None:
    """plan_distance_m sums the matrix, not the legs the plan states."""
    plan = plan_of(with_stop(sound_route(), 3, leg_distance_m=1.0))
    assert plan_distance_m(plan, DIST, INDEX) == pytest.approx(180_000.0)


def test_unused_vehicle_costs_nothing() -> None:
    """A depot-to-depot route is not a used vehicle: no fixed cost, no distance."""
    idle = build_route(CITY, "T2", [], hm(6))
    plan = plan_of(sound_route(), idle)
    assert check(plan) == []
    assert plan_cost(plan, CITY, TIME, DIST, INDEX) == pytest.approx(480.0)


# --------------------------------------------------------------------------- loads


@pytest.mark.parametrize(
    ("changes", "unit", "cap"), [({"capacity_kg": 700.0}, "kg", "700"), ({"capacity_l": 3000.0}, "l", "3000")]
)
def test_overload_before_unload(changes: dict[str, float], unit: str, cap: str) -> None:
    """Load per dimension: 800 on board at p2 and p4 is over capacity; the unload resets it (never 1600)."""
    amount = "800" if unit == "kg" else "4000"
    assert check(plan_of(sound_route()), vehicles(CITY, **changes)) == [
        f"T1 stop 2 (p2): load {amount} {unit} > capacity {cap} {unit}",
        f"T1 stop 5 (p4): load {amount} {unit} > capacity {cap} {unit}",
    ]


def test_stated_load_must_match_recomputation() -> None:
    """The load a stop states is compared with the load recomputed from the points."""
    route = with_stop(sound_route(), 4, load_kg=500.0)
    assert check(plan_of(route)) == ["T1 stop 4 (p3): states load 500 kg, recomputed 400 kg"]


def test_route_not_ending_empty() -> None:
    """Route ends empty: without the final unload the truck comes home with the second trip on board."""
    route = build_route(CITY, "T1", TWO_TRIPS[:-1], hm(6), brk=LUNCH)
    assert check(plan_of(route)) == [
        "T1: back at the depot with 800 kg, 4000 l on board (collected at stops 4 (p3), 5 (p4) after "
        "the last unload); a route must end empty, with an unload before the depot"
    ]


def test_district_without_facilities_need_not_end_empty() -> None:
    """Classic VRP (no facilities, as Solomon/CVRPLIB): the depot takes the load; ending loaded is fine."""
    city = replace(CITY, facilities=())
    route = build_route(city, "T1", ["p1", "p2"], hm(6))
    assert check(plan_of(route, unserved=("p3", "p4", "p5")), city) == []


def test_max_stops_exceeded() -> None:
    """Collection stops per route are bounded by max_stops."""
    assert check(plan_of(sound_route()), vehicles(CITY, max_stops=3)) == [
        "T1: 4 collection stops > max_stops 3"
    ]


def test_max_route_kg_exceeded() -> None:
    """What a route collects over the day (all trips) is bounded by max_route_kg."""
    assert check(plan_of(sound_route()), vehicles(CITY, max_route_kg=1500.0)) == [
        "T1: collects 1600 kg over the day > max_route_kg 1500"
    ]


# --------------------------------------------------------------------------- unloads and facilities


def test_unload_at_facility_not_accepting_the_stream() -> None:
    """Stream-facility rule: the first trip's residual waste unloaded at the kitchen-waste plant K."""
    route = build_route(CITY, "T1", ["p1", "p2", "K", "p3", "p4", "F"], hm(6), brk=LUNCH)
    assert check(plan_of(route)) == [
        "T1 stop 3 (K): unloads residual (from p1, p2) at a facility accepting only kitchen"
    ]


def test_unload_outside_opening_hours() -> None:
    """Facility opening: F closes at 12:00, the second unload starts 12:05."""
    city = facility(CITY, "F", opening=TimeWindow(hm(6), hm(12)))
    assert check(plan_of(sound_route(city)), city) == [
        "T1 stop 6 (F): unload starts 12:05:00, outside the facility's opening 06:00:00-12:00:00"
    ]


def test_unload_shorter_than_unload_time() -> None:
    """An unload takes the facility's unload_s: leaving F 60 s after starting is too early."""
    route = sound_route()
    stop = route.stops[3]
    route = with_stop(route, 3, departure_s=stop.start_s + 60)
    violations = check(plan_of(route))
    assert violations[0] == "T1 stop 3 (F): departure 08:17:40 is before start 08:16:40 + unload 900 s"


def _three_unloads_at(starts: tuple[int, int, int]) -> Plan:
    """T1, T2, T3 each serve one point and unload at F no earlier than ``starts``."""
    routes = [
        build_route(CITY, vid, [pid, "F"], hm(6), not_before={2: start})
        for vid, pid, start in zip(("T1", "T2", "T3"), ("p1", "p2", "p3"), starts, strict=True)
    ]
    return plan_of(*routes, unserved=("p4", "p5"))


def test_three_trucks_in_a_two_bay_facility() -> None:
    """Tipping bays: three trucks unloading at F at 09:00 at once, F has 2 bays."""
    assert check(_three_unloads_at((hm(9), hm(9), hm(9)))) == [
        "facility F: 3 trucks unloading at once at 09:00:00 (T1 stop 2, T2 stop 2, T3 stop 2) "
        "> 2 tipping bay(s)"
    ]


def test_back_to_back_unloads_share_a_bay() -> None:
    """Unload intervals are [start, start + unload_s): the third truck may start when one leaves."""
    assert check(_three_unloads_at((hm(9), hm(9), hm(9, 15)))) == []
    assert check(_three_unloads_at((hm(9), hm(9), hm(9, 15))), facility(CITY, "F", tipping_bays=1)) == [
        "facility F: 2 trucks unloading at once at 09:00:00 (T1 stop 2, T2 stop 2) > 1 tipping bay(s)"
    ]


def test_tonnage_over_the_daily_limit() -> None:
    """Daily tonnage: 2 x 800 kg unloaded at F over the day, F takes 1500 kg."""
    city = facility(CITY, "F", daily_capacity_kg=1500.0)
    assert check(plan_of(sound_route(city)), city) == [
        "facility F: 1600 kg unloaded over the day > daily capacity 1500 kg (2 unloads)"
    ]


def test_tonnage_counts_all_routes() -> None:
    """Daily tonnage sums the unloads of every route: 3 x 400 kg at F against 1000 kg."""
    city = facility(CITY, "F", daily_capacity_kg=1000.0)
    assert check(_three_unloads_at((hm(9), hm(9), hm(9, 15))), city) == [
        "facility F: 1200 kg unloaded over the day > daily capacity 1000 kg (3 unloads)"
    ]


# --------------------------------------------------------------------------- breaks


def test_break_missing() -> None:
    """Break: a route running 06:00-13:10 across the 11:00-12:00 window must list one break."""
    route = replace(sound_route(), breaks=())
    assert check(plan_of(route)) == [
        "T1: no break; the route runs 06:00:00-13:10:00 across the break window 11:00:00-12:00:00, "
        "so a 3600 s break must start in it"
    ]


def test_break_outside_its_window() -> None:
    """Break window: a break starting 10:15 (when the truck leaves p4) starts before 11:00."""
    route = build_route(CITY, "T1", TWO_TRIPS, hm(6), brk=(5, hm(10, 15)))
    assert route.stops[6].arrival_s == hm(12, 5)  # the same arrival as the sound plan
    assert check(plan_of(route)) == [
        "T1 break after stop 5: starts 10:15:00, outside the break window 11:00:00-12:00:00"
    ]


def test_break_overlapping_a_service() -> None:
    """A break may not overlap a service: it starts 11:00 while p4 is served 10:55-11:05."""
    route = build_route(CITY, "T1", TWO_TRIPS, hm(6), brk=(5, hm(11)), not_before={5: hm(10, 55)})
    assert (route.stops[5].start_s, route.stops[5].departure_s) == (hm(10, 55), hm(11, 5))
    assert check(plan_of(route)) == [
        "T1 break after stop 5: starts 11:00:00, before the truck leaves stop 5 (p4) at 11:05:00: "
        "it overlaps the work there"
    ]


def test_arrival_too_early_given_a_break_in_the_gap() -> None:
    """Mid-leg break: F stated at 11:05 (leg time only) hides the lunch hour on the way (earliest 12:05)."""
    route = build_route(CITY, "T1", TWO_TRIPS, hm(6))
    route = replace(route, breaks=(PlanBreak(5, hm(11), 3600),))
    assert route.stops[6].arrival_s == hm(11, 5)
    assert check(plan_of(route)) == [
        "T1 stop 6 (F): arrival 11:05:00 is before the earliest possible 12:05:00 (departure 10:15:00 "
        "from stop 5 + travel 3000 s + break 3600 s at 11:00:00)"
    ]


def test_break_taken_while_waiting_ends_before_the_next_arrival() -> None:
    """A break starting after the leg is driven is taken at the next stop: arrival >= break end."""
    route = build_route(CITY, "T1", TWO_TRIPS, hm(6), brk=(5, hm(11, 30)))
    assert route.stops[6].arrival_s == hm(12, 30)
    assert check(plan_of(route)) == []
    early = with_stop(route, 6, arrival_s=hm(12, 20))
    assert check(plan_of(early)) == [
        "T1 stop 6 (F): arrival 12:20:00 is before the earliest possible 12:30:00 (departure 10:15:00 "
        "from stop 5 + travel 3000 s + break 3600 s at 11:30:00)"
    ]


def test_break_of_the_wrong_length_and_two_breaks() -> None:
    """Exactly one break of the vehicle's duration."""
    route = sound_route()
    short = replace(route, breaks=(PlanBreak(5, hm(11), 1800),))
    assert "T1 break after stop 5: lasts 1800 s, the vehicle's break is 3600 s" in check(plan_of(short))
    two = replace(route, breaks=(*route.breaks, PlanBreak(1, hm(11), 3600)))
    assert "T1: 2 breaks, expected at most one" in check(plan_of(two))


def test_no_break_needed_when_the_break_fits_at_the_depot() -> None:
    """Kim / B&B: no break on a route back by the window's end or leaving after a whole break fits."""
    rest = ("p2", "p3", "p4", "p5")
    for depart, back in ((hm(6), hm(8, 38, 20)), (hm(8, 51, 40), hm(11, 30)), (hm(12), hm(14, 38, 20))):
        route = build_route(CITY, "T1", ["p1", "F"], depart)
        assert route.stops[-1].arrival_s == back
        assert check(plan_of(route, unserved=rest)) == [], _clock(depart)
    late_start = build_route(CITY, "T1", ["p1", "F"], hm(11, 30))
    assert check(plan_of(late_start, unserved=rest)) == [
        "T1: no break; the route runs 11:30:00-14:08:20 across the break window 11:00:00-12:00:00, "
        "so a 3600 s break must start in it"
    ]
    back_after_window = build_route(CITY, "T1", ["p1", "F"], hm(9, 30))
    assert check(plan_of(back_after_window, unserved=rest))[0].startswith("T1: no break;")


def test_break_listed_for_a_vehicle_without_one() -> None:
    """A vehicle with break_duration_s == 0 takes no break."""
    assert check(plan_of(sound_route()), vehicles(CITY, break_duration_s=0)) == [
        "T1: 1 break(s) listed, but the vehicle takes no break"
    ]


# --------------------------------------------------------------------------- times


def test_late_service() -> None:
    """Time windows: p3 must be served 09:00-09:30, service starts 09:38:20."""
    city = point(CITY, "p3", time_windows=(TimeWindow(hm(9), hm(9, 30)),))
    assert check(plan_of(sound_route()), city) == [
        "T1 stop 4 (p3): service starts 09:38:20, outside its window(s) 09:00:00-09:30:00"
    ]


def test_service_inside_the_second_window_passes() -> None:
    """Any one of a point's windows will do."""
    windows = (TimeWindow(hm(7), hm(8)), TimeWindow(hm(9, 30), hm(9, 40)))
    assert check(plan_of(sound_route()), point(CITY, "p3", time_windows=windows)) == []


def test_tolerance_on_times() -> None:
    """A stop 1 s early passes at the default tolerance and fails at tolerance 0."""
    route = sound_route()
    stop = route.stops[2]
    route = with_stop(route, 2, arrival_s=stop.arrival_s - 1, start_s=stop.start_s - 1)
    assert check(plan_of(route)) == []
    assert check(plan_of(route), tolerance_s=0)[0].startswith("T1 stop 2 (p2): arrival 06:43:19 is before")


def test_short_service() -> None:
    """departure >= start + service_s at a collection."""
    route = with_stop(sound_route(), 1, departure_s=hm(6, 20))
    violations = check(plan_of(route))
    assert violations[0] == "T1 stop 1 (p1): departure 06:20:00 is before start 06:16:40 + service 600 s"


def test_shift_and_route_duration() -> None:
    """Shift end 13:00 and a 6 h route limit are both broken by the 06:00-13:10 route."""
    city = vehicles(CITY, shift=TimeWindow(hm(6), hm(13)), max_duration_s=6 * 3600)
    assert check(plan_of(sound_route()), city) == [
        "T1: back at the depot at 13:10:00, after its shift ends at 13:00:00",
        "T1: route takes 25800 s > its limit of 21600 s",
    ]


def test_leaving_before_the_shift() -> None:
    """The depot is left no earlier than the shift start."""
    city = vehicles(CITY, shift=TimeWindow(hm(7), hm(15)))
    assert check(plan_of(sound_route()), city) == [
        "T1: leaves the depot at 06:00:00, before its shift starts at 07:00:00"
    ]


# --------------------------------------------------------------------------- shape, streams, points


def test_wrong_leg_distance() -> None:
    """Leg distances: a stated 40 km leg where the matrix says 50 km."""
    route = with_stop(sound_route(), 3, leg_distance_m=40_000.0)
    assert check(plan_of(route)) == ["T1 stop 3 (F): leg distance 40000 m, the matrix says 50000 m from p2"]


def test_wrong_matrix_order_is_caught() -> None:
    """Checked with an index that swaps p1 and p5, the stated legs no longer match the matrix."""
    swapped = {**INDEX, "p1": INDEX["p5"], "p5": INDEX["p1"]}
    violations = verify_plan(plan_of(sound_route()), CITY, TIME, DIST, swapped)
    assert "T1 stop 1 (p1): leg distance 10000 m, the matrix says 30000 m from D" in violations


def test_served_twice() -> None:
    """No point served twice: T2 also collects p1 (and unloads it) in the morning."""
    extra = build_route(CITY, "T2", ["p1", "F"], hm(6))
    assert check(plan_of(sound_route(), extra)) == ["point p1: served 2 times (by T1, T2)"]


def test_wrong_stream_vehicle() -> None:
    """Allowed vehicles: p3 holds recyclables, T1 collects residual only (F accepts both)."""
    city = point(CITY, "p3", stream=Stream.RECYCLABLES)
    assert check(plan_of(sound_route()), city) == [
        "T1 stop 4 (p3): vehicle may not collect recyclables (it collects residual)"
    ]


def test_points_neither_served_nor_listed() -> None:
    """Every point, mandatory or optional, is served once or listed unserved."""
    route = build_route(CITY, "T1", ["p1", "p2", "F", "p3", "F"], hm(6), brk=(3, hm(11)))
    assert check(Plan("hand", DAY, (route,))) == [
        "point p4: mandatory point neither served nor listed unserved",
        "point p5: optional point neither served nor listed unserved",
    ]


def test_served_and_listed_unserved() -> None:
    """A point both served and listed unserved is reported; so is an unknown id."""
    plan = plan_of(sound_route(), unserved=("p5", "p1", "nope"))
    assert check(plan) == [
        "unserved entry names unknown point nope",
        "point p1: both served (by T1) and listed unserved",
    ]


def test_route_must_start_and_end_at_its_depot() -> None:
    """Routes start and end at the vehicle's depot."""
    route = sound_route()
    route = with_stop(route, len(route.stops) - 1, ref_id="F")
    assert any(
        v.startswith("T1 stop 7 (F): must be depot_end at the vehicle's depot D, got depot_end at F")
        for v in check(plan_of(route))
    )


def test_one_route_per_vehicle_and_known_vehicles() -> None:
    """A vehicle has at most one route; a route's vehicle must exist."""
    plan = plan_of(sound_route(), build_route(CITY, "T1", [], hm(6)), replace(sound_route(), vehicle_id="X"))
    violations = check(plan)
    assert "T1: more than one route" in violations
    assert "X: route of an unknown vehicle" in violations
