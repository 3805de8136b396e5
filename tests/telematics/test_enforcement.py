"""The enforcement checker on small synthetic days along a straight 3 km road (no road network).

Construction site C at x = 0 (circle, 80 m), spoil field S at x = 3000 m (200 m
square), the permit's corridor along y = 0, a restricted zone 600 m north of
the road. Trucks load at C, drive at 10 m/s, tip inside S and come back; one
fix every 10 s with 3 m noise.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from core.domain import Alert, AlertType, Position, Stream, VehicleKind
from core.enforcement import DailyWindow, Permit, RestrictedZone, Site, SiteKind, WeighTicket
from core.errors import ValidationError
from telematics import kernels
from telematics.enforcement import EnforcementTrack, police_enforcement
from telematics.enforcement_places import LocalClock

LAT0, LON0 = 39.29, -76.61
DAY = date(2026, 6, 1)
TZ = "America/New_York"
MIDNIGHT = datetime(2026, 6, 1, tzinfo=ZoneInfo(TZ)).timestamp()
LOAD = 15_000.0


def _ll(x: float, y: float) -> tuple[float, float]:
    la, lo = kernels.unproject_equirectangular(np.array([x]), np.array([y]), LAT0, LON0)
    return float(la[0]), float(lo[0])


def _square(x: float, y: float, half: float) -> tuple[tuple[float, float], ...]:
    return tuple(
        _ll(x + dx, y + dy) for dx, dy in ((-half, -half), (half, -half), (half, half), (-half, half))
    )


SITES = (
    Site("C", SiteKind.CONSTRUCTION_SITE, lat=LAT0, lon=LON0, radius_m=80.0),
    Site("S", SiteKind.SPOIL_FIELD, polygon=_square(3000.0, 0.0, 100.0), approved_for_disposal=True),
)
ZONE = RestrictedZone("Z", "water protection", _square(1500.0, 600.0, 150.0))
CORRIDOR = (tuple(_ll(x, 0.0) for x in np.linspace(0.0, 3000.0, 7)),)
PERMIT = Permit("P1", "T1", DAY, DAY, ("C",), ("S",), (DailyWindow(22 * 3600, 6 * 3600),), CORRIDOR)


class Day:
    """Key points of one truck's motion (local seconds, metres) with its scale and tipping sensor."""

    def __init__(self, start_s: float = 22.5 * 3600) -> None:
        self.t = [start_s]
        self.x = [0.0]
        self.y = [0.0]
        self.load: list[tuple[float, float]] = [(start_s, 0.0)]
        self.tips: list[tuple[float, float]] = []
        self.glitch_tip: list[float] = []
        self.gaps: list[tuple[float, float]] = []

    def stay(self, s: float) -> Day:
        self.t.append(self.t[-1] + s)
        self.x.append(self.x[-1])
        self.y.append(self.y[-1])
        return self

    def go(self, x: float, y: float = 0.0) -> Day:
        d = math.hypot(x - self.x[-1], y - self.y[-1])
        self.t.append(self.t[-1] + d / 10.0)
        self.x.append(x)
        self.y.append(y)
        return self

    def set_load(self, kg: float) -> Day:
        self.load.append((self.t[-1], kg))
        return self

    def tip(self, s: float = 90.0, empty: bool = True) -> Day:
        t0 = self.t[-1]
        self.stay(s)
        self.tips.append((t0, self.t[-1]))
        return self.set_load(0.0) if empty else self

    @property
    def now_utc(self) -> float:
        return MIDNIGHT + self.t[-1]

    def loaded_trip(self) -> Day:
        """Load at C, drive to S, tip there, come back."""
        return self.stay(600).set_load(LOAD).stay(30).go(3000).stay(40).tip().stay(40).go(0)

    def track(self, *, scale: bool = True, tipping: bool = True, seed: int = 0) -> EnforcementTrack:
        rng = np.random.default_rng(seed)
        kt = np.array(self.t)
        t = np.arange(kt[0], kt[-1] + 1e-9, 10.0)
        x = np.interp(t, kt, self.x) + rng.normal(0, 3.0, t.shape[0])
        y = np.interp(t, kt, self.y) + rng.normal(0, 3.0, t.shape[0])
        vx = np.gradient(np.interp(t, kt, self.x), t)
        vy = np.gradient(np.interp(t, kt, self.y), t)
        speed = np.hypot(vx, vy)
        lt = np.array([a for a, _ in self.load])
        lv = np.array([b for _, b in self.load])
        load = lv[np.searchsorted(lt, t, side="right") - 1]
        tip = np.zeros(t.shape[0])
        for a, b in self.tips:
            tip[(t >= a) & (t <= b)] = 1.0
        for g in self.glitch_tip:
            tip[int(np.searchsorted(t, g))] = 1.0
        keep = np.ones(t.shape[0], dtype=bool)
        for a, b in self.gaps:
            keep &= ~((t > a) & (t < b))
        lat, lon = kernels.unproject_equirectangular(x, y, LAT0, LON0)
        return EnforcementTrack.from_arrays(
            MIDNIGHT + t[keep],
            lat[keep],
            lon[keep],
            speed_mps=speed[keep],
            load_kg=load[keep] if scale else None,
            body_tipping=tip[keep] if tipping else None,
        )


