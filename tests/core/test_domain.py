"""Domain records validate themselves where they are created, naming record and field."""

from __future__ import annotations

import math

import pytest

from core.domain import (
    Alert,
    AlertType,
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    PlanStop,
    Position,
    StopKind,
    Stream,
    TimeWindow,
    Vehicle,
    VehicleKind,
)
from core.errors import FleetError, ValidationError


def _vehicle(**kw: object) -> Vehicle:
    base: dict[str, object] = {
        "id": "T1",
        "kind": "collection_truck",
        "depot_id": "D1",
        "streams": ["residual"],
        "capacity_kg": 1000.0,
        "capacity_l": 8000.0,
    }
    base.update(kw)
    return Vehicle(**base)  # type: ignore[arg-type]


def _point(**kw: object) -> CollectionPoint:
    base: dict[str, object] = {
        "id": "P1",
        "lat": 39.29,
        "lon": -76.6,
        "stream": "kitchen",
        "expected_kg": 50.0,
        "expected_l": 100.0,
    }
    base.update(kw)
    return CollectionPoint(**base)  # type: ignore[arg-type]


def test_strings_are_coerced_to_enums() -> None:
    """Stream, kind and stream-set fields given as strings become enum members."""
    v = _vehicle(streams=["residual", "recyclables"])
    assert v.kind is VehicleKind.COLLECTION_TRUCK
    assert v.streams == frozenset({Stream.RESIDUAL, Stream.RECYCLABLES})
    assert _point().stream is Stream.KITCHEN


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"lat": 91.0}, "lat", "within"),
        ({"lon": float("nan")}, "lon", "within"),
        ({"lat": "39.2"}, "lat", "number"),
        ({"expected_kg": -1.0}, "expected_kg", ">= 0"),
        ({"stream": "plutonium"}, "stream", "one of"),
        ({"service_s": math.inf}, "service_s", "finite"),
        ({"id": " "}, "id", "non-empty"),
    ],
)
def test_point_errors_name_record_and_field(kwargs: dict[str, object], field: str, reason: str) -> None:
    """A bad collection point raises ValidationError naming the point, the field and the reason."""
    with pytest.raises(ValidationError, match=reason) as info:
        _point(**kwargs)
    assert info.value.field == field
    if field != "id":
        assert "CollectionPoint 'P1'" in str(info.value)
    assert isinstance(info.value, FleetError)
    assert isinstance(info.value, ValueError)


def test_overlapping_windows_are_rejected() -> None:
    """Several windows on one point must be sorted and disjoint."""
    with pytest.raises(ValidationError, match="overlap"):
        _point(time_windows=(TimeWindow(3600, 7200), TimeWindow(7000, 9000)))
    ok = _point(time_windows=(TimeWindow(3600, 7200), TimeWindow(7201, 9000)))
    assert len(ok.time_windows) == 2


def test_time_window_end_before_start() -> None:
    """A window that ends before it starts names end_s."""
    with pytest.raises(ValidationError, match="end_s"):
        TimeWindow(5000, 4000)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"capacity_kg": 0.0}, "capacity_kg"),
        ({"capacity_l": -3.0}, "capacity_l"),
        ({"streams": []}, "streams"),
        ({"streams": "residual"}, "streams"),
        ({"kind": "tank"}, "kind"),
        ({"max_duration_s": 0}, "max_duration_s"),
    ],
)
def test_vehicle_errors(kwargs: dict[str, object], field: str) -> None:
    """A bad vehicle raises ValidationError naming the vehicle and the field."""
    with pytest.raises(ValidationError) as info:
        _vehicle(**kwargs)
    assert info.value.field == field
    assert "Vehicle 'T1'" in str(info.value)


def test_route_limit_is_shift_or_max_duration() -> None:
    """route_limit_s is the shorter of the shift and max_duration_s."""
    assert _vehicle(shift=TimeWindow(0, 36000)).route_limit_s == 36000
    assert _vehicle(shift=TimeWindow(0, 36000), max_duration_s=20000).route_limit_s == 20000


def test_facility_errors() -> None:
    """Facilities reject zero tipping bays and non-positive capacity, naming the field."""
    base = {
        "id": "F1",
        "name": "TS",
        "kind": FacilityKind.TRANSFER_STATION,
        "lat": 39.0,
        "lon": -76.0,
        "accepted_streams": ["residual"],
    }
    with pytest.raises(ValidationError, match="tipping_bays"):
        Facility(**base, tipping_bays=0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="daily_capacity_kg"):
        Facility(**base, daily_capacity_kg=0.0)  # type: ignore[arg-type]
    assert Facility(**base).daily_capacity_kg == math.inf  # type: ignore[arg-type]


def test_only_a_water_point_may_accept_no_stream() -> None:
    """Washers refill at a water point, which takes no waste; any other facility must accept a stream."""
    base = {"id": "W1", "name": "Hydrant", "lat": 39.0, "lon": -76.0, "accepted_streams": []}
    assert Facility(**base, kind=FacilityKind.WATER_POINT).accepted_streams == frozenset()  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="accepted_streams"):
        Facility(**base, kind=FacilityKind.TRANSFER_STATION)  # type: ignore[arg-type]


def test_district_cross_checks() -> None:
    """A district rejects duplicate ids across groups and vehicles at unknown depots."""
    depot = Depot("D1", "Depot", 39.0, -76.0)
    with pytest.raises(ValidationError, match="duplicates"):
        District("x", "UTC", (depot,), (), (_point(id="D1"),), (_vehicle(),))
    with pytest.raises(ValidationError, match="unknown depot 'D9'"):
        District("x", "UTC", (depot,), (), (), (_vehicle(depot_id="D9"),))
    district = District("x", "UTC", [depot], [], [_point()], [_vehicle()])  # type: ignore[arg-type]
    assert isinstance(district.points, tuple)
    assert district.depot("D1") is depot


def test_plan_stop_time_order() -> None:
    """A stop whose service starts before arrival is rejected."""
    with pytest.raises(ValidationError, match="arrival_s <= start_s"):
        PlanStop(StopKind.COLLECTION, "P1", 39.0, -76.0, 100, 50, 200, 0.0, 0.0)


def test_position_and_alert_validation() -> None:
    """Positions reject NaN coordinates and negative speed; alerts reject end before start."""
    with pytest.raises(ValidationError, match="lat"):
        Position("T1", 1.0, float("nan"), 0.0)
    with pytest.raises(ValidationError, match="speed_mps"):
        Position("T1", 1.0, 1.0, 0.0, speed_mps=-1.0)
    with pytest.raises(ValidationError, match="end_utc"):
        Alert(AlertType.DETOUR, "T1", 10.0, 5.0, 39.0, -76.0)
    a = Alert("detour", "T1", 10.0, 15.0, 39.0, -76.0)  # type: ignore[arg-type]
    assert a.type is AlertType.DETOUR
    assert a.key == "detour:T1:10"
