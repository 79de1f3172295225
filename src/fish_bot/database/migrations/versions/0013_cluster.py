"""Cluster mode: the cluster_node table and the scheduled jobs' leases

Revision ID: 0013_cluster
Revises: 0012_advertise
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0013_cluster"
down_revision = "0012_advertise"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_node",
        sa.Column("name", sa.String(length=100), autoincrement=False, nullable=False),
        sa.Column("shard_count", sa.Integer(), nullable=True),
        sa.Column("shard_ids", sa.JSON(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("guild_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_node")),
    )
    with op.batch_alter_table("scheduled_job") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scheduled_job") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
    op.drop_table("cluster_node")
