"""The configuration audit trail

Revision ID: 0010_audit
Revises: 0009_reminders
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0010_audit"
down_revision = "0009_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index(
        op.f("ix_audit_entry_guild_id_created_at"), "audit_entry", ["guild_id", "created_at"]
    )
    op.create_index(
        op.f("ix_audit_entry_guild_id_actor_id"), "audit_entry", ["guild_id", "actor_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_entry_guild_id_actor_id"), table_name="audit_entry")
    op.drop_index(op.f("ix_audit_entry_guild_id_created_at"), table_name="audit_entry")
    op.drop_table("audit_entry")
