"""Ingest: every rejection has a reason, one bad record never fails a batch, the three ways in agree."""

from __future__ import annotations

import io
import math
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import ValidationError
from telematics.ingest import (
    IngestRules,
    parse_file,
    parse_osmand,
    parse_osmand_json,
    parse_records,
    parse_time,
    read_table,
)

NOW = 1_764_590_400.0  # 2025-12-01 12:00 UTC
KNOWN = {"T1", "T2"}


def good(**change: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"device_id": "T1", "ts_utc": NOW - 60.0, "lat": 39.29, "lon": -76.61}
    return record | change


def parse(records: list[Any], **kw: Any) -> Any:
    return parse_records(records, known_devices=KNOWN, now_utc=NOW, **kw)


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (good(lat=float("nan")), "lat", "finite"),
        (good(lat=91.0), "lat", "within"),
        (good(lon=-180.5), "lon", "within"),
        (good(lon="east"), "lon", "number"),
        ({"device_id": "T1", "ts_utc": NOW, "lon": 1.0}, "lat", "missing"),
        (good(ts_utc=NOW + 3600.0), "ts_utc", "future"),
        (good(ts_utc=NOW - 400 * 86400.0), "ts_utc", "old"),
        (good(ts_utc="yesterday"), "ts_utc", "not a time"),
        ({"device_id": "T1", "lat": 1.0, "lon": 1.0}, "ts_utc", "missing"),
        (good(device_id="T9"), "device_id", "unknown device 'T9'"),
        (good(device_id=""), "device_id", "missing"),
        (good(device_id=["T1"]), "device_id", "non-empty string"),
        (good(valid="false"), "valid", "invalid"),
        ("not a record", "record", "object"),
    ],
)
def test_each_bad_record_is_rejected_with_its_reason(record: Any, field: str, reason: str) -> None:
    """A bad record is turned away naming its index, field and reason; the good ones around it pass."""
    batch = parse([good(ts_utc=NOW - 10.0), record, good(ts_utc=NOW - 5.0)])
    assert len(batch.positions) == 2
    (rej,) = batch.refused
    assert (rej.index, rej.field) == (1, field)
    assert reason in rej.reason
    assert batch.received == 3


def test_bad_optional_values_are_dropped_not_the_position() -> None:
    """Negative speed, a non-numeric heading, a fractional lift count: only that value is dropped (kept)."""
    batch = parse([good(speed_mps=-1.0, heading_deg="north", bin_lifts=2.5, accuracy_m=-3, ignition="maybe")])
    (p,) = batch.positions
    assert (p.speed_mps, p.heading_deg, p.bin_lifts, p.accuracy_m, p.ignition) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert sorted(r.field for r in batch.rejected) == [
        "accuracy_m",
        "bin_lifts",
        "heading_deg",
        "ignition",
        "speed_mps",
    ]
    assert all(r.kept for r in batch.rejected)
    assert batch.refused == []


def test_sensor_fields_and_aliases_are_read() -> None:
    """Every sensor field is parsed (booleans from text too) and aliases map to the canonical names."""
    record = {
        "id": "T2", "timestamp": "2025-12-01T11:59:00Z", "latitude": "39.3", "lng": -76.6, "speed_mps": 3.5,
        "bearing": 370.0, "accuracy": 4, "altitude": 12.5, "ignition": "true", "load_kg": 1500,
        "body_tipping": 0, "bin_lifts": "17", "brooms_down": "off", "cover_closed": True, "battery": 88,
    }  # fmt: skip
    (p,) = parse([record]).positions
    assert (p.device_id, p.ts_utc, p.lat, p.lon) == ("T2", NOW - 60.0, 39.3, -76.6)
    assert (p.speed_mps, p.heading_deg, p.accuracy_m, p.altitude_m) == (3.5, 10.0, 4.0, 12.5)
    assert (p.ignition, p.load_kg, p.body_tipping, p.bin_lifts, p.brooms_down, p.cover_closed) == (
        True, 1500.0, False, 17, False, True,
    )  # fmt: skip


def test_duplicates_are_counted_once_and_out_of_order_is_fine() -> None:
    """A repeated (device, ts) is kept once and counted; records in any time order are accepted."""
    batch = parse(
        [good(ts_utc=NOW - 5), good(ts_utc=NOW - 50), good(ts_utc=NOW - 5, lat=10.0), good(device_id="T2")]
    )
    assert [p.ts_utc for p in batch.positions] == [NOW - 5, NOW - 50, NOW - 60]
    assert batch.positions[0].lat == 39.29
    assert batch.duplicates == 1


@pytest.mark.parametrize(
    ("value", "expect"),
    [
        (1_764_590_400, 1_764_590_400.0),
        (1_764_590_400_500, 1_764_590_400.5),
        ("1764590400", 1_764_590_400.0),
        ("2025-12-01T12:00:00Z", 1_764_590_400.0),
        ("2025-12-01 07:00:00-05:00", 1_764_590_400.0),
        ("2025-12-01T12:00:00", 1_764_590_400.0),
    ],
)
def test_times_in_seconds_milliseconds_and_iso(value: Any, expect: float) -> None:
    """UNIX seconds, milliseconds (above 1e11) and ISO 8601 (no zone = UTC) all read as UNIX seconds."""
    assert parse_time(value) == expect


