"""Cog settings stored under each cog's slug instead of its display name

Revision ID: 0005_cog_slugs
Revises: 0004_cases
Create Date: 2026-12-01

A cog has one identity, its slug (``core``, ``server_config``, ``moderation``, ``example``),
used for its data folder, logger, component prefix and settings scope. Until this revision the
``cog_setting`` rows were keyed by the cog's display name (``Core``, ``Moderation``...; the
configuration cog was once called ``GuildConfig`` and then ``ServerConfig``). The upgrade
renames every CamelCase scope to the slug derived from it the way ``BaseCog`` derives one
(``ServerConfig`` -> ``server_config``), and ``GuildConfig`` to ``server_config``. The bot's
own state (``__bot__``) and scopes that are already slugs are left alone.

When two old names map to the same slug and both hold the same key for the same guild (the
configuration cog's values written before and after its rename), the value written last wins
(``updated_at``); nothing else is dropped. The downgrade turns slugs back into CamelCase names
(``server_config`` -> ``ServerConfig``), which is what revision 0004's code reads.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0005_cog_slugs"
down_revision = "0004_cases"
branch_labels = None
depends_on = None

#: Old display names whose slug is not derived from the name itself.
RENAMED = {"GuildConfig": "server_config"}

_CAMEL = re.compile(r"[A-Z][A-Za-z0-9]*")
_SLUG = re.compile(r"[a-z][a-z0-9_]*")

_table = sa.table(
    "cog_setting",
    sa.column("cog", sa.String),
    sa.column("guild_id", sa.BigInteger),
    sa.column("key", sa.String),
    sa.column("updated_at", sa.String),
)


def slug_of(name: str) -> str | None:
    """The slug an old scope name becomes, or None when the scope stays as it is."""
    if name in RENAMED:
        return RENAMED[name]
    if not _CAMEL.fullmatch(name):
        return None
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def name_of(slug: str) -> str | None:
    """The CamelCase name a slug goes back to, or None when the scope stays as it is."""
    if slug.startswith("_") or not _SLUG.fullmatch(slug):
        return None
    return "".join(part[:1].upper() + part[1:] for part in slug.split("_"))


def _rename(connection: sa.engine.Connection, mapping: dict[str, str]) -> None:
    """Rename each scope ``old -> new``; on a clash the row updated last is kept."""
    for old, new in mapping.items():
        rows = connection.execute(
            sa.select(_table.c.guild_id, _table.c.key, _table.c.updated_at).where(
                _table.c.cog == old
            )
        ).all()
        for guild_id, key, updated_at in rows:
            clash = connection.execute(
                sa.select(_table.c.updated_at).where(
                    _table.c.cog == new, _table.c.guild_id == guild_id, _table.c.key == key
                )
            ).first()
            if clash is None:
                continue
            loser = old if str(clash[0]) >= str(updated_at) else new
            connection.execute(
                sa.delete(_table).where(
                    _table.c.cog == loser, _table.c.guild_id == guild_id, _table.c.key == key
                )
            )
        connection.execute(sa.update(_table).where(_table.c.cog == old).values(cog=new))


def _scopes(connection: sa.engine.Connection) -> list[str]:
    return sorted(row[0] for row in connection.execute(sa.select(_table.c.cog).distinct()))


def upgrade() -> None:
    connection = op.get_bind()
    mapping: dict[str, str] = {}
    for name in _scopes(connection):
        new = slug_of(name)
        if new is not None and new != name:
            mapping[name] = new
    _rename(connection, mapping)


def downgrade() -> None:
    connection = op.get_bind()
    mapping: dict[str, str] = {}
    for name in _scopes(connection):
        old = name_of(name)
        if old is not None and old != name:
            mapping[name] = old
    _rename(connection, mapping)
