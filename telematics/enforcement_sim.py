"""Labelled hauler nights on a road network: legal spoil runs, violations and look-alikes.

:func:`build_hauler_day` lays out a city for one seed (a depot, construction
sites, fenced spoil fields, restricted zones away from the approved
corridors, which :func:`routing.permit_corridor.permit_corridor` plans) and
simulates one muck hauler per case of :data:`CASES`. Every hauler runs round
trips construction site -> spoil field at night (from about 22:00): loading
6-10 min, driving its corridor at 7-10 m/s, tipping inside the spoil field
(body raised 60-120 s, load to zero) with a delivery weigh ticket, and back.
Fixes come every 1, 5, 10, 15 or 30 s with 3-8 m GPS noise (the sampler of
:mod:`telematics.simulate`) and one or two single-fix jumps of 300-2000 m.
Sensors: ``full`` (scale and tipping), ``load`` (scale only) or ``none``; 30 %
of the devices report no speed.

Violations (labelled, ``type`` = the alert type expected):

* ``dump_tipping`` / ``dump_drop`` / ``dump_stop_nosensor``: on one trip the
  truck stops 4-8 min on its way, tips it by the roadside and turns back
  (labelled ``illegal_dump``);
* ``dump_gap_load`` / ``dump_gap_nosensor``: the same hidden in a 7-9 min GPS gap;
* ``unpermitted``: legal-looking trips with no permit (each loaded leg);
* ``off_hours``: a night permit, trips from 19:30 (each loaded leg);
* ``zone``: one loaded leg through a restricted zone (also off the corridor: ``detour``);
* ``zone_closed``: the same through a school zone at night, outside its hours (only ``detour``);
* ``detour``: one loaded leg via a road node 600-1200 m off the corridor;
* ``weight_onboard`` / ``weight_declared``: a delivery ticket 35-45 % short of
  the load on the scale, or of the net declared at the source (the sensorless
  truck stopped 4 min on the way);
* ``paper_ticket``: an extra delivery ticket while the truck was loading elsewhere.

Look-alikes (must not alarm): ``traffic`` (40-150 s stops while loaded, one
with a one-fix tipping glitch), ``glitch`` (one-fix load drops and spikes),
``legal_gap`` (a 6-8 min GPS gap during a 5 min hold-up), ``queue`` (6-10
min queueing 70-100 m outside the spoil field), ``legal`` (a plain night run).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely import contains_xy
from shapely.geometry import Polygon

from core.domain import Stream, VehicleKind
from core.enforcement import DailyWindow, LatLon, Permit, RestrictedZone, Site, SiteKind, WeighTicket
from core.geo import EARTH_RADIUS_M, haversine_m
from core.roads import RoadNetwork
from routing.permit_corridor import permit_corridor, plan_path, zone_nodes
from telematics.enforcement import EnforcementTrack
from telematics.enforcement_places import local_midnight_utc, zone_info
from telematics.simulate import _sample, _Timeline

FloatArray = npt.NDArray[np.float64]

TIMEZONE = "America/New_York"
"""Time zone of the simulated city (the shipped network is downtown Baltimore)."""

CASES: tuple[str, ...] = (
    "dump_tipping",
    "dump_drop",
    "dump_stop_nosensor",
    "dump_gap_load",
    "dump_gap_nosensor",
    "unpermitted",
    "off_hours",
    "zone",
    "zone_closed",
    "detour",
    "weight_onboard",
    "weight_declared",
    "paper_ticket",
    "traffic",
    "glitch",
    "legal_gap",
    "queue",
    "legal",
)
"""One hauler per case and seed."""

TARE_KG = 14_000.0
"""Empty weight of a simulated hauler (kg)."""

NIGHT = DailyWindow(22 * 3600, 6 * 3600)
"""The permits' hours."""


