"""Enforcement storage: migration 0005, sites/zones/permits/tickets, alert confidence, lifecycle and audit."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from core.alert_status import ALLOWED, AlertStatus, false_positives
from core.domain import Alert, AlertType, Position
from core.enforcement import DailyWindow, Permit, RestrictedZone, Site, SiteKind, WeighTicket
from core.errors import NotFoundError, ValidationError
from core.serialize import alert_from_dict, alert_to_dict
from core.store import Store, alembic_config

T0 = 1_796_112_000.0  # 2026-12-01T08:00:00Z


@pytest.fixture
def url(tmp_path: Path) -> str:
    """An SQLite file in a folder that does not exist yet."""
    return f"sqlite:///{tmp_path / 'var' / 'wastefleet.db'}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    with Store.open(url) as s:
        yield s


def dump(vehicle: str = "H1", start: float = T0, confidence: float = 0.8, **kw: object) -> Alert:
    """An illegal-dump alert with confidence and signals."""
    values: dict[str, object] = {
        "type": AlertType.ILLEGAL_DUMP,
        "vehicle_id": vehicle,
        "start_utc": start,
        "end_utc": start + 420.0,
        "lat": 39.29,
        "lon": -76.61,
        "measured": {"load_drop_kg": 7200.0, "duration_s": 420.0},
        "confidence": confidence,
        "signals": ("stop_outside_places", "body_tipping", "load_drop"),
    }
    values.update(kw)
    return Alert(**values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- migration


def test_migration_0005_adds_tables_and_alert_columns_and_downgrades_cleanly(url: str) -> None:
    """0005 creates the enforcement and audit tables and two alert columns; downgrading keeps alerts."""
    with Store.open(url) as s:
        tables = set(inspect(s.engine).get_table_names())
        assert {"enforcement_sites", "restricted_zones", "permits", "weigh_tickets", "alert_events"} <= tables
        assert {"confidence", "signals"} <= {c["name"] for c in inspect(s.engine).get_columns("alerts")}
        s.save_alerts([dump()])
        cfg = alembic_config(url)
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004")
        tables = set(inspect(s.engine).get_table_names())
        assert (
            not {"enforcement_sites", "restricted_zones", "permits", "weigh_tickets", "alert_events"} & tables
        )
        assert "confidence" not in {c["name"] for c in inspect(s.engine).get_columns("alerts")}
        s.migrate()
        (record,) = s.list_alert_records()
        # The values dropped with the columns come back as the defaults.
        assert record.alert.confidence == 1.0
        assert record.alert.signals == ()


# --------------------------------------------------------------------------- alerts keep confidence


def test_alert_round_trip_keeps_confidence_and_signals(store: Store) -> None:
    """What goes in comes out: confidence and signals included."""
    alert = dump(confidence=0.73)
    assert store.save_alerts([alert]) == 1
    ((_, back),) = store.list_alerts()
    assert back == alert
    assert back.confidence == 0.73
    assert back.signals == ("stop_outside_places", "body_tipping", "load_drop")


def test_serialized_alert_keeps_confidence_and_signals_and_reads_old_dicts() -> None:
    """alert_to_dict/from_dict round-trip the new fields; dicts without them get the defaults."""
    alert = dump(confidence=0.42)
    d = alert_to_dict(alert)
    assert d["confidence"] == 0.42
    assert d["signals"] == ["stop_outside_places", "body_tipping", "load_drop"]
    assert alert_from_dict(d) == alert
    old = {k: v for k, v in d.items() if k not in ("confidence", "signals")}
    back = alert_from_dict(old)
    assert back.confidence == 1.0
    assert back.signals == ()
    with pytest.raises(ValidationError) as err:
        alert_from_dict({**d, "signals": ["ok", 3]})
    assert err.value.field == "signals[1]"


# --------------------------------------------------------------------------- lifecycle


def test_lifecycle_new_acknowledged_confirmed_with_audit_trail(store: Store) -> None:
    """Each change is recorded with officer, note, from and to, oldest first."""
    alert = dump()
    store.save_alerts([alert])
    assert store.get_alert_record(alert.key).status == AlertStatus.NEW
    at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    store.change_alert_status(alert.key, "acknowledged", officer="Li Wei", note="looking", at=at)
    event = store.change_alert_status(alert.key, AlertStatus.CONFIRMED, officer="Chen", note="photos match")
    assert event.from_status == AlertStatus.ACKNOWLEDGED
    assert store.get_alert_record(alert.key).status == AlertStatus.CONFIRMED
    history = store.alert_history(alert.key)
    assert [(e.from_status.value, e.to_status.value, e.officer, e.note) for e in history] == [
        ("new", "acknowledged", "Li Wei", "looking"),
        ("acknowledged", "confirmed", "Chen", "photos match"),
    ]
    assert history[0].at == at


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (["confirmed"], "dismissed"),
        (["dismissed"], "acknowledged"),
        (["acknowledged"], "acknowledged"),
        (["acknowledged"], "new"),
        ([], "new"),
        ([], "closed"),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(store: Store, path: list[str], bad: str) -> None:
    """A change outside the allowed table raises naming the alert and 'status'; status and trail stay."""
    alert = dump()
    store.save_alerts([alert])
    for step in path:
        store.change_alert_status(alert.key, step, officer="A", note="")
    before = store.get_alert_record(alert.key).status
    with pytest.raises(ValidationError) as err:
        store.change_alert_status(alert.key, bad, officer="A", note="again")
    assert err.value.field == "status"
    assert alert.key in str(err.value)
    assert store.get_alert_record(alert.key).status == before
    assert len(store.alert_history(alert.key)) == len(path)


def test_decisions_are_final_and_new_may_be_decided_directly() -> None:
    """The table: decided statuses lead nowhere; new may go straight to a decision."""
    assert ALLOWED[AlertStatus.CONFIRMED] == frozenset()
    assert ALLOWED[AlertStatus.DISMISSED] == frozenset()
    assert {AlertStatus.CONFIRMED, AlertStatus.DISMISSED} <= ALLOWED[AlertStatus.NEW]


def test_officer_is_required_and_unknown_alerts_raise(store: Store) -> None:
    """No anonymous decisions; an unknown key is NotFoundError for changes and history."""
    alert = dump()
    store.save_alerts([alert])
    with pytest.raises(ValidationError) as err:
        store.change_alert_status(alert.key, "dismissed", officer="  ", note="x")
    assert err.value.field == "officer"
    assert store.get_alert_record(alert.key).status == AlertStatus.NEW
    with pytest.raises(NotFoundError):
        store.change_alert_status("nope", "dismissed", officer="A", note="x")
    with pytest.raises(NotFoundError):
        store.alert_history("nope")


def test_alerts_are_never_deleted_and_listing_filters_by_status(store: Store) -> None:
    """Dismissed alerts stay listed; status and type filters select."""
    alerts = [dump(start=T0 + 600 * k) for k in range(4)]
    speeding = dataclasses.replace(dump(start=T0 + 9000), type=AlertType.SPEEDING)
    store.save_alerts([*alerts, speeding])
    store.change_alert_status(alerts[0].key, "dismissed", officer="A", note="queue at the spoil field")
    store.change_alert_status(alerts[1].key, "confirmed", officer="A", note="")
    assert len(store.list_alert_records()) == 5
    assert [r.key for r in store.list_alert_records(status="dismissed")] == [alerts[0].key]
    assert [r.key for r in store.list_alert_records(status="new", type="illegal_dump")] == [
        alerts[2].key,
        alerts[3].key,
    ]
    assert [r.key for r in store.list_alert_records(since_utc=T0 + 1200)] == [
        alerts[2].key,
        alerts[3].key,
        speeding.key,
    ]


def test_false_positive_rate_is_dismissed_over_decided_per_type(store: Store) -> None:
    """3 dumps decided (1 dismissed), 1 open; 1 speeding dismissed; undecided types are left out."""
    dumps = [dump(start=T0 + 600 * k) for k in range(4)]
    speeding = dataclasses.replace(dump(start=T0 + 9000), type=AlertType.SPEEDING)
    gap = dataclasses.replace(dump(start=T0 + 9900), type=AlertType.GPS_GAP)
    store.save_alerts([*dumps, speeding, gap])
    for a, status in zip(dumps[:3], ["confirmed", "dismissed", "confirmed"], strict=True):
        store.change_alert_status(a.key, status, officer="A", note="")
    store.change_alert_status(speeding.key, "acknowledged", officer="A", note="")
    store.change_alert_status(speeding.key, "dismissed", officer="A", note="")
    rates = {r.type: (r.confirmed, r.dismissed, r.rate) for r in store.false_positives()}
    assert rates == {"illegal_dump": (2, 1, pytest.approx(1 / 3)), "speeding": (0, 1, 1.0)}


def test_false_positives_of_pairs() -> None:
    """The pure counting function agrees with a hand count."""
    rows = [("a", "confirmed"), ("a", "new"), ("b", "dismissed"), ("a", "dismissed"), ("b", "acknowledged")]
    got = {r.type: (r.decided, r.rate) for r in false_positives(rows)}
    assert got == {"a": (2, 0.5), "b": (1, 1.0)}


# --------------------------------------------------------------------------- enforcement records


def test_sites_zones_permits_tickets_round_trip_and_upsert(store: Store) -> None:
    """Each kind comes back equal; saving the same id again replaces the stored record."""
    sites = [
        Site("S1", SiteKind.SPOIL_FIELD, lat=39.3, lon=-76.6, radius_m=120.0, approved_for_disposal=True),
        Site(
            "C1", SiteKind.CONSTRUCTION_SITE, polygon=((39.29, -76.61), (39.291, -76.61), (39.291, -76.609))
        ),
    ]
    zone = RestrictedZone(
        "Z1", "school", ((39.28, -76.62), (39.281, -76.62), (39.281, -76.619)), (DailyWindow(25200, 32400),)
    )
    permit = Permit(
        "PM1",
        "H1",
        date(2026, 12, 1),
        date(2026, 12, 31),
        ("C1",),
        ("S1",),
        (DailyWindow(22 * 3600, 6 * 3600),),
        (((39.29, -76.61), (39.3, -76.6)),),
    )
    ticket = WeighTicket("TK1", "H1", "S1", T0, 30000.0, 12000.0, 18000.0)
    assert store.save_sites(sites) == 2
    store.save_zones([zone])
    store.save_permits([permit])
    store.save_tickets([ticket])
    assert store.sites() == sorted(sites, key=lambda s: s.id)
    assert store.zones() == [zone]
    assert store.permits() == [permit]
    assert store.permits("H2") == []
    assert store.tickets("H1", T0 - 1, T0 + 1) == [ticket]
    assert store.tickets("H1", T0 + 1) == []
    moved = dataclasses.replace(sites[0], radius_m=300.0)
    store.save_sites([moved])
    assert store.sites()[1] == moved
    assert len(store.sites()) == 2


def test_positions_in_area_selects_box_time_and_skips_outliers(store: Store) -> None:
    """Only fixes inside the box and the time range, jumps left out, by device and time."""
    fixes = [
        Position("A", T0, 39.29, -76.61),
        Position("A", T0 + 10, 39.40, -76.61),  # outside the box
        Position("B", T0 + 5, 39.2901, -76.6101),
        Position("B", T0 + 5000, 39.29, -76.61),  # outside the time range
        Position("C", T0 + 7, 39.2902, -76.6102),
    ]
    store.add_positions(fixes)
    store.set_outliers("C", T0, T0 + 100, [T0 + 7])
    got = store.positions_in_area(39.28, -76.62, 39.30, -76.60, T0 - 1, T0 + 100)
    assert [(p.device_id, p.ts_utc) for p in got] == [("A", T0), ("B", T0 + 5)]