def _police(
    track: EnforcementTrack,
    *,
    permits: tuple[Permit, ...] = (PERMIT,),
    tickets: tuple[WeighTicket, ...] = (),
    zones: tuple[RestrictedZone, ...] = (ZONE,),
) -> list[Alert]:
    return police_enforcement(
        {"T1": track}, sites=SITES, zones=zones, permits=permits, tickets=tickets, day=DAY, timezone=TZ
    )


def _ticket(t_utc: float, net: float = LOAD, site: str = "S", direction: str = "in") -> WeighTicket:
    return WeighTicket(
        f"K{t_utc:.0f}", "T1", site, t_utc, 14_000.0 + net, 14_000.0, net, Stream.SPOIL, direction
    )


def _types(alerts: list[Alert]) -> list[str]:
    return [a.type.value for a in alerts]


def test_legal_night_trips_raise_nothing() -> None:
    day = Day().loaded_trip()
    t_tip = day.now_utc - 300 - 40  # tipping ended 40 s + the 300 s drive back ago
    day.loaded_trip()
    alerts = _police(day.track(), tickets=(_ticket(t_tip),))
    assert alerts == []


def test_roadside_dump_with_tipping_and_load_drop() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1500)
    t0 = day.now_utc
    day.stay(60).tip(90).stay(120).go(0).loaded_trip()
    alerts = _police(day.track())
    assert _types(alerts) == ["illegal_dump"]
    a = alerts[0]
    assert {"stop_outside_places", "body_tipping", "load_drop"} <= set(a.signals)
    assert a.confidence >= 0.9
    assert abs(a.start_utc - t0) <= 20
    assert a.measured["load_drop_kg"] == pytest.approx(LOAD)
    assert a.measured["nearest_site_m"] > 1000
    x, y = kernels.project_equirectangular(np.array([a.lat]), np.array([a.lon]), LAT0, LON0)
    assert math.hypot(x[0] - 1500.0, y[0]) < 10.0
    assert a.evidence["features"][0]["properties"]["load_kg"][0] == LOAD


def test_dump_seen_by_one_sensor_only_has_lower_confidence() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1500).stay(60).tip(90).stay(120).go(0)
    drop_only = _police(day.track(tipping=False))
    tip_only = _police(day.track(scale=False))
    assert _types(drop_only) == ["illegal_dump"]
    assert "body_tipping" not in drop_only[0].signals
    assert _types(tip_only)[0] == "illegal_dump"
    assert "load_drop" not in tip_only[0].signals
    both = _police(day.track())[0].confidence
    assert drop_only[0].confidence < both
    assert tip_only[0].confidence < both


def test_traffic_stop_with_a_tipping_glitch_and_a_load_glitch_is_no_dump() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1500)
    day.glitch_tip.append(day.t[-1] + 30)
    day.stay(120).go(3000).stay(40).tip().stay(40).go(0)
    track = day.track()
    load = track.load_kg.copy()
    load[np.argmin(np.abs(track.ts_utc - MIDNIGHT - day.t[4] - 50))] = 0.0  # one fix reads empty
    assert _police(replace(track, load_kg=load)) == []


def test_tipping_at_a_site_not_approved_for_disposal_is_a_dump() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).tip(90).stay(60).go(3000).go(0)
    alerts = _police(day.track())
    assert _types(alerts) == ["illegal_dump"]
    assert "stop_at_construction_site" in alerts[0].signals