@dataclass(frozen=True, slots=True, eq=False)
class HaulerDay:
    """One labelled day: the records :func:`telematics.enforcement.police_enforcement` takes, and the truth.

    ``labels`` hold ``type``, ``vehicle_id``, ``start_utc``, ``end_utc`` (and
    ``case``); ``cases`` maps each vehicle to its case.
    """

    seed: int
    day: date
    timezone: str
    sites: tuple[Site, ...]
    zones: tuple[RestrictedZone, ...]
    permits: tuple[Permit, ...]
    tickets: tuple[WeighTicket, ...]
    tracks: dict[str, EnforcementTrack]
    kinds: dict[str, VehicleKind]
    labels: list[dict[str, Any]]
    cases: dict[str, str]
    ignored: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- geometry


def _lengths(path: FloatArray) -> FloatArray:
    steps = haversine_m(path[:-1, 0], path[:-1, 1], path[1:, 0], path[1:, 1])
    return np.concatenate(([0.0], np.cumsum(steps)))


def _cut(path: FloatArray, frac: float) -> tuple[FloatArray, FloatArray]:
    """The polyline split at ``frac`` of its length: (head, tail), sharing the cut point."""
    cum = _lengths(path)
    at = frac * cum[-1]
    j = int(np.clip(np.searchsorted(cum, at, side="right"), 1, path.shape[0] - 1))
    span = cum[j] - cum[j - 1]
    f = (at - cum[j - 1]) / span if span > 0 else 0.0
    p = path[j - 1] + f * (path[j] - path[j - 1])
    return np.vstack([path[:j], p]), np.vstack([p, path[j:]])


def _square(lat: float, lon: float, half_m: float) -> tuple[LatLon, ...]:
    dlat = math.degrees(half_m / EARTH_RADIUS_M)
    dlon = dlat / math.cos(math.radians(lat))
    return (
        (lat - dlat, lon - dlon),
        (lat - dlat, lon + dlon),
        (lat + dlat, lon + dlon),
        (lat + dlat, lon - dlon),
    )


def _shape(zone: RestrictedZone) -> Polygon:
    """The zone as a shapely polygon in (lon, lat)."""
    return Polygon([(lon, lat) for lat, lon in zone.polygon])


# --------------------------------------------------------------------------- a truck's night


class _Truck:
    """Key points of one truck's motion (s since local midnight) and its sensors and truth."""

    def __init__(self, start: LatLon, t0: float, speed_mps: float) -> None:
        self.tl = _Timeline()
        self.tl.add(t0, *start)
        self.pos = start
        self.speed = speed_mps
        self.load = 0.0
        self.tl.loads.append((t0 - 1.0, 0.0))
        self.tips: list[tuple[float, float]] = []
        self.gaps: list[tuple[float, float]] = []

    @property
    def now(self) -> float:
        return self.tl.t[-1]

    def stay(self, seconds: float) -> None:
        self.tl.add(self.now + seconds, *self.pos)

    def drive(self, path: FloatArray, pauses: tuple[tuple[float, float], ...] = ()) -> None:
        """Drive ``path`` at constant speed, standing ``dur`` s at each ``(frac, dur)``."""
        rest = path
        done = 0.0
        for frac, dur in sorted(pauses):
            head, rest = _cut(rest, (frac - done) / (1.0 - done) if done < 1 else 0.0)
            self._drive(head)
            self.stay(dur)
            done = frac
        self._drive(rest)

    def _drive(self, path: FloatArray) -> None:
        cum = _lengths(path)
        t0 = self.now
        for k in range(1, path.shape[0]):
            if cum[k] > cum[k - 1]:
                self.tl.add(t0 + cum[k] / self.speed, float(path[k, 0]), float(path[k, 1]))
        self.pos = (float(path[-1, 0]), float(path[-1, 1]))

    def set_load(self, kg: float) -> None:
        self.load = kg
        self.tl.loads.append((self.now, kg))

    def tip(self, seconds: float) -> None:
        """Raise the body for ``seconds`` and empty the load."""
        t0 = self.now
        self.stay(seconds)
        self.tips.append((t0, self.now))
        self.set_load(0.0)


