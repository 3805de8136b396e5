"""Street segments to sweep or wash, read from the road network, and the day's tasks on them.

A *segment* is a street between two intersections: a chain of OSM edges merged
through pass-through nodes (a node on exactly two links of the same highway
class and the same directionality, e.g. where a way is split for a bridge or a
name change). A two-way street is one segment (its reverse edge is not a
second street); a one-way street is one segment in its direction.

A *task* is one pass of a vehicle along a segment:

- a one-way segment gets one ``forward`` task in its direction;
- a two-way segment gets two ``forward`` tasks, one per side (driving with the
  kerb on the right), or one ``either`` task (served once, in either direction)
  when its class rule says ``sides = "either"`` (narrow streets);
- a class rule sets how often a segment is due (daily, alternate days, weekly:
  a deterministic phase per segment spreads the load over the days) and
  whether it may only be served at night (a time window for the service start).

Coordinates are ``(lat, lon)`` degrees; lengths are metres; times of day are
seconds since local midnight (a night window runs past 24:00).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from core.domain import TimeWindow
from core.errors import ValidationError
from core.roads import RoadNetwork
from routing.arc_model import Direction

__all__ = [
    "NIGHT_WINDOW",
    "ClassRule",
    "Direction",
    "Frequency",
    "Sides",
    "StreetSegment",
    "SweepRules",
    "SweepTask",
    "is_due",
    "street_segments",
    "sweep_tasks",
]

H = 3600
"""Seconds in an hour."""

NIGHT_WINDOW = TimeWindow(22 * H, 30 * H)
"""22:00 to 06:00 the next morning (s since local midnight of the planned day)."""


class Frequency(StrEnum):
    """How often a segment must be served."""

    DAILY = "daily"
    ALTERNATE_DAYS = "alternate_days"
    WEEKLY = "weekly"

    @property
    def period_days(self) -> int:
        """Days between two services (1, 2 or 7)."""
        return {"daily": 1, "alternate_days": 2, "weekly": 7}[self.value]


class Sides(StrEnum):
    """How a two-way street is served (a one-way street is always served in its direction)."""

    BOTH = "both"
    """Each side: one ``forward`` task per direction."""
    EITHER = "either"
    """One pass, in either direction (narrow streets)."""


@dataclass(frozen=True, slots=True)
class ClassRule:
    """What one OSM highway class needs: sides, frequency and an optional night-only window."""

    sides: Sides = Sides.BOTH
    frequency: Frequency = Frequency.DAILY
    night_only: bool = False

    def __post_init__(self) -> None:
        record = "ClassRule"
        for name, enum in (("sides", Sides), ("frequency", Frequency)):
            try:
                object.__setattr__(self, name, enum(getattr(self, name)))
            except ValueError:
                allowed = ", ".join(e.value for e in enum)
                raise ValidationError(
                    record, name, f"must be one of {allowed}; got {getattr(self, name)!r}"
                ) from None
        if not isinstance(self.night_only, bool):
            raise ValidationError(record, "night_only", f"must be true or false, got {self.night_only!r}")


@dataclass(frozen=True, slots=True)
class SweepRules:
    """Which segments to serve and how.

    Attributes
    ----------
    classes
        OSM highway class (``primary``, ``residential``, ...) -> its rule;
        classes not listed are not served.
    area
        Optional shapely polygon in ``(lon, lat)`` degrees: only segments whose
        midpoint (half-way along the street) lies inside are served.
    night_window
        Service-start window of night-only classes (s since local midnight).
    """

    classes: Mapping[str, ClassRule]
    area: BaseGeometry | None = None
    night_window: TimeWindow = NIGHT_WINDOW

    def __post_init__(self) -> None:
        record = "SweepRules"
        if not isinstance(self.classes, Mapping) or not self.classes:
            raise ValidationError(record, "classes", "must map at least one highway class to a ClassRule")
        for name, rule in self.classes.items():
            if not isinstance(rule, ClassRule):
                raise ValidationError(record, f"classes[{name!r}]", f"must be a ClassRule, got {rule!r}")
        object.__setattr__(self, "classes", dict(self.classes))
        if self.area is not None and (
            not isinstance(self.area, BaseGeometry) or self.area.is_empty or self.area.area <= 0
        ):
            raise ValidationError(record, "area", "must be a non-empty shapely polygon in (lon, lat)")


@dataclass(frozen=True, slots=True)
class StreetSegment:
    """A street between two intersections.

    Attributes
    ----------
    id
        Stable id ``"<osm id of a>-<osm id of b>"`` (``"~k"`` appended to tell
        apart parallel streets between the same intersections).
    highway
        OSM highway class.
    name
        Street name ("" if unnamed).
    oneway
        Whether traffic may only run ``a -> b``.
    nodes
        Road-node indices from ``a`` to ``b`` (``a = nodes[0]``, ``b = nodes[-1]``).
    coords
        ``(lat, lon)`` geometry from ``a`` to ``b``.
    length_m
        Length along the geometry (m).
    """

    id: str
    highway: str
    name: str
    oneway: bool
    nodes: tuple[int, ...]
    coords: tuple[tuple[float, float], ...]
    length_m: float

    @property
    def a(self) -> int:
        """The start node index."""
        return self.nodes[0]

    @property
    def b(self) -> int:
        """The end node index."""
        return self.nodes[-1]

    @property
    def midpoint(self) -> tuple[float, float]:
        """``(lat, lon)`` half-way along the geometry."""
        lat = np.array([c[0] for c in self.coords])
        lon = np.array([c[1] for c in self.coords])
        step = np.hypot(np.diff(lat), np.diff(lon) * np.cos(np.radians(lat[0])))
        cum = np.concatenate(([0.0], np.cumsum(step)))
        half = cum[-1] / 2
        return float(np.interp(half, cum, lat)), float(np.interp(half, cum, lon))


@dataclass(frozen=True, slots=True)
class SweepTask:
    """One required pass along a segment.

    ``tail -> head`` is the direction of a ``forward`` task; an ``either``
    task may also be served ``head -> tail``. ``coords`` run tail to head.
    ``window`` bounds the service start (s since local midnight), ``None`` = any time.
    """

    id: str
    segment_id: str
    highway: str
    direction: Direction
    tail: int
    head: int
    coords: tuple[tuple[float, float], ...]
    length_m: float
    window: TimeWindow | None = None
    frequency: Frequency = Frequency.DAILY


# --------------------------------------------------------------------------- segments


@dataclass(slots=True)
class _Link:
    """One street between two adjacent graph nodes (two-way, or one-way ``a -> b``)."""

    a: int
    b: int
    highway: str
    name: str
    oneway: bool
    coords: list[tuple[float, float]]
    length_m: float


def _first(value: Any) -> str:
    """One string from an OSM attribute that osmnx may have merged into a list."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return "" if value is None else str(value)


