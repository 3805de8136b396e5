"""Loaders of enforcement records (GeoJSON and CSV) and their stored JSON bodies."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.domain import Stream, VehicleKind
from core.enforcement import DailyWindow, SiteKind
from core.enforcement_io import (
    load_csv,
    load_file,
    load_geojson,
    permit_from_dict,
    permit_to_dict,
    site_from_dict,
    site_to_dict,
    ticket_from_dict,
    ticket_to_dict,
    zone_from_dict,
    zone_to_dict,
)
from core.errors import ValidationError

SQUARE = [[-76.61, 39.29], [-76.60, 39.29], [-76.60, 39.30], [-76.61, 39.30], [-76.61, 39.29]]


def feature(geometry: dict[str, object] | None, **props: object) -> dict[str, object]:
    """A GeoJSON Feature."""
    return {"type": "Feature", "geometry": geometry, "properties": props}


def collection(*features: dict[str, object]) -> dict[str, object]:
    """A GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": list(features)}


# --------------------------------------------------------------------------- sites


def test_sites_from_geojson_points_and_polygons_keep_good_and_name_bad() -> None:
    """A point with radius and a polygon load (lat/lon swapped from GeoJSON order); bad ones are named."""
    data = collection(
        feature(
            {"type": "Point", "coordinates": [-76.6, 39.3]},
            id="S1",
            kind="spoil_field",
            radius_m=150,
            approved_for_spoil=True,
            accepted_streams=["spoil"],
        ),
        feature({"type": "Point", "coordinates": [-76.6, 39.3]}, id="S2", kind="landfill"),
        feature(
            {"type": "Polygon", "coordinates": [SQUARE]}, id="C1", kind="construction_site", name="Tower"
        ),
        feature({"type": "Polygon", "coordinates": [SQUARE]}, id="C2", kind="volcano"),
        feature({"type": "Point", "coordinates": [-76.6, 39.3]}, id="S1", kind="landfill", radius_m=10),
    )
    out = load_geojson("sites", data)
    assert [s.id for s in out.records] == ["S1", "C1"]
    s1, c1 = out.records
    assert (s1.lat, s1.lon, s1.radius_m) == (39.3, -76.6, 150.0)
    assert s1.approved_for_disposal
    assert s1.accepted_streams == frozenset({Stream.SPOIL})
    assert c1.polygon[0] == (39.29, -76.61)
    assert len(c1.polygon) == 4
    assert [(r.where, r.record_id, r.field) for r in out.rejected] == [
        ("features[1]", "S2", "radius_m"),
        ("features[3]", "C2", "kind"),
        ("features[4]", "S1", "id"),
    ]
    assert "features[1] (id 'S2'): field 'radius_m'" in str(out.rejected[0])


def test_sites_from_csv_name_the_line() -> None:
    """CSV sites: line numbers count the header as line 1; list cells are ;-separated."""
    text = (
        "id,kind,lat,lon,radius_m,name,approved_for_disposal,accepted_streams\n"
        "S1,spoil_field,39.3,-76.6,150,North field,yes,spoil;bulky\n"
        "S2,landfill,abc,-76.6,150,,no,\n"
        "S3,depot,39.2,-76.5,80,,,\n"
        "S4,depot,39.2,-76.5,-5,,,\n"
    )
    out = load_csv("sites", text)
    assert [s.id for s in out.records] == ["S1", "S3"]
    assert out.records[0].accepted_streams == frozenset({Stream.SPOIL, Stream.BULKY})
    assert out.records[1].kind == SiteKind.DEPOT
    assert not out.records[1].approved_for_disposal
    assert [(r.where, r.field) for r in out.rejected] == [("line 3", "lat"), ("line 5", "radius_m")]


def test_csv_without_a_required_column_is_refused() -> None:
    """A header lacking a required column names it; zones cannot come as CSV."""
    with pytest.raises(ValidationError) as err:
        load_csv("sites", "id,kind,lat,lon\nS1,depot,1,2\n")
    assert err.value.field == "radius_m"
    with pytest.raises(ValidationError):
        load_csv("zones", "id\n")


# --------------------------------------------------------------------------- zones


