"""Tests of core.store: plans, positions and alerts in SQLite (and PostgreSQL when configured).

Set ``WASTEFLEET_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://user@host/db``, a
throw-away database: its tables are dropped) to run the backend-independent tests
on PostgreSQL as well.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, text

import core.store as store_module
from core.domain import Alert, AlertType, Plan, Position
from core.errors import NotFoundError
from core.store import MIGRATIONS_DIR, Base, Store, alembic_config
from tests.core.test_serialize import make_alert, make_district, make_plan, random_alert, random_plan

PG_URL = os.environ.get("WASTEFLEET_TEST_POSTGRES_URL")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: an SQLite file in a not-yet-existing folder, or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'wastefleet.db'}"
    assert PG_URL is not None
    _reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    with Store.open(url) as s:
        yield s


def _fixes(device: str, n: int, t0: float = 1_714_550_400.0) -> list[Position]:
    return [
        Position(
            device,
            t0 + i * 5.0,
            37.8 + i * 1e-4,
            -122.29,
            speed_mps=i * 0.5,
            heading_deg=90.0,
            accuracy_m=4.0,
        )
        for i in range(n)
    ]


# --------------------------------------------------------------------------- plans


def test_plan_round_trip(store: Store) -> None:
    """A plan read back from the database equals the plan that was saved."""
    plan = make_plan()
    plan_id = store.save_plan(plan)
    assert store.get_plan(plan_id) == plan
    for seed in range(3):
        p = random_plan(seed)
        assert store.get_plan(store.save_plan(p)) == p


def test_versions_increment_per_district_and_day(store: Store) -> None:
    """Each save adds a new row with the next version of its (district, day); others start at 1."""
    plan = make_plan()
    ids = [store.save_plan(plan) for _ in range(3)]
    other_day = Plan(plan.district, date(2024, 5, 2), plan.routes)
    other_district = Plan("Elsewhere", plan.day, ())
    ids += [store.save_plan(other_day), store.save_plan(other_district)]
    assert len(set(ids)) == 5
    versions = {row["id"]: row["version"] for row in store.list_plans()}
    assert [versions[i] for i in ids] == [1, 2, 3, 1, 1]


def test_saving_never_edits_older_versions(store: Store) -> None:
    """Saving a changed plan for the same day leaves the earlier version's body untouched."""
    plan = make_plan()
    first = store.save_plan(plan)
    changed = Plan(plan.district, plan.day, plan.routes[:1], (), objective=1.0)
    second = store.save_plan(changed)
    assert store.get_plan(first) == plan
    assert store.get_plan(second) == changed


def test_latest_plan_filters(store: Store) -> None:
    """latest_plan returns the most recently saved match, or None when nothing matches."""
    assert store.latest_plan() is None
    plan = make_plan()
    a = store.save_plan(plan)
    b = store.save_plan(Plan("Elsewhere", date(2024, 5, 2), ()))
    assert store.latest_plan() == (b, store.get_plan(b))
    assert store.latest_plan(district=plan.district) == (a, plan)
    assert store.latest_plan(day=plan.day) == (a, plan)
    assert store.latest_plan(district=plan.district, day=date(2024, 5, 2)) is None
    c = store.save_plan(plan)
    assert store.latest_plan(plan.district, plan.day) == (c, plan)


def test_list_plans_summaries(store: Store) -> None:
    """list_plans gives id, district, day, version, status, UTC created_at, distance and counts."""
    assert store.list_plans() == []
    plan = make_plan()
    before = datetime.now(UTC)
    plan_id = store.save_plan(plan)
    (row,) = store.list_plans()
    assert row["id"] == plan_id
    assert row["district"] == plan.district
    assert row["day"] == plan.day
    assert row["version"] == 1
    assert row["status"] == "draft"
    assert row["created_at"].tzinfo is not None
    assert abs((row["created_at"] - before).total_seconds()) < 60
    assert row["distance_m"] == pytest.approx(plan.distance_m)
    assert row["objective"] == plan.objective
    assert row["routes"] == 2
    assert row["unserved"] == 1


def test_publish_plan(store: Store) -> None:
    """publish_plan sets the status to 'published' and leaves the plan body as it was."""
    plan = make_plan()
    plan_id = store.save_plan(plan)
    store.publish_plan(plan_id)
    assert [r["status"] for r in store.list_plans()] == ["published"]
    assert store.get_plan(plan_id) == plan


def test_unknown_ids_raise_not_found(store: Store) -> None:
    """get_plan, publish_plan and get_alert raise NotFoundError (a LookupError) for unknown ids."""
    with pytest.raises(NotFoundError, match="42"):
        store.get_plan(42)
    with pytest.raises(NotFoundError):
        store.publish_plan(42)
    with pytest.raises(LookupError):
        store.get_alert(7)


# --------------------------------------------------------------------------- positions


