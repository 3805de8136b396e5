"""Storage of plans, GPS positions and alerts: SQLAlchemy 2 models, Alembic migrations.

An SQLite file by default (:attr:`core.settings.Settings.sqlalchemy_url`), PostgreSQL
through ``DATABASE_URL``; only portable column types are used. The schema is owned
by the Alembic migrations in ``core/migrations``: :meth:`Store.open` upgrades the
database to ``head`` before use.

Plans are never edited in place: each save adds a new version for its
(district, day). Positions and alerts are append-only, and saving the same fix
(device, timestamp) or the same alert (:attr:`core.domain.Alert.key`) twice adds
nothing.

Example
-------
>>> store = Store.open("sqlite:///var/wastefleet.db")  # doctest: +SKIP
>>> plan_id = store.save_plan(plan)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    cast,
    create_engine,
    false,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.domain import Alert, AlertType, District, Plan, Position
from core.errors import NotFoundError
from core.serialize import district_from_dict, district_to_dict, plain_json, plan_from_dict, plan_to_dict

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "AlertRow",
    "Base",
    "PlanRow",
    "PositionRow",
    "Store",
    "alembic_config",
    "ensure_sqlite_folder",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The Alembic script folder (``env.py``, ``versions/``), shipped as package data."""

PLAN_STATUSES = ("draft", "published")
_SENSOR_FIELDS = (
    "altitude_m",
    "ignition",
    "load_kg",
    "body_tipping",
    "bin_lifts",
    "brooms_down",
    "cover_closed",
)
"""Optional sensor fields of a position, stored as columns of the same names."""
_POSITION_FIELDS = (
    "device_id",
    "ts_utc",
    "lat",
    "lon",
    "speed_mps",
    "heading_deg",
    "accuracy_m",
    *_SENSOR_FIELDS,
)
"""Columns read back into a :class:`core.domain.Position`, in its field order."""
_BATCH_ROWS = 10_000
"""Rows per executemany call when inserting positions."""

T = TypeVar("T")

# Deterministic constraint names, so later migrations can address them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always returns aware UTC datetimes.

    SQLite keeps no time zone, so values are stored as UTC and read back with
    ``tzinfo=UTC``; naive datetimes on the way in are taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive values are taken as UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach or convert to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A 64-bit key on PostgreSQL; SQLite auto-increments only an INTEGER PRIMARY KEY (64-bit anyway).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the wastefleet tables (its ``metadata`` is Alembic's target)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PlanRow(Base):
    """One saved version of a day's plan; ``body`` is :func:`core.serialize.plan_to_dict`."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("district", "day", "version"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    objective: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class DistrictRow(Base):
    """The current definition of a district (its places, points and fleet); ``body`` is
    :func:`core.serialize.district_to_dict`. Plans name their district by ``name``."""

    __tablename__ = "districts"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class PositionRow(Base):
    """One raw GPS fix with its sensors, append-only; ``(device_id, ts_utc)`` is unique.

    ``outlier`` is the one derived value: set by the checker when the fix is a
    GPS jump (kept, but not used for alerts). ``source`` names the way in
    (``api``, ``osmand``, ``file``, ...).
    """

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("device_id", "ts_utc"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100))
    ts_utc: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    ignition: Mapped[bool | None] = mapped_column(Boolean)
    load_kg: Mapped[float | None] = mapped_column(Float)
    body_tipping: Mapped[bool | None] = mapped_column(Boolean)
    bin_lifts: Mapped[int | None] = mapped_column(Integer)
    brooms_down: Mapped[bool | None] = mapped_column(Boolean)
    cover_closed: Mapped[bool | None] = mapped_column(Boolean)
    outlier: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    source: Mapped[str | None] = mapped_column(String(16))


class AlertRow(Base):
    """One compliance alert; ``key`` (:attr:`core.domain.Alert.key`) is unique."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "vehicle_id", "start_utc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    vehicle_id: Mapped[str] = mapped_column(String(100))
    start_utc: Mapped[float] = mapped_column(Float)
    end_utc: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    stop_id: Mapped[str | None] = mapped_column(String(100))
    measured: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)


# --------------------------------------------------------------------------- migrations


