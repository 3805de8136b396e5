"""The enforcement model validates itself and names the record and the field."""

from __future__ import annotations

from datetime import date

import pytest

from core.domain import Stream, VehicleKind
from core.enforcement import DailyWindow, Permit, RestrictedZone, Site, SiteKind, WeighTicket
from core.errors import ValidationError

SQUARE = ((39.0, -76.0), (39.0, -75.99), (39.01, -75.99), (39.01, -76.0))


def test_daily_window_wraps_midnight() -> None:
    night = DailyWindow.parse("22:00-06:00")
    assert night == DailyWindow(22 * 3600, 6 * 3600)
    assert night.wraps
    assert night.contains(23 * 3600)
    assert night.contains(3 * 3600 + 86_400)  # taken modulo a day
    assert not night.contains(6 * 3600)  # the end is open
    assert not night.contains(12 * 3600)
    day = DailyWindow.parse("07:30-18:00")
    assert day.contains(7.5 * 3600)
    assert not day.contains(18 * 3600)
    assert DailyWindow(0, 0).contains(12345)
    with pytest.raises(ValidationError, match="HH:MM"):
        DailyWindow.parse("7-8pm")
    with pytest.raises(ValidationError, match="start_s"):
        DailyWindow(-1, 5)


def test_site_is_a_polygon_or_a_circle() -> None:
    circle = Site("C1", "construction_site", lat=39.0, lon=-76.0, radius_m=80)
    assert circle.kind == SiteKind.CONSTRUCTION_SITE
    assert circle.centre == (39.0, -76.0)
    closed = Site("S1", SiteKind.SPOIL_FIELD, polygon=(*SQUARE, SQUARE[0]), approved_for_disposal=True)
    assert closed.polygon == SQUARE  # a closed ring is kept open
    assert closed.centre == pytest.approx((39.005, -75.995))
    assert closed.accepts(Stream.SPOIL)
    assert not circle.accepts(None)
    picky = Site(
        "S2", SiteKind.LANDFILL, polygon=SQUARE, approved_for_disposal=True, accepted_streams={"residual"}
    )
    assert not picky.accepts(Stream.SPOIL)
    with pytest.raises(ValidationError, match=r"Site 'X': field 'radius_m'"):
        Site("X", SiteKind.DEPOT, lat=39.0, lon=-76.0)
    with pytest.raises(ValidationError, match=r"Site 'X': field 'polygon'.*not both"):
        Site("X", SiteKind.DEPOT, polygon=SQUARE, lat=39.0, lon=-76.0, radius_m=5)
    with pytest.raises(ValidationError, match=r"field 'polygon' must have at least 3"):
        Site("X", SiteKind.DEPOT, polygon=SQUARE[:2])
    with pytest.raises(ValidationError, match="kind"):
        Site("X", "volcano", lat=39.0, lon=-76.0, radius_m=5)
    with pytest.raises(ValidationError, match=r"polygon\[1\].*lat"):
        Site("X", SiteKind.DEPOT, polygon=((39.0, -76.0), (99.0, -76.0), (39.0, -75.0)))


def test_restricted_zone_hours_and_kinds() -> None:
    school = RestrictedZone("Z1", "school", SQUARE, ("07:00-17:00",), {"muck_hauler"})
    assert school.active_at(8 * 3600)
    assert not school.active_at(20 * 3600)
    assert school.applies_to(VehicleKind.MUCK_HAULER)
    assert school.applies_to(None)
    assert not school.applies_to(VehicleKind.SWEEPER)
    always = RestrictedZone("Z2", "water", SQUARE)
    assert always.active_at(3 * 3600)
    with pytest.raises(ValidationError, match=r"RestrictedZone 'Z3': field 'vehicle_kinds'"):
        RestrictedZone("Z3", "x", SQUARE, (), {"rocket"})


def test_permit_dates_hours_and_corridor() -> None:
    p = Permit(
        "P1",
        "T1",
        date(2026, 6, 1),
        date(2026, 6, 30),
        ("C1",),
        ("S1",),
        ("22:00-06:00",),
        ((SQUARE[0], SQUARE[1]),),
    )
    assert p.valid_on(date(2026, 6, 30))
    assert not p.valid_on(date(2026, 7, 1))
    assert p.allows_hour(23 * 3600)
    assert not p.allows_hour(12 * 3600)
    assert p.stream == Stream.SPOIL
    with pytest.raises(ValidationError, match=r"Permit 'P2': field 'valid_to'"):
        Permit("P2", "T1", date(2026, 6, 2), date(2026, 6, 1), ("C1",), ("S1",))
    with pytest.raises(ValidationError, match=r"field 'disposal_site_ids'"):
        Permit("P3", "T1", date(2026, 6, 1), date(2026, 6, 1), ("C1",), ())
    with pytest.raises(ValidationError, match=r"field 'corridor\[0\]' must have at least 2"):
        Permit("P4", "T1", date(2026, 6, 1), date(2026, 6, 1), ("C1",), ("S1",), (), ((SQUARE[0],),))
    with pytest.raises(ValidationError, match="valid_from"):
        Permit("P5", "T1", "2026-06-01", date(2026, 6, 1), ("C1",), ("S1",))  # type: ignore[arg-type]


def test_weigh_ticket_net_must_be_gross_minus_tare() -> None:
    ok = WeighTicket("K1", "T1", "S1", 1.0e9, 29_000, 14_000, 15_010)
    assert ok.direction == "in"
    with pytest.raises(ValidationError, match=r"WeighTicket 'K2': field 'net_kg' must equal .* 15000"):
        WeighTicket("K2", "T1", "S1", 1.0e9, 29_000, 14_000, 12_000)
    with pytest.raises(ValidationError, match=r"field 'tare_kg' must be <= gross_kg"):
        WeighTicket("K3", "T1", "S1", 1.0e9, 10_000, 14_000, 0)
    with pytest.raises(ValidationError, match=r"field 'direction'"):
        WeighTicket("K4", "T1", "S1", 1.0e9, 29_000, 14_000, 15_000, Stream.SPOIL, "sideways")
    with pytest.raises(ValidationError, match=r"field 'ts_utc'"):
        WeighTicket("K5", "T1", "S1", float("nan"), 29_000, 14_000, 15_000)
