"""How well the checker finds labelled violations: precision and recall per alert type.

For each seed :func:`telematics.scenarios.build_scenario` makes a labelled day
on the road network; every vehicle's track goes through
:class:`telematics.checks.VehicleChecker` (batch: one push, then close) and the
alerts are matched one to one against the labels of the same type and vehicle:
stop alerts by stop id, the others by time overlap (``slack_s`` either side).
A matched alert is a true positive, an unmatched alert a false positive, an
unmatched label a false negative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from core.domain import Alert, AlertType
from core.roads import RoadNetwork
from telematics.checks import CheckRules, VehicleChecker
from telematics.limits import RoadLimits
from telematics.scenarios import Scenario, build_scenario

TELEMATICS_TYPES: tuple[str, ...] = (
    AlertType.DETOUR.value,
    AlertType.MISSED_STOP.value,
    AlertType.LATE_STOP.value,
    AlertType.SPEEDING.value,
    AlertType.GPS_GAP.value,
    AlertType.COVERAGE_SHORTFALL.value,
)
"""The alert types the telematics evaluation scores (the enforcement ones have their own)."""


@dataclass(slots=True)
class Score:
    """Counts for one alert type; precision and recall are 1.0 when nothing was there to get wrong."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        """TP / (TP + FP)."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN)."""
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else 1.0

    def add(self, other: Score) -> None:
        """Add ``other``'s counts to these."""
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives

    def as_dict(self) -> dict[str, float | int]:
        """``{"precision", "recall", "true_positives", "false_positives", "false_negatives"}``."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
        }


def check_scenario(
    scenario: Scenario, *, rules: CheckRules | None = None, limits: RoadLimits | None = None
) -> list[Alert]:
    """Every alert of the scenario's day: each truck against its route, the sweeper against its plan."""
    alerts: list[Alert] = []
    routes = {r.vehicle_id: r for r in scenario.plan.routes}
    for vid, track in scenario.sim.tracks.items():
        if vid in routes:
            checker = VehicleChecker.for_route(
                routes[vid], day_start_utc=scenario.day_start_utc, rules=rules, road_limits=limits
            )
        else:
            checker = VehicleChecker.for_route(
                _empty_route(vid), rules=rules, sweep_paths=scenario.sweep_paths.get(vid)
            )
        alerts += checker.push_track(track)
        alerts += checker.close()
    return alerts


def _empty_route(vehicle_id: str) -> Any:
    from core.domain import Route

    return Route(vehicle_id, ())


def match(
    alerts: Iterable[Alert],
    labels: Iterable[dict[str, Any]],
    *,
    ignored: Iterable[dict[str, Any]] = (),
    slack_s: float = 30.0,
    types: Iterable[str] = TELEMATICS_TYPES,
) -> dict[str, Score]:
    """Score alerts against labels, one to one, per alert type (see the module docstring).

    ``ignored`` are cases too close to a threshold to call (same form as labels):
    alerts matching them are not counted, and missing them is no error. Only
    alerts and labels of ``types`` are scored.
    """
    scores = {t: Score() for t in types}
    alerts = [a for a in alerts if a.type.value in scores]
    labels = [lab for lab in labels if lab["type"] in scores]
    ignored = [lab for lab in ignored if lab["type"] in scores]
    open_labels = [dict(lab, matched=False, ignore=False) for lab in labels]
    open_labels += [dict(lab, matched=False, ignore=True) for lab in ignored]
    for alert in sorted(alerts, key=lambda a: (a.type.value, a.vehicle_id, a.start_utc)):
        kind = alert.type.value
        hit = None
        for lab in open_labels:
            if lab["matched"] or lab["type"] != kind or lab["vehicle_id"] != alert.vehicle_id:
                continue
            if "stop_id" in lab:
                if lab["stop_id"] == alert.stop_id:
                    hit = lab
                    break
            elif alert.start_utc <= lab["end_utc"] + slack_s and alert.end_utc >= lab["start_utc"] - slack_s:
                hit = lab
                break
        if hit is None:
            scores[kind].false_positives += 1
        else:
            hit["matched"] = True
            if not hit["ignore"]:
                scores[kind].true_positives += 1
    for lab in open_labels:
        if not lab["matched"] and not lab["ignore"]:
            scores[lab["type"]].false_negatives += 1
    return scores


def evaluate_telematics(
    network: RoadNetwork,
    seeds: Iterable[int],
    *,
    rules: CheckRules | None = None,
    progress: Callable[[int, dict[str, Score]], None] | None = None,
) -> dict[str, Score]:
    """Precision and recall per alert type over the labelled days of ``seeds``.

    Speed limits come from the network (:meth:`RoadLimits.from_network`): the
    simulated trucks drive at them, and the checker judges against them.
    ``progress(seed, scores_of_that_seed)`` is called after each day.
    """
    limits = RoadLimits.from_network(network)
    total = {t: Score() for t in TELEMATICS_TYPES}
    for seed in seeds:
        scenario = build_scenario(network, seed, limits=limits)
        scores = match(
            check_scenario(scenario, rules=rules, limits=limits), scenario.labels, ignored=scenario.ignored
        )
        for kind, s in scores.items():
            total[kind].add(s)
        if progress is not None:
            progress(seed, scores)
    return total