def test_osmand_query_parameters() -> None:
    """OsmAnd: id/lat/lon/timestamp/speed (knots by default)/bearing/altitude/accuracy, location=lat,lon."""
    params = {"id": "T1", "lat": "39.29", "lon": "-76.61", "timestamp": str(int(NOW - 30)), "speed": "10",
              "bearing": "90", "altitude": "20", "accuracy": "5", "batt": "80", "hdop": "1.2"}  # fmt: skip
    (p,) = parse_osmand(params, known_devices=KNOWN, now_utc=NOW).positions
    assert p.speed_mps == pytest.approx(10 * 1852 / 3600)
    assert (p.heading_deg, p.altitude_m, p.accuracy_m, p.ts_utc) == (90.0, 20.0, 5.0, NOW - 30)
    mps = parse_osmand(params, known_devices=KNOWN, now_utc=NOW, rules=IngestRules(osmand_speed_unit="mps"))
    assert mps.positions[0].speed_mps == 10.0
    loc = parse_osmand({"deviceid": "T1", "location": "39.3,-76.6"}, known_devices=KNOWN, now_utc=NOW)
    assert (loc.positions[0].lat, loc.positions[0].lon, loc.positions[0].ts_utc) == (39.3, -76.6, NOW)
    bad = parse_osmand({"id": "T1", "lat": "x", "lon": "1"}, known_devices=KNOWN, now_utc=NOW)
    assert bad.positions == []
    assert bad.refused[0].field == "lat"


def test_osmand_json_body_of_traccar_client() -> None:
    """The Traccar Client 9 JSON body (location.coords, extras) gives the same position fields."""
    body = {
        "device_id": "T1",
        "location": {
            "timestamp": "2025-12-01T11:59:30.000Z",
            "coords": {
                "latitude": 39.29,
                "longitude": -76.61,
                "accuracy": 6,
                "speed": 4.0,
                "heading": 45,
                "altitude": 9,
            },
            "extras": {"bin_lifts": 3},
        },
    }
    (p,) = parse_osmand_json(body, known_devices=KNOWN, now_utc=NOW).positions
    assert (p.ts_utc, p.speed_mps, p.heading_deg, p.accuracy_m, p.bin_lifts) == (NOW - 30, 4.0, 45.0, 6.0, 3)
    assert parse_osmand_json([1], known_devices=KNOWN, now_utc=NOW).refused[0].field == "body"


def test_csv_and_parquet_files_reject_only_the_bad_rows() -> None:
    """A CSV with one malformed cell and a Parquet file with a null latitude: the other rows are accepted."""
    csv = (
        "device_id,ts_utc,lat,lon,speed_mps,bin_lifts\n"
        f"T1,{NOW - 30},39.29,-76.61,3.0,4\n"
        f"T1,{NOW - 20},thirty-nine,-76.61,3.0,4\n"
        f"T2,{NOW - 10},39.30,-76.62,,5\n"
    ).encode()
    batch = parse_file(csv, format="csv", known_devices=KNOWN, now_utc=NOW)
    assert [p.device_id for p in batch.positions] == ["T1", "T2"]
    assert [(r.index, r.field) for r in batch.refused] == [(1, "lat")]
    assert batch.positions[1].speed_mps is None
    assert batch.positions[1].bin_lifts == 5
    table = pa.table(
        {"device_id": ["T1", "T2"], "ts_utc": [NOW - 9, NOW - 8], "lat": [39.29, None], "lon": [-76.6, -76.6]}
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    batch = parse_file(buf.getvalue(), format="parquet", known_devices=KNOWN, now_utc=NOW)
    assert len(batch.positions) == 1
    assert batch.refused[0].field == "lat"
    assert batch.refused[0].index == 1


def test_files_are_read_by_suffix(tmp_path: Any) -> None:
    """read_table picks CSV or Parquet by suffix and refuses unknown ones with a reason."""
    path = tmp_path / "fixes.csv"
    path.write_text(f"device_id,ts_utc,lat,lon\nT1,{NOW},1,2\n")
    assert read_table(path).num_rows == 1
    with pytest.raises(ValidationError, match="suffix"):
        read_table(tmp_path / "fixes.xlsx")
    with pytest.raises(ValidationError, match="format"):
        read_table(b"abc")


def test_rules_validate_and_accept_any_age() -> None:
    """IngestRules rejects a negative limit; max_age_s = inf accepts a 2009 fix."""
    with pytest.raises(ValidationError, match="max_future_s"):
        IngestRules(max_future_s=-1.0)
    old = parse([good(ts_utc=1_232_224_057.0)], rules=IngestRules(max_age_s=math.inf))
    assert len(old.positions) == 1
