"""Street sweeping plans: one row per plan version and one per planned segment pass.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the sweep_plans and sweep_segments tables."""
    op.create_table(
        "sweep_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("activity", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("swept_m", sa.Float(), nullable=False),
        sa.Column("deadhead_m", sa.Float(), nullable=False),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.CheckConstraint("activity IN ('sweep', 'wash')", name=op.f("ck_sweep_plans_activity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_plans")),
        sa.UniqueConstraint(
            "district",
            "day",
            "activity",
            "version",
            name=op.f("uq_sweep_plans_district_day_activity_version"),
        ),
    )
    op.create_table(
        "sweep_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=200), nullable=False),
        sa.Column("segment_id", sa.String(length=200), nullable=False),
        sa.Column("highway", sa.String(length=40), nullable=False),
        sa.Column("from_osm", sa.BigInteger(), nullable=False),
        sa.Column("to_osm", sa.BigInteger(), nullable=False),
        sa.Column("start_s", sa.Integer(), nullable=False),
        sa.Column("end_s", sa.Integer(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("coords", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["sweep_plans.id"],
            name=op.f("fk_sweep_segments_plan_id_sweep_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_segments")),
    )
    op.create_index(
        op.f("ix_sweep_segments_plan_id_vehicle_id_seq"), "sweep_segments", ["plan_id", "vehicle_id", "seq"]
    )


def downgrade() -> None:
    """Drop the sweeping tables."""
    op.drop_index(op.f("ix_sweep_segments_plan_id_vehicle_id_seq"), table_name="sweep_segments")
    op.drop_table("sweep_segments")
    op.drop_table("sweep_plans")
