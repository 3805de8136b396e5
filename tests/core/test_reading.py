"""The pieces shared by core's record file readers: file text and JSON, ISO times, rejections."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.enforcement_io import load_file
from core.errors import ValidationError
from core.plan_reader import parse_utc
from core.reading import FieldError, Rejection, iso_utc_seconds, parse_json, read_text


def test_read_text_drops_a_bom_and_names_a_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    f.write_bytes(b"\xef\xbb\xbf{}")
    assert read_text(f) == "{}"
    missing = tmp_path / "nope.json"
    with pytest.raises(ValidationError) as err:
        read_text(missing)
    assert err.value.record == str(missing)
    assert err.value.field == "file"
    assert err.value.reason.startswith("cannot be read")


def test_parse_json_names_the_source_and_line() -> None:
    assert parse_json("x.json", '{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(ValidationError) as err:
        parse_json("x.json", '{\n"a": }')
    assert err.value.record == "x.json"
    assert "is not JSON" in err.value.reason
    assert "line 2" in err.value.reason


def test_load_file_reports_unreadable_and_bad_json_files(tmp_path: Path) -> None:
    bad = tmp_path / "sites.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="is not JSON"):
        load_file("sites", bad)
    with pytest.raises(ValidationError, match="cannot be read"):
        load_file("sites", tmp_path / "absent.geojson")


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("2026-03-05T22:15:00Z", datetime(2026, 3, 5, 22, 15, tzinfo=UTC).timestamp()),
        ("2026-03-05T22:15:00", datetime(2026, 3, 5, 22, 15, tzinfo=UTC).timestamp()),
        (" 2026-03-05T23:15:00+01:00 ", datetime(2026, 3, 5, 22, 15, tzinfo=UTC).timestamp()),
    ],
)
def test_iso_utc_seconds_reads_z_offsets_and_naive_times_as_utc(text: str, expect: float) -> None:
    assert iso_utc_seconds("time", text) == expect


def test_iso_utc_seconds_names_the_field_of_a_bad_time() -> None:
    with pytest.raises(FieldError) as err:
        iso_utc_seconds("properties.eta", "25:00")
    assert err.value.field == "properties.eta"
    assert "'25:00'" in err.value.reason
    assert parse_utc(None, "eta") is None
    assert parse_utc("", "eta") is None
    with pytest.raises(FieldError, match="must be an ISO 8601 UTC time, got 5"):
        parse_utc(5, "eta")


def test_rejection_text_and_json() -> None:
    r = Rejection("line 7", "gross_kg", "must be a number, got 'x'", "T-1")
    assert str(r) == "line 7 (id 'T-1'): field 'gross_kg' must be a number, got 'x'"
    assert r.as_dict() == {
        "where": "line 7",
        "id": "T-1",
        "field": "gross_kg",
        "reason": "must be a number, got 'x'",
    }
    assert (
        str(Rejection("features[3]", "geometry", "must be a Point"))
        == "features[3]: field 'geometry' must be a Point"
    )
