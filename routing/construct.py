"""Constructive starts for the routing search: feasible routes with unload trips, fast.

Pure Python and NumPy (no OR-Tools): :mod:`routing.solve` turns the routes made
here into an OR-Tools assignment (``ReadAssignmentFromRoutes``) and improves
them by local search. OR-Tools' own first-solution strategies cannot start a
dump-and-continue model: a point can only be inserted together with an unload
visit, and they insert one node at a time. So every start of such a model is
built here, in one of two ways:

- :func:`cluster_routes` -- *sweep and grow*: vehicles are filled one after the
  other (cheapest per kg of capacity first); each route starts at the first
  unassigned point in angular order around its depot and grows by time-oriented
  nearest neighbour inside an angular sector ahead of it (travel + waiting,
  plus a penalty on turning back), unloading when nothing fits any more.
- :func:`split_routes` -- *route first, cluster second*: given an order of the
  points per vehicle (from a relaxed OR-Tools model without unloads, or from a
  previous plan), walk it and insert the cheapest unload visit (the site
  minimising ``previous -> site -> next``) whenever the next point does not fit
  the trip; points that cannot be served any more are left out.

Both simulate the real rules forward, so every route they return is feasible:
time windows, facility opening, trip capacity per dimension, day limits and
stops, shift and route limit, the lunch break (taken as soon as the route is in
its window, or in the last gap before it would be missed), and, across routes,
tipping bays (a truck waits for a free bay) and facility tonnage (a site that is
full is not used). Routes are built one at a time and never re-timed, so the
shared bookkeeping is exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.model import RoutingProblem

__all__ = ["Construction", "cluster_routes", "split_routes"]

_TRIES = 30
"""Candidates checked exactly per step (best approximate score first)."""


@dataclass(slots=True)
class _State:
    """A route under construction: where it is, when it leaves, what it carries."""

    loc: int
    time: int
    """Departure time from ``loc`` (s)."""
    dep0: int
    """Departure from the depot (s)."""
    kg: int = 0
    litres: int = 0
    day_kg: int = 0
    day_l: int = 0
    stops: int = 0
    brk_done: bool = False
    seq: list[int] = field(default_factory=list)
    unloads: list[tuple[int, int, int]] = field(default_factory=list)
    """``(site, unload start, kg)`` of the intermediate unloads so far."""


@dataclass(frozen=True, slots=True)
class Construction:
    """Routes built by a constructive heuristic.

    Attributes
    ----------
    routes : tuple of tuple of int
        One per vehicle: location indices visited between the depots (points
        and facilities), in order; empty for an unused vehicle.
    unassigned : tuple of int
        Points that were offered but could not be placed.
    """

    routes: tuple[tuple[int, ...], ...]
    unassigned: tuple[int, ...]


class _Builder:
    """Shared bookkeeping (bays, tonnage, copies) and the forward simulation of one route."""

    def __init__(self, problem: RoutingProblem, copies: Mapping[int, int] | None) -> None:
        self.p = problem
        self.t = problem.time_s
        self.horizon = problem.horizon_s
        self.bays: dict[int, list[tuple[int, int]]] = {s.loc: [] for s in problem.sites}
        self.tons: dict[int, float] = {
            s.loc: math.inf if s.daily_capacity_kg is None else s.daily_capacity_kg for s in problem.sites
        }
        self.copies: dict[int, float] = {s.loc: math.inf for s in problem.sites}
        if copies is not None:
            self.copies.update({f: float(n) for f, n in copies.items()})

    # ------------------------------------------------------------------ primitives

    def _earliest(self, loc: int, arrival: int) -> int | None:
        """Earliest service start at ``loc`` reached at ``arrival``; ``None`` if every window has closed."""
        wins = self.p.windows[loc]
        if not wins:
            return arrival
        for start, end in wins:
            if arrival <= end:
                return max(arrival, start)
        return None

    def _bay_start(self, site: int, earliest: int) -> int | None:
        """Earliest unload start >= ``earliest`` with a free bay, inside the opening; ``None`` if none."""
        s = self._earliest(site, earliest)
        if s is None:
            return None
        duration = self.p.service_s[site]
        taken = self.bays[site]
        bays = self.p.site(site).bays
        if duration == 0 or len(taken) < bays:
            return s
        close = self.p.windows[site][-1][1] if self.p.windows[site] else self.horizon
        for t in sorted({s, *(end for _, end in taken if end > s)}):
            if t > close:
                return None
            if sum(1 for a, e in taken if a < t + duration and t < e) < bays:
                return t
        return None

    def _leg(self, k: int, st: _State, dest: int, end: bool) -> tuple[int, int, bool] | None:
        """Drive ``st.loc -> dest``: ``(arrival, service start, break done after)``; ``None`` if late.

        The break is taken as soon as the vehicle leaves a stop inside the break
        window, or in this gap when the next departure would be past the window
        (``max(departure, window start)``, so waiting absorbs it where it can).
        Facility starts here ignore bays (see :meth:`_bay_start`).
        """
        v = self.p.vehicles[k]
        t = st.time
        arrival = t + int(self.t[st.loc, dest])
        done = st.brk_done or v.break_s == 0
        if not done:
            if t >= v.break_start_min_s:
                if t > v.break_start_max_s:
                    return None
                arrival += v.break_s
                done = True
            else:
                start0 = arrival if end else self._earliest(dest, arrival)
                if start0 is None:
                    return None
                leave0 = start0 + (0 if end else self.p.service_s[dest])
                if leave0 > v.break_start_max_s:
                    arrival = max(arrival, v.break_start_min_s) + v.break_s
                    done = True
        start = arrival if end else self._earliest(dest, arrival)
        if start is None:
            return None
        return arrival, start, done

    def _close(self, k: int, st: _State) -> tuple[int, int | None, int] | None:
        """Best way home: ``(return time, final site or None, unload start)``; ``None`` if none fits."""
        v = self.p.vehicles[k]
        best: tuple[int, int | None, int] | None = None
        if (st.kg == 0 and st.litres == 0) or not self.p.unload:
            home = self._leg(k, st, v.end, end=True)
            if home is None:
                return None
            back = home[0]
            if back <= v.shift_end_s and back - st.dep0 <= v.route_limit_s:
                best = (back, None, 0)
            return best
        for f in v.unload_at:
            if self.copies[f] < 1 or self.tons[f] < st.kg:
                continue
            at = self._unload_at(k, st, f)
            if at is None:
                continue
            after, start = at
            home = self._leg(k, after, v.end, end=True)
            if home is None:
                continue
            back = home[0]
            if (
                back <= v.shift_end_s
                and back - st.dep0 <= v.route_limit_s
                and (best is None or back < best[0])
            ):
                best = (back, f, start)
        return best

    def _unload_at(self, k: int, st: _State, f: int) -> tuple[_State, int] | None:
        """The state after unloading at ``f`` (not committed) and the unload start."""
        leg = self._leg(k, st, f, end=False)
        if leg is None:
            return None
        _, start, done = leg
        start_b = self._bay_start(f, start)
        if start_b is None:
            return None
        after = _State(
            loc=f,
            time=start_b + self.p.service_s[f],
            dep0=st.dep0,
            day_kg=st.day_kg,
            day_l=st.day_l,
            stops=st.stops,
            brk_done=done,
        )
        return after, start_b

    # ------------------------------------------------------------------ route steps

    def start(self, k: int, first: int) -> _State:
        """A fresh route of vehicle ``k`` leaving as late as is useful for its first point ``first``."""
        v = self.p.vehicles[k]
        wins = self.p.windows[first]
        dep0 = v.shift_start_s
        if wins:
            dep0 = max(dep0, wins[0][0] - int(self.t[v.start, first]))
        st = _State(loc=v.start, time=dep0, dep0=dep0)
        if v.break_s:
            if dep0 >= v.break_start_min_s + v.break_s:
                st.brk_done = True
            elif dep0 > v.break_start_max_s:
                st.time = st.dep0 = v.break_start_min_s + v.break_s
                st.brk_done = True
        if v.break_s == 0:
            st.brk_done = True
        return st

    def fits(self, k: int, st: _State, j: int) -> bool:
        """Whether point ``j`` fits the trip and the day's limits (capacity only)."""
        v = self.p.vehicles[k]
        kg, litres = self.p.demand_kg[j], self.p.demand_l[j]
        if st.kg + kg > v.capacity_kg or st.litres + litres > v.capacity_l:
            return False
        if v.max_route_kg is not None and st.day_kg + kg > v.max_route_kg:
            return False
        if v.max_route_l is not None and st.day_l + litres > v.max_route_l:
            return False
        return v.max_stops is None or st.stops + self.p.stops_at(j) <= v.max_stops

    def visit(self, k: int, st: _State, j: int) -> _State | None:
        """The state after serving point ``j`` next, if the route can still get home; else ``None``."""
        if not self.fits(k, st, j):
            return None
        leg = self._leg(k, st, j, end=False)
        if leg is None:
            return None
        _, start, done = leg
        kg, litres = self.p.demand_kg[j], self.p.demand_l[j]
        nxt = _State(
            loc=j,
            time=start + self.p.service_s[j],
            dep0=st.dep0,
            kg=st.kg + kg,
            litres=st.litres + litres,
            day_kg=st.day_kg + kg,
            day_l=st.day_l + litres,
            stops=st.stops + self.p.stops_at(j),
            brk_done=done,
            seq=st.seq,
            unloads=st.unloads,
        )
        if self._close(k, nxt) is None:
            return None
        return nxt

    def dump(self, k: int, st: _State, toward: Sequence[int]) -> _State | None:
        """Unload now at the site minimising ``here -> site -> nearest of toward``; commits the visit."""
        if not self.p.unload or (st.kg == 0 and st.litres == 0):
            return None
        v = self.p.vehicles[k]
        best: tuple[int, int] | None = None
        ahead = np.asarray(toward, dtype=np.int64)
        for f in v.unload_at:
            at = self._unload_at(k, st, f) if self._may_unload(f, st.kg) else None
            if at is None or self._close(k, at[0]) is None:
                continue
            onward = int(self.t[f, ahead].min()) if ahead.size else 0
            score = at[0].time + onward
            if best is None or score < best[0]:
                best = (score, f)
        return None if best is None else self.dump_at(k, st, best[1])

    def _may_unload(self, f: int, kg: int) -> bool:
        """Whether an intermediate unload of ``kg`` at ``f`` leaves a copy for the final one."""
        return self.copies[f] >= 2 and self.tons[f] >= kg

    def dump_at(self, k: int, st: _State, f: int) -> _State | None:
        """Unload at site ``f`` now if feasible there; commits the visit (see :meth:`undo`)."""
        if not self._may_unload(f, st.kg):
            return None
        at = self._unload_at(k, st, f)
        if at is None or self._close(k, at[0]) is None:
            return None
        after, start = at
        after.seq = [*st.seq, f]
        after.unloads = [*st.unloads, (f, start, st.kg)]
        self._commit_unload(f, start, st.kg)
        return after

    def undo(self, after: _State) -> None:
        """Take back the last unload committed by :meth:`dump_at` (``after`` is the state it returned)."""
        f, start, kg = after.unloads[-1]
        self.copies[f] += 1
        self.tons[f] += kg
        duration = self.p.service_s[f]
        if duration > 0:
            self.bays[f].remove((start, start + duration))

    def _commit_unload(self, f: int, start: int, kg: int) -> None:
        self.copies[f] -= 1
        self.tons[f] -= kg
        duration = self.p.service_s[f]
        if duration > 0:
            self.bays[f].append((start, start + duration))

    def finish(self, k: int, st: _State) -> tuple[int, ...]:
        """Close the route (final unload if loaded), commit it and return its visits."""
        closing = self._close(k, st)
        if closing is None:  # cannot happen: every step checked that the route can close
            msg = f"route of vehicle {k} cannot be closed"
            raise RuntimeError(msg)
        _, site, start = closing
        seq = list(st.seq)
        if site is not None:
            seq.append(site)
            self._commit_unload(site, start, st.kg)
        return tuple(seq)


