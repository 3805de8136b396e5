"""Plan GeoJSON export and local-time conversion."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.geojson import iso_utc, local_seconds_to_utc


def test_local_seconds_to_utc_follows_daylight_saving() -> None:
    """07:00 in New York is 12:00 UTC in winter and 11:00 UTC in summer."""
    assert local_seconds_to_utc(date(2026, 1, 15), 7 * 3600, "America/New_York") == datetime(
        2026, 1, 15, 12, tzinfo=UTC
    )
    assert local_seconds_to_utc(date(2026, 7, 15), 7 * 3600, "America/New_York") == datetime(
        2026, 7, 15, 11, tzinfo=UTC
    )


def test_iso_utc_has_z_suffix_and_whole_seconds() -> None:
    """ISO strings end in Z and drop microseconds."""
    assert iso_utc(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
