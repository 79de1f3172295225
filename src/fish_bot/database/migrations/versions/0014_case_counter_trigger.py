"""SQLite: a trigger keeps guild.case_count at the highest case number recorded

Revision ID: 0014_case_counter_trigger
Revises: 0013_cluster
Create Date: 2026-12-02

With it, a case is numbered and inserted in ONE statement on SQLite too
(``INSERT INTO "case" ... SELECT guild.case_count + 1 ... FROM guild``): the statement and its
trigger are atomic, so the warn path needs no BEGIN/COMMIT round trips. PostgreSQL does the
same with a data-modifying CTE and gets no trigger. The trigger only ever raises the counter
(``max``), so an insert that already took its number from the counter changes nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0014_case_counter_trigger"
down_revision = "0013_cluster"
branch_labels = None
depends_on = None

TRIGGER = "case_number_advances_guild_counter"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        f'CREATE TRIGGER IF NOT EXISTS {TRIGGER} AFTER INSERT ON "case" '
        "BEGIN UPDATE guild SET case_count = max(case_count, NEW.case_number) "
        "WHERE id = NEW.guild_id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
