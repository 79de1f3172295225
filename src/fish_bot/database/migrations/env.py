"""Alembic environment: runs on the connection handed over by fish_bot.database.migrations."""

from __future__ import annotations

from alembic import context

from fish_bot.database.migrations.env_support import compare_options

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Run migrations through `fish-bot db ...` (it provides the database connection)."
    )

context.configure(connection=connection, **compare_options())
with context.begin_transaction():
    context.run_migrations()
