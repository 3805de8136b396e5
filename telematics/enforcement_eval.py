"""How well the enforcement checks find labelled violations: precision and recall per alert type.

For each seed :func:`telematics.enforcement_sim.build_hauler_day` makes a
labelled night; :func:`telematics.enforcement.police_enforcement` polices it,
and the alerts are matched one to one against the labels of the same type and
vehicle by time overlap (:func:`telematics.evaluate.match`). Only the types in
:data:`telematics.enforcement.ENFORCEMENT_TYPES` are scored (``detour`` here
means off the permit's corridor).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from core.domain import Alert
from core.roads import RoadNetwork
from telematics.enforcement import ENFORCEMENT_TYPES, EnforcementRules, police_enforcement
from telematics.enforcement_sim import HaulerDay, build_hauler_day
from telematics.evaluate import Score, match


def police_day(day: HaulerDay, rules: EnforcementRules | None = None) -> list[Alert]:
    """Every enforcement alert of a simulated day."""
    return police_enforcement(
        day.tracks,
        sites=day.sites,
        zones=day.zones,
        permits=day.permits,
        tickets=day.tickets,
        day=day.day,
        timezone=day.timezone,
        vehicle_kinds=day.kinds,
        rules=rules,
    )


def evaluate_enforcement(
    network: RoadNetwork,
    seeds: Iterable[int],
    *,
    rules: EnforcementRules | None = None,
    progress: Callable[[int, dict[str, Score]], None] | None = None,
) -> dict[str, Score]:
    """Precision and recall per enforcement alert type over the labelled nights of ``seeds``.

    ``progress(seed, scores_of_that_seed)`` is called after each night.
    """
    types = tuple(t.value for t in ENFORCEMENT_TYPES)
    total = {t: Score() for t in types}
    for seed in seeds:
        day = build_hauler_day(network, seed)
        scores = match(police_day(day, rules), day.labels, ignored=day.ignored, types=types)
        for kind, s in scores.items():
            total[kind].add(s)
        if progress is not None:
            progress(seed, scores)
    return total
