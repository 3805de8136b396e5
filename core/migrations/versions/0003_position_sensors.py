"""Position sensors and the outlier flag: load, body tipping, bin lifts, brooms, cover, ignition.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the optional sensor columns, the derived outlier flag and the source of each fix."""
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("altitude_m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("ignition", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("load_kg", sa.Float(), nullable=True))
        batch.add_column(sa.Column("body_tipping", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("bin_lifts", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("brooms_down", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("cover_closed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("outlier", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Drop the columns added by this revision."""
    with op.batch_alter_table("positions") as batch:
        for name in (
            "source",
            "outlier",
            "cover_closed",
            "brooms_down",
            "bin_lifts",
            "body_tipping",
            "load_kg",
            "ignition",
            "altitude_m",
        ):
            batch.drop_column(name)
