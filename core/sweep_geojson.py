"""Sweeping and washing plans as GeoJSON (``output/sweeping.geojson``).

One FeatureCollection for any number of plans. Its ``properties`` hold, per
plan (key ``"<activity>"``): ``coverage`` (0..1 of the required length),
``coverage_by_class``, ``swept_m``, ``deadhead_m`` and ``left_out`` (task id,
class, length, reason). Each feature has ``properties.kind``:

- ``swept``: LineString of one served segment in the direction driven;
  ``activity`` (``sweep`` or ``wash``), ``vehicle_id``, ``seq``, ``task_id``,
  ``segment_id``, ``highway``, ``length_m``, ``start``/``end`` (ISO 8601 UTC);
- ``deadhead``: LineString of a leg driven without working; ``activity``,
  ``vehicle_id``, ``seq`` (of the visit it leads to), ``length_m``;
- ``dump`` / ``refill``: Point of a facility visit; ``activity``,
  ``vehicle_id``, ``seq``, ``facility_id``, ``start``, ``end``, ``load_kg``, ``water_l``.

Coordinates are ``[lon, lat]`` (WGS 84), as GeoJSON requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.geojson import iso_utc, local_seconds_to_utc
from core.sweep_plan import SweepingPlan, SweepVisitKind

__all__ = ["sweeping_to_geojson"]


def _line(coords: Iterable[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in coords]}


def sweeping_to_geojson(plans: Iterable[SweepingPlan], timezone: str) -> dict[str, Any]:
    """The plans as one FeatureCollection (see the module docstring); times local to ``timezone``."""
    features: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for plan in plans:

        def when(seconds: float, plan: SweepingPlan = plan) -> str:
            return iso_utc(local_seconds_to_utc(plan.day, seconds, timezone))

        summary[plan.activity] = {
            "day": plan.day.isoformat(),
            "coverage": round(plan.coverage(), 4),
            "coverage_by_class": {k: round(v, 4) for k, v in plan.coverage_by_class().items()},
            "swept_m": round(plan.swept_m, 1),
            "deadhead_m": round(plan.deadhead_m, 1),
            "left_out": [
                {
                    "task_id": t.task_id,
                    "highway": t.highway,
                    "length_m": round(t.length_m, 1),
                    "reason": t.reason,
                }
                for t in plan.left_out
            ],
        }
        for route in plan.routes:
            base = {"activity": plan.activity, "vehicle_id": route.vehicle_id}
            for seq, v in enumerate(route.visits):
                if len(v.deadhead_coords) > 1:
                    props = {"kind": "deadhead", **base, "seq": seq, "length_m": round(v.deadhead_m, 1)}
                    features.append(
                        {"type": "Feature", "geometry": _line(v.deadhead_coords), "properties": props}
                    )
                if v.kind == SweepVisitKind.SERVICE:
                    props = {
                        "kind": "swept",
                        **base,
                        "seq": seq,
                        "task_id": v.ref_id,
                        "segment_id": v.segment_id,
                        "highway": v.highway,
                        "length_m": round(v.length_m, 1),
                        "start": when(v.start_s),
                        "end": when(v.end_s),
                    }
                    features.append({"type": "Feature", "geometry": _line(v.coords), "properties": props})
                elif v.kind in (SweepVisitKind.DUMP, SweepVisitKind.REFILL):
                    lat, lon = v.coords[0]
                    props = {
                        "kind": v.kind.value,
                        **base,
                        "seq": seq,
                        "facility_id": v.ref_id,
                        "start": when(v.start_s),
                        "end": when(v.end_s),
                        "load_kg": round(v.load_kg, 1),
                        "water_l": round(v.water_l, 1),
                    }
                    geometry = {"type": "Point", "coordinates": [lon, lat]}
                    features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "properties": summary, "features": features}