@dataclass
class _Layout:
    depot: Site
    origins: list[Site]
    fields: list[Site]
    zones: list[RestrictedZone]
    corridors: dict[tuple[str, str], tuple[FloatArray, FloatArray]]


def _pick_nodes(network: RoadNetwork, rng: np.random.Generator, k: int, min_sep_m: float) -> list[int]:
    """``k`` node indices at least ``min_sep_m`` apart and 600 m inside the network's box."""
    west, south, east, north = network.bbox
    inner = (
        (network.lat > south + 0.0055)
        & (network.lat < north - 0.0055)
        & (network.lon > west + 0.007)
        & (network.lon < east - 0.007)
    )
    cand = np.flatnonzero(inner)
    out: list[int] = []
    for _ in range(2000):
        if len(out) == k:
            break
        i = int(rng.choice(cand))
        far = [haversine_m(network.lat[i], network.lon[i], network.lat[j], network.lon[j]) for j in out]
        if all(d >= min_sep_m for d in far):
            out.append(i)
    if len(out) < k:
        raise RuntimeError(f"could not place {k} sites {min_sep_m} m apart")
    return out


def _layout(network: RoadNetwork, rng: np.random.Generator) -> _Layout:
    while True:
        nodes = _pick_nodes(network, rng, 6, 1500.0)
        ll = [(float(network.lat[i]), float(network.lon[i])) for i in nodes]
        depot = Site("DEPOT", SiteKind.DEPOT, lat=ll[0][0], lon=ll[0][1], radius_m=100.0, name="Depot")
        origins = [
            Site(f"C{k + 1}", SiteKind.CONSTRUCTION_SITE, lat=ll[k + 1][0], lon=ll[k + 1][1], radius_m=80.0)
            for k in range(3)
        ]
        fields_ = [
            Site(
                f"S{k + 1}",
                SiteKind.SPOIL_FIELD,
                polygon=_square(*ll[k + 4], 100.0),
                approved_for_disposal=True,
                accepted_streams=frozenset({Stream.SPOIL}),
            )
            for k in range(2)
        ]
        corridors: dict[tuple[str, str], tuple[FloatArray, FloatArray]] = {}
        for o in origins:
            for f in fields_:
                out, back = permit_corridor(network, [o], [f])
                corridors[(o.id, f.id)] = (np.array(out), np.array(back))
        zones = _zones(network, rng, [depot, *origins, *fields_], corridors)
        if len(zones) == 2:
            return _Layout(depot, origins, fields_, zones, corridors)


def _zones(
    network: RoadNetwork,
    rng: np.random.Generator,
    sites: list[Site],
    corridors: dict[tuple[str, str], tuple[FloatArray, FloatArray]],
) -> list[RestrictedZone]:
    """Two 400 m square zones centred on road nodes at least 350 m from every corridor and site."""
    pts = np.vstack([p for pair in corridors.values() for p in pair] + [np.array([s.centre for s in sites])])
    zones: list[RestrictedZone] = []
    order = rng.permutation(network.lat.shape[0])
    west, south, east, north = network.bbox
    for i in order.tolist():
        lat, lon = float(network.lat[i]), float(network.lon[i])
        if not (south + 0.005 < lat < north - 0.005 and west + 0.006 < lon < east - 0.006):
            continue
        if haversine_m(pts[:, 0], pts[:, 1], lat, lon).min() < 350.0:
            continue
        if any(haversine_m(lat, lon, *z.polygon[0]) < 900 for z in zones):
            continue
        k = len(zones)
        name = "Water protection area" if k == 0 else "School"
        hours = () if k == 0 else (DailyWindow(7 * 3600, 19 * 3600),)
        zones.append(RestrictedZone(f"Z{k + 1}", name, _square(lat, lon, 200.0), hours))
        if len(zones) == 2:
            break
    return zones