def ensure_sqlite_folder(url: str) -> None:
    """Create the parent folder of an SQLite database file; other URLs are left alone."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return
    database = u.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or u.query.get("uri"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` built in code for ``core/migrations``; works from any cwd.

    Parameters
    ----------
    url : str, optional
        The database URL; ``None`` leaves it to ``env.py`` (the settings' URL).

    Returns
    -------
    alembic.config.Config
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        # Config values go through ConfigParser interpolation: escape '%' (URL-encoded passwords).
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# --------------------------------------------------------------------------- the store


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _plan_summary(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "district": row.district,
        "day": row.day,
        "version": row.version,
        "status": row.status,
        "created_at": row.created_at,
        "objective": row.objective,
        "distance_m": row.distance_m,
        "routes": int(row.routes or 0),
        "unserved": int(row.unserved or 0),
    }


def _alert_from_row(row: AlertRow) -> Alert:
    return Alert(
        type=AlertType(row.type),
        vehicle_id=row.vehicle_id,
        start_utc=row.start_utc,
        end_utc=row.end_utc,
        lat=row.lat,
        lon=row.lon,
        measured=dict(row.measured or {}),
        evidence=dict(row.evidence or {}),
        stop_id=row.stop_id,
    )


class Store:
    """Plans, positions and alerts in one SQL database.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:////abs/path/wastefleet.db`` or
        ``postgresql+psycopg://user:pw@host/db``. The schema is not touched; use
        :meth:`open` to create or upgrade it.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Self:
        """Open a store, creating an SQLite file's folder and upgrading the schema to ``head``.

        Parameters
        ----------
        url : str
            SQLAlchemy URL.
        migrate : bool
            Run Alembic ``upgrade head`` (a no-op when already current).
        """
        ensure_sqlite_folder(url)
        store = cls(url)
        if migrate:
            try:
                store.migrate()
            except BaseException:
                store.close()
                raise
        return store

    def migrate(self, revision: str = "head") -> None:
        """Run Alembic ``upgrade`` to ``revision`` (default ``head``) on this store's engine."""
        from alembic import command

        cfg = alembic_config(self.url)
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def close(self) -> None:
        """Release all pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    # ----------------------------------------------------------------------- districts

    def save_district(self, district: District) -> None:
        """Save ``district``, replacing the stored definition of the same name."""
        body = district_to_dict(district)
        with self._session.begin() as s:
            row = s.get(DistrictRow, district.name)
            if row is None:
                s.add(DistrictRow(name=district.name, body=body))
            else:
                row.body = body
                row.updated_at = _utcnow()

    def get_district(self, name: str) -> District:
        """The stored district called ``name``.

        Raises
        ------
        NotFoundError
            If there is no such district.
        """
        with self._session() as s:
            body = s.scalar(select(DistrictRow.body).where(DistrictRow.name == name))
        if body is None:
            raise NotFoundError(f"no district named {name!r}")
        return district_from_dict(body)

    # ----------------------------------------------------------------------- plans

    def save_plan(self, plan: Plan) -> int:
        """Save ``plan`` as a new draft version of its (district, day).

        Returns
        -------
        int
            The new plan id.
        """
        body = plan_to_dict(plan)
        for attempt in range(5):
            try:
                with self._session.begin() as s:
                    latest = s.scalar(
                        select(func.max(PlanRow.version)).where(
                            PlanRow.district == plan.district, PlanRow.day == plan.day
                        )
                    )
                    row = PlanRow(
                        district=plan.district,
                        day=plan.day,
                        version=(latest or 0) + 1,
                        status="draft",
                        objective=float(plan.objective),
                        distance_m=plan.distance_m,
                        body=body,
                    )
                    s.add(row)
                    s.flush()
                    return row.id
            except IntegrityError:  # a concurrent save took this version number
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def get_plan(self, plan_id: int) -> Plan:
        """The plan with id ``plan_id``.

        Raises
        ------
        NotFoundError
            If there is no such plan.
        """
        with self._session() as s:
            body = s.scalar(select(PlanRow.body).where(PlanRow.id == plan_id))
        if body is None:
            raise NotFoundError(f"no plan with id {plan_id}")
        return plan_from_dict(body)

    def latest_plan(self, district: str | None = None, day: date | None = None) -> tuple[int, Plan] | None:
        """The most recently saved plan, optionally of one district and/or day.

        Returns
        -------
        tuple of (int, Plan) or None
            ``(plan id, plan)``, or ``None`` when no plan matches.
        """
        stmt = select(PlanRow.id, PlanRow.body).order_by(PlanRow.id.desc()).limit(1)
        if district is not None:
            stmt = stmt.where(PlanRow.district == district)
        if day is not None:
            stmt = stmt.where(PlanRow.day == day)
        with self._session() as s:
            row = s.execute(stmt).first()
        if row is None:
            return None
        return row.id, plan_from_dict(row.body)

    def list_plans(self) -> list[dict[str, Any]]:
        """A summary of every saved plan, oldest first.

        Returns
        -------
        list of dict
            Keys ``id``, ``district``, ``day`` (date), ``version``, ``status``,
            ``created_at`` (aware UTC datetime), ``objective``, ``distance_m`` (m),
            ``routes`` (number of routes) and ``unserved`` (number of unserved points).
        """
        stmt = select(
            PlanRow.id,
            PlanRow.district,
            PlanRow.day,
            PlanRow.version,
            PlanRow.status,
            PlanRow.created_at,
            PlanRow.objective,
            PlanRow.distance_m,
            func.json_array_length(PlanRow.body["routes"]).label("routes"),
            func.json_array_length(PlanRow.body["unserved"]).label("unserved"),
        ).order_by(PlanRow.id)
        with self._session() as s:
            return [_plan_summary(row) for row in s.execute(stmt)]

    def publish_plan(self, plan_id: int) -> None:
        """Mark plan ``plan_id`` as published (its body is unchanged).

        Raises
        ------
        NotFoundError
            If there is no such plan.
        """
        with self._session.begin() as s:
            found = s.scalar(select(PlanRow.id).where(PlanRow.id == plan_id))
            if found is None:
                raise NotFoundError(f"no plan with id {plan_id}")
            s.execute(update(PlanRow).where(PlanRow.id == plan_id).values(status="published"))

    # ----------------------------------------------------------------------- positions

    def add_positions(self, positions: Iterable[Position], *, source: str | None = None) -> int:
        """Append GPS fixes; a fix whose (device_id, ts_utc) is already stored is skipped.

        Inserted in batches of executemany calls in one transaction. ``source``
        names the way in (``api``, ``osmand``, ``file``; at most 16 characters).

        Returns
        -------
        int
            The number of fixes newly inserted.
        """
        received_at = _utcnow()
        table = PositionRow.__table__
        assert isinstance(table, Table)
        inserted = 0
        with self.engine.begin() as conn:
            for batch in _batches(positions, _BATCH_ROWS):
                rows = [
                    {
                        "device_id": p.device_id,
                        "ts_utc": float(p.ts_utc),
                        "lat": float(p.lat),
                        "lon": float(p.lon),
                        "speed_mps": p.speed_mps,
                        "heading_deg": p.heading_deg,
                        "accuracy_m": p.accuracy_m,
                        "received_at": received_at,
                        **{name: getattr(p, name) for name in _SENSOR_FIELDS},
                        "outlier": False,
                        "source": source,
                    }
                    for p in batch
                ]
                inserted += _insert_ignore(conn, table, rows, ("device_id", "ts_utc"))
        return inserted

    def positions(
        self, device_id: str, start_utc: float | None = None, end_utc: float | None = None
    ) -> list[Position]:
        """The fixes of one device, by time, optionally within ``[start_utc, end_utc]`` (epoch s)."""
        return [p for p, _ in self.positions_with_flags(device_id, start_utc, end_utc)]

    def positions_with_flags(
        self, device_id: str, start_utc: float | None = None, end_utc: float | None = None
    ) -> list[tuple[Position, bool]]:
        """Like :meth:`positions`, each with its ``outlier`` flag."""
        p = PositionRow
        cols = [getattr(p, name) for name in _POSITION_FIELDS]
        stmt = select(*cols, p.outlier).where(p.device_id == device_id)
        if start_utc is not None:
            stmt = stmt.where(p.ts_utc >= start_utc)
        if end_utc is not None:
            stmt = stmt.where(p.ts_utc <= end_utc)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(p.ts_utc)).all()
        return [
            (Position(**dict(zip(_POSITION_FIELDS, row[:-1], strict=True))), bool(row[-1])) for row in rows
        ]

    def set_outliers(
        self, device_id: str, start_utc: float, end_utc: float, outlier_ts: Iterable[float]
    ) -> None:
        """Mark the fixes at ``outlier_ts`` as GPS jumps and every other fix of the range as not.

        Only the derived ``outlier`` flag changes; the raw values stay as received.
        """
        p = PositionRow
        marked = sorted({float(t) for t in outlier_ts})
        in_range = (p.device_id == device_id) & (p.ts_utc >= start_utc) & (p.ts_utc <= end_utc)
        with self.engine.begin() as conn:
            conn.execute(update(p).where(in_range & (p.outlier == true())).values(outlier=False))
            for batch in _batches(marked, 500):
                conn.execute(update(p).where(in_range & p.ts_utc.in_(batch)).values(outlier=True))

    def device_districts(self) -> dict[str, str]:
        """Every vehicle id of the stored districts (devices report as their vehicle) -> its district."""
        with self._session() as s:
            rows = s.execute(select(DistrictRow.name, DistrictRow.body)).all()
        out: dict[str, str] = {}
        for name, body in rows:
            for vehicle in (body or {}).get("vehicles", []):
                if isinstance(vehicle, dict) and isinstance(vehicle.get("id"), str):
                    out.setdefault(vehicle["id"], name)
        return out

    def count_positions(self) -> int:
        """The number of stored fixes."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(PositionRow)) or 0)

    # ----------------------------------------------------------------------- alerts

    def save_alerts(self, alerts: Iterable[Alert]) -> int:
        """Save alerts; one whose :attr:`~core.domain.Alert.key` is already stored is skipped.

        Returns
        -------
        int
            The number of alerts newly inserted.
        """
        now = _utcnow()
        rows = [
            {
                "key": a.key,
                "type": a.type.value,
                "vehicle_id": a.vehicle_id,
                "start_utc": float(a.start_utc),
                "end_utc": float(a.end_utc),
                "lat": float(a.lat),
                "lon": float(a.lon),
                "stop_id": a.stop_id,
                "measured": plain_json(a.measured),
                "evidence": plain_json(a.evidence),
                "status": "new",
                "created_at": now,
            }
            for a in alerts
        ]
        if not rows:
            return 0
        table = AlertRow.__table__
        assert isinstance(table, Table)
        with self.engine.begin() as conn:
            return _insert_ignore(conn, table, rows, ("key",))

    def list_alerts(
        self, vehicle_id: str | None = None, type: AlertType | str | None = None
    ) -> list[tuple[int, Alert]]:
        """Stored alerts as ``(alert id, alert)``, by start time, optionally of one vehicle/type."""
        stmt = select(AlertRow).order_by(AlertRow.start_utc, AlertRow.id)
        if vehicle_id is not None:
            stmt = stmt.where(AlertRow.vehicle_id == vehicle_id)
        if type is not None:
            stmt = stmt.where(AlertRow.type == AlertType(type).value)
        with self._session() as s:
            return [(row.id, _alert_from_row(row)) for row in s.scalars(stmt)]

    def get_alert(self, alert_id: int) -> Alert:
        """The alert with id ``alert_id``.

        Raises
        ------
        NotFoundError
            If there is no such alert.
        """
        with self._session() as s:
            row = s.get(AlertRow, alert_id)
            if row is None:
                raise NotFoundError(f"no alert with id {alert_id}")
            return _alert_from_row(row)