def test_zones_from_geojson_with_hours_and_kinds() -> None:
    """Hours parse as local windows (a wrap past midnight too); a non-polygon is rejected."""
    data = collection(
        feature(
            {"type": "Polygon", "coordinates": [SQUARE]},
            id="Z1",
            name="school",
            active_hours=["07:00-09:00", "22:00-06:00"],
            vehicle_kinds=["muck_hauler"],
        ),
        feature({"type": "Point", "coordinates": [-76.6, 39.3]}, id="Z2"),
        feature({"type": "Polygon", "coordinates": [SQUARE]}, id="Z3", active_hours=["7 to 9"]),
    )
    out = load_geojson("zones", data)
    (z1,) = out.records
    assert z1.active_hours == (DailyWindow(7 * 3600, 9 * 3600), DailyWindow(22 * 3600, 6 * 3600))
    assert z1.vehicle_kinds == frozenset({VehicleKind.MUCK_HAULER})
    assert [(r.where, r.field) for r in out.rejected] == [
        ("features[1]", "geometry.type"),
        ("features[2]", "active_hours"),
    ]


# --------------------------------------------------------------------------- permits


def test_permits_from_csv_and_geojson_corridor() -> None:
    """CSV permits with hours and site lists; GeoJSON permits carry the corridor line (lat, lon)."""
    text = (
        "id,vehicle_id,valid_from,valid_to,origin_site_ids,disposal_site_ids,allowed_hours,stream\n"
        "PM1,H1,2026-12-01,2026-12-31,C1,S1;S2,22:00-06:00,spoil\n"
        "PM2,H2,2026-12-31,2026-12-01,C1,S1,,\n"
        "PM3,H3,2026-13-01,2026-12-31,C1,S1,,\n"
        "PM4,H4,2026-12-01,2026-12-31,C1,,,\n"
    )
    out = load_csv("permits", text)
    (pm1,) = out.records
    assert pm1.disposal_site_ids == ("S1", "S2")
    assert pm1.valid_on(date(2026, 12, 15))
    assert not pm1.valid_on(date(2027, 1, 1))
    assert pm1.allows_hour(23 * 3600)
    assert not pm1.allows_hour(12 * 3600)
    assert [(r.where, r.field) for r in out.rejected] == [
        ("line 3", "valid_to"),
        ("line 4", "valid_from"),
        ("line 5", "disposal_site_ids"),
    ]
    geo = collection(
        feature(
            {"type": "LineString", "coordinates": [[-76.61, 39.29], [-76.60, 39.30]]},
            id="PM5",
            vehicle_id="H5",
            valid_from="2026-12-01",
            valid_to="2026-12-02",
            origin_site_ids=["C1"],
            disposal_site_ids=["S1"],
        ),
        feature(
            None,
            id="PM6",
            vehicle_id="H6",
            valid_from="2026-12-01",
            valid_to="2026-12-02",
            disposal_site_ids=["S1"],
        ),
    )
    out = load_geojson("permits", geo)
    assert not out.rejected
    assert out.records[0].corridor == (((39.29, -76.61), (39.30, -76.60)),)
    assert out.records[1].corridor == ()


# --------------------------------------------------------------------------- tickets


def test_tickets_from_csv_keep_good_lines_and_name_bad_fields() -> None:
    """Net must match gross - tare; times are ISO UTC; duplicates of a ticket id are rejected."""
    text = (
        "ticket_id,vehicle_id,facility_id,time,gross_kg,tare_kg,net_kg,stream\n"
        "TK1,H1,S1,2026-12-01T23:10:00Z,31000,12500,18500,spoil\n"
        "TK2,H1,S1,2026-12-01T23:50:00Z,31000,12500,9000,spoil\n"
        "TK3,H1,S1,yesterday,31000,12500,18500,spoil\n"
        "TK4,H2,S1,2026-12-02T01:00:00,30000,12000,18000,spoil\n"
        "TK1,H3,S1,2026-12-02T01:00:00Z,30000,12000,18000,spoil\n"
        "TK5,H2,S1,2026-12-02T01:00:00Z,30000,12000,18000,gravel\n"
    )
    out = load_csv("tickets", text)
    assert [t.ticket_id for t in out.records] == ["TK1", "TK4"]
    assert out.records[0].ts_utc == datetime(2026, 12, 1, 23, 10, tzinfo=UTC).timestamp()
    assert out.records[1].ts_utc == datetime(2026, 12, 2, 1, 0, tzinfo=UTC).timestamp()  # no zone: UTC
    assert [(r.where, r.record_id, r.field) for r in out.rejected] == [
        ("line 3", "TK2", "net_kg"),
        ("line 4", "TK3", "time"),
        ("line 6", "TK1", "id"),
        ("line 7", "TK5", "stream"),
    ]


# --------------------------------------------------------------------------- files and bodies