# --------------------------------------------------------------------------- the day


def build_hauler_day(network: RoadNetwork, seed: int, *, day: date | None = None) -> HaulerDay:
    """A labelled night on ``network`` for ``seed``: one hauler per case of :data:`CASES`."""
    rng = np.random.default_rng([seed, 7])
    day = day or date(2026, 6, 1) + timedelta(days=seed % 28)
    day0 = local_midnight_utc(day, zone_info(TIMEZONE))
    lay = _layout(network, rng)
    sites = (lay.depot, *lay.origins, *lay.fields)
    permits: list[Permit] = []
    tickets: list[WeighTicket] = []
    tracks: dict[str, EnforcementTrack] = {}
    labels: list[dict[str, Any]] = []
    ignored: list[dict[str, Any]] = []
    cases: dict[str, str] = {}
    for k, case in enumerate(CASES):
        vid = f"H{k + 1:02d}"
        cases[vid] = case
        vr = np.random.default_rng([seed, zlib.crc32(vid.encode())])
        o = lay.origins[int(vr.integers(len(lay.origins)))]
        f = lay.fields[int(vr.integers(len(lay.fields)))]
        if case.startswith("dump_gap"):  # far enough that no legal tipping fits in the gap
            f = max(lay.fields, key=lambda s: float(haversine_m(*o.centre, *s.centre)))
        out, back = lay.corridors[(o.id, f.id)]
        if case != "unpermitted":
            corridor = (tuple(map(tuple, out.tolist())), tuple(map(tuple, back.tolist())))
            permits.append(Permit(f"P-{vid}", vid, day, day, (o.id,), (f.id,), (NIGHT,), corridor))
        sim = _HaulerSim(network, lay, vid, case, o, f, out, back, vr, day0)
        sim.run()
        tracks[vid] = sim.track()
        tickets += sim.tickets
        labels += sim.labels
        ignored += sim.ignored
    kinds = dict.fromkeys(tracks, VehicleKind.MUCK_HAULER)
    zones = tuple(lay.zones)
    return HaulerDay(
        seed,
        day,
        TIMEZONE,
        sites,
        zones,
        tuple(permits),
        tuple(tickets),
        tracks,
        kinds,
        labels,
        cases,
        ignored,
    )


