"""Sweeping plan records: coverage by class against a hand count, JSON round trip, validation."""

from __future__ import annotations

import json
from datetime import date

import pytest

from core.errors import ValidationError
from core.sweep_geojson import sweeping_to_geojson
from core.sweep_plan import (
    LeftOutTask,
    SweepingPlan,
    SweepRoute,
    SweepVisit,
    SweepVisitKind,
    planned_passes,
    sweep_plan_from_dict,
    sweep_plan_to_dict,
)

A, B, C = (39.28, -76.58), (39.281, -76.58), (39.281, -76.579)


def _service(
    ref: str, highway: str, length: float, t: int, coords: tuple[tuple[float, float], ...]
) -> SweepVisit:
    return SweepVisit(
        SweepVisitKind.SERVICE, ref, from_osm=1, to_osm=2, arrival_s=t, start_s=t, end_s=t + 100,
        segment_id=ref.split("/")[0], highway=highway, length_m=length, coords=coords,
        deadhead_m=50.0, deadhead_s=5, deadhead_coords=(A, B), load_kg=length * 0.06,
    )  # fmt: skip


def make_sweep_plan() -> SweepingPlan:
    """Two routes: primary 300 + 200 m and secondary 150 m served; primary 100 m, tertiary 50 m left out."""
    r1 = SweepRoute(
        "SW-1",
        "D",
        21_600,
        30_000,
        (
            _service("1-2/f", "primary", 300.0, 22_000, (A, B)),
            _service("1-2/r", "primary", 200.0, 22_200, (B, A)),
            SweepVisit(
                SweepVisitKind.DUMP, "DUMP", 3, 3, 22_400, 22_400, 23_000, coords=(C,), deadhead_m=80.0
            ),
            SweepVisit(
                SweepVisitKind.DEPOT_END, "D", 4, 4, 30_000, 30_000, 30_000, coords=(A,), deadhead_m=90.0
            ),
        ),
        breaks=((25_000, 1800),),
    )
    r2 = SweepRoute(
        "SW-2",
        "D",
        21_600,
        26_000,
        (
            _service("2-3/e", "secondary", 150.0, 22_000, (B, C)),
            SweepVisit(SweepVisitKind.DEPOT_END, "D", 4, 4, 26_000, 26_000, 26_000, coords=(A,)),
        ),
    )
    left = (
        LeftOutTask("5-6/f", "5-6", "primary", 100.0, "time: shift too short"),
        LeftOutTask("7-8/e", "7-8", "tertiary", 50.0, "capacity"),
    )
    return SweepingPlan("grid", date(2026, 12, 1), "sweep", (r1, r2), left, 123.5, "success")


def test_coverage_by_class_matches_a_hand_count() -> None:
    """Served length over required (served + left out) length, per class and overall."""
    plan = make_sweep_plan()
    assert plan.required_m_by_class() == {"primary": 600.0, "secondary": 150.0, "tertiary": 50.0}
    assert plan.coverage_by_class() == pytest.approx(
        {"primary": 500 / 600, "secondary": 1.0, "tertiary": 0.0}
    )
    assert plan.coverage() == pytest.approx(650 / 800)
    assert plan.swept_m == 650.0
    assert plan.deadhead_m == pytest.approx(3 * 50.0 + 80.0 + 90.0)
    assert [r.dumps for r in plan.routes] == [1, 0]
    empty = SweepingPlan("grid", date(2026, 12, 1), "wash", ())
    assert empty.coverage() == 1.0


def test_json_round_trip_is_exact() -> None:
    """to_dict -> json -> from_dict gives the same plan."""
    plan = make_sweep_plan()
    assert sweep_plan_from_dict(json.loads(json.dumps(sweep_plan_to_dict(plan)))) == plan


def test_planned_passes_list_each_service_with_its_route_position() -> None:
    """One pass per service visit, in route order, with direction and times."""
    passes = planned_passes(make_sweep_plan())
    assert [(p.vehicle_id, p.seq, p.task_id) for p in passes] == [
        ("SW-1", 0, "1-2/f"),
        ("SW-1", 1, "1-2/r"),
        ("SW-2", 0, "2-3/e"),
    ]
    assert passes[1].coords == (B, A)
    assert (passes[0].start_s, passes[0].end_s) == (22_000, 22_100)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("activity",), "mop", "activity"),
        (("routes", 0, "visits", 0, "kind"), "broom", "kind"),
        (("routes", 0, "visits", 0, "coords"), [[39.0, -76.0]], "coords"),
        (("routes", 0, "visits", 2, "start_s"), 1, "start_s"),
        (("routes", 0, "visits", 0, "deadhead_coords"), [["x", 1]], "deadhead_coords[0]"),
        (("left_out", 0, "length_m"), "long", "length_m"),
        (("day",), "yesterday", "day"),
    ],
)
def test_bad_json_names_the_record_and_field(path: tuple[object, ...], value: object, field: str) -> None:
    """A bad value is reported with its field."""
    body = sweep_plan_to_dict(make_sweep_plan())
    target: object = body
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    with pytest.raises(ValidationError) as err:
        sweep_plan_from_dict(body)
    assert err.value.field == field


def test_geojson_has_swept_deadhead_and_facility_features() -> None:
    """Swept lines per service, deadhead lines per leg, a point per dump, a summary per activity."""
    geo = sweeping_to_geojson([make_sweep_plan()], "America/New_York")
    kinds = [f["properties"]["kind"] for f in geo["features"]]
    assert kinds.count("swept") == 3
    assert kinds.count("deadhead") == 3
    assert kinds.count("dump") == 1
    swept = next(f for f in geo["features"] if f["properties"]["kind"] == "swept")
    assert swept["geometry"]["coordinates"] == [[A[1], A[0]], [B[1], B[0]]]
    assert swept["properties"]["start"] == "2026-12-01T11:06:40Z"
    assert geo["properties"]["sweep"]["coverage"] == pytest.approx(650 / 800, abs=1e-4)
    assert len(geo["properties"]["sweep"]["left_out"]) == 2