def test_positions_round_trip_in_time_order(store: Store) -> None:
    """Fixes come back per device, ordered by time, with optional fields kept (None included)."""
    fixes = _fixes("truck-1", 20)
    bare = Position("truck-1", 1_714_550_402.5, 37.9, -122.3)
    assert store.add_positions([*reversed(fixes), bare, *_fixes("truck-2", 5)]) == 26
    got = store.positions("truck-1")
    assert got == sorted([*fixes, bare], key=lambda p: p.ts_utc)
    assert got[1] == bare
    assert store.positions("nobody") == []


def test_positions_time_range_is_inclusive(store: Store) -> None:
    """positions(device, start_utc, end_utc) returns the fixes with start_utc <= ts_utc <= end_utc."""
    fixes = _fixes("truck-1", 10)
    store.add_positions(fixes)
    assert store.positions("truck-1", fixes[2].ts_utc, fixes[5].ts_utc) == fixes[2:6]
    assert store.positions("truck-1", start_utc=fixes[8].ts_utc) == fixes[8:]
    assert store.positions("truck-1", end_utc=fixes[0].ts_utc) == fixes[:1]


def test_duplicate_positions_are_idempotent(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-sending fixes (same device and ts_utc) inserts nothing; counts report only new rows."""
    monkeypatch.setattr(store_module, "_BATCH_ROWS", 7)  # duplicates across and within batches
    fixes = _fixes("truck-1", 30)
    assert store.add_positions(fixes) == 30
    assert store.add_positions(fixes) == 0
    assert store.add_positions([*fixes[:10], *_fixes("truck-1", 5, t0=0.0), fixes[0]]) == 5
    assert store.add_positions(iter([])) == 0
    assert store.count_positions() == 35


def test_many_positions_in_batches(store: Store) -> None:
    """A generator of 25,000 fixes is inserted completely across several batches."""
    fixes = (Position(f"dev-{i % 7}", float(i), 10.0, 20.0) for i in range(25_000))
    assert store.add_positions(fixes) == 25_000
    assert store.count_positions() == 25_000
    assert len(store.positions("dev-3")) == len(range(3, 25_000, 7))


# --------------------------------------------------------------------------- alerts


def test_alert_round_trip(store: Store) -> None:
    """Saved alerts read back equal, by id and in start-time order."""
    alerts = [random_alert(s) for s in range(5)] + [make_alert()]
    assert store.save_alerts(alerts) == 6
    listed = store.list_alerts()
    assert [a for _, a in listed] == sorted(alerts, key=lambda a: a.start_utc)
    for alert_id, alert in listed:
        assert store.get_alert(alert_id) == alert


def test_duplicate_alerts_are_idempotent(store: Store) -> None:
    """Saving the same alert (same key) again inserts nothing, within one call or across calls."""
    alert = make_alert()
    assert store.save_alerts([alert, alert]) == 1
    assert store.save_alerts([alert]) == 0
    assert store.save_alerts([]) == 0
    assert len(store.list_alerts()) == 1


def test_list_alerts_filters(store: Store) -> None:
    """list_alerts filters by vehicle and by type (enum or its string value)."""
    base = make_alert()
    speeding = Alert(AlertType.SPEEDING, "V2", 1.0e9, 1.0e9 + 30, 37.8, -122.3, {"max_mps": 31.0})
    store.save_alerts([base, speeding])
    assert [a for _, a in store.list_alerts(vehicle_id="V2")] == [speeding]
    assert [a for _, a in store.list_alerts(type=AlertType.DETOUR)] == [base]
    assert [a for _, a in store.list_alerts(type="speeding", vehicle_id="V2")] == [speeding]
    assert store.list_alerts(vehicle_id="V1", type="speeding") == []


def test_new_alerts_have_status_new(store: Store) -> None:
    """Stored alerts start with status 'new' and an aware created_at."""
    store.save_alerts([make_alert()])
    with store.engine.connect() as conn:
        status, key = conn.execute(text("SELECT status, key FROM alerts")).one()
    assert (status, key) == ("new", make_alert().key)


# --------------------------------------------------------------------------- schema and migrations


def test_migrated_schema_matches_models(store: Store) -> None:
    """Alembic's compare_metadata finds no difference between the migrated database and the models."""
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(ctx, Base.metadata) == []
        # The comparison is not vacuous: an extra model column is reported.
        extra = MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(extra)
        extra.tables["plans"].append_column(Column("extra", Integer))
        assert compare_metadata(ctx, extra) != []


def test_migrations_twice_are_a_no_op(url: str) -> None:
    """Opening (upgrade head) an up-to-date database again changes nothing and keeps the data."""
    with Store.open(url) as s:
        plan_id = s.save_plan(make_plan())
        s.add_positions(_fixes("truck-1", 3))
    with Store.open(url) as s:
        s.migrate()
        script = ScriptDirectory.from_config(alembic_config())
        head = script.get_current_head()
        newest = max(rev.revision for rev in script.walk_revisions())
        with s.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head == newest
        assert s.get_plan(plan_id) == make_plan()
        assert s.count_positions() == 3
        assert {"plans", "positions", "alerts", "districts", "alembic_version"} <= set(
            inspect(s.engine).get_table_names()
        )


def test_downgrade_and_upgrade_again(url: str) -> None:
    """The initial migration downgrades to an empty schema and upgrades back cleanly."""
    with Store.open(url) as s:
        cfg = alembic_config(url)
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert set(inspect(s.engine).get_table_names()) <= {"alembic_version"}
        s.migrate()
        assert s.save_plan(make_plan()) == 1


def test_district_round_trip_and_replace(tmp_path: Path) -> None:
    """A saved district reads back equal; saving it again under the same name replaces it."""
    district = make_district()
    with Store.open(f"sqlite:///{tmp_path / 'd.db'}") as s:
        s.save_district(district)
        assert s.get_district(district.name) == district
        smaller = dataclasses.replace(district, points=district.points[:1])
        s.save_district(smaller)
        assert s.get_district(district.name) == smaller
        with pytest.raises(NotFoundError, match="no district named 'nowhere'"):
            s.get_district("nowhere")


def test_open_without_migrate_leaves_database_empty(tmp_path: Path) -> None:
    """Store.open(url, migrate=False) creates the folder but no tables."""
    path = tmp_path / "a" / "b.db"
    with Store.open(f"sqlite:///{path}", migrate=False) as s:
        assert path.parent.is_dir()
        assert inspect(s.engine).get_table_names() == []


def test_open_creates_nested_folder_from_any_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a relative SQLite path in new nested folders works from an unrelated working directory."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    with Store.open("sqlite:///deep/er/still/wf.db") as s:
        assert s.save_plan(make_plan()) == 1
    assert (work / "deep" / "er" / "still" / "wf.db").is_file()


def test_migrations_ship_beside_the_module() -> None:
    """The Alembic script folder is found relative to core/store.py, with the initial revision."""
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS_DIR.parent / "alembic.ini").is_file()


