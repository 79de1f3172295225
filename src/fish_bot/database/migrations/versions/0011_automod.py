"""Automod: automod_rule, warn_threshold, lockdown_state

Revision ID: 0011_automod
Revises: 0010_audit
Create Date: 2026-12-01

The automod cog's rules per guild, the warning-escalation thresholds, and the channels under
lockdown with the exact ``@everyone`` overwrite each had before (restored by ``unlock`` or by
the lockdown's expiry job, also after a restart). The downgrade drops the three tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0011_automod"
down_revision = "0010_audit"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _guild_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["guild_id"], ["guild.id"], name=op.f(f"fk_{table}_guild_id_guild"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "automod_rule",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("exemptions", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("silent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _guild_fk("automod_rule"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automod_rule")),
        sa.UniqueConstraint("guild_id", "name", name=op.f("uq_automod_rule_guild_id_name")),
    )
    op.create_table(
        "warn_threshold",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("warn_count", sa.Integer(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.CheckConstraint("warn_count >= 1", name=op.f("ck_warn_threshold_warn_count_positive")),
        _guild_fk("warn_threshold"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warn_threshold")),
        sa.UniqueConstraint(
            "guild_id", "warn_count", name=op.f("uq_warn_threshold_guild_id_warn_count")
        ),
    )
    op.create_table(
        "lockdown_state",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.Column("moderator_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        _guild_fk("lockdown_state"),
        sa.PrimaryKeyConstraint("guild_id", "channel_id", name=op.f("pk_lockdown_state")),
    )


def downgrade() -> None:
    op.drop_table("lockdown_state")
    op.drop_table("warn_threshold")
    op.drop_table("automod_rule")