_ROWCOUNT = {"preserve_rowcount": True}
"""Execution options that make SQLAlchemy keep the driver's rowcount for INSERTs."""


def _insert_ignore(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], unique: Sequence[str]
) -> int:
    """Insert ``rows`` skipping those that clash on the ``unique`` columns; returns the number inserted.

    SQLite runs ``INSERT ... ON CONFLICT DO NOTHING`` as one executemany; PostgreSQL
    runs one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`` with an
    array per column (tables with JSON columns use a batched ``RETURNING`` insert);
    other backends insert row by row inside savepoints.
    """
    if not rows:
        return 0
    name = conn.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique))
        # sqlite3's executemany sums the rows each statement changed; skipped rows change none.
        return max(conn.execute(lite, list(rows), execution_options=_ROWCOUNT).rowcount, 0)
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        cols = list(rows[0])
        if not any(isinstance(table.c[c].type, JSON) for c in cols):
            # One INSERT ... SELECT FROM unnest(array per column): a small fixed statement,
            # far faster than a multi-row VALUES list, and rowcount is exact.
            arrays = [
                cast(bindparam(c, type_=postgresql.ARRAY(table.c[c].type)), postgresql.ARRAY(table.c[c].type))
                for c in cols
            ]
            src = func.unnest(*arrays).table_valued(*cols).render_derived(name="src")
            bulk = postgresql.insert(table).from_select(cols, select(*(src.c[c] for c in cols)))
            bulk = bulk.on_conflict_do_nothing(index_elements=list(unique))
            params = {c: [row[c] for row in rows] for c in cols}
            return max(conn.execute(bulk, params, execution_options=_ROWCOUNT).rowcount, 0)
        pg = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(unique))
        # RETURNING yields only the rows inserted (batched by SQLAlchemy's insertmanyvalues).
        return len(conn.execute(pg.returning(table.c.id), list(rows)).all())
    inserted = 0
    for row in rows:
        try:
            with conn.begin_nested():
                conn.execute(insert(table), row)
            inserted += 1
        except IntegrityError:
            pass
    return inserted