def test_load_file_by_suffix_and_clear_file_errors(tmp_path: Path) -> None:
    """.geojson and .csv are read; unknown suffixes, bad JSON and missing files raise naming the file."""
    good = tmp_path / "zones.geojson"
    good.write_text(json.dumps(collection(feature({"type": "Polygon", "coordinates": [SQUARE]}, id="Z1"))))
    assert [z.id for z in load_file("zones", good).records] == ["Z1"]
    bad_json = tmp_path / "sites.json"
    bad_json.write_text("{nope")
    with pytest.raises(ValidationError) as err:
        load_file("sites", bad_json)
    assert "sites.json" in str(err.value)
    with pytest.raises(ValidationError):
        load_file("sites", tmp_path / "sites.xlsx")
    with pytest.raises(ValidationError):
        load_file("sites", tmp_path / "missing.csv")
    with pytest.raises(ValidationError):
        load_geojson("tickets", collection())


def test_stored_bodies_round_trip_every_kind() -> None:
    """to_dict -> JSON text -> from_dict gives back equal records."""
    sites = load_geojson(
        "sites",
        collection(
            feature({"type": "Polygon", "coordinates": [SQUARE]}, id="C1", kind="construction_site"),
            feature(
                {"type": "Point", "coordinates": [-76.6, 39.3]},
                id="S1",
                kind="spoil_field",
                radius_m=90,
                approved_for_disposal=True,
                accepted_streams=["spoil"],
            ),
        ),
    ).records
    for s in sites:
        assert site_from_dict(json.loads(json.dumps(site_to_dict(s)))) == s
    zone = load_geojson(
        "zones",
        collection(
            feature({"type": "Polygon", "coordinates": [SQUARE]}, id="Z", active_hours=["22:00-06:00"])
        ),
    ).records[0]
    assert zone_from_dict(json.loads(json.dumps(zone_to_dict(zone)))) == zone
    permit = load_geojson(
        "permits",
        collection(
            feature(
                {"type": "LineString", "coordinates": [[-76.61, 39.29], [-76.60, 39.30]]},
                id="P",
                vehicle_id="H",
                valid_from="2026-12-01",
                valid_to="2026-12-02",
                origin_site_ids=["C1"],
                disposal_site_ids=["S1"],
                allowed_hours=["22:00-06:00"],
            ),
        ),
    ).records[0]
    assert permit_from_dict(json.loads(json.dumps(permit_to_dict(permit)))) == permit
    ticket = load_csv(
        "tickets",
        "ticket_id,vehicle_id,facility_id,time,gross_kg,tare_kg,net_kg,stream,direction\n"
        "T,H,S1,2026-12-01T23:10:00.5Z,31000,12500,18500,spoil,out\n",
    ).records[0]
    assert ticket.direction == "out"
    assert ticket_from_dict(json.loads(json.dumps(ticket_to_dict(ticket)))) == ticket


def test_writers_are_read_back_equal() -> None:
    """to_geojson / tickets_to_csv output loads back into equal records, with no rejection."""
    from core.enforcement import Permit, RestrictedZone, Site, WeighTicket
    from core.enforcement_io import tickets_to_csv, to_geojson

    sites = [
        Site(
            "S1",
            SiteKind.SPOIL_FIELD,
            lat=39.3,
            lon=-76.6,
            radius_m=120.5,
            approved_for_disposal=True,
            accepted_streams=frozenset({Stream.SPOIL}),
        ),
        Site(
            "C1", SiteKind.CONSTRUCTION_SITE, polygon=((39.29, -76.61), (39.291, -76.61), (39.291, -76.609))
        ),
    ]
    zones = [
        RestrictedZone(
            "Z1",
            "core",
            ((39.28, -76.62), (39.281, -76.62), (39.281, -76.619)),
            (DailyWindow(7 * 3600 + 30, 9 * 3600),),
            frozenset({VehicleKind.MUCK_HAULER}),
        )
    ]
    permits = [
        Permit(
            "P1",
            "H1",
            date(2026, 12, 1),
            date(2026, 12, 2),
            ("C1",),
            ("S1",),
            (DailyWindow(22 * 3600, 6 * 3600),),
            (((39.29, -76.61), (39.3, -76.6)),),
        )
    ]
    tickets = [
        WeighTicket("T1", "H1", "S1", 1_796_112_000.0, 31000.0, 12500.0, 18500.0),
        WeighTicket("T2", "H1", "C1", 1_796_112_100.25, 30000.0, 12000.0, 18000.0, direction="out"),
    ]
    for kind, records in (("sites", sites), ("zones", zones), ("permits", permits)):
        out = load_geojson(kind, json.loads(json.dumps(to_geojson(records))))  # type: ignore[arg-type]
        assert out.rejected == []
        assert out.records == records
    out = load_csv("tickets", tickets_to_csv(tickets))
    assert out.rejected == []
    assert out.records == tickets