def _vehicle_order(problem: RoutingProblem, vehicles: Sequence[int]) -> list[int]:
    """Vehicles cheapest per kg of capacity first (ties: problem order)."""
    return sorted(
        vehicles, key=lambda k: (problem.vehicles[k].fixed_cost / (problem.vehicles[k].capacity_kg + 1), k)
    )


def _angles(problem: RoutingProblem, depot: int, points: np.ndarray) -> np.ndarray:
    """Polar angle (rad) of each point around ``depot`` (lat/lon scaled locally)."""
    d = problem.locations[depot]
    lat = np.array([problem.locations[i].lat for i in points])
    lon = np.array([problem.locations[i].lon for i in points])
    return np.arctan2(lat - d.lat, (lon - d.lon) * math.cos(math.radians(d.lat)))


def cluster_routes(
    problem: RoutingProblem,
    points: Sequence[int],
    *,
    copies: Mapping[int, int] | None = None,
    turn_factor: float = 1.0,
    urgent: bool = False,
) -> Construction:
    """Sweep-and-grow routes for ``points`` (see the module docstring).

    Parameters
    ----------
    problem : RoutingProblem
        The problem.
    points : sequence of int
        Location indices of the points to place (those the diagnosis kept).
    copies : Mapping of int to int, optional
        Most visits per facility location (the solver model's copies).
    turn_factor : float
        Score added per radian a candidate lies behind the route's heading
        around the depot, in units of the median depot-to-point travel time:
        0 grows routes by pure time-oriented nearest neighbour, larger values
        keep them to angular sectors (a sweep).
    urgent : bool
        Seed each route with the point whose last window closes first (points
        without windows come last), instead of the first in angular order, so
        early deadlines open routes rather than wait for a late extra vehicle.

    Returns
    -------
    Construction
        Feasible routes, one per vehicle, and the points left out.
    """
    b = _Builder(problem, copies)
    routes: list[tuple[int, ...]] = [() for _ in problem.vehicles]
    left = _grow(b, points, range(len(problem.vehicles)), routes, turn_factor, urgent)
    return Construction(tuple(routes), left)


