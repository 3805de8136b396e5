"""Tests of core.serialize: exact JSON round trips and named validation errors."""

from __future__ import annotations

import copy
import json
import math
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.domain import (
    DAY_S,
    Alert,
    AlertType,
    CollectionPoint,
    Depot,
    District,
    Facility,
    FacilityKind,
    Plan,
    PlanBreak,
    PlanStop,
    Route,
    StopKind,
    Stream,
    TimeWindow,
    UnservedPoint,
    Vehicle,
    VehicleKind,
)
from core.errors import NotFoundError, ValidationError
from core.serialize import (
    alert_from_dict,
    alert_to_dict,
    district_from_dict,
    district_to_dict,
    load_district,
    plain_json,
    plan_from_dict,
    plan_to_dict,
    save_district,
)

# --------------------------------------------------------------------------- builders


def make_district() -> District:
    """A small hand-built district using every optional field at least once."""
    return District(
        name="West Oakland",
        timezone="America/Los_Angeles",
        depots=(Depot("D1", "Main yard", 37.8105, -122.2951), Depot("D2", "North yard", 37.82, -122.28)),
        facilities=(
            Facility(
                "F1",
                "Davis Street transfer",
                FacilityKind.TRANSFER_STATION,
                37.7,
                -122.2,
                frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}),
            ),
            Facility(
                "F2",
                "Kitchen plant",
                FacilityKind.KITCHEN_WASTE_PLANT,
                37.75,
                -122.25,
                frozenset({Stream.KITCHEN}),
                opening=TimeWindow(6 * 3600, 20 * 3600),
                unload_s=600,
                tipping_bays=3,
                daily_capacity_kg=120_000.5,
            ),
        ),
        points=(
            CollectionPoint("P1", 37.811, -122.29, Stream.RESIDUAL, 40.5, 240.0),
            CollectionPoint(
                "P2",
                37.812,
                -122.291,
                Stream.KITCHEN,
                12.25,
                120.0,
                service_s=90,
                time_windows=(TimeWindow(7 * 3600, 9 * 3600), TimeWindow(14 * 3600, 16 * 3600)),
                penalty=2500.0,
                address="1 Mandela Pkwy",
            ),
            CollectionPoint(
                "P3", 37.813, -122.292, Stream.RECYCLABLES, 0.0, 0.0, penalty=0.0, address="Ünïcode"
            ),
        ),
        vehicles=(
            Vehicle(
                "V1",
                VehicleKind.COLLECTION_TRUCK,
                "D1",
                frozenset({Stream.RESIDUAL, Stream.RECYCLABLES}),
                9000,
                20000,
            ),
            Vehicle(
                "V2",
                VehicleKind.COLLECTION_TRUCK,
                "D2",
                frozenset({Stream.KITCHEN}),
                4000.5,
                8000.0,
                shift=TimeWindow(5 * 3600, 13 * 3600),
                break_window=TimeWindow(9 * 3600, 10 * 3600),
                break_duration_s=1800,
                max_duration_s=7 * 3600,
                fixed_cost=150.0,
                cost_per_km=1.5,
                cost_per_hour=35.0,
                max_speed_mps=20.0,
                max_route_kg=12000.0,
                max_route_l=30000.0,
                max_stops=400,
            ),
        ),
    )


def make_plan() -> Plan:
    """A hand-built plan with windows, leg geometry and unserved points."""
    stops = (
        PlanStop(StopKind.DEPOT_START, "D1", 37.8105, -122.2951, 21600, 21600, 21600, 0.0, 0.0),
        PlanStop(
            StopKind.COLLECTION,
            "P2",
            37.812,
            -122.291,
            25000,
            25200,
            25290,
            12.25,
            120.0,
            leg_distance_m=812.4,
            leg_time_s=95,
            leg_coords=((37.8105, -122.2951), (37.811, -122.293), (37.812, -122.291)),
            window=TimeWindow(7 * 3600, 9 * 3600),
        ),
        PlanStop(StopKind.UNLOAD, "F2", 37.75, -122.25, 26000, 26000, 26600, 0.0, 0.0, 9000.0, 710),
        PlanStop(StopKind.DEPOT_END, "D1", 37.8105, -122.2951, 27500, 27500, 27500, 0.0, 0.0, 9100.0, 900),
    )
    return Plan(
        district="West Oakland",
        day=date(2024, 5, 1),
        routes=(
            Route("V2", stops, (PlanBreak(after_stop=1, start_s=40000, duration_s=3600),)),
            Route("V1", ()),
        ),
        unserved=(UnservedPoint("P1", "no vehicle carries residual in time"),),
        objective=12345.678,
        solver_status="ROUTING_SUCCESS",
    )


