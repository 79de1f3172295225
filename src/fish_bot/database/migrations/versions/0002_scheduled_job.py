"""Persisted job scheduler: scheduled_job

Revision ID: 0002_scheduled_job
Revises: 0001_core
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0002_scheduled_job"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_job",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job_type", sa.String(length=64), nullable=False),
        sa.Column("run_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="5", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_job")),
    )
    op.create_index(op.f("ix_scheduled_job_job_type"), "scheduled_job", ["job_type"], unique=False)
    op.create_index(op.f("ix_scheduled_job_guild_id"), "scheduled_job", ["guild_id"], unique=False)
    op.create_index(
        op.f("ix_scheduled_job_status_run_at"),
        "scheduled_job",
        ["status", "run_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_scheduled_job_status_run_at"), table_name="scheduled_job")
    op.drop_index(op.f("ix_scheduled_job_guild_id"), table_name="scheduled_job")
    op.drop_index(op.f("ix_scheduled_job_job_type"), table_name="scheduled_job")
    op.drop_table("scheduled_job")
