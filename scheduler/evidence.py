"""Evidence packets: everything an officer needs about one alert, as one JSON document.

:func:`evidence_packet` reads the store and gathers, for the alert with a given key:

- ``id``: a stable id (``ev-`` and the first 16 hex digits of the SHA-256 of the alert key);
- ``alert`` (the ``police`` output fields with its ``status``) and its audit ``history``;
- ``track``: the vehicle's fixes :data:`TRACK_MARGIN_S` either side of the alert as a
  GeoJSON FeatureCollection (a LineString with per-fix ``time``, ``speed_mps``,
  ``load_kg``, ``body_tipping``), plus the alert's own evidence features;
- ``stop``: where the vehicle stood at the alert and for how long (fixes within
  :data:`STOP_RADIUS_M` at :data:`STOP_SPEED_MPS` or slower), or null;
- ``sensor_timeline``: time, speed (m/s), load (kg) and body tipping of each fix;
- ``permit_in_force``: the vehicle's permit valid on the alert's local day, or null;
- ``nearest_approved_place`` with its distance (m; 0 inside it): stored sites, and the
  depots and facilities of the vehicle's district;
- ``nearby_vehicles``: other vehicles that stopped within :data:`NEARBY_M` of the alert
  within :data:`NEARBY_S` of it (one case often reveals several), with their alerts;
- ``map_png_base64``: a map picture (PNG; OpenStreetMap attribution on it when
  streets are drawn) and ``attribution``.

Times are ISO 8601 UTC, distances metres, durations seconds, loads kilograms.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from core.domain import Alert, Position
from core.enforcement import DISPOSAL_KINDS, Permit, Site, SiteKind
from core.enforcement import permit_in_force as core_permit_in_force
from core.enforcement_io import permit_to_dict
from core.geo import EARTH_RADIUS_M, haversine_m
from core.geojson import iso_utc
from core.render import ATTRIBUTION
from scheduler.police import FACILITY_RADIUS_M, alert_entry, iso_time
from telematics.enforcement_kernels import runs_of

if TYPE_CHECKING:
    from core.roads import RoadNetwork
    from core.store import Store

TRACK_MARGIN_S = 1800.0
"""Track kept either side of the alert (s)."""
STOP_RADIUS_M = 50.0
"""Fixes this close to the alert point can belong to its stop (m)."""
STOP_SPEED_MPS = 1.0
"""At or below this speed a vehicle is stopped (m/s); fixes without a speed count as stopped."""
NEARBY_M = 200.0
"""Other vehicles stopping this close to the alert point are listed (m)."""
NEARBY_S = 7200.0
"""... within this time of the alert (s)."""
MIN_STOP_S = 60.0
"""A nearby vehicle's stop lasts at least this long (s)."""
SPLIT_S = 300.0
"""Fixes further apart than this split a stop (s)."""
MAP_HALF_M = 500.0
"""The map reaches at least this far from the alert (m) ..."""
MAP_MAX_HALF_M = 2500.0
"""... and further to show the nearest approved place, up to this (m)."""


def evidence_id(key: str) -> str:
    """The stable id of the evidence packet of alert ``key``."""
    return "ev-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _opt(value: float | bool | None) -> float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    return round(float(value), 2)


def _stopped(p: Position) -> bool:
    return p.speed_mps is None or p.speed_mps <= STOP_SPEED_MPS


def _runs(fixes: Sequence[Position], keep: Sequence[bool]) -> list[list[Position]]:
    """Consecutive kept fixes, split where they are more than :data:`SPLIT_S` apart."""
    t = np.array([p.ts_utc for p in fixes], dtype=np.float64)
    runs = runs_of(np.array(keep, dtype=np.bool_), t, 1, 0.0, SPLIT_S)
    return [list(fixes[a : b + 1]) for a, b in runs.tolist()]


def permit_in_force(permits: Sequence[Permit], ts_utc: float, timezone: str) -> Permit | None:
    """The permit in force at UNIX time ``ts_utc`` in ``timezone`` (the rule of the core function)."""
    moment = datetime.fromtimestamp(ts_utc, ZoneInfo(timezone))
    local_s = moment.hour * 3600 + moment.minute * 60 + moment.second
    return core_permit_in_force(permits, moment.date(), local_s)