def test_tipping_at_a_spoil_field_the_permit_does_not_name() -> None:
    other = Site("S2", SiteKind.SPOIL_FIELD, polygon=_square(1500.0, 0.0, 100.0), approved_for_disposal=True)
    day = Day().stay(600).set_load(LOAD).stay(30).go(1500).stay(40).tip().stay(40).go(0)
    alerts = police_enforcement(
        {"T1": day.track()}, sites=(*SITES, other), permits=(PERMIT,), day=DAY, timezone=TZ
    )
    assert _types(alerts) == ["illegal_dump"]
    assert "disposal_site_not_in_permit" in alerts[0].signals
    assert alerts[0].confidence < 0.7
    named = replace(PERMIT, disposal_site_ids=("S", "S2"))
    assert (
        police_enforcement({"T1": day.track()}, sites=(*SITES, other), permits=(named,), day=DAY, timezone=TZ)
        == []
    )


def test_no_permit_is_unpermitted_transport_per_loaded_trip() -> None:
    day = Day().loaded_trip().loaded_trip()
    for scale in (True, False):
        alerts = _police(day.track(scale=scale), permits=())
        assert _types(alerts) == ["unpermitted_transport", "unpermitted_transport"]
        assert ("load_sensor" if scale else "loaded_inferred") in alerts[0].signals
        assert alerts[0].measured["extent_m"] > 2500


def test_permit_of_another_day_does_not_count() -> None:
    other = replace(PERMIT, valid_from=date(2026, 5, 1), valid_to=date(2026, 5, 31))
    assert _types(_police(Day().loaded_trip().track(), permits=(other,))) == ["unpermitted_transport"]


def test_a_night_permit_covers_the_early_morning_after() -> None:
    early = Day(start_s=86_400 + 2 * 3600).loaded_trip()  # 02:00 the next date
    assert _police(early.track()) == []
    late = Day(start_s=86_400 + 7 * 3600).loaded_trip()  # 07:00 the next date: no permit in force
    assert _types(_police(late.track())) == ["unpermitted_transport"]


def test_daytime_trip_is_off_hours() -> None:
    alerts = _police(Day(start_s=12 * 3600).loaded_trip().track())
    assert _types(alerts) == ["off_hours"]
    assert alerts[0].measured["local_start_s"] == pytest.approx(12 * 3600 + 630 + 10, abs=30)


def test_a_second_permit_allowing_the_hour_is_the_one_in_force() -> None:
    """With a night permit (id P1) and a day permit (id P9) valid the same date, a noon trip runs under
    the day permit: no off_hours, and the evidence rule names the same permit."""
    from core.enforcement import permit_in_force

    day_permit = Permit("P9", "T1", DAY, DAY, ("C",), ("S",), (DailyWindow(8 * 3600, 18 * 3600),), CORRIDOR)
    noon = Day(start_s=12 * 3600).loaded_trip().track()
    assert _types(_police(noon, permits=(PERMIT,))) == ["off_hours"]
    assert _police(noon, permits=(PERMIT, day_permit)) == []
    assert _police(noon, permits=(day_permit, PERMIT)) == []
    assert permit_in_force((PERMIT, day_permit), DAY, 12 * 3600) == day_permit
    assert permit_in_force((PERMIT, day_permit), DAY, 23 * 3600) == PERMIT


def test_restricted_zone_and_off_corridor() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1000).go(1500, 600).go(2000).go(3000)
    day.stay(40).tip().stay(40).go(0)
    alerts = _police(day.track())
    assert sorted(_types(alerts)) == ["detour", "restricted_zone"]
    zone = next(a for a in alerts if a.type == AlertType.RESTRICTED_ZONE)
    assert zone.evidence["features"][0]["properties"]["zone_id"] == "Z"
    assert "loaded" in zone.signals
    detour = next(a for a in alerts if a.type == AlertType.DETOUR)
    assert detour.measured["max_distance_m"] >= 99.0  # the fast distance is capped at its reach
    # the same path outside the zone's hours is only a detour
    night_only = replace(ZONE, active_hours=(DailyWindow(8 * 3600, 18 * 3600),))
    assert _types(_police(day.track(), zones=(night_only,))) == ["detour"]


