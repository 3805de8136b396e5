"""Route evaluation with unload trips and the lunch break, for the SISR kernels (:mod:`routing.rr_kernels`).

A route of the kernels is a sequence of customers; when the problem unloads
(dump-and-continue), :func:`simulate` turns it into the visits a truck makes by
a forward simulation of the rules of :mod:`routing.construct`:

- the depot departure is the shift start, or later when the first customer's
  window opens later (``early - travel``), as :meth:`routing.construct._Builder.start`;
- before a customer that would overflow the trip (kg or litres), the truck
  unloads at the site it may use (``sites[k]``) minimising ``previous -> site
  -> customer`` cost among those it reaches inside their opening and from
  which it still reaches the customer inside its window;
- day limits (kg, litres) and stops (``stop_w`` per location: merged points
  count several) are checked on the whole route;
- the route ends with an unload at the cheapest usable site (``last -> site
  -> depot``) when it carries anything, and is back inside the shift and the
  route limit;
- the lunch break follows :meth:`routing.construct._Builder._leg`: it is taken
  on the first leg that leaves at or after the break window's start, or in the
  leg after which the next departure would be past the window's end
  (``max(arrival, window start) + duration``).

Unit: seconds for times, objective units for costs, kg and litres for loads.
Array positions in ``inst`` (see :func:`routing.rr_kernels.make_arrays`): 0
cost, 1 time, 2 service, 3 early, 4 late, 5 kg, 6 litres, 8/9 start/end depot,
10/11 trip capacity kg/l, 12/13 shift, 14 route limit, 17 most stops, 23 sites,
24/25 day limit kg/l, 26 stops per location, 27/28 break window, 29 break length.

Numba's on-disk cache does not notice changes here in the kernels that call
:func:`simulate` (:mod:`routing.rr_kernels`): after editing this module, touch
that one too.
"""

from __future__ import annotations

from numba import njit

__all__ = ["simulate"]


@njit(cache=True, inline="always")
def _leg(tt, svc, early, late, prev, t, dest, is_end, done, bmin, bmax, bdur):  # type: ignore[no-untyped-def]
    """``(service start, or arrival at the end depot; break done)`` driving ``prev -> dest``; -1 if late."""
    arrival = t + tt[prev, dest]
    if not done:
        if t >= bmin:
            if t > bmax:
                return -1, done
            arrival += bdur
            done = True
        else:
            start0 = arrival if is_end else max(arrival, early[dest])
            if not is_end and start0 > late[dest]:
                return -1, done
            leave0 = start0 if is_end else start0 + svc[dest]
            if leave0 > bmax:
                arrival = max(arrival, bmin) + bdur
                done = True
    if is_end:
        return arrival, done
    start = max(arrival, early[dest])
    if start > late[dest]:
        return -1, done
    return start, done


@njit(cache=True, inline="always")
def _best_site(inst, k, prev, t, done, dest, is_end, dep0, she, limit, bmin, bmax, bdur):  # type: ignore[no-untyped-def]
    """The unload site of vehicle ``k`` minimising ``prev -> site -> dest`` cost, leaving ``prev`` at ``t``.

    The site must be reached inside its opening and ``dest`` after it: a
    customer inside its window, or (``is_end``) the end depot inside the shift
    end ``she`` and the route limit from the departure ``dep0``. Returns
    ``(site, cost, service start at the site, break done)``; site ``-1`` = none.
    """
    cost, tt, svc, early, late, sites = inst[0], inst[1], inst[2], inst[3], inst[4], inst[23]
    best_f = -1
    best_c = 0
    best_t = 0
    best_done = done
    for s in range(sites.shape[1]):
        f = sites[k, s]
        if f < 0:
            break
        a, dn = _leg(tt, svc, early, late, prev, t, f, False, done, bmin, bmax, bdur)
        if a < 0:
            continue
        b, _dn = _leg(tt, svc, early, late, f, a + svc[f], dest, is_end, dn, bmin, bmax, bdur)
        if b < 0 or (is_end and (b > she or b - dep0 > limit)):
            continue
        c = cost[prev, f] + cost[f, dest]
        if best_f < 0 or c < best_c:
            best_f, best_c, best_t, best_done = f, c, a, dn
    return best_f, best_c, best_t, best_done


@njit(cache=True)
def simulate(inst, k, seq, n, out):  # type: ignore[no-untyped-def]
    """Drive customers ``seq[:n]`` with vehicle ``k``: ``(arc cost, visits)``, cost -1 when infeasible.

    The visits (customers and unload sites, depots excluded) are written to
    ``out`` (room for ``2 * n + 1``). An empty route costs 0 and has no visits.
    """
    if n == 0:
        return 0, 0
    cost, tt, svc, early, late, dkg, dl = inst[0], inst[1], inst[2], inst[3], inst[4], inst[5], inst[6]
    vs, ve, shs, she, limit = inst[8][k], inst[9][k], inst[12][k], inst[13][k], inst[14][k]
    capkg, capl, maxst = inst[10][k], inst[11][k], inst[17][k]
    daykg, dayl, stop_w = inst[24][k], inst[25][k], inst[26]
    bmin, bmax, bdur = inst[27][k], inst[28][k], inst[29][k]
    dep0 = max(shs, early[seq[0]] - tt[vs, seq[0]])
    done = bdur == 0
    if not done:
        if dep0 >= bmin + bdur:
            done = True
        elif dep0 > bmax:
            dep0 = bmin + bdur
            done = True
    t = dep0
    prev = vs
    total = 0
    kg = 0
    lt = 0
    day_kg = 0
    day_l = 0
    stops = 0
    m = 0
    for i in range(n):
        j = seq[i]
        if kg + dkg[j] > capkg or lt + dl[j] > capl:
            if kg == 0 and lt == 0:
                return -1, 0
            best_f, _c, best_t, best_done = _best_site(
                inst, k, prev, t, done, j, False, dep0, she, limit, bmin, bmax, bdur
            )
            if best_f < 0:
                return -1, 0
            total += cost[prev, best_f]
            t = best_t + svc[best_f]
            done = best_done
            prev = best_f
            kg = 0
            lt = 0
            out[m] = best_f
            m += 1
        day_kg += dkg[j]
        day_l += dl[j]
        stops += stop_w[j]
        if day_kg > daykg or day_l > dayl or stops > maxst:
            return -1, 0
        a, done = _leg(tt, svc, early, late, prev, t, j, False, done, bmin, bmax, bdur)
        if a < 0:
            return -1, 0
        total += cost[prev, j]
        t = a + svc[j]
        prev = j
        kg += dkg[j]
        lt += dl[j]
        out[m] = j
        m += 1
    if kg == 0 and lt == 0:
        back, _dn = _leg(tt, svc, early, late, prev, t, ve, True, done, bmin, bmax, bdur)
        if back < 0 or back > she or back - dep0 > limit:
            return -1, 0
        return total + cost[prev, ve], m
    best_f, best_c, _t, _done = _best_site(
        inst, k, prev, t, done, ve, True, dep0, she, limit, bmin, bmax, bdur
    )
    if best_f < 0:
        return -1, 0
    out[m] = best_f
    return total + best_c, m + 1
