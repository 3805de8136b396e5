"""Evaluation: scoring alerts against labels, labelled days on Baltimore, and the CLI's JSON."""

from __future__ import annotations

import json

import pytest

from core.domain import Alert, AlertType, StopKind
from core.roads import RoadNetwork
from telematics.evaluate import TELEMATICS_TYPES, check_scenario, evaluate_telematics, match
from telematics.limits import RoadLimits
from telematics.scenarios import SWEEPER_ID, build_scenario

KINDS = {t.value for t in AlertType}


def alert(kind: str, vid: str, start: float, end: float, stop: str | None = None) -> Alert:
    return Alert(AlertType(kind), vid, start, end, 39.0, -76.0, stop_id=stop)


def test_match_is_one_to_one_by_type_vehicle_time_and_stop() -> None:
    """Overlap (with slack) or the same stop id matches; a second alert on one label is a false positive."""
    labels = [
        {"type": "detour", "vehicle_id": "T1", "start_utc": 100.0, "end_utc": 200.0},
        {"type": "missed_stop", "vehicle_id": "T1", "stop_id": "P3", "start_utc": 0.0, "end_utc": 0.0},
        {"type": "speeding", "vehicle_id": "T2", "start_utc": 500.0, "end_utc": 600.0},
    ]
    alerts = [
        alert("detour", "T1", 220.0, 300.0),  # within the 30 s slack
        alert("detour", "T1", 150.0, 160.0),  # the label is taken already
        alert("missed_stop", "T1", 9.0, 9.0, "P3"),
        alert("missed_stop", "T1", 9.0, 9.0, "P4"),
        alert("speeding", "T1", 500.0, 600.0),  # wrong vehicle
    ]
    scores = match(alerts, labels)
    got = {k: (s.true_positives, s.false_positives, s.false_negatives) for k, s in scores.items()}
    assert got["detour"] == (1, 1, 0)
    assert got["missed_stop"] == (1, 1, 0)
    assert got["speeding"] == (0, 1, 1)
    assert scores["speeding"].precision == 0.0
    assert scores["gps_gap"].precision == scores["gps_gap"].recall == 1.0
    ignored = [{"type": "detour", "vehicle_id": "T1", "start_utc": 140.0, "end_utc": 170.0}]
    assert match(alerts[1:2], [], ignored=ignored)["detour"].false_positives == 0


@pytest.fixture(scope="module")
def limits(baltimore: RoadNetwork) -> RoadLimits:
    """Speed limits of the embedded Baltimore network."""
    return RoadLimits.from_network(baltimore)


def test_a_labelled_day_has_violations_lookalikes_and_consistent_truth(
    baltimore: RoadNetwork, limits: RoadLimits
) -> None:
    """Three trucks and a sweeper; stop labels name planned stops; look-alikes abound; repeatable."""
    sc = build_scenario(baltimore, 3, limits=limits)
    assert [r.vehicle_id for r in sc.plan.routes] == ["T1", "T2", "T3"]
    assert set(sc.sim.tracks) == {"T1", "T2", "T3", SWEEPER_ID}
    collections = {s.ref_id for r in sc.plan.routes for s in r.stops if s.kind == StopKind.COLLECTION}
    assert all(lab["stop_id"] in collections for lab in sc.labels if "stop_id" in lab)
    assert {lab["type"] for lab in sc.labels} <= KINDS
    kinds = {la["kind"] for la in sc.lookalikes}
    assert {"red_light", "short_stop_in_corridor", "facility_queue", "speed_near_limit", "gps_jump"} <= kinds
    again = build_scenario(baltimore, 3, limits=limits)
    assert again.labels == sc.labels


def test_checker_reaches_the_target_on_a_few_days(baltimore: RoadNetwork) -> None:
    """Over three labelled days every alert type has precision and recall of at least 0.95."""
    scores = evaluate_telematics(baltimore, range(3))
    for kind, s in scores.items():
        assert s.precision >= 0.95, kind
        assert s.recall >= 0.95, kind
    assert sum(s.true_positives for s in scores.values()) > 30


def test_no_false_alarm_on_a_day_full_of_lookalikes(baltimore: RoadNetwork, limits: RoadLimits) -> None:
    """Every alert of a labelled day matches a label: the look-alikes raise nothing."""
    sc = build_scenario(baltimore, 5, limits=limits)
    scores = match(check_scenario(sc, limits=limits), sc.labels, ignored=sc.ignored)
    assert sum(s.false_positives for s in scores.values()) == 0
    assert sum(s.true_positives for s in scores.values()) > 0


def test_cli_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    """`wastefleet evaluate telematics --seeds 1 --json` prints one JSON object of each type's figures."""
    from api.cli import main

    assert main(["evaluate", "telematics", "--seeds", "1", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) == set(TELEMATICS_TYPES)  # the enforcement types have their own evaluation
    for figures in body.values():
        assert set(figures) == {"precision", "recall", "true_positives", "false_positives", "false_negatives"}