def find_stop(alert: Alert, fixes: Sequence[Position]) -> dict[str, Any] | None:
    """The stop of the vehicle at the alert: the longest stopped run near its point overlapping it."""
    if not fixes:
        return None
    lat = np.array([p.lat for p in fixes])
    lon = np.array([p.lon for p in fixes])
    near = haversine_m(lat, lon, alert.lat, alert.lon) <= STOP_RADIUS_M
    keep = [bool(n) and _stopped(p) for n, p in zip(near.tolist(), fixes, strict=True)]
    runs = [
        r
        for r in _runs(fixes, keep)
        if r[0].ts_utc <= alert.end_utc + 60 and r[-1].ts_utc >= alert.start_utc - 60
    ]
    if not runs:
        return None
    run = max(runs, key=lambda r: (r[-1].ts_utc - r[0].ts_utc, -r[0].ts_utc))
    return {
        "start": iso_time(run[0].ts_utc),
        "end": iso_time(run[-1].ts_utc),
        "duration_s": round(run[-1].ts_utc - run[0].ts_utc, 1),
        "lat": round(sum(p.lat for p in run) / len(run), 7),
        "lon": round(sum(p.lon for p in run) / len(run), 7),
        "fixes": len(run),
    }


def track_collection(fixes: Sequence[Position], alert: Alert) -> dict[str, Any]:
    """The fixes as a LineString (or Point) Feature with per-fix values, and the alert's own features."""
    features: list[dict[str, Any]] = []
    if fixes:
        coords = [[round(p.lon, 7), round(p.lat, 7)] for p in fixes]
        geometry = (
            {"type": "LineString", "coordinates": coords}
            if len(coords) > 1
            else {"type": "Point", "coordinates": coords[0]}
        )
        props = {"kind": "track", "vehicle_id": alert.vehicle_id} | sensor_timeline(fixes)
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    for f in alert.evidence.get("features", []) if isinstance(alert.evidence, dict) else []:
        features.append({**f, "properties": {**(f.get("properties") or {}), "from_alert": True}})
    return {"type": "FeatureCollection", "features": features}


def sensor_timeline(fixes: Sequence[Position]) -> dict[str, list[Any]]:
    """Per-fix ``time`` (ISO UTC), ``speed_mps``, ``load_kg`` and ``body_tipping`` (null: no sensor)."""
    return {
        "time": [iso_time(p.ts_utc) for p in fixes],
        "speed_mps": [_opt(p.speed_mps) for p in fixes],
        "load_kg": [_opt(p.load_kg) for p in fixes],
        "body_tipping": [p.body_tipping for p in fixes],
    }


