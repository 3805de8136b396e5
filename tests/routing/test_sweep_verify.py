"""The independent sweeping-plan verifier accepts solved plans and catches each kind of broken plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

import pytest

from core.domain import District, TimeWindow
from core.roads import RoadNetwork
from core.sweep_plan import SweepingPlan, SweepRoute, SweepVisit, SweepVisitKind
from routing.solve import SolveParams
from routing.sweep_segments import ClassRule, Sides, SweepRules
from routing.sweep_verify import verify_sweeping_plan
from routing.sweeping import DEFAULT_PROFILES, SweepResult, plan_sweeping
from tests.routing.sweep_grid import grid_district, grid_network

H = 3600
RULES = SweepRules(
    {
        "primary": ClassRule(night_only=True),
        "secondary": ClassRule(),
        "tertiary": ClassRule(sides=Sides.EITHER),
    }
)
SWEEP = DEFAULT_PROFILES[grid_district().vehicles[0].kind]


@pytest.fixture(scope="module")
def net() -> RoadNetwork:
    return grid_network()


@pytest.fixture(scope="module")
def district() -> District:
    night = (("SW-DAY", TimeWindow(6 * H, 14 * H)), ("SW-NIGHT", TimeWindow(21 * H, 30 * H)))
    return grid_district(sweepers=night, hopper_kg=20.0)


@pytest.fixture(scope="module")
def solved(net: RoadNetwork, district: District) -> SweepResult:
    params = SolveParams(time_limit_s=20, solution_limit=60, workers=1)
    return plan_sweeping(district, net, date(2026, 12, 1), RULES, "sweep", params)


def _verify(result: SweepResult, district: District, net: RoadNetwork, plan: SweepingPlan) -> list[str]:
    return verify_sweeping_plan(
        plan,
        result.tasks,
        district,
        net,
        working_speed_mps=SWEEP.working_speed_mps,
        per_km=SWEEP.debris_kg_per_km,
    )


def _edit(
    plan: SweepingPlan, fn: Callable[[SweepRoute], SweepRoute], vehicle: str | None = None
) -> SweepingPlan:
    routes = tuple(fn(r) if vehicle in (None, r.vehicle_id) else r for r in plan.routes)
    return dataclasses.replace(plan, routes=routes)


def _first(r: SweepRoute, pred: Callable[[SweepVisit], bool]) -> int:
    return next(k for k, v in enumerate(r.visits) if pred(v))


def _replace_visit(r: SweepRoute, k: int, **changes: object) -> SweepRoute:
    visits = list(r.visits)
    visits[k] = dataclasses.replace(visits[k], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(r, visits=tuple(visits))


def test_solved_plan_is_sound(solved: SweepResult, district: District, net: RoadNetwork) -> None:
    """The planner's own plan (dumps, night work) passes; it has what the edits below need."""
    plan = solved.plan
    assert solved.violations == ()
    assert _verify(solved, district, net, plan) == []
    assert "SW-NIGHT" in {r.vehicle_id for r in plan.routes}
    assert sum(r.dumps for r in plan.routes) >= 2


def _is_primary_forward(v: SweepVisit) -> bool:
    return v.kind == SweepVisitKind.SERVICE and v.highway == "primary"


CASES: dict[str, tuple[Callable[[SweepRoute], SweepRoute], str]] = {
    "dropped pass": (
        lambda r: dataclasses.replace(r, visits=tuple(v for k, v in enumerate(r.visits) if k != 0)),
        "neither served nor listed",
    ),
    "pass served twice": (
        lambda r: dataclasses.replace(r, visits=(r.visits[0], *r.visits)),
        "served 2 times",
    ),
    "wrong direction": (
        lambda r: _replace_visit(
            r,
            _first(r, _is_primary_forward),
            from_osm=r.visits[_first(r, _is_primary_forward)].to_osm,
            to_osm=r.visits[_first(r, _is_primary_forward)].from_osm,
            coords=r.visits[_first(r, _is_primary_forward)].coords[::-1],
        ),
        "allowed",
    ),
    "night pass by day": (
        lambda r: _replace_visit(
            r,
            _first(r, _is_primary_forward),
            arrival_s=12 * H,
            start_s=12 * H,
            end_s=12 * H
            + r.visits[_first(r, _is_primary_forward)].end_s
            - r.visits[_first(r, _is_primary_forward)].start_s,
        ),
        "outside its window",
    ),
    "deadhead length": (
        lambda r: _replace_visit(r, 0, deadhead_m=r.visits[0].deadhead_m + 50.0),
        "the road network says",
    ),
    "work too fast": (
        lambda r: _replace_visit(
            r, _first(r, _is_primary_forward), end_s=r.visits[_first(r, _is_primary_forward)].start_s + 5
        ),
        "expected at working speed",
    ),
    "no final dump": (
        lambda r: dataclasses.replace(r, visits=(*r.visits[:-2], r.visits[-1])),
        "returns to the depot with",
    ),
    "dump at the water point": (
        lambda r: _replace_visit(r, _first(r, lambda v: v.kind == SweepVisitKind.DUMP), ref_id="WATER"),
        "does not take it",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_plan_is_caught(
    case: str, solved: SweepResult, district: District, net: RoadNetwork
) -> None:
    """One edit to the night sweeper's route gives at least the expected violation."""
    edit, expected = CASES[case]
    broken = _edit(solved.plan, edit, "SW-NIGHT")
    found = _verify(solved, district, net, broken)
    assert any(expected in line for line in found), found


def test_overload_is_caught(solved: SweepResult, district: District, net: RoadNetwork) -> None:
    """The same plan checked against a smaller hopper is over capacity."""
    smaller = dataclasses.replace(
        district, vehicles=tuple(dataclasses.replace(v, capacity_kg=7.0) for v in district.vehicles)
    )
    found = _verify(solved, smaller, net, solved.plan)
    assert any("above the capacity" in line for line in found)
