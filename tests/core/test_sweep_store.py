"""Sweeping plans in the store: round trip, versions, planned passes, migration 0004."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from core.errors import NotFoundError
from core.store import Store, alembic_config
from core.sweep_plan import planned_passes
from tests.core.test_sweep_plan import make_sweep_plan


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store."""
    with Store.open(f"sqlite:///{tmp_path / 'sweep.db'}") as s:
        yield s


def test_sweep_plan_round_trip_and_versions(store: Store) -> None:
    """A saved plan reads back equal; saving again adds a version; activities are separate."""
    plan = make_sweep_plan()
    first = store.save_sweep_plan(plan)
    assert store.get_sweep_plan(first) == plan
    second = store.save_sweep_plan(dataclasses.replace(plan, objective=99.0))
    washing = store.save_sweep_plan(dataclasses.replace(plan, activity="wash"))
    assert len({first, second, washing}) == 3
    found = store.latest_sweep_plan("grid", date(2026, 12, 1), "sweep")
    assert found is not None
    assert found[0] == second
    assert found[1].objective == 99.0
    latest_any = store.latest_sweep_plan()
    assert latest_any is not None
    assert latest_any[0] == washing
    assert store.latest_sweep_plan("elsewhere") is None


def test_planned_passes_are_stored_with_direction_and_times(store: Store) -> None:
    """sweep_passes returns each service's pass, per vehicle in route order, as planned."""
    plan = make_sweep_plan()
    plan_id = store.save_sweep_plan(plan)
    assert store.sweep_passes(plan_id) == planned_passes(plan)
    only = store.sweep_passes(plan_id, "SW-2")
    assert [p.task_id for p in only] == ["2-3/e"]
    other = store.save_sweep_plan(dataclasses.replace(plan, routes=plan.routes[:1]))
    assert [p.vehicle_id for p in store.sweep_passes(other)] == ["SW-1", "SW-1"]


def test_unknown_sweep_plan_raises_not_found(store: Store) -> None:
    """Unknown ids raise NotFoundError naming the id."""
    with pytest.raises(NotFoundError, match="no sweeping plan with id 42"):
        store.get_sweep_plan(42)
    with pytest.raises(NotFoundError, match="42"):
        store.sweep_passes(42)


def test_migration_0004_downgrades_to_0003_and_back(tmp_path: Path) -> None:
    """Downgrading 0004 drops only the sweeping tables; upgrading brings them back empty and usable."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with Store.open(url) as s:
        s.save_sweep_plan(make_sweep_plan())
        cfg = alembic_config(url)
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        tables = set(inspect(s.engine).get_table_names())
        assert not {"sweep_plans", "sweep_segments"} & tables
        assert {"plans", "positions", "alerts"} <= tables
        s.migrate()
        plan_id = s.save_sweep_plan(make_sweep_plan())
        assert s.get_sweep_plan(plan_id) == make_sweep_plan()