def make_alert() -> Alert:
    """A hand-built alert with measured values, GeoJSON evidence and a stop."""
    return Alert(
        type=AlertType.DETOUR,
        vehicle_id="V1",
        start_utc=1_714_550_400.25,
        end_utc=1_714_550_700.5,
        lat=37.81,
        lon=-122.29,
        measured={"max_off_route_m": 180.5, "duration_s": 300.25},
        evidence={
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [[-122.29, 37.81], [-122.3, 37.82]]},
                    "properties": {"kind": "track", "fixes": 12, "note": None},
                }
            ],
        },
        stop_id="P2",
    )


def _window(rng: random.Random) -> TimeWindow:
    start = rng.randrange(0, DAY_S)
    return TimeWindow(start, start + rng.randrange(0, DAY_S))


def _streams(rng: random.Random) -> frozenset[Stream]:
    return frozenset(rng.sample(list(Stream), rng.randint(1, 4)))


def random_district(seed: int) -> District:
    """A random but valid district built with ``random.Random(seed)``."""
    rng = random.Random(seed)
    lat = lambda: rng.uniform(-90, 90)  # noqa: E731
    lon = lambda: rng.uniform(-180, 180)  # noqa: E731
    depots = tuple(Depot(f"D{i}", f"depot {i}", lat(), lon()) for i in range(rng.randint(1, 3)))
    facilities = tuple(
        Facility(
            f"F{i}",
            f"facility {i}",
            rng.choice(list(FacilityKind)),
            lat(),
            lon(),
            _streams(rng),
            opening=_window(rng),
            unload_s=rng.randrange(0, 3600),
            tipping_bays=rng.randint(1, 5),
            daily_capacity_kg=rng.choice([math.inf, rng.uniform(1, 1e6)]),
        )
        for i in range(rng.randint(0, 4))
    )
    points = []
    for i in range(rng.randint(0, 30)):
        windows: list[TimeWindow] = []
        t = rng.randrange(0, 20_000)
        for _ in range(rng.randint(0, 3)):
            start = t + rng.randrange(1, 5000)
            windows.append(TimeWindow(start, start + rng.randrange(0, 5000)))
            t = windows[-1].end_s
        points.append(
            CollectionPoint(
                f"P{i}",
                lat(),
                lon(),
                rng.choice(list(Stream)),
                rng.uniform(0, 500),
                rng.uniform(0, 2000),
                service_s=rng.randrange(0, 600),
                time_windows=tuple(windows),
                penalty=rng.choice([None, rng.uniform(0, 1e5)]),
                address=rng.choice(["", f"{rng.randint(1, 999)} Main St"]),
            )
        )
    vehicles = tuple(
        Vehicle(
            f"V{i}",
            rng.choice(list(VehicleKind)),
            rng.choice(depots).id,
            _streams(rng),
            rng.uniform(1, 20_000),
            rng.uniform(1, 40_000),
            shift=_window(rng),
            break_window=_window(rng),
            break_duration_s=rng.randrange(0, 3600),
            max_duration_s=rng.choice([None, rng.randrange(1, DAY_S)]),
            fixed_cost=rng.uniform(0, 500),
            cost_per_km=rng.uniform(0, 5),
            cost_per_hour=rng.uniform(0, 80),
            max_speed_mps=rng.uniform(1, 40),
        )
        for i in range(rng.randint(1, 6))
    )
    return District(f"district {seed}", "Europe/Berlin", depots, facilities, tuple(points), vehicles)