def test_alembic_config_escapes_percent() -> None:
    """URLs with %-encoded characters (passwords) survive Alembic's ConfigParser interpolation."""
    url = "postgresql+psycopg://u:p%40ss@localhost/db"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


def test_store_upgrade_via_command_api(url: str) -> None:
    """The programmatic Config also drives plain alembic.command calls (e.g. from a CLI)."""
    with Store.open(url, migrate=False) as s:
        cfg = alembic_config(url)
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert s.count_positions() == 0


# ------------------------------------------------------------------------- position sensors (migration 0003)


def test_positions_keep_their_sensors_and_source(store: Store) -> None:
    """Sensor values (load, tipping, lifts, brooms, cover, ignition, altitude) round-trip; None stays None."""
    full = Position(
        "truck-1", 1_714_550_400.0, 37.8, -122.3, speed_mps=3.0, heading_deg=12.0, accuracy_m=5.0,
        altitude_m=14.5, ignition=True, load_kg=2_345.0, body_tipping=False, bin_lifts=41, brooms_down=None,
        cover_closed=True,
    )  # fmt: skip
    bare = Position("truck-1", 1_714_550_405.0, 37.8, -122.3)
    assert store.add_positions([full, bare], source="osmand") == 2
    assert store.positions("truck-1") == [full, bare]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT DISTINCT source FROM positions")).scalars().all() == ["osmand"]


def test_outlier_flags_are_set_for_a_range_and_reset_elsewhere(store: Store) -> None:
    """set_outliers marks the listed fixes, clears earlier marks in the range, leaves raw values alone."""
    fixes = _fixes("truck-1", 10)
    store.add_positions(fixes)
    t = [p.ts_utc for p in fixes]
    store.set_outliers("truck-1", t[0], t[-1], [t[2], t[5]])
    assert [flag for _, flag in store.positions_with_flags("truck-1")] == [i in (2, 5) for i in range(10)]
    store.set_outliers("truck-1", t[0], t[4], [t[3]])
    assert [flag for _, flag in store.positions_with_flags("truck-1")] == [i in (3, 5) for i in range(10)]
    assert store.positions("truck-1") == fixes


def test_device_districts_lists_the_vehicles_of_stored_districts(store: Store) -> None:
    """Every vehicle id of every stored district maps to its district's name."""
    assert store.device_districts() == {}
    district = make_district()
    store.save_district(district)
    assert store.device_districts() == {v.id: district.name for v in district.vehicles}


def test_migration_0003_downgrades_to_0002_and_back(url: str) -> None:
    """Downgrading 0003 drops only the sensor columns; upgrading restores them with positions intact."""
    with Store.open(url) as s:
        s.add_positions(_fixes("truck-1", 3))
        cfg = alembic_config(url)
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        cols = {c["name"] for c in inspect(s.engine).get_columns("positions")}
        assert "bin_lifts" not in cols
        assert "outlier" not in cols
        assert "lat" in cols
        s.migrate()
        assert len(s.positions("truck-1")) == 3
        assert {"bin_lifts", "outlier", "source"} <= {
            c["name"] for c in inspect(s.engine).get_columns("positions")
        }