def _edge_coords(network: RoadNetwork, p: int, v: int, data: Mapping[str, Any]) -> list[tuple[float, float]]:
    """``(lat, lon)`` of one edge, oriented ``p -> v``, ending exactly at the nodes."""
    start = (float(network.lat[p]), float(network.lon[p]))
    end = (float(network.lat[v]), float(network.lon[v]))
    geom = data.get("geometry")
    if geom is None:
        return [start, end]
    pts = [(float(y), float(x)) for x, y in geom.coords]
    d0 = (pts[0][0] - start[0]) ** 2 + (pts[0][1] - start[1]) ** 2
    d1 = (pts[0][0] - end[0]) ** 2 + (pts[0][1] - end[1]) ** 2
    if d1 < d0:
        pts.reverse()
    pts[0], pts[-1] = start, end
    return pts


def _links(network: RoadNetwork) -> list[_Link]:
    """Every street link of the graph: a two-way street once, a one-way street in its direction.

    An edge ``u -> v`` and a reverse edge ``v -> u`` that osmnx made from one
    two-way way (``oneway`` false on both, same class, lengths within 1 m) are
    the two sides of one street, not two streets.
    """
    index = {int(o): i for i, o in enumerate(network.osm_ids.tolist())}
    edges: list[tuple[int, int, float, str, str, bool, dict[str, Any]]] = []
    for u, v, data in network.graph.edges(data=True):
        a, b = index[int(u)], index[int(v)]
        if a != b:
            oneway = bool(data.get("oneway", False))
            name = _first(data.get("name"))
            edges.append((a, b, float(data["length"]), _first(data.get("highway")), name, oneway, data))
    edges.sort(key=lambda e: e[:6])
    by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k, e in enumerate(edges):
        by_pair[(e[0], e[1])].append(k)
    paired: set[int] = set()
    links: list[_Link] = []
    for k, (a, b, length, highway, name, oneway, data) in enumerate(edges):
        if k in paired:
            continue
        twin = None
        if not oneway:
            twin = next(
                (
                    j
                    for j in by_pair.get((b, a), [])
                    if j not in paired
                    and not edges[j][5]
                    and edges[j][3] == highway
                    and abs(edges[j][2] - length) <= 1.0
                ),
                None,
            )
        if twin is not None:
            paired.update((k, twin))
        links.append(_Link(a, b, highway, name, twin is None, _edge_coords(network, a, b, data), length))
    return links


def _mergeable(node: int, links: list[_Link], incident: Mapping[int, list[int]]) -> bool:
    """Whether ``node`` just passes one street on: two links, same class and directionality."""
    ids = incident.get(node, [])
    if len(ids) != 2:
        return False
    l1, l2 = links[ids[0]], links[ids[1]]
    if l1.highway != l2.highway or l1.oneway != l2.oneway or {l1.a, l1.b} == {l2.a, l2.b}:
        return False
    if l1.oneway:  # one must enter the node and the other leave it
        return (l1.b == node) != (l2.b == node)
    return True