def test_zones_and_permits_apply_by_vehicle_kind() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1000).go(1500, 600).go(2000).go(3000)
    day.stay(40).tip().stay(40).go(0)
    haulers_only = replace(ZONE, vehicle_kinds=frozenset({VehicleKind.MUCK_HAULER}))
    tracks = {"T1": day.track(), "W1": day.track(seed=1)}
    kinds = {"T1": VehicleKind.MUCK_HAULER, "W1": VehicleKind.WASHER}
    alerts = police_enforcement(
        tracks,
        sites=SITES,
        zones=(haulers_only,),
        permits=(PERMIT,),
        day=DAY,
        timezone=TZ,
        vehicle_kinds=kinds,
    )
    # the washer needs no permit and may cross the zone; the hauler may not leave its corridor or enter
    assert sorted((a.vehicle_id, a.type.value) for a in alerts) == [
        ("T1", "detour"),
        ("T1", "restricted_zone"),
    ]


def test_ticket_while_elsewhere_is_a_mismatch() -> None:
    day = Day().loaded_trip()
    alerts = _police(day.track(), tickets=(_ticket(MIDNIGHT + day.t[0] + 300),))
    assert _types(alerts) == ["ticket_mismatch"]
    assert alerts[0].measured["distance_m"] > 2800
    assert alerts[0].confidence >= 0.9


def test_short_delivery_ticket_is_a_weight_discrepancy() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(3000).stay(40).tip()
    t_ticket = day.now_utc
    day.stay(40).go(0)
    good = _police(day.track(), tickets=(_ticket(t_ticket, LOAD * 0.99),))
    assert good == []
    alerts = _police(day.track(), tickets=(_ticket(t_ticket, 9_000.0),))
    assert _types(alerts) == ["weight_discrepancy"]
    assert alerts[0].measured["missing_kg"] == pytest.approx(LOAD - 9_000.0)
    assert "onboard_load" in alerts[0].signals
    # without a scale, the net declared at the source is the reference
    declared = _ticket(MIDNIGHT + day.t[2], LOAD, "C", "out")
    alerts = _police(day.track(scale=False), tickets=(declared, _ticket(t_ticket, 9_000.0)))
    assert _types(alerts) == ["weight_discrepancy"]
    assert "declared_at_source" in alerts[0].signals


def test_load_gone_across_a_gps_gap() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1000)
    g0 = day.t[-1] - 30
    day.stay(120).tip(90).stay(120)
    day.gaps.append((g0, day.t[-1] + 20))  # 380 s of silence
    t_before_gap = day.now_utc
    day.go(0).loaded_trip()
    t_legal = day.now_utc - 340
    alerts = _police(day.track(), tickets=(_ticket(t_legal),))
    assert _types(alerts) == ["illegal_dump"]
    assert {"gps_gap", "load_drop", "no_delivery_ticket"} <= set(alerts[0].signals)
    # a delivery ticket from that time, 2 km away, is a paper ticket; it does not explain the empty truck
    paper = _police(day.track(), tickets=(_ticket(t_legal), _ticket(t_before_gap - 60)))
    assert sorted(_types(paper)) == ["illegal_dump", "ticket_mismatch"]
    mismatch = next(a for a in paper if a.type == AlertType.TICKET_MISMATCH)
    assert mismatch.measured["distance_m"] > 1500


def test_tipping_at_the_spoil_field_during_a_gps_gap_is_legal() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(2500)
    g0 = day.t[-1]
    day.go(3000).stay(100).tip().stay(100)  # 340 s unseen at the spoil field
    t_ticket = day.now_utc - 100
    day.go(2500)
    day.gaps.append((g0, day.t[-1]))
    day.go(0).loaded_trip()
    t_legal = day.now_utc - 340
    tickets = (_ticket(t_ticket), _ticket(t_legal))
    assert _police(day.track(), tickets=tickets) == []
    # without the ticket, the empty truck after the gap is a dump
    assert _types(_police(day.track(), tickets=tickets[1:])) == ["illegal_dump"]


def test_without_sensors_a_trip_back_to_loading_without_disposal_is_a_dump() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1500)
    t0 = day.now_utc
    day.stay(300).go(0).loaded_trip()
    alerts = _police(day.track(scale=False, tipping=False))
    assert _types(alerts) == ["illegal_dump"]
    assert {"no_disposal_visit", "stop_outside_places"} <= set(alerts[0].signals)
    assert abs(alerts[0].start_utc - t0) <= 20
    # the same stop on a trip that does reach the spoil field is no dump
    legal = Day().stay(600).set_load(LOAD).stay(30).go(1500).stay(300).go(3000).stay(40).tip().stay(40).go(0)
    assert _police(legal.track(scale=False, tipping=False)) == []


