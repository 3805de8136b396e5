"""Storage of plans, GPS positions and alerts: SQLAlchemy 2 models, Alembic migrations.

An SQLite file by default (:attr:`core.settings.Settings.sqlalchemy_url`), PostgreSQL
through ``DATABASE_URL``; only portable column types are used. The schema is owned
by the Alembic migrations in ``core/migrations``: :meth:`Store.open` upgrades the
database to ``head`` before use.

Plans are never edited in place: each save adds a new version for its
(district, day). Positions and alerts are append-only, and saving the same fix
(device, timestamp) or the same alert (:attr:`core.domain.Alert.key`) twice adds
nothing. An alert's status moves only along :mod:`core.alert_status` and every
change is kept in ``alert_events``; alerts are never deleted. Enforcement records
(approved sites, restricted zones, permits, weigh tickets) are JSON bodies keyed by
id (:mod:`core.enforcement_io`); saving one with a known id replaces it.

Example
-------
>>> store = Store.open("sqlite:///var/wastefleet.db")  # doctest: +SKIP
>>> plan_id = store.save_plan(plan)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.alert_status import AlertEvent, AlertStatus, FalsePositives, check_transition, false_positives
from core.domain import Alert, AlertType, District, Plan, Position
from core.enforcement import Permit, RestrictedZone, Site, WeighTicket
from core.enforcement_io import (
    permit_from_dict,
    permit_to_dict,
    site_from_dict,
    site_to_dict,
    ticket_from_dict,
    ticket_to_dict,
    zone_from_dict,
    zone_to_dict,
)
from core.errors import NotFoundError, ValidationError
from core.serialize import district_from_dict, district_to_dict, plain_json, plan_from_dict, plan_to_dict
from core.sweep_plan import (
    PlannedPass,
    SweepingPlan,
    planned_passes,
    sweep_plan_from_dict,
    sweep_plan_to_dict,
)

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "AlertEventRow",
    "AlertRecord",
    "AlertRow",
    "Base",
    "PlanRow",
    "PositionRow",
    "Store",
    "SweepPlanRow",
    "SweepSegmentRow",
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


class SweepPlanRow(Base):
    """One saved version of a day's sweeping or washing plan; ``body`` is
    :func:`core.sweep_plan.sweep_plan_to_dict`; lengths in metres, coverage 0..1."""

    __tablename__ = "sweep_plans"
    __table_args__ = (
        UniqueConstraint("district", "day", "activity", "version"),
        CheckConstraint("activity IN ('sweep', 'wash')", name="activity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    objective: Mapped[float] = mapped_column(Float)
    swept_m: Mapped[float] = mapped_column(Float)
    deadhead_m: Mapped[float] = mapped_column(Float)
    coverage: Mapped[float] = mapped_column(Float)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class SweepSegmentRow(Base):
    """One planned pass of a sweeping plan (:class:`core.sweep_plan.PlannedPass`), for the checker."""

    __tablename__ = "sweep_segments"
    __table_args__ = (Index(None, "plan_id", "vehicle_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("sweep_plans.id", ondelete="CASCADE"))
    vehicle_id: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[str] = mapped_column(String(200))
    highway: Mapped[str] = mapped_column(String(40))
    from_osm: Mapped[int] = mapped_column(BigInteger)
    to_osm: Mapped[int] = mapped_column(BigInteger)
    start_s: Mapped[int] = mapped_column(Integer)
    end_s: Mapped[int] = mapped_column(Integer)
    length_m: Mapped[float] = mapped_column(Float)
    coords: Mapped[list[list[float]]] = mapped_column(JSON)


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
    confidence: Mapped[float | None] = mapped_column(Float)
    signals: Mapped[list[str] | None] = mapped_column(JSON)


class AlertEventRow(Base):
    """One status change of an alert (:class:`core.alert_status.AlertEvent`), append-only."""

    __tablename__ = "alert_events"
    __table_args__ = (Index(None, "alert_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_key: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    officer: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)


class SiteRow(Base):
    """An approved place (:class:`core.enforcement.Site`); ``body`` is its JSON record."""

    __tablename__ = "enforcement_sites"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)


class ZoneRow(Base):
    """A restricted zone (:class:`core.enforcement.RestrictedZone`); ``body`` is its JSON record."""

    __tablename__ = "restricted_zones"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)


class PermitRow(Base):
    """A haulage permit (:class:`core.enforcement.Permit`); ``body`` is its JSON record."""

    __tablename__ = "permits"
    __table_args__ = (Index(None, "vehicle_id"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)


class TicketRow(Base):
    """A weighbridge ticket (:class:`core.enforcement.WeighTicket`); ``time_utc`` in UNIX epoch s."""

    __tablename__ = "weigh_tickets"
    __table_args__ = (Index(None, "vehicle_id", "time_utc"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(String(100))
    time_utc: Mapped[float] = mapped_column(Float)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)


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
        confidence=1.0 if row.confidence is None else float(row.confidence),
        signals=tuple(row.signals or ()),
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

        def add(s: Session, version: int) -> int:
            row = PlanRow(
                district=plan.district,
                day=plan.day,
                version=version,
                status="draft",
                objective=float(plan.objective),
                distance_m=plan.distance_m,
                body=body,
            )
            s.add(row)
            s.flush()
            return row.id

        latest = select(func.max(PlanRow.version)).where(
            PlanRow.district == plan.district, PlanRow.day == plan.day
        )
        return self._add_version(latest, add)

    def _add_version(self, latest: Select[Any], add: Callable[[Session, int], int]) -> int:
        """``add(session, next version)`` in one transaction, the version one above ``latest``'s.

        Retried (five tries in all) when a concurrent save took that version number.
        """
        for attempt in range(5):
            try:
                with self._session.begin() as s:
                    return add(s, (s.scalar(latest) or 0) + 1)
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

    # ----------------------------------------------------------------------- sweeping plans

    def save_sweep_plan(self, plan: SweepingPlan) -> int:
        """Save a sweeping or washing plan as a new version of its (district, day, activity).

        Its service visits are also written one row each (:meth:`sweep_passes`).

        Returns
        -------
        int
            The new sweeping plan id.
        """
        body = sweep_plan_to_dict(plan)
        passes = planned_passes(plan)

        def add(s: Session, version: int) -> int:
            row = SweepPlanRow(
                district=plan.district,
                day=plan.day,
                activity=plan.activity,
                version=version,
                objective=float(plan.objective),
                swept_m=plan.swept_m,
                deadhead_m=plan.deadhead_m,
                coverage=plan.coverage(),
                body=body,
            )
            s.add(row)
            s.flush()
            s.add_all(
                SweepSegmentRow(
                    plan_id=row.id,
                    vehicle_id=p.vehicle_id,
                    seq=p.seq,
                    task_id=p.task_id,
                    segment_id=p.segment_id,
                    highway=p.highway,
                    from_osm=p.from_osm,
                    to_osm=p.to_osm,
                    start_s=p.start_s,
                    end_s=p.end_s,
                    length_m=float(p.length_m),
                    coords=[[float(a), float(b)] for a, b in p.coords],
                )
                for p in passes
            )
            return row.id

        latest = select(func.max(SweepPlanRow.version)).where(
            SweepPlanRow.district == plan.district,
            SweepPlanRow.day == plan.day,
            SweepPlanRow.activity == plan.activity,
        )
        return self._add_version(latest, add)

    def get_sweep_plan(self, plan_id: int) -> SweepingPlan:
        """The sweeping plan with id ``plan_id``.

        Raises
        ------
        NotFoundError
            If there is no such sweeping plan.
        """
        with self._session() as s:
            body = s.scalar(select(SweepPlanRow.body).where(SweepPlanRow.id == plan_id))
        if body is None:
            raise NotFoundError(f"no sweeping plan with id {plan_id}")
        return sweep_plan_from_dict(body)

    def latest_sweep_plan(
        self, district: str | None = None, day: date | None = None, activity: str | None = None
    ) -> tuple[int, SweepingPlan] | None:
        """The most recently saved sweeping plan, optionally of one district, day and/or activity."""
        stmt = select(SweepPlanRow.id, SweepPlanRow.body).order_by(SweepPlanRow.id.desc()).limit(1)
        if district is not None:
            stmt = stmt.where(SweepPlanRow.district == district)
        if day is not None:
            stmt = stmt.where(SweepPlanRow.day == day)
        if activity is not None:
            stmt = stmt.where(SweepPlanRow.activity == activity)
        with self._session() as s:
            row = s.execute(stmt).first()
        return None if row is None else (row.id, sweep_plan_from_dict(row.body))

    def sweep_passes(self, plan_id: int, vehicle_id: str | None = None) -> list[PlannedPass]:
        """The planned passes of sweeping plan ``plan_id`` (optionally of one vehicle), in route order.

        Raises
        ------
        NotFoundError
            If there is no such sweeping plan.
        """
        r = SweepSegmentRow
        stmt = select(r).where(r.plan_id == plan_id).order_by(r.vehicle_id, r.seq)
        if vehicle_id is not None:
            stmt = stmt.where(r.vehicle_id == vehicle_id)
        with self._session() as s:
            if s.get(SweepPlanRow, plan_id) is None:
                raise NotFoundError(f"no sweeping plan with id {plan_id}")
            rows = list(s.scalars(stmt))
        return [
            PlannedPass(
                vehicle_id=x.vehicle_id,
                seq=x.seq,
                task_id=x.task_id,
                segment_id=x.segment_id,
                highway=x.highway,
                from_osm=int(x.from_osm),
                to_osm=int(x.to_osm),
                start_s=x.start_s,
                end_s=x.end_s,
                length_m=x.length_m,
                coords=tuple((float(a), float(b)) for a, b in x.coords),
            )
            for x in rows
        ]

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
                "confidence": float(a.confidence),
                "signals": list(a.signals),
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

    # ----------------------------------------------------------------------- alert lifecycle

    def list_alert_records(
        self,
        *,
        status: AlertStatus | str | None = None,
        type: AlertType | str | None = None,
        vehicle_id: str | None = None,
        since_utc: float | None = None,
    ) -> list[AlertRecord]:
        """Stored alerts with their id, key and status, by start time, optionally filtered.

        ``since_utc`` keeps alerts starting at or after it (UNIX epoch s).
        """
        stmt = select(AlertRow).order_by(AlertRow.start_utc, AlertRow.id)
        if status is not None:
            stmt = stmt.where(AlertRow.status == AlertStatus(status).value)
        if type is not None:
            stmt = stmt.where(AlertRow.type == AlertType(type).value)
        if vehicle_id is not None:
            stmt = stmt.where(AlertRow.vehicle_id == vehicle_id)
        if since_utc is not None:
            stmt = stmt.where(AlertRow.start_utc >= since_utc)
        with self._session() as s:
            return [_alert_record(row) for row in s.scalars(stmt)]

    def get_alert_record(self, key: str) -> AlertRecord:
        """The alert whose :attr:`~core.domain.Alert.key` is ``key``, with its status.

        Raises
        ------
        NotFoundError
            If there is no such alert.
        """
        with self._session() as s:
            row = s.scalar(select(AlertRow).where(AlertRow.key == key))
            if row is None:
                raise NotFoundError(f"no alert with key {key!r}")
            return _alert_record(row)

    def change_alert_status(
        self, key: str, status: AlertStatus | str, *, officer: str, note: str, at: datetime | None = None
    ) -> AlertEvent:
        """Move alert ``key`` to ``status`` and record who did it and why (:mod:`core.alert_status`).

        Raises
        ------
        NotFoundError
            If there is no such alert.
        ValidationError
            If the change is not allowed, or the officer is not named.
        """
        with self._session.begin() as s:
            row = s.scalar(select(AlertRow).where(AlertRow.key == key).with_for_update())
            if row is None:
                raise NotFoundError(f"no alert with key {key!r}")
            target = check_transition(key, row.status, str(status))
            event = AlertEvent(key, AlertStatus(row.status), target, officer, note, at or _utcnow())
            done = s.execute(
                update(AlertRow)
                .where(AlertRow.id == row.id, AlertRow.status == row.status)
                .values(status=target.value),
                execution_options={"synchronize_session": False},
            )
            if getattr(done, "rowcount", 1) != 1:  # pragma: no cover - a concurrent change won the race
                raise ValidationError(f"Alert '{key}'", "status", "was changed meanwhile; try again")
            s.add(
                AlertEventRow(
                    alert_key=key,
                    from_status=event.from_status.value,
                    to_status=event.to_status.value,
                    officer=event.officer,
                    note=event.note,
                    at=event.at,
                )
            )
        return event

    def alert_history(self, key: str) -> list[AlertEvent]:
        """Every status change of alert ``key``, oldest first.

        Raises
        ------
        NotFoundError
            If there is no such alert.
        """
        self.get_alert_record(key)
        stmt = select(AlertEventRow).where(AlertEventRow.alert_key == key).order_by(AlertEventRow.id)
        with self._session() as s:
            return [
                AlertEvent(
                    r.alert_key, AlertStatus(r.from_status), AlertStatus(r.to_status), r.officer, r.note, r.at
                )
                for r in s.scalars(stmt)
            ]

    def false_positives(self) -> list[FalsePositives]:
        """Per alert type: confirmed and dismissed counts and the false-positive rate."""
        with self._session() as s:
            rows = s.execute(select(AlertRow.type, AlertRow.status)).all()
        return false_positives((r.type, r.status) for r in rows)

    # ----------------------------------------------------------------------- enforcement records

    def _upsert(self, rows: Iterable[Base]) -> int:
        """Insert or replace rows by primary key; returns how many were given."""
        n = 0
        with self._session.begin() as s:
            for row in rows:
                s.merge(row)
                n += 1
        return n

    def save_sites(self, sites: Iterable[Site]) -> int:
        """Save approved places, replacing those with the same id; returns the number saved."""
        now = _utcnow()
        return self._upsert(SiteRow(id=x.id, body=site_to_dict(x), updated_at=now) for x in sites)

    def save_zones(self, zones: Iterable[RestrictedZone]) -> int:
        """Save restricted zones, replacing those with the same id; returns the number saved."""
        now = _utcnow()
        return self._upsert(ZoneRow(id=z.id, body=zone_to_dict(z), updated_at=now) for z in zones)

    def save_permits(self, permits: Iterable[Permit]) -> int:
        """Save haulage permits, replacing those with the same id; returns the number saved."""
        now = _utcnow()
        return self._upsert(
            PermitRow(id=p.id, vehicle_id=p.vehicle_id, body=permit_to_dict(p), updated_at=now)
            for p in permits
        )

    def save_tickets(self, tickets: Iterable[WeighTicket]) -> int:
        """Save weighbridge tickets, replacing those with the same ticket id; returns the number saved."""
        now = _utcnow()
        return self._upsert(
            TicketRow(
                id=t.ticket_id,
                vehicle_id=t.vehicle_id,
                time_utc=float(t.ts_utc),
                body=ticket_to_dict(t),
                updated_at=now,
            )
            for t in tickets
        )

    def positions_in_area(
        self,
        south: float,
        west: float,
        north: float,
        east: float,
        start_utc: float,
        end_utc: float,
    ) -> list[Position]:
        """Every device's fixes in a lat/lon box (degrees) within ``[start_utc, end_utc]``, by device, time.

        GPS jumps (``outlier``) are left out.
        """
        p = PositionRow
        cols = [getattr(p, name) for name in _POSITION_FIELDS]
        stmt = (
            select(*cols)
            .where(p.ts_utc >= start_utc, p.ts_utc <= end_utc)
            .where(p.lat >= south, p.lat <= north, p.lon >= west, p.lon <= east)
            .where(p.outlier == false())
            .order_by(p.device_id, p.ts_utc)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [Position(**dict(zip(_POSITION_FIELDS, row, strict=True))) for row in rows]

    def sites(self) -> list[Site]:
        """Every stored approved place, by id."""
        with self._session() as s:
            return [site_from_dict(b) for b in s.scalars(select(SiteRow.body).order_by(SiteRow.id))]

    def zones(self) -> list[RestrictedZone]:
        """Every stored restricted zone, by id."""
        with self._session() as s:
            return [zone_from_dict(b) for b in s.scalars(select(ZoneRow.body).order_by(ZoneRow.id))]

    def permits(self, vehicle_id: str | None = None) -> list[Permit]:
        """Stored permits by id, optionally of one vehicle."""
        stmt = select(PermitRow.body).order_by(PermitRow.id)
        if vehicle_id is not None:
            stmt = stmt.where(PermitRow.vehicle_id == vehicle_id)
        with self._session() as s:
            return [permit_from_dict(b) for b in s.scalars(stmt)]

    def tickets(
        self, vehicle_id: str | None = None, start_utc: float | None = None, end_utc: float | None = None
    ) -> list[WeighTicket]:
        """Stored tickets by time, optionally of one vehicle and within ``[start_utc, end_utc]`` (epoch s)."""
        stmt = select(TicketRow.body).order_by(TicketRow.time_utc, TicketRow.id)
        if vehicle_id is not None:
            stmt = stmt.where(TicketRow.vehicle_id == vehicle_id)
        if start_utc is not None:
            stmt = stmt.where(TicketRow.time_utc >= start_utc)
        if end_utc is not None:
            stmt = stmt.where(TicketRow.time_utc <= end_utc)
        with self._session() as s:
            return [ticket_from_dict(b) for b in s.scalars(stmt)]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A stored alert with its row id, key, lifecycle status and when it was stored."""

    id: int
    key: str
    status: AlertStatus
    created_at: datetime
    alert: Alert


def _alert_record(row: AlertRow) -> AlertRecord:
    return AlertRecord(row.id, row.key, AlertStatus(row.status), row.created_at, _alert_from_row(row))


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
