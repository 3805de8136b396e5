"""Enforcement: approved sites, restricted zones, permits, weigh tickets; alert confidence and audit trail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BODY_TABLES = ("enforcement_sites", "restricted_zones")


def upgrade() -> None:
    """Add the enforcement record tables, the alert columns and the alert_events audit table."""
    for name in _BODY_TABLES:
        op.create_table(
            name,
            sa.Column("id", sa.String(length=100), nullable=False),
            sa.Column("body", sa.JSON(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        )
    op.create_table(
        "permits",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("vehicle_id", sa.String(length=100), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permits")),
    )
    op.create_index(op.f("ix_permits_vehicle_id"), "permits", ["vehicle_id"])
    op.create_table(
        "weigh_tickets",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("vehicle_id", sa.String(length=100), nullable=False),
        sa.Column("time_utc", sa.Float(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weigh_tickets")),
    )
    op.create_index(op.f("ix_weigh_tickets_vehicle_id_time_utc"), "weigh_tickets", ["vehicle_id", "time_utc"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("signals", sa.JSON(), nullable=True))
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("officer", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_alert_key"), "alert_events", ["alert_key"])


def downgrade() -> None:
    """Drop what this revision added (alert rows stay; their confidence and signals go)."""
    op.drop_index(op.f("ix_alert_events_alert_key"), table_name="alert_events")
    op.drop_table("alert_events")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("signals")
        batch.drop_column("confidence")
    op.drop_index(op.f("ix_weigh_tickets_vehicle_id_time_utc"), table_name="weigh_tickets")
    op.drop_table("weigh_tickets")
    op.drop_index(op.f("ix_permits_vehicle_id"), table_name="permits")
    op.drop_table("permits")
    for name in reversed(_BODY_TABLES):
        op.drop_table(name)