def street_segments(network: RoadNetwork) -> list[StreetSegment]:
    """Every street of ``network`` as segments between intersections (see the module docstring).

    Returns
    -------
    list of StreetSegment
        Ordered by id; the same network always gives the same segments and ids.
    """
    links = _links(network)
    incident: dict[int, list[int]] = defaultdict(list)
    for i, link in enumerate(links):
        incident[link.a].append(i)
        incident[link.b].append(i)
    through = {n for n in incident if _mergeable(n, links, incident)}
    used = [False] * len(links)
    osm = network.osm_ids
    segments: list[StreetSegment] = []
    seen_ids: dict[str, int] = {}
    for i in range(len(links)):
        if used[i]:
            continue
        used[i] = True
        # each chain element: (link index, traversed a->b?)
        chain: list[tuple[int, bool]] = [(i, True)]
        for forward in (True, False):
            end = links[i].b if forward else links[i].a
            while end in through:
                nxt = next((j for j in incident[end] if not used[j]), None)
                if nxt is None:
                    break  # closed ring of pass-through nodes
                used[nxt] = True
                link = links[nxt]
                along = (link.a == end) if forward else (link.b == end)
                if forward:
                    chain.append((nxt, along))
                    end = link.b if along else link.a
                else:
                    chain.insert(0, (nxt, along))
                    end = link.a if along else link.b
        first = links[chain[0][0]]
        oneway = first.oneway
        nodes: list[int] = []
        coords: list[tuple[float, float]] = []
        for j, along in chain:
            link = links[j]
            pts = link.coords if along else link.coords[::-1]
            a, b = (link.a, link.b) if along else (link.b, link.a)
            if not nodes:
                nodes.append(a)
                coords.extend(pts)
            else:
                coords.extend(pts[1:])
            nodes.append(b)
        if not oneway and osm[nodes[0]] > osm[nodes[-1]]:
            nodes.reverse()
            coords.reverse()  # two-way: orient from the lower OSM id, for stable ids
        base = f"{osm[nodes[0]]}-{osm[nodes[-1]]}"
        seen_ids[base] = seen_ids.get(base, 0) + 1
        seg_id = base if seen_ids[base] == 1 else f"{base}~{seen_ids[base]}"
        segments.append(
            StreetSegment(
                id=seg_id,
                highway=first.highway,
                name=next((links[j].name for j, _ in chain if links[j].name), ""),
                oneway=oneway,
                nodes=tuple(nodes),
                coords=tuple(coords),
                length_m=float(sum(links[j].length_m for j, _ in chain)),
            )
        )
    segments.sort(key=lambda s: s.id)
    return segments


# --------------------------------------------------------------------------- tasks


def is_due(segment_id: str, frequency: Frequency, day: date) -> bool:
    """Whether a segment is due on ``day``: every ``period`` days, at a phase fixed by its id.

    The phase is the CRC-32 of the id, so it is the same on every run and the
    segments of a class spread evenly over the days of the period.
    """
    period = Frequency(frequency).period_days
    return (day.toordinal() + zlib.crc32(segment_id.encode())) % period == 0


def sweep_tasks(
    segments: Iterable[StreetSegment], rules: SweepRules, day: date | None = None
) -> list[SweepTask]:
    """The tasks of the segments that ``rules`` select (and that are due on ``day``, if given).

    Parameters
    ----------
    segments
        From :func:`street_segments`.
    rules
        Classes, sides, frequencies, night windows and the optional area.
    day
        Keep only the segments due that day; ``None`` keeps every selected segment.

    Returns
    -------
    list of SweepTask
        Task ids are ``"<segment id>/f"`` (forward along ``a -> b``), ``"/r"``
        (the other side, ``b -> a``) and ``"/e"`` (either direction).
    """
    area = rules.area
    if area is not None:
        shapely.prepare(area)
    tasks: list[SweepTask] = []
    for seg in segments:
        rule = rules.classes.get(seg.highway)
        if rule is None or len(seg.coords) < 2:
            continue
        if day is not None and not is_due(seg.id, rule.frequency, day):
            continue
        if area is not None:
            lat, lon = seg.midpoint
            if not area.contains(shapely.Point(lon, lat)):
                continue
        window = rules.night_window if rule.night_only else None
        if seg.oneway:
            passes = [("f", Direction.FORWARD, True)]
        elif rule.sides == Sides.BOTH:
            passes = [("f", Direction.FORWARD, True), ("r", Direction.FORWARD, False)]
        else:
            passes = [("e", Direction.EITHER, True)]
        for suffix, direction, forward in passes:
            tasks.append(
                SweepTask(
                    id=f"{seg.id}/{suffix}",
                    segment_id=seg.id,
                    highway=seg.highway,
                    direction=direction,
                    tail=seg.a if forward else seg.b,
                    head=seg.b if forward else seg.a,
                    coords=seg.coords if forward else seg.coords[::-1],
                    length_m=seg.length_m,
                    window=window,
                    frequency=rule.frequency,
                )
            )
    return tasks