def test_positions_give_the_same_alerts_as_columns() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1500).stay(60).tip(90).stay(120).go(0)
    tr = day.track()
    positions = [
        Position(
            "T1",
            float(tr.ts_utc[i]),
            float(tr.lat[i]),
            float(tr.lon[i]),
            speed_mps=float(tr.speed_mps[i]),
            load_kg=float(tr.load_kg[i]),
            body_tipping=bool(tr.body_tipping[i] > 0.5),
        )
        for i in reversed(range(len(tr)))
    ]
    a = _police(tr)
    b = police_enforcement(
        {"T1": positions}, sites=SITES, zones=(ZONE,), permits=(PERMIT,), day=DAY, timezone=TZ
    )
    assert [(x.type, x.start_utc, x.end_utc, x.signals) for x in a] == [
        (x.type, x.start_utc, x.end_utc, x.signals) for x in b
    ]


def test_bad_input_names_the_vehicle_and_field() -> None:
    with pytest.raises(ValidationError, match=r"track of 'T9'.*ts_utc"):
        police_enforcement(
            {"T9": EnforcementTrack.from_arrays([1.0, 2.0], [LAT0, LAT0], [LON0, LON0])}
            | {"T9": type("Bad", (), {"ts_utc": [2.0, 1.0], "lat": [LAT0] * 2, "lon": [LON0] * 2})()},
            sites=SITES,
            day=DAY,
            timezone=TZ,
        )
    with pytest.raises(ValidationError, match="timezone"):
        police_enforcement({}, sites=SITES, day=DAY, timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="lat"):
        EnforcementTrack.from_arrays([1.0], [95.0], [0.0])


def test_empty_track_and_no_tracks() -> None:
    assert police_enforcement({}, sites=SITES, day=DAY, timezone=TZ) == []
    empty = EnforcementTrack.from_arrays([], [], [])
    alerts = police_enforcement(
        {"T1": empty}, sites=SITES, tickets=(_ticket(MIDNIGHT + 3600),), day=DAY, timezone=TZ
    )
    assert _types(alerts) == ["ticket_mismatch"]
    assert alerts[0].signals == ("no_fixes_that_day",)
    assert alerts[0].confidence < 0.5  # nothing to refute the ticket with: a weak lead


def test_local_clock_across_daylight_saving() -> None:
    tz = ZoneInfo(TZ)
    spring = date(2026, 3, 8)  # clocks go 02:00 -> 03:00
    wall = [datetime(2026, 3, 8, h, 30, tzinfo=tz) for h in (1, 3, 23)]
    ts = np.array([w.timestamp() for w in wall] + [datetime(2026, 3, 9, 1, 0, tzinfo=tz).timestamp()])
    clock = LocalClock.for_span(spring, tz, float(ts.min()), float(ts.max()))
    assert clock.seconds(ts).tolist() == [1.5 * 3600, 3.5 * 3600, 23.5 * 3600, 25 * 3600]
    assert clock.local_date(25 * 3600) == date(2026, 3, 9)


def test_gap_dump_with_no_visible_stop_and_no_tickets() -> None:
    day = Day().set_load(LOAD).go(1500)
    g0 = day.t[-1] - 20
    day.stay(200).set_load(0.0).stay(200)
    day.gaps.append((g0, day.t[-1] + 20))
    day.go(0)
    alerts = _police(day.track())
    assert _types(alerts) == ["illegal_dump"]
    assert {"gps_gap", "load_drop", "disposal_unreachable"} <= set(alerts[0].signals)


def test_devices_without_speed_get_it_from_positions() -> None:
    day = Day().stay(600).set_load(LOAD).stay(30).go(1500).stay(60).tip(90).stay(120).go(0).loaded_trip()
    for seed in range(3):
        track = replace(day.track(seed=seed), speed_mps=np.full(len(day.track(seed=seed)), np.nan))
        alerts = _police(track)
        assert _types(alerts) == ["illegal_dump"], seed
        assert {"body_tipping", "load_drop"} <= set(alerts[0].signals)
