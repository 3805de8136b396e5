"""Labelled hauler nights on Baltimore, their evaluation and the ``evaluate enforcement`` command."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from shapely import contains_xy
from shapely.geometry import Polygon

from core.roads import RoadNetwork
from telematics.enforcement import ENFORCEMENT_TYPES
from telematics.enforcement_eval import evaluate_enforcement, police_day
from telematics.enforcement_sim import CASES, HaulerDay, build_hauler_day
from telematics.evaluate import match

TYPES = {t.value for t in ENFORCEMENT_TYPES}
LOOKALIKES = {"traffic", "glitch", "legal_gap", "queue", "legal"}


@pytest.fixture(scope="module")
def night(baltimore: RoadNetwork) -> HaulerDay:
    return build_hauler_day(baltimore, 4)


def test_every_case_is_labelled_as_documented(night: HaulerDay) -> None:
    assert sorted(night.cases.values()) == sorted(CASES)
    by_case = Counter((night.cases[lab["vehicle_id"]], lab["type"]) for lab in night.labels)
    for case in CASES:
        if case.startswith("dump_"):
            assert by_case[(case, "illegal_dump")] == 1, case
    assert by_case[("unpermitted", "unpermitted_transport")] == 3
    assert by_case[("off_hours", "off_hours")] == 3
    assert by_case[("zone", "restricted_zone")] >= 1
    assert by_case[("detour", "detour")] >= 1
    assert by_case[("zone_closed", "detour")] >= 1  # through the school at night: off the corridor only
    assert by_case[("weight_onboard", "weight_discrepancy")] == 1
    assert by_case[("paper_ticket", "ticket_mismatch")] == 1
    assert not any(night.cases[lab["vehicle_id"]] in LOOKALIKES for lab in night.labels)
    assert {lab["type"] for lab in night.labels} <= TYPES


def test_sensors_follow_the_case(night: HaulerDay) -> None:
    vid = {case: v for v, case in night.cases.items()}
    assert np.isnan(night.tracks[vid["dump_stop_nosensor"]].load_kg).all()
    assert np.isfinite(night.tracks[vid["dump_drop"]].load_kg).all()
    assert np.isnan(night.tracks[vid["dump_drop"]].body_tipping).all()
    assert np.nanmax(night.tracks[vid["dump_tipping"]].body_tipping) == 1.0


def test_corridors_keep_out_of_the_zones(night: HaulerDay) -> None:
    zones = [Polygon([(lon, lat) for lat, lon in z.polygon]) for z in night.zones]
    assert len(zones) == 2
    for permit in night.permits:
        for line in permit.corridor:
            pts = np.array(line)
            for z in zones:
                assert not np.asarray(contains_xy(z, pts[:, 1], pts[:, 0])).any()


def test_the_same_seed_gives_the_same_night(baltimore: RoadNetwork, night: HaulerDay) -> None:
    again = build_hauler_day(baltimore, 4)
    assert again.labels == night.labels
    for vid, track in night.tracks.items():
        np.testing.assert_array_equal(again.tracks[vid].lat, track.lat)
    other = build_hauler_day(baltimore, 5)
    assert other.labels != night.labels


def test_police_a_night_without_false_alarms(night: HaulerDay) -> None:
    alerts = police_day(night)
    scores = match(alerts, night.labels, ignored=night.ignored, types=TYPES)
    assert sum(s.false_positives for s in scores.values()) == 0
    assert sum(s.false_negatives for s in scores.values()) == 0
    assert sum(s.true_positives for s in scores.values()) == len(night.labels)
    lookalikes = {v for v, case in night.cases.items() if case in LOOKALIKES}
    assert not [a for a in alerts if a.vehicle_id in lookalikes]
    assert all(0.0 < a.confidence <= 1.0 and a.signals for a in alerts)


def test_evaluation_reaches_the_target_on_two_nights(baltimore: RoadNetwork) -> None:
    scores = evaluate_enforcement(baltimore, [11, 12])
    assert set(scores) == TYPES
    for kind, s in scores.items():
        assert s.precision >= 0.95, kind
        assert s.recall >= 0.95, kind
        assert s.true_positives > 0, kind


def test_cli_prints_the_telematics_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    assert main(["evaluate", "enforcement", "--seeds", "1", "--first-seed", "2", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) == TYPES
    for figures in body.values():
        assert set(figures) == {"precision", "recall", "true_positives", "false_positives", "false_negatives"}