def _grow(
    b: _Builder,
    points: Sequence[int],
    vehicles: Sequence[int],
    routes: list[tuple[int, ...]],
    turn_factor: float,
    urgent: bool = False,
) -> tuple[int, ...]:
    """Fill ``routes[k]`` of ``vehicles`` (cheapest per kg first) with ``points``; the points left over."""
    problem = b.p
    todo = np.array(sorted(points), dtype=np.int64)
    if todo.size == 0:
        return ()
    free = np.ones(len(todo), dtype=bool)
    serving = [set(problem.serving_vehicles(int(p))) for p in todo]
    first_ws = np.array([problem.windows[p][0][0] if problem.windows[p] else 0 for p in todo])
    last_we = np.array([problem.windows[p][-1][1] if problem.windows[p] else problem.horizon_s for p in todo])
    for k in _vehicle_order(problem, vehicles):
        v = problem.vehicles[k]
        mine = np.array([free[i] and k in serving[i] for i in range(len(todo))], dtype=bool)
        if not mine.any():
            continue
        theta = _angles(problem, v.start, todo)
        penalty = turn_factor * float(np.median(problem.time_s[v.start, todo[mine]]))
        # Seed: the unassigned point of this vehicle first in angular order (with ``urgent``, the
        # one whose last window closes first, then angular order), then grow.
        idx = np.flatnonzero(mine)
        if urgent:
            order = idx[np.lexsort((theta[idx], last_we[idx]))]
        else:
            order = idx[np.argsort(theta[idx], kind="stable")]
        st: _State | None = None
        heading = float(theta[order[0]])
        for seed in order:
            cand = b.start(k, int(todo[seed]))
            nxt = b.visit(k, cand, int(todo[seed]))
            if nxt is not None:
                nxt.seq = [int(todo[seed])]
                st = nxt
                free[seed] = mine[seed] = False
                heading = float(theta[seed])
                break
        if st is None:
            continue
        just_dumped = False
        while True:
            pool = np.flatnonzero(mine)
            if pool.size == 0:
                break
            locs = todo[pool]
            arrival = st.time + problem.time_s[st.loc, locs]
            start = np.maximum(arrival, first_ws[pool])
            ok = arrival <= last_we[pool]
            behind = np.mod(heading - theta[pool], 2 * math.pi)
            behind = np.where(behind > math.pi, 0.0, behind)  # ahead of the heading costs nothing
            score = (start - st.time) + penalty * behind
            score = np.where(ok, score, np.inf)
            ranked = np.argsort(score, kind="stable")
            placed = False
            for pos in ranked[:_TRIES]:
                if not np.isfinite(score[pos]):
                    break
                i = int(pool[pos])
                nxt = b.visit(k, st, int(todo[i]))
                if nxt is not None:
                    nxt.seq = [*st.seq, int(todo[i])]
                    st = nxt
                    free[i] = mine[i] = False
                    heading = float(theta[i])
                    placed = True
                    just_dumped = False
                    break
            if placed:
                continue
            if just_dumped:
                break
            dumped = b.dump(k, st, [int(x) for x in locs[ranked[:5]]])
            if dumped is None:
                break
            st = dumped
            just_dumped = True
        routes[k] = b.finish(k, st)
    return tuple(int(todo[i]) for i in np.flatnonzero(free))