def _xy(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    r = EARTH_RADIUS_M
    return (
        math.radians(lon - lon0) * r * math.cos(math.radians(lat0)),
        math.radians(lat - lat0) * r,
    )


def site_distance_m(site: Site, lat: float, lon: float) -> float:
    """Distance from a point to a site's edge (m); 0 inside it."""
    if not site.polygon:
        d = float(haversine_m(lat, lon, float(site.lat or 0.0), float(site.lon or 0.0)))
        return max(0.0, d - float(site.radius_m or 0.0))
    pts = [_xy(a, b, lat, lon) for a, b in site.polygon]
    inside = False
    best = math.inf
    for (x1, y1), (x2, y2) in zip(pts, [*pts[1:], pts[0]], strict=True):
        if (y1 > 0) != (y2 > 0) and x1 - y1 * (x2 - x1) / (y2 - y1) > 0:
            inside = not inside
        dx, dy = x2 - x1, y2 - y1
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, -(x1 * dx + y1 * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(x1 + t * dx, y1 + t * dy))
    return 0.0 if inside else best


def _district_sites(store: Store, vehicle_id: str) -> tuple[list[Site], str | None]:
    """Depots and facilities of the vehicle's stored district as sites, and the district's time zone."""
    name = store.device_districts().get(vehicle_id)
    if name is None:
        return [], None
    district = store.get_district(name)
    sites = [
        Site(id=d.id, kind=SiteKind.DEPOT, lat=d.lat, lon=d.lon, radius_m=FACILITY_RADIUS_M, name=d.name)
        for d in district.depots
    ]
    for f in district.facilities:
        sites.append(
            Site(
                id=f.id,
                kind=SiteKind(f.kind.value),
                lat=f.lat,
                lon=f.lon,
                radius_m=FACILITY_RADIUS_M,
                approved_for_disposal=SiteKind(f.kind.value) in DISPOSAL_KINDS,
                accepted_streams=f.accepted_streams,
                name=f.name,
            )
        )
    return sites, district.timezone


def nearest_place(sites: Sequence[Site], lat: float, lon: float) -> dict[str, Any] | None:
    """The nearest approved place to a point and its distance (m, 0 inside), or ``None`` without places."""
    if not sites:
        return None
    d, site = min(((site_distance_m(s, lat, lon), s) for s in sites), key=lambda x: (x[0], x[1].id))
    centre = site.centre
    return {
        "id": site.id,
        "kind": site.kind.value,
        "name": site.name,
        "approved_for_disposal": site.approved_for_disposal,
        "distance_m": round(d, 1),
        "lat": round(centre[0], 7),
        "lon": round(centre[1], 7),
    }


def nearby_stops(store: Store, alert: Alert, alerts: Sequence[tuple[str, Alert]]) -> list[dict[str, Any]]:
    """Other vehicles' stops of :data:`MIN_STOP_S` or more within :data:`NEARBY_M` and :data:`NEARBY_S`."""
    dlat = math.degrees(NEARBY_M / EARTH_RADIUS_M)
    dlon = dlat / max(0.01, math.cos(math.radians(alert.lat)))
    t0, t1 = alert.start_utc - NEARBY_S, alert.end_utc + NEARBY_S
    fixes = store.positions_in_area(
        alert.lat - dlat, alert.lon - dlon, alert.lat + dlat, alert.lon + dlon, t0, t1
    )
    by_device: dict[str, list[Position]] = {}
    for p in fixes:
        if p.device_id != alert.vehicle_id:
            by_device.setdefault(p.device_id, []).append(p)
    out = []
    for vid, ps in sorted(by_device.items()):
        dist = haversine_m(np.array([p.lat for p in ps]), np.array([p.lon for p in ps]), alert.lat, alert.lon)
        keep = [bool(d <= NEARBY_M) and _stopped(p) for d, p in zip(dist.tolist(), ps, strict=True)]
        for run in _runs(ps, keep):
            if run[-1].ts_utc - run[0].ts_utc < MIN_STOP_S:
                continue
            lat = sum(p.lat for p in run) / len(run)
            lon = sum(p.lon for p in run) / len(run)
            keys = [
                k
                for k, a in alerts
                if a.vehicle_id == vid
                and a.start_utc <= run[-1].ts_utc + 60
                and a.end_utc >= run[0].ts_utc - 60
            ]
            out.append(
                {
                    "vehicle_id": vid,
                    "start": iso_time(run[0].ts_utc),
                    "end": iso_time(run[-1].ts_utc),
                    "duration_s": round(run[-1].ts_utc - run[0].ts_utc, 1),
                    "distance_m": round(float(haversine_m(lat, lon, alert.lat, alert.lon)), 1),
                    "lat": round(lat, 7),
                    "lon": round(lon, 7),
                    "alert_keys": keys,
                }
            )
    return out


def evidence_packet(
    store: Store,
    key: str,
    *,
    network: RoadNetwork | None = None,
    picture: bool = True,
    timezone: str | None = None,
) -> dict[str, Any]:
    """The evidence packet of the alert with ``key`` (see the module docstring).

    Parameters
    ----------
    store : where the alert, positions, permits and sites are.
    key : the alert's key.
    network : draw its streets on the map (optional).
    picture : include the PNG map.
    timezone : IANA zone for the alert's local day (permits); default the vehicle's
        district's, else UTC.

    Raises
    ------
    NotFoundError
        If there is no alert with ``key``.
    """
    record = store.get_alert_record(key)
    alert = record.alert
    fixes = store.positions(
        alert.vehicle_id, alert.start_utc - TRACK_MARGIN_S, alert.end_utc + TRACK_MARGIN_S
    )
    district_sites, district_tz = _district_sites(store, alert.vehicle_id)
    tz = timezone or district_tz or "UTC"
    permit = permit_in_force(store.permits(alert.vehicle_id), alert.start_utc, tz)
    stored_sites = store.sites()
    own = {s.id for s in stored_sites}
    sites = [*stored_sites, *(s for s in district_sites if s.id not in own)]
    window = store.list_alert_records(since_utc=alert.start_utc - NEARBY_S - 86_400)
    others = [(r.key, r.alert) for r in window if r.alert.start_utc <= alert.end_utc + NEARBY_S]
    nearby = nearby_stops(store, alert, others)
    stop = find_stop(alert, fixes)
    packet: dict[str, Any] = {
        "id": evidence_id(key),
        "alert": {**alert_entry(alert), "status": record.status.value},
        "history": [
            {
                "from": e.from_status.value,
                "to": e.to_status.value,
                "officer": e.officer,
                "note": e.note,
                "at": iso_utc(e.at),
            }
            for e in store.alert_history(key)
        ],
        "timezone": tz,
        "track": track_collection(fixes, alert),
        "stop": stop,
        "sensor_timeline": sensor_timeline(fixes),
        "permit_in_force": None if permit is None else permit_to_dict(permit),
        "nearest_approved_place": nearest_place(sites, alert.lat, alert.lon),
        "nearby_vehicles": nearby,
        "attribution": ATTRIBUTION,
    }
    if picture:
        place = packet["nearest_approved_place"]
        half = (
            MAP_HALF_M if place is None else min(MAP_MAX_HALF_M, max(MAP_HALF_M, place["distance_m"] + 150.0))
        )
        png = render_evidence(alert, fixes, stop, nearby, sites, network, half_m=half)
        packet["map_png_base64"] = base64.b64encode(png).decode("ascii")
    return packet


def render_evidence(
    alert: Alert,
    fixes: Sequence[Position],
    stop: dict[str, Any] | None,
    nearby: Sequence[dict[str, Any]],
    sites: Sequence[Site],
    network: RoadNetwork | None = None,
    *,
    half_m: float = MAP_HALF_M,
    dpi: int = 110,
) -> bytes:
    """A PNG map ``2 * half_m`` across around the alert (m): streets (with a network), the track,
    the alert, its stop, nearby stops and approved places."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Circle, Polygon

    span = math.degrees(half_m / EARTH_RADIUS_M)
    south, north = alert.lat - span, alert.lat + span
    dlon = span / max(0.01, math.cos(math.radians(alert.lat)))
    west, east = alert.lon - dlon, alert.lon + dlon
    fig, ax = plt.subplots(figsize=(7, 7))
    if network is not None:
        lines = [
            xy
            for xy, _ in network.edge_lines()
            if ((xy[:, 0] >= west) & (xy[:, 0] <= east) & (xy[:, 1] >= south) & (xy[:, 1] <= north)).any()
        ]
        ax.add_collection(LineCollection(lines, colors="#c8c8c8", linewidths=0.6, zorder=1))
    scale = 1 / (EARTH_RADIUS_M * math.pi / 180)
    for s in sites:
        c = s.centre
        if abs(c[0] - alert.lat) > 2 * span or abs(c[1] - alert.lon) > 2 * dlon:
            continue
        patch = (
            Polygon([(b, a) for a, b in s.polygon], closed=True)
            if s.polygon
            else Circle((c[1], c[0]), float(s.radius_m or 0.0) * scale / math.cos(math.radians(c[0])))
        )
        patch.set(facecolor="#2a9d8f33", edgecolor="#2a9d8f", zorder=2)
        ax.add_patch(patch)
        ax.annotate(s.id, (c[1], c[0]), fontsize=8, color="#1d6f65", zorder=6)
    if fixes:
        ax.plot(
            [p.lon for p in fixes],
            [p.lat for p in fixes],
            color="#1f77b4",
            linewidth=1.5,
            zorder=3,
            label=f"{alert.vehicle_id} track",
        )
    for n in nearby:
        ax.scatter([n["lon"]], [n["lat"]], s=60, marker="^", c="orange", edgecolors="black", zorder=5)
        ax.annotate(
            n["vehicle_id"], (n["lon"], n["lat"]), xytext=(6, -10), textcoords="offset points", fontsize=8
        )
    if stop is not None:
        ax.scatter(
            [stop["lon"]],
            [stop["lat"]],
            s=90,
            c="black",
            marker="s",
            zorder=6,
            label=f"stop {stop['duration_s']:.0f} s",
        )
    ax.scatter(
        [alert.lon],
        [alert.lat],
        s=320,
        facecolors="none",
        edgecolors="red",
        linewidths=2.2,
        zorder=7,
        label=alert.type.value,
    )
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / math.cos(math.radians(alert.lat)))
    ax.set_title(f"{alert.type.value}: {alert.vehicle_id}, {iso_time(alert.start_utc)}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.text(0.99, 0.01, ATTRIBUTION, ha="right", va="bottom", fontsize=7, color="#333333")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def write_packet(packet: dict[str, Any], path: Path) -> list[Path]:
    """Write the packet as JSON to ``path`` and its map beside it (same name, ``.png``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    if "map_png_base64" in packet:
        png = path.with_suffix(".png")
        png.write_bytes(base64.b64decode(packet["map_png_base64"]))
        written.append(png)
    path.write_text(json.dumps(packet, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return [path, *written]