def random_plan(seed: int) -> Plan:
    """A random but valid plan built with ``random.Random(seed)``."""
    rng = random.Random(seed)
    routes = []
    for r in range(rng.randint(0, 5)):
        t = rng.randrange(0, 30_000)
        stops = []
        for s in range(rng.randint(0, 12)):
            arrival = t + rng.randrange(0, 1000)
            start = arrival + rng.randrange(0, 300)
            departure = start + rng.randrange(0, 300)
            t = departure
            stops.append(
                PlanStop(
                    rng.choice(list(StopKind)),
                    f"X{r}-{s}",
                    rng.uniform(-90, 90),
                    rng.uniform(-180, 180),
                    arrival,
                    start,
                    departure,
                    rng.uniform(0, 9000),
                    rng.uniform(0, 20000),
                    leg_distance_m=rng.uniform(0, 5000),
                    leg_time_s=rng.randrange(0, 900),
                    leg_coords=tuple(
                        (rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(rng.randint(0, 6))
                    ),
                    window=rng.choice([None, _window(rng)]),
                )
            )
        routes.append(Route(f"V{r}", tuple(stops)))
    unserved = tuple(UnservedPoint(f"P{i}", rng.choice(["", "capacity", "time windows"])) for i in range(3))
    return Plan(
        district=f"district {seed}",
        day=date(2020, 1, 1) + timedelta(days=rng.randrange(0, 3000)),
        routes=tuple(routes),
        unserved=unserved[: rng.randint(0, 3)],
        objective=rng.uniform(0, 1e7),
        solver_status=rng.choice(["", "ROUTING_SUCCESS", "ROUTING_OPTIMAL"]),
    )


def random_alert(seed: int) -> Alert:
    """A random but valid alert built with ``random.Random(seed)``."""
    rng = random.Random(seed)
    start = rng.uniform(1.6e9, 1.8e9)
    return Alert(
        type=rng.choice(list(AlertType)),
        vehicle_id=f"V{rng.randint(0, 99)}",
        start_utc=start,
        end_utc=start + rng.uniform(0, 3600),
        lat=rng.uniform(-90, 90),
        lon=rng.uniform(-180, 180),
        measured={f"m{i}": rng.uniform(-1e3, 1e3) for i in range(rng.randint(0, 4))},
        evidence={"type": "FeatureCollection", "features": [], "seed": seed},
        stop_id=rng.choice([None, f"P{rng.randint(0, 9)}"]),
    )


def via_json(d: dict[str, Any]) -> Any:
    """``d`` through strict JSON text (no NaN/Infinity), as a file or a database would hold it."""
    return json.loads(json.dumps(d, allow_nan=False))


# --------------------------------------------------------------------------- round trips


def test_district_round_trip_hand_built() -> None:
    """A hand-built district survives to_dict -> JSON text -> from_dict exactly."""
    district = make_district()
    assert district_from_dict(via_json(district_to_dict(district))) == district


def test_plan_round_trip_hand_built() -> None:
    """A hand-built plan survives to_dict -> JSON text -> from_dict exactly."""
    plan = make_plan()
    assert plan_from_dict(via_json(plan_to_dict(plan))) == plan


def test_alert_round_trip_hand_built() -> None:
    """A hand-built alert survives to_dict -> JSON text -> from_dict exactly (key included)."""
    alert = make_alert()
    back = alert_from_dict(via_json(alert_to_dict(alert)))
    assert back == alert
    assert back.key == alert.key


@pytest.mark.parametrize("seed", range(8))
def test_random_records_round_trip(seed: int) -> None:
    """Random districts, plans and alerts built from random.Random(seed) round-trip exactly."""
    district, plan, alert = random_district(seed), random_plan(seed), random_alert(seed)
    assert district_from_dict(via_json(district_to_dict(district))) == district
    assert plan_from_dict(via_json(plan_to_dict(plan))) == plan
    assert alert_from_dict(via_json(alert_to_dict(alert))) == alert


def test_plan_dict_uses_plain_json_types() -> None:
    """Plan dicts hold enum values, an ISO date, list coordinates and window objects."""
    d = plan_to_dict(make_plan())
    assert d["day"] == "2024-05-01"
    stop = d["routes"][0]["stops"][1]
    assert stop["kind"] == "collection"
    assert type(stop["kind"]) is str
    assert stop["leg_coords"][0] == [37.8105, -122.2951]
    assert stop["window"] == {"start_s": 25200, "end_s": 32400}
    assert d["routes"][0]["stops"][0]["window"] is None
    assert d["unserved"] == [{"point_id": "P1", "reason": "no vehicle carries residual in time"}]
    assert json.loads(json.dumps(d, allow_nan=False)) == d


def test_district_dict_matches_file_format() -> None:
    """District dicts use {start_s, end_s} windows, sorted stream lists and null for infinite capacity."""
    d = district_to_dict(make_district())
    assert set(d) == {"name", "timezone", "depots", "facilities", "points", "vehicles"}
    f1, f2 = d["facilities"]
    assert f1["daily_capacity_kg"] is None
    assert f2["daily_capacity_kg"] == 120_000.5
    assert f1["accepted_streams"] == ["recyclables", "residual"]
    assert f2["opening"] == {"start_s": 21600, "end_s": 72000}
    assert d["points"][1]["time_windows"] == [
        {"start_s": 25200, "end_s": 32400},
        {"start_s": 50400, "end_s": 57600},
    ]
    assert d["points"][0]["penalty"] is None
    assert d["vehicles"][0]["max_duration_s"] is None
    assert d["vehicles"][1]["kind"] == "collection_truck"
    json.dumps(d, allow_nan=False)  # strict JSON: no Infinity


def test_water_point_without_streams_reads_and_others_fail() -> None:
    """A district file's water point may list no streams; a landfill listing none fails, naming it."""
    d = {
        "name": "Mini",
        "timezone": "UTC",
        "depots": [{"id": "D1", "name": "Yard", "lat": 1, "lon": 2}],
        "facilities": [
            {"id": "W1", "name": "Hydrant", "kind": "water_point", "lat": 1, "lon": 2, "accepted_streams": []}
        ],
        "points": [],
        "vehicles": [
            {
                "id": "V1",
                "kind": "washer",
                "depot_id": "D1",
                "streams": ["street_debris"],
                "capacity_kg": 1,
                "capacity_l": 9000,
            }
        ],
    }
    assert district_from_dict(d).facilities[0].accepted_streams == frozenset()
    d["facilities"][0]["kind"] = "landfill"  # type: ignore[index]
    with pytest.raises(ValidationError, match=r"facilities\[0\].*accepted_streams"):
        district_from_dict(d)


def test_district_defaults_may_be_omitted() -> None:
    """Keys with a domain default may be left out of a district file; the domain defaults apply."""
    d = {
        "name": "Mini",
        "timezone": "UTC",
        "depots": [{"id": "D1", "name": "Yard", "lat": 1, "lon": 2}],
        "facilities": [
            {"id": "F1", "name": "Tip", "kind": "landfill", "lat": 1, "lon": 2, "accepted_streams": ["bulky"]}
        ],
        "points": [{"id": "P1", "lat": 1, "lon": 2, "stream": "bulky", "expected_kg": 5, "expected_l": 50}],
        "vehicles": [
            {
                "id": "V1",
                "kind": "sweeper",
                "depot_id": "D1",
                "streams": ["street_debris"],
                "capacity_kg": 1000,
                "capacity_l": 2000,
            }
        ],
    }
    district = district_from_dict(d)
    assert district.facilities[0] == Facility(
        "F1", "Tip", FacilityKind.LANDFILL, 1, 2, frozenset({Stream.BULKY})
    )
    assert district.facilities[0].daily_capacity_kg == math.inf
    assert district.points[0] == CollectionPoint("P1", 1, 2, Stream.BULKY, 5, 50)
    assert district.vehicles[0] == Vehicle(
        "V1", VehicleKind.SWEEPER, "D1", frozenset({Stream.STREET_DEBRIS}), 1000, 2000
    )
    assert district_from_dict(via_json(district_to_dict(district))) == district


def test_to_dict_outputs_are_copies() -> None:
    """Mutating an alert dict does not change the alert it came from."""
    alert = make_alert()
    d = alert_to_dict(alert)
    d["measured"]["max_off_route_m"] = -1.0
    d["evidence"]["features"].clear()
    assert alert == make_alert()


def test_plain_json_converts_numpy_and_tuples() -> None:
    """numpy scalars/arrays and tuples (e.g. from routing or Numba code) become plain JSON values."""
    value = {"a": np.int64(3), "b": (np.float64(1.5), np.array([1, 2])), "c": [np.bool_(True)]}
    out = plain_json(value)
    assert out == {"a": 3, "b": [1.5, [1, 2]], "c": [True]}
    assert type(out["a"]) is int
    json.dumps(out)
    stop = PlanStop(StopKind.UNLOAD, "F1", np.float64(1.0), 2.0, np.int64(5), 5, 7, 0.0, 0.0)  # type: ignore[arg-type]
    plan = Plan("d", date(2024, 1, 1), (Route("V1", (stop,)),))
    json.dumps(plan_to_dict(plan))
    assert plan_from_dict(via_json(plan_to_dict(plan))) == plan


# --------------------------------------------------------------------------- errors


def _bad(mutate: Any) -> ValidationError:
    d = district_to_dict(make_district())
    mutate(d)
    with pytest.raises(ValidationError) as info:
        district_from_dict(d)
    return info.value


def test_missing_key_names_record_and_field() -> None:
    """A missing required key raises ValidationError naming 'points[i] (id ...)' and the field."""
    d = district_to_dict(make_district())
    d["points"].append(dict(d["points"][0], id="P12"))
    del d["points"][3]["expected_kg"]
    with pytest.raises(ValidationError) as info:
        district_from_dict(d)
    assert info.value.record == "points[3] (id 'P12')"
    assert info.value.field == "expected_kg"
    assert info.value.reason == "is missing"
    assert str(info.value) == "points[3] (id 'P12'): field 'expected_kg' is missing"


@pytest.mark.parametrize(
    ("mutate", "record", "field", "reason_part"),
    [
        (lambda d: d["points"][0].update(lat="north"), "points[0] (id 'P1')", "lat", "must be a number"),
        (lambda d: d["points"][0].update(lat=True), "points[0] (id 'P1')", "lat", "must be a number"),
        (lambda d: d["points"][0].update(service_s=1.5), "points[0] (id 'P1')", "service_s", "integer"),
        (lambda d: d["points"][0].update(stream="glass"), "points[0] (id 'P1')", "stream", "must be one of"),
        (lambda d: d["points"][0].update(adress="x"), "points[0] (id 'P1')", "adress", "not a known field"),
        (lambda d: d["points"][0].update(expected_kg=-1), "points[0] (id 'P1')", "expected_kg", ">= 0"),
        (lambda d: d["points"][0].update(lat=91.0), "points[0] (id 'P1')", "lat", "within"),
        (
            lambda d: d["points"][1]["time_windows"][0].update(end_s=1),
            "points[1] (id 'P2')",
            "time_windows[0].end_s",
            ">= start_s",
        ),
        (
            lambda d: d["points"][1]["time_windows"][0].pop("start_s"),
            "points[1] (id 'P2')",
            "time_windows[0].start_s",
            "is missing",
        ),
        (lambda d: d["points"][1].update(time_windows={}), "points[1] (id 'P2')", "time_windows", "list"),
        (lambda d: d["points"].append("P9"), "district", "points[3]", "JSON object"),
        (
            lambda d: d["facilities"][0].update(accepted_streams="residual"),
            "facilities[0] (id 'F1')",
            "accepted_streams",
            "list",
        ),
        (
            lambda d: d["facilities"][0].update(accepted_streams=[]),
            "facilities[0] (id 'F1')",
            "accepted_streams",
            "at least one",
        ),
        (
            lambda d: d["facilities"][0].update(accepted_streams=["residual", "gold"]),
            "facilities[0] (id 'F1')",
            "accepted_streams[1]",
            "must be one of",
        ),
        (
            lambda d: d["facilities"][1].update(daily_capacity_kg="lots"),
            "facilities[1] (id 'F2')",
            "daily_capacity_kg",
            "number or null",
        ),
        (
            lambda d: d["facilities"][1].update(tipping_bays=0),
            "facilities[1] (id 'F2')",
            "tipping_bays",
            ">= 1",
        ),
        (
            lambda d: d["vehicles"][0].update(shift=[0, 10]),
            "vehicles[0] (id 'V1')",
            "shift",
            "start_s, end_s",
        ),
        (lambda d: d["vehicles"][0].update(capacity_kg=0), "vehicles[0] (id 'V1')", "capacity_kg", "> 0"),
        (lambda d: d["vehicles"][0].pop("depot_id"), "vehicles[0] (id 'V1')", "depot_id", "is missing"),
        (lambda d: d["vehicles"][0].update(depot_id="D9"), "Vehicle 'V1'", "depot_id", "unknown depot"),
        (
            lambda d: d["vehicles"][1].update(id="P1"),
            "District 'West Oakland'",
            "vehicles[id=P1]",
            "duplicates",
        ),
        (lambda d: d["depots"][0].update(id=""), "depots[0] (id '')", "id", "non-empty"),
        (lambda d: d["depots"][0].pop("id"), "depots[0]", "id", "is missing"),
        (lambda d: d.pop("vehicles"), "district", "vehicles", "is missing"),
        (lambda d: d.update(depots=[]), "District 'West Oakland'", "depots", "at least one"),
        (lambda d: d.update(timezone=3), "district", "timezone", "must be a string"),
    ],
)
def test_bad_district_input_is_named(mutate: Any, record: str, field: str, reason_part: str) -> None:
    """Each kind of malformed district input raises ValidationError naming record, field and reason."""
    err = _bad(mutate)
    assert (err.record, err.field) == (record, field)
    assert reason_part in err.reason
    assert isinstance(err, ValueError)


def test_non_object_district_is_rejected() -> None:
    """A JSON value that is not an object is a ValidationError, not a TypeError."""
    with pytest.raises(ValidationError, match="JSON object"):
        district_from_dict([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(day="May 1st"), "day"),
        (lambda d: d["routes"][0]["stops"][1].pop("arrival_s"), "arrival_s"),
        (lambda d: d["routes"][0]["stops"][1].update(kind="lunch"), "kind"),
        (lambda d: d["routes"][0]["stops"][1].update(leg_coords=[[1.0]]), "leg_coords[0]"),
        (lambda d: d["routes"][0]["stops"][1].update(start_s=1), "start_s"),
        (lambda d: d["routes"][0].pop("vehicle_id"), "vehicle_id"),
    ],
)
def test_bad_plan_input_is_named(mutate: Any, field: str) -> None:
    """Malformed plan dicts raise ValidationError naming the field."""
    d = copy.deepcopy(plan_to_dict(make_plan()))
    mutate(d)
    with pytest.raises(ValidationError) as info:
        plan_from_dict(d)
    assert info.value.field == field
    assert info.value.record.startswith("plan")