def split_routes(
    problem: RoutingProblem,
    orders: Sequence[Sequence[int]],
    *,
    copies: Mapping[int, int] | None = None,
    allowed: set[int] | None = None,
    fill: bool = False,
) -> Construction:
    """Turn one visiting order per vehicle into feasible routes with unload trips.

    Parameters
    ----------
    problem : RoutingProblem
        The problem.
    orders : sequence of sequence of int
        One per vehicle: location indices in visiting order. Facilities in an
        order are kept as unloads where they are useful (the truck carries
        something and may unload there); points the vehicle may not serve, that
        are not in ``allowed`` or that come twice are skipped.
    copies : Mapping of int to int, optional
        Most visits per facility location.
    allowed : set of int, optional
        Points that may be placed; default all points.
    fill : bool
        Afterwards, place the allowed points no order placed (left out, or in
        no order at all) on the vehicles without a route, as
        :func:`cluster_routes` does.

    Returns
    -------
    Construction
        Feasible routes and the points that could not be placed.
    """
    b = _Builder(problem, copies)
    routes: list[tuple[int, ...]] = [() for _ in problem.vehicles]
    placed: set[int] = set()
    left: list[int] = []
    point_range = problem.points
    for k, order in enumerate(orders):
        st: _State | None = None
        seq = [int(x) for x in order]
        for j in seq:
            if j not in point_range:
                if st is not None and j in problem.vehicles[k].unload_at and (st.kg or st.litres):
                    dumped = b.dump_at(k, st, j)
                    if dumped is not None:
                        st = dumped
                continue
            if (
                j in placed
                or (allowed is not None and j not in allowed)
                or k not in problem.serving_vehicles(j)
            ):
                if j not in placed and j not in left:
                    left.append(j)
                continue
            if st is None:
                st = b.start(k, j)
            nxt = b.visit(k, st, j)
            if nxt is None and (st.kg or st.litres) and not b.fits(k, st, j):
                dumped = b.dump(k, st, [j])
                if dumped is not None:
                    nxt = b.visit(k, dumped, j)
                    if nxt is None:
                        b.undo(dumped)
                    else:
                        st = dumped
            if nxt is None:
                left.append(j)
                continue
            nxt.seq = [*st.seq, j]
            st = nxt
            placed.add(j)
        if st is not None and any(x in point_range for x in st.seq):
            routes[k] = b.finish(k, st)
    missing = set(left) - placed
    if fill:
        pool = set(problem.points) if allowed is None else allowed
        idle = [k for k, route in enumerate(routes) if not route]
        missing = set(_grow(b, sorted(pool - placed), idle, routes, 1.0))
    return Construction(tuple(routes), tuple(sorted(missing)))
