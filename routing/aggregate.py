"""Co-located collection points served as one stop: a smaller problem for the search, expanded after.

Several bins often stand at one address (an apartment block, a row of shops):
points with the same place in the matrices (zero travel between them, equal
rows and columns of ``time_s`` and ``dist_m``), the same stream, vehicles,
windows and no penalty (mandatory) are always best served one after the other.
:func:`group_colocated` merges each such set into one location of a smaller
:class:`~routing.model.RoutingProblem` (demands, service times and stop counts
added up); the search runs on that problem and :meth:`Grouping.expand` reads its
result back in the original locations. Buhrkal, Larsen & Ropke (2012) report
their best WCVRPTW results on instances clustered this way.

The merged problem never allows a plan the original forbids:

- members are visited in order of increasing service time, back to back, so
  member ``i`` starts ``sum(service of members before i)`` after the group; the
  group's windows end that much earlier for the last member, the tightest one
  (a window that becomes empty is dropped; a group with none left is not merged);
- a group holds at most :data:`MAX_GROUP_SHARE` of the smallest trip capacity
  (each dimension) of the vehicles that may serve it, so packing trips stays
  fine-grained; larger sets are cut into several groups;
- each group counts as as many stops as it has members (``RoutingProblem.stops``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from routing.model import RoutingProblem, WarmStart

__all__ = ["MAX_GROUP_SHARE", "Grouping", "group_colocated"]

MAX_GROUP_SHARE = 0.25
"""Most of the smallest compatible trip capacity (per dimension) one group may hold."""


@dataclass(frozen=True, slots=True)
class Grouping:
    """A merged problem and, per merged location, the original locations it stands for.

    Attributes
    ----------
    problem : RoutingProblem
        The merged problem: the original depots and facilities (same indices),
        then one location per group of points.
    members : tuple of tuple of int
        Per location of ``problem``, the original location indices in visiting
        order (depots and facilities map to themselves).
    """

    problem: RoutingProblem
    members: tuple[tuple[int, ...], ...]

    def expand_route(self, route: Sequence[int]) -> list[int]:
        """A route of the merged problem in original location indices."""
        return [m for loc in route for m in self.members[loc]]

    def expand_times(self, route: Sequence[int], times: Sequence[int], original: RoutingProblem) -> list[int]:
        """Service start (s) of every original stop: each member right after the one before it."""
        out: list[int] = []
        for loc, t in zip(route, times, strict=True):
            start = t
            for m in self.members[loc]:
                out.append(start)
                start += original.service_s[m]
        return out

    def expand_points(self, points: Sequence[int]) -> tuple[int, ...]:
        """Original point indices of merged locations ``points``, sorted."""
        return tuple(sorted(m for p in points for m in self.members[p]))

    def expand_reasons(self, reasons: Mapping[int, str]) -> dict[int, str]:
        """Per original point, the reason given for its group."""
        return {m: why for p, why in reasons.items() for m in self.members[p]}

    def merge_warm(self, warm: WarmStart) -> WarmStart:
        """A previous plan's routes in merged locations (each group where its first member was)."""
        group_of = {m: g for g, ms in enumerate(self.members) for m in ms}
        routes = []
        for route in warm.routes:
            seen: set[int] = set()
            merged: list[int] = []
            for loc in route:
                g = group_of.get(loc)
                if g is None:
                    continue
                if g in self.problem.points:
                    if g in seen:
                        continue
                    seen.add(g)
                merged.append(g)
            routes.append(tuple(merged))
        return WarmStart(tuple(routes), warm.change_penalty)


def _place_keys(problem: RoutingProblem, points: Sequence[int]) -> dict[int, int]:
    """Per point, the first of ``points`` at the same place: equal rows and columns of both matrices.

    Equal rows imply zero travel between the two (``t[q, p] == t[p, p] == 0``).
    """
    t, d = problem.time_s, problem.dist_m
    first: dict[bytes, list[int]] = {}
    out: dict[int, int] = {}
    for p in points:
        key = hashlib.blake2b(
            b"".join(np.ascontiguousarray(a).tobytes() for a in (t[p], d[p], t[:, p], d[:, p])),
            digest_size=16,
        ).digest()
        twins = first.setdefault(key, [])
        q = next((q for q in twins if _same_place(problem, p, q)), None)
        if q is None:
            twins.append(p)
            q = p
        out[p] = q
    return out


def _same_place(problem: RoutingProblem, p: int, q: int) -> bool:
    """Whether ``p`` and ``q`` have equal matrix rows and columns (a hash match is checked exactly)."""
    t, d = problem.time_s, problem.dist_m
    return bool(
        np.array_equal(t[p], t[q])
        and np.array_equal(d[p], d[q])
        and np.array_equal(t[:, p], t[:, q])
        and np.array_equal(d[:, p], d[:, q])
    )


