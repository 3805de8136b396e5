"""Hotspots: suspicious stops clustered over weeks into ~200 m hexagons, ranked, listed and mapped.

Unknown dumping sites show up as places where suspicious stops (``illegal_dump``
alerts) recur, across days and vehicles. Each stop falls in an H3 cell
(resolution 9: hexagons with edges of about 200 m; Uber's H3 grid through the
``h3`` library). A site on a cell edge would split between cells, so hotspots are
grown greedily: the cell whose disk (itself and its six neighbours) holds the
most weight becomes a hotspot and takes every stop of that disk; repeat until no
disk holds ``min_events`` stops. A hotspot is therefore at most about 600 m across.

Weight is each alert's confidence; hotspots rank by weight, then stops, then
distinct days.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h3

from core.domain import Alert, AlertType
from core.errors import ValidationError
from core.geojson import iso_utc

SUSPICIOUS_TYPES: frozenset[AlertType] = frozenset({AlertType.ILLEGAL_DUMP})
"""Alert types whose stops count as suspicious."""

DEFAULT_RESOLUTION = 9
"""H3 resolution: hexagon edges of about 200 m."""


@dataclass(frozen=True, slots=True)
class SuspiciousStop:
    """One suspicious stop: where, when (UNIX epoch s), which vehicle, how sure (0..1)."""

    key: str
    vehicle_id: str
    lat: float
    lon: float
    start_utc: float
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Hotspot:
    """A cluster of suspicious stops around H3 cell ``cell``.

    ``lat``/``lon`` is the mean of its stops; ``score`` the sum of their weights;
    ``days`` the distinct UTC days; ``cells`` the H3 cells holding its stops.
    """

    cell: str
    lat: float
    lon: float
    events: int
    vehicles: int
    days: int
    score: float
    first_utc: float
    last_utc: float
    keys: tuple[str, ...]
    cells: tuple[str, ...]


def stops_from_alerts(
    alerts: Iterable[Alert], types: frozenset[AlertType] = SUSPICIOUS_TYPES
) -> list[SuspiciousStop]:
    """The suspicious stops among ``alerts`` (of ``types``), weighted by confidence."""
    return [
        SuspiciousStop(
            a.key, a.vehicle_id, float(a.lat), float(a.lon), float(a.start_utc), float(a.confidence)
        )
        for a in alerts
        if a.type in types
    ]


def cluster_stops(
    stops: Sequence[SuspiciousStop], *, resolution: int = DEFAULT_RESOLUTION, min_events: int = 2
) -> list[Hotspot]:
    """Group ``stops`` into ranked hotspots (see the module docstring).

    Raises
    ------
    ValidationError
        ``resolution`` outside 0..15 or ``min_events`` below 1.
    """
    if not isinstance(resolution, int) or not 0 <= resolution <= 15:
        raise ValidationError("cluster_stops", "resolution", f"must be an integer 0..15, got {resolution!r}")
    if not isinstance(min_events, int) or min_events < 1:
        raise ValidationError("cluster_stops", "min_events", f"must be an integer >= 1, got {min_events!r}")
    by_cell: dict[str, list[SuspiciousStop]] = defaultdict(list)
    for s in stops:
        by_cell[h3.latlng_to_cell(s.lat, s.lon, resolution)].append(s)
    spots: list[Hotspot] = []
    while by_cell:
        best: tuple[float, int, str] | None = None
        for cell in by_cell:
            disk = [c for c in h3.grid_disk(cell, 1) if c in by_cell]
            members = [s for c in disk for s in by_cell[c]]
            rank = (sum(s.weight for s in members), len(members), cell)
            if len(members) >= min_events and (
                best is None or rank[:2] > best[:2] or (rank[:2] == best[:2] and cell < best[2])
            ):
                best = rank
        if best is None:
            break
        centre = best[2]
        disk = sorted(c for c in h3.grid_disk(centre, 1) if c in by_cell)
        spots.append(_hotspot(centre, disk, [s for c in disk for s in by_cell.pop(c)]))
    spots.sort(key=lambda h: (-h.score, -h.events, -h.days, h.cell))
    return spots


def _hotspot(centre: str, cells: list[str], members: list[SuspiciousStop]) -> Hotspot:
    members = sorted(members, key=lambda s: (s.start_utc, s.key))
    days = {datetime.fromtimestamp(s.start_utc, UTC).date() for s in members}
    return Hotspot(
        cell=centre,
        lat=sum(s.lat for s in members) / len(members),
        lon=sum(s.lon for s in members) / len(members),
        events=len(members),
        vehicles=len({s.vehicle_id for s in members}),
        days=len(days),
        score=round(sum(s.weight for s in members), 6),
        first_utc=members[0].start_utc,
        last_utc=members[-1].start_utc,
        keys=tuple(s.key for s in members),
        cells=tuple(cells),
    )


def find_hotspots(
    alerts: Iterable[Alert], *, resolution: int = DEFAULT_RESOLUTION, min_events: int = 2
) -> list[Hotspot]:
    """Hotspots of the suspicious stops among ``alerts``, ranked (see :func:`cluster_stops`)."""
    return cluster_stops(stops_from_alerts(alerts), resolution=resolution, min_events=min_events)


def _iso(ts: float) -> str:
    return iso_utc(datetime.fromtimestamp(ts, UTC))


def _ring(cell: str) -> list[list[float]]:
    ring = [[round(lon, 7), round(lat, 7)] for lat, lon in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]


def hotspots_document(spots: Sequence[Hotspot]) -> dict[str, Any]:
    """The hotspots as a GeoJSON FeatureCollection: one MultiPolygon (its cells) per hotspot, ranked."""
    features = []
    for rank, h in enumerate(spots, start=1):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiPolygon", "coordinates": [[_ring(c)] for c in h.cells]},
                "properties": {
                    "rank": rank,
                    "cell": h.cell,
                    "lat": round(h.lat, 7),
                    "lon": round(h.lon, 7),
                    "events": h.events,
                    "vehicles": h.vehicles,
                    "days": h.days,
                    "score": h.score,
                    "first": _iso(h.first_utc),
                    "last": _iso(h.last_utc),
                    "alert_keys": list(h.keys),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def render_hotspots(
    path: Path, spots: Sequence[Hotspot], alerts: Sequence[Alert] = (), *, dpi: int = 130
) -> Path:
    """Draw the hotspot cells (darker: higher score), their rank, and the suspicious stops, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    from core.render import ATTRIBUTION

    fig, ax = plt.subplots(figsize=(9, 8))
    top = max((h.score for h in spots), default=1.0) or 1.0
    for rank, h in enumerate(spots, start=1):
        for cell in h.cells:
            xy = [(lon, lat) for lat, lon in h3.cell_to_boundary(cell)]
            shade = 0.25 + 0.65 * h.score / top
            ax.add_patch(
                Polygon(xy, closed=True, facecolor=(0.85, 0.1, 0.1, shade), edgecolor="#600000", zorder=2)
            )
        ax.annotate(
            f"#{rank} ({h.events})",
            (h.lon, h.lat),
            xytext=(8, 8),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
            zorder=4,
        )
    pts = stops_from_alerts(alerts)
    if pts:
        ax.scatter(
            [s.lon for s in pts], [s.lat for s in pts], s=12, c="black", zorder=3, label="suspicious stop"
        )
        ax.legend(loc="upper left", fontsize=8)
    ax.autoscale()
    lat_mid = sum(ax.get_ylim()) / 2
    ax.set_aspect(1 / math.cos(math.radians(lat_mid)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{len(spots)} hotspots of suspicious stops")
    fig.text(0.99, 0.01, ATTRIBUTION, ha="right", va="bottom", fontsize=8, color="#333333")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