def test_bad_alert_input_is_named() -> None:
    """Malformed alert dicts raise ValidationError naming the field."""
    d = alert_to_dict(make_alert())
    with pytest.raises(ValidationError, match="'type'"):
        alert_from_dict(dict(d, type="nap"))
    with pytest.raises(ValidationError, match=r"'measured\.duration_s'"):
        alert_from_dict(dict(d, measured={"duration_s": "long"}))
    with pytest.raises(ValidationError, match="'end_utc'"):
        alert_from_dict(dict(d, end_utc=0.0))


# --------------------------------------------------------------------------- files


def test_save_and_load_district_file(tmp_path: Path) -> None:
    """save_district writes strict UTF-8 JSON (creating folders) that load_district reads back exactly."""
    path = tmp_path / "new" / "folder" / "district.json"
    district = make_district()
    save_district(district, path)
    text = path.read_text(encoding="utf-8")
    assert "Infinity" not in text
    assert "Ünïcode" in text
    assert load_district(path) == district
    save_district(random_district(3), str(path))  # replaces the file
    assert load_district(str(path)) == random_district(3)
    assert sorted(p.name for p in path.parent.iterdir()) == ["district.json"]  # no temp files left


def test_load_district_missing_file(tmp_path: Path) -> None:
    """A missing district file raises NotFoundError naming the path."""
    with pytest.raises(NotFoundError, match=r"nope\.json"):
        load_district(tmp_path / "nope.json")


def test_load_district_invalid_json(tmp_path: Path) -> None:
    """A file that is not JSON raises ValidationError naming the file and the position."""
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x",\n  oops}', encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_district(path)
    assert "bad.json" in info.value.record
    assert info.value.field.startswith("line 2")