class _HaulerSim:
    """One hauler's night for its case."""

    def __init__(
        self,
        network: RoadNetwork,
        lay: _Layout,
        vid: str,
        case: str,
        origin: Site,
        field_: Site,
        out: FloatArray,
        back: FloatArray,
        rng: np.random.Generator,
        day0: float,
    ) -> None:
        self.network, self.lay, self.vid, self.case = network, lay, vid, case
        self.o, self.f, self.out, self.back, self.rng, self.day0 = origin, field_, out, back, rng, day0
        self.sensors = {
            "dump_tipping": "full",
            "dump_drop": "load",
            "dump_stop_nosensor": "none",
            "dump_gap_load": "load",
            "dump_gap_nosensor": "none",
            "weight_onboard": "full",
            "weight_declared": "none",
            "glitch": "full",
        }.get(case, str(rng.choice(["full", "load", "none"])))
        start = 19.5 * 3600 if case == "off_hours" else 22 * 3600 + float(rng.uniform(60, 1800))
        self.truck = _Truck(origin.centre, start, float(rng.uniform(7.0, 10.0)))
        self.tickets: list[WeighTicket] = []
        self.labels: list[dict[str, Any]] = []
        self.ignored: list[dict[str, Any]] = []
        self.glitches: list[tuple[float, str]] = []
        self.interval = float(rng.choice([1.0, 5.0, 10.0, 15.0, 30.0]))
        self.reports_speed = bool(rng.random() < 0.7)

    def label(self, kind: str, t0: float, t1: float) -> None:
        t0, t1 = self.day0 + t0, self.day0 + t1
        self.labels.append(
            {"type": kind, "vehicle_id": self.vid, "start_utc": t0, "end_utc": t1, "case": self.case}
        )

    def ticket(self, site: Site, t: float, net: float, direction: str = "in") -> None:
        gross = TARE_KG + net
        self.tickets.append(
            WeighTicket(
                f"T-{self.vid}-{len(self.tickets) + 1}",
                self.vid,
                site.id,
                self.day0 + t,
                round(gross),
                TARE_KG,
                round(gross) - TARE_KG,
                Stream.SPOIL,
                direction,
            )
        )

    # ----------------------------------------------------------------------- the night

    def run(self) -> None:
        rng, tr = self.rng, self.truck
        special = int(rng.integers(3))
        for trip in range(3):
            load = float(rng.uniform(12_000, 18_000))
            tr.stay(float(rng.uniform(360, 600)))
            tr.set_load(load)
            t_loaded = tr.now
            if self.case == "weight_declared" and trip == special:
                self.ticket(self.o, t_loaded, load, "out")
            if self.case == "paper_ticket" and trip == 0:
                self.ticket(self.f, t_loaded - 200.0, float(rng.uniform(12_000, 18_000)))
                self.label("ticket_mismatch", t_loaded - 200.0, t_loaded - 200.0)
            tr.stay(30.0)
            if trip == special and self.case.startswith("dump_"):
                self._dump_trip()
                continue
            leg0 = tr.now
            self._loaded_leg(trip == special)
            if self.case == "unpermitted" or self.case == "off_hours":
                kind = "unpermitted_transport" if self.case == "unpermitted" else "off_hours"
                self.label(kind, leg0, tr.now)
            self._tip(load, trip == special, t_loaded)
            tr.stay(30.0)
            tr.drive(self.back)
        tr.stay(300.0)

    def _loaded_leg(self, special: bool) -> None:
        rng, tr, case = self.rng, self.truck, self.case
        if special and case in ("zone", "zone_closed", "detour"):
            via = self._via(case)
            avoid = zone_nodes(self.network, self.lay.zones) if case == "detour" else frozenset()
            a = np.array(plan_path(self.network, self.o.centre, via, avoid=avoid))
            b = np.array(plan_path(self.network, via, self.f.centre, avoid=avoid))
            t0 = tr.now
            tr.drive(np.vstack([a, b[1:]]))
            self._label_off(t0)
            return
        pauses: tuple[tuple[float, float], ...] = ()
        if case == "traffic":
            at = sorted(rng.uniform(0.15, 0.85, 3))
            pauses = tuple((float(x), float(rng.uniform(40, 150))) for x in at)
        elif case == "legal_gap" and special:
            pauses = ((float(rng.uniform(0.3, 0.6)), 300.0),)
        elif case == "weight_declared" and special:
            pauses = ((float(rng.uniform(0.3, 0.6)), 240.0),)
        if case == "queue" and special:
            cum = _lengths(self.out)
            head, tail = _cut(self.out, max(0.0, 1.0 - float(rng.uniform(170, 200)) / cum[-1]))
            tr.drive(head)
            tr.stay(float(rng.uniform(360, 600)))
            tr.drive(tail)
            return
        t0 = tr.now
        tr.drive(self.out, pauses)
        if case == "legal_gap" and special:
            # the device is silent for 6-8 min around the 5 min hold-up
            hold = next(t for t in self._stand_times(t0))
            g0 = hold - float(rng.uniform(30, 60))
            tr.gaps.append((g0, g0 + float(rng.uniform(360, 480))))
        if case == "traffic":
            for t in self._stand_times(t0)[:1]:
                self.glitches.append((t + 20.0, "tip"))
        if case == "glitch":
            self.glitches.append((t0 + 0.4 * (tr.now - t0), "load_zero"))

    def _stand_times(self, since: float) -> list[float]:
        """Times (s) at which the truck started standing on the road since ``since``."""
        t = np.array(self.truck.tl.t)
        lat = np.array(self.truck.tl.lat)
        lon = np.array(self.truck.tl.lon)
        still = (lat[1:] == lat[:-1]) & (lon[1:] == lon[:-1])
        k = np.flatnonzero((t[1:] > since) & still & (np.diff(t) > 30))
        return [float(t[i]) for i in k.tolist()]

    def _tip(self, load: float, special: bool, t_loaded: float) -> None:
        rng, tr = self.rng, self.truck
        tr.stay(float(rng.uniform(30, 90)))
        tr.tip(float(rng.uniform(60, 120)))
        t_ticket = tr.now
        net = load * float(rng.uniform(0.99, 1.01))
        if special and self.case in ("weight_onboard", "weight_declared"):
            net = load * float(rng.uniform(0.55, 0.65))
            self.label("weight_discrepancy", t_loaded, t_ticket)
        self.ticket(self.f, t_ticket, net)
        tr.stay(float(rng.uniform(30, 90)))
        if self.case == "glitch":
            self.glitches.append((tr.now + 200.0, "load_spike"))

    def _dump_trip(self) -> None:
        rng, tr = self.rng, self.truck
        sites = [self.lay.depot, *self.lay.origins, *self.lay.fields]
        for _ in range(50):
            head, _ = _cut(self.out, float(rng.uniform(0.25, 0.5)))
            if min(float(haversine_m(head[-1, 0], head[-1, 1], *st.centre)) for st in sites) > 250.0:
                break
        depart = tr.now
        tr.drive(head)
        t0 = tr.now
        if self.case.startswith("dump_gap"):
            tr.stay(float(rng.uniform(30, 60)))
            tr.tip(float(rng.uniform(60, 120)))
            tr.stay(float(rng.uniform(120, 180)))
            # seen leaving loaded, then dark from up to 2 min before the stop
            g0 = max(t0 - float(rng.uniform(60, 120)), min(depart + 150.0, t0))
            g1 = g0 + float(rng.uniform(420, 540))
            tr.gaps.append((g0, g1))
            tr.drive(head[::-1].copy())
            self.label("illegal_dump", g0, g1)
            return
        tr.stay(float(rng.uniform(60, 120)))
        tr.tip(float(rng.uniform(60, 120)))
        tr.stay(float(rng.uniform(60, 240)))
        self.label("illegal_dump", t0, tr.now)
        tr.drive(head[::-1].copy())

    def _via(self, case: str) -> LatLon:
        """A road node to go through: a zone's centre (``zone``: the first, ``zone_closed``: the
        school), or one 600-1200 m off the corridor and away from sites and zones."""
        if case in ("zone", "zone_closed"):
            z = self.lay.zones[0 if case == "zone" else 1]
            lat = sum(p[0] for p in z.polygon) / 4
            lon = sum(p[1] for p in z.polygon) / 4
            return (lat, lon)
        net = self.network
        pts = np.vstack([self.out, self.back])
        sites = [self.lay.depot, *self.lay.origins, *self.lay.fields]
        for i in self.rng.permutation(net.lat.shape[0]).tolist():
            lat, lon = float(net.lat[i]), float(net.lon[i])
            d = haversine_m(pts[:, 0], pts[:, 1], lat, lon).min()
            if not 600 <= d <= 1200:
                continue
            if min(haversine_m(lat, lon, *s.centre) for s in sites) < 400:
                continue
            if any(contains_xy(_shape(z).buffer(0.003), lon, lat) for z in self.lay.zones):
                continue
            return (lat, lon)
        raise RuntimeError("no detour node found")

    def _label_off(self, t0: float) -> None:
        """Label the off-corridor part (and the zone part) of the leg just driven, from the truth."""
        from telematics.corridor import RouteCorridor

        tl = self.truck.tl
        t = np.arange(t0, tl.t[-1], 1.0)
        key_t = np.array(tl.t)
        lat = np.interp(t, key_t, np.array(tl.lat))
        lon = np.interp(t, key_t, np.array(tl.lon))
        corr = [RouteCorridor.from_coords(line) for line in (self.out, self.back)]
        dist = np.min([c.distance_m(lat, lon) for c in corr], axis=0)
        self._label_runs("detour", t, dist > 50.0, 75.0)
        for z in self.lay.zones:  # the way to the first zone may cross the other one too
            inside = np.asarray(contains_xy(_shape(z), lon, lat), dtype=bool)
            inside &= np.array([z.active_at(s) for s in t.tolist()], dtype=bool)
            # two fixes inside are needed to tell a passage: shorter ones are look-alikes
            self._label_runs("restricted_zone", t, inside, max(30.0, 2 * self.interval))

    def _label_runs(self, kind: str, t: FloatArray, flag: npt.NDArray[np.bool_], min_s: float) -> None:
        """Label the runs of ``flag`` (1 s steps) joined across breaks under 60 s, lasting ``min_s``.

        Runs within 15 s of ``min_s`` are too close to call: ignored, not labelled.
        """
        idx = np.flatnonzero(flag)
        if not idx.size:
            return
        cut = np.flatnonzero(np.diff(t[idx]) >= 60.0)
        for a, b in zip(np.r_[0, cut + 1].tolist(), np.r_[cut, idx.size - 1].tolist(), strict=True):
            t0, t1 = float(t[idx[a]]), float(t[idx[b]])
            if t1 - t0 >= min_s + 15.0:
                self.label(kind, t0, t1)
            elif t1 - t0 >= min_s - 15.0:
                u0, u1 = self.day0 + t0, self.day0 + t1
                self.ignored.append({"type": kind, "vehicle_id": self.vid, "start_utc": u0, "end_utc": u1})

    # ----------------------------------------------------------------------- sampling

    def track(self) -> EnforcementTrack:
        tr = self.truck
        sigma = float(self.rng.uniform(3.0, 8.0))
        sim = _sample(self.vid, tr.tl, self.day0, self.interval, sigma, self.rng)
        # one or two single-fix GPS jumps of 300-2000 m
        n = sim.ts_utc.shape[0]
        for i in self.rng.integers(1, n - 1, int(self.rng.integers(1, 3))).tolist():
            dist, bearing = self.rng.uniform(300, 2000), self.rng.uniform(0, 2 * math.pi)
            sim.lat[i] += math.degrees(dist * math.cos(bearing) / EARTH_RADIUS_M)
            sim.lon[i] += math.degrees(dist * math.sin(bearing) / EARTH_RADIUS_M) / math.cos(
                math.radians(sim.lat[i])
            )
        t_local = sim.ts_utc - self.day0
        keep = np.ones(t_local.shape[0], dtype=bool)
        for g0, g1 in tr.gaps:
            keep &= ~((t_local > g0) & (t_local < g1))
        load = np.asarray(sim.load_kg, dtype=np.float64).copy()
        tip = np.zeros(t_local.shape[0])
        for a, b in tr.tips:
            tip[(t_local >= a) & (t_local <= b)] = 1.0
        for t, kind in self.glitches:
            i = int(np.searchsorted(t_local, t))
            if i >= t_local.shape[0]:
                continue
            if kind == "tip":
                tip[i] = 1.0
            elif kind == "load_zero":
                load[i] = 0.0
            else:
                load[i] += 10_000.0
        if self.sensors == "none":
            load[:] = np.nan
        if self.sensors != "full":
            tip[:] = np.nan
        speed = sim.speed_mps if self.reports_speed else np.full(t_local.shape[0], np.nan)
        return EnforcementTrack.from_arrays(
            sim.ts_utc[keep], sim.lat[keep], sim.lon[keep], speed_mps=speed[keep],
            load_kg=load[keep], body_tipping=tip[keep], record=f"simulated track of '{self.vid}'",
        )  # fmt: skip