def _cut(problem: RoutingProblem, members: list[int]) -> list[list[int]]:
    """Split one set of co-located points into groups within :data:`MAX_GROUP_SHARE` of capacity."""
    allowed = problem.allowed_vehicles[members[0]]
    cap_kg = min(problem.vehicles[k].capacity_kg for k in allowed) * MAX_GROUP_SHARE
    cap_l = min(problem.vehicles[k].capacity_l for k in allowed) * MAX_GROUP_SHARE
    groups: list[list[int]] = []
    kg = litres = 0
    for p in sorted(members, key=lambda p: (problem.demand_kg[p], problem.demand_l[p], p)):
        dk, dl = problem.demand_kg[p], problem.demand_l[p]
        if groups and kg + dk <= cap_kg and litres + dl <= cap_l:
            groups[-1].append(p)
            kg, litres = kg + dk, litres + dl
        else:
            groups.append([p])
            kg, litres = dk, dl
    return groups


def _windows(problem: RoutingProblem, members: Sequence[int]) -> tuple[tuple[int, int], ...] | None:
    """The group's start windows (members back to back), or ``None`` if none is left."""
    lead = sum(problem.service_s[m] for m in members[:-1])
    wins = problem.windows[members[0]]
    if not wins:
        return ()
    kept = tuple((a, b - lead) for a, b in wins if a <= b - lead)
    return kept or None


def group_colocated(problem: RoutingProblem, points: Sequence[int] | None = None) -> Grouping | None:
    """Merge co-located, interchangeable mandatory ``points`` (default: all); ``None`` if none merge.

    Points outside ``points`` (e.g. ruled out by the diagnosis) stay on their own.
    """
    candidates = [
        p
        for p in (problem.points if points is None else points)
        if problem.penalty[p] is None and problem.allowed_vehicles[p]
    ]
    place = _place_keys(problem, candidates)
    sets: dict[tuple[object, ...], list[int]] = {}
    for p in candidates:
        key = (place[p], problem.stream[p], problem.allowed_vehicles[p], problem.windows[p])
        sets.setdefault(key, []).append(p)
    grouped: dict[int, tuple[int, ...]] = {}  # first member -> members in visiting order
    group_windows: dict[tuple[int, ...], tuple[tuple[int, int], ...]] = {}
    for same in sets.values():
        if len(same) < 2:
            continue
        for group in _cut(problem, same):
            if len(group) < 2:
                continue
            order = tuple(sorted(group, key=lambda m: (problem.service_s[m], m)))
            wins = _windows(problem, order)
            if wins is None:
                continue
            grouped[min(order)] = order
            group_windows[order] = wins
    if not grouped:
        return None
    inside = {m for order in grouped.values() for m in order}
    members: list[tuple[int, ...]] = [(i,) for i in range(problem.points.start)]
    for p in problem.points:
        if p in grouped:
            members.append(grouped[p])
        elif p not in inside:
            members.append((p,))
    return Grouping(_merged_problem(problem, members, group_windows), tuple(members))


def _merged_problem(
    problem: RoutingProblem,
    members: Sequence[tuple[int, ...]],
    group_windows: Mapping[tuple[int, ...], tuple[tuple[int, int], ...]],
) -> RoutingProblem:
    """The problem over one location per member tuple (sums of demand, service and stops).

    ``group_windows`` holds the start windows of every group of two or more (:func:`_windows`).
    """
    rep = np.array([ms[0] for ms in members], dtype=np.int64)
    stops = tuple(problem.stops_at(i) for i in range(len(problem.locations)))

    def total(values: Sequence[int]) -> tuple[int, ...]:
        return tuple(sum(values[m] for m in ms) for ms in members)

    windows = [group_windows[ms] if len(ms) > 1 else problem.windows[ms[0]] for ms in members]
    return replace(
        problem,
        locations=tuple(problem.locations[int(i)] for i in rep),
        time_s=problem.time_s[np.ix_(rep, rep)],
        dist_m=problem.dist_m[np.ix_(rep, rep)],
        demand_kg=total(problem.demand_kg),
        demand_l=total(problem.demand_l),
        service_s=total(problem.service_s),
        windows=tuple(windows),
        stream=tuple(problem.stream[int(i)] for i in rep),
        penalty=tuple(problem.penalty[int(i)] for i in rep),
        allowed_vehicles=tuple(problem.allowed_vehicles[int(i)] for i in rep),
        stops=total(stops),
    )
