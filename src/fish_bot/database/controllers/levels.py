"""The levels tables' controller: members' XP and level, and role rewards.

The method names are the specification's (``get_xp_and_level``, ``update_xp_and_level``,
``is_blacklisted``, ``get_last_message_time``, ``get_levels_batch``). The levels cog does not
call them per message: it keeps a guild's rows in memory (:meth:`LevelsController.load_guild`,
one query), and writes the rows that changed back with :meth:`LevelsController.upsert_many`,
one ``INSERT ... ON CONFLICT DO UPDATE`` for many rows (a statement per
:data:`UPSERT_CHUNK` rows), inside one transaction, so a row is never half written.

Ranking: members are ordered by XP (highest first), then by member id; blacklisted members and
members without XP are not ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController
from fish_bot.database.controllers.core import GuildController
from fish_bot.database.models import Guild, LevelReward, Levels

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: Rows per upsert statement (6 parameters a row stays far below SQLite's and asyncpg's limits).
UPSERT_CHUNK = 1000

#: The columns an upsert writes besides the key.
_VALUE_COLUMNS = ("xp", "level", "last_message_at", "blacklisted")


class LevelsController(BaseController[Levels]):
    """Members' XP rows (this controller's own table) and role rewards (``self.rewards``)."""

    def __init__(self, service: DatabaseService, guilds: GuildController | None = None) -> None:
        super().__init__(Levels, service)
        #: The hub's guild controller (``db.guild``), for the guild rows the tables refer to.
        self.guilds = guilds if guilds is not None else GuildController(service)
        #: Generic operations on ``level_reward``.
        self.rewards: BaseController[LevelReward] = BaseController(LevelReward, service)

    # --- the specification's methods ---------------------------------------------------------

    async def get_xp_and_level(self, member_id: int, guild_id: int) -> tuple[int, int]:
        """A member's ``(xp, level)``; ``(0, 0)`` when it has no row."""
        row = await self.get_by_id((guild_id, member_id))
        return (row.xp, row.level) if row is not None else (0, 0)

    async def update_xp_and_level(
        self, member_id: int, guild_id: int, xp: int, level: int, timestamp: datetime | None
    ) -> Levels:
        """Store a member's XP, level and last message time (creating the row)."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.upsert(
                guild_id=guild_id,
                member_id=member_id,
                xp=xp,
                level=level,
                last_message_at=timestamp,
            )

    async def is_blacklisted(self, member_id: int, guild_id: int) -> bool:
        """Whether the member may not earn XP in the guild."""
        row = await self.get_by_id((guild_id, member_id))
        return bool(row is not None and row.blacklisted)

    async def get_last_message_time(self, member_id: int, guild_id: int) -> datetime | None:
        """When the member last earned XP in the guild (None: never)."""
        row = await self.get_by_id((guild_id, member_id))
        return row.last_message_at if row is not None else None

    async def get_levels_batch(self, member_ids: Iterable[int], guild_id: int) -> dict[int, Levels]:
        """The rows of several members of a guild, by member id (one query)."""
        ids = sorted(set(member_ids))
        if not ids:
            return {}
        rows = await self.find_all(
            [self.table.c.guild_id == guild_id, self.table.c.member_id.in_(ids)]
        )
        return {row.member_id: row for row in rows}

    # --- the cog's batch paths ---------------------------------------------------------------

    async def load_guild(self, guild_id: int) -> tuple[list[Levels], list[LevelReward]]:
        """Every XP row and every reward of a guild: one query per table, one session."""
        levels_query = sa.select(Levels).where(self.table.c.guild_id == guild_id)
        rewards_query = sa.select(LevelReward).where(self.rewards.table.c.guild_id == guild_id)
        async with self._session() as session:
            rows = list((await session.execute(levels_query)).scalars().all())
            rewards = list((await session.execute(rewards_query)).scalars().all())
        return rows, rewards

    async def upsert_many(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert or replace many members' rows; returns how many were written.

        Each row holds ``guild_id``, ``member_id``, ``xp``, ``level``, ``last_message_at`` and
        ``blacklisted``. The guild rows are created first (one statement), then the rows go in
        statements of :data:`UPSERT_CHUNK` rows, all in one transaction (all or nothing).
        """
        if not rows:
            return 0
        values: list[dict[str, Any]] = [
            {
                "guild_id": int(row["guild_id"]),
                "member_id": int(row["member_id"]),
                "xp": int(row["xp"]),
                "level": int(row["level"]),
                "last_message_at": row.get("last_message_at"),
                "blacklisted": bool(row.get("blacklisted", False)),
            }
            for row in rows
        ]
        guild_table: sa.Table = Guild.__table__  # type: ignore[attr-defined]
        now = discord.utils.utcnow()
        guild_rows = [
            {"id": guild_id, "joined_at": now, "case_count": 0}
            for guild_id in sorted({int(row["guild_id"]) for row in rows})
        ]
        ensure = (
            self._upsert_insert(guild_table)
            .values(guild_rows)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        async with self._session(write=True) as session:
            await session.execute(ensure)
            for start in range(0, len(values), UPSERT_CHUNK):
                chunk = values[start : start + UPSERT_CHUNK]
                statement = self._upsert_insert(self.table).values(chunk)
                statement = statement.on_conflict_do_update(
                    index_elements=["guild_id", "member_id"],
                    set_={name: statement.excluded[name] for name in _VALUE_COLUMNS},
                )
                await session.execute(statement)
        return len(values)

    # --- ranking -----------------------------------------------------------------------------

    def _ranked(self, guild_id: int) -> list[sa.ColumnElement[bool]]:
        c = self.table.c
        return [c.guild_id == guild_id, c.xp > 0, c.blacklisted.is_(False)]

    async def top(self, guild_id: int, limit: int = 10, offset: int = 0) -> list[Levels]:
        """The guild's ranked members, highest XP first (then by member id)."""
        c = self.table.c
        return await self.find_all(
            self._ranked(guild_id),
            order_by=[c.xp.desc(), c.member_id.asc()],
            limit=limit,
            offset=offset,
        )

    async def count_ranked(self, guild_id: int) -> int:
        """How many members of the guild are ranked."""
        return await self.count(self._ranked(guild_id))

    async def get_rank(self, member_id: int, guild_id: int) -> int | None:
        """The member's position on the guild's leaderboard (1 = top); None: not ranked."""
        c = self.table.c
        own = (
            sa.select(c.xp)
            .where(c.guild_id == guild_id, c.member_id == member_id, c.xp > 0)
            .where(c.blacklisted.is_(False))
            .scalar_subquery()
        )
        ahead = (
            sa.select(sa.func.count())
            .select_from(self.table)
            .where(*self._ranked(guild_id))
            .where(sa.or_(c.xp > own, sa.and_(c.xp == own, c.member_id < member_id)))
        )
        query = sa.select(own, ahead.scalar_subquery())
        async with self._session(read_only=True) as session:
            xp, before = (await session.execute(query)).one()
        return None if xp is None else int(before) + 1

    async def guild_rows(self, guild_id: int) -> list[Levels]:
        """Every XP row of a guild, highest XP first (for an export)."""
        c = self.table.c
        return await self.find_all(
            {"guild_id": guild_id}, order_by=[c.xp.desc(), c.member_id.asc()]
        )

    # --- rewards -----------------------------------------------------------------------------

    async def get_rewards(self, guild_id: int) -> list[LevelReward]:
        """A guild's role rewards, lowest level first."""
        c = self.rewards.table.c
        return await self.rewards.find_all(
            {"guild_id": guild_id}, order_by=[c.level.asc(), c.role_id.asc()]
        )

    async def set_reward(self, guild_id: int, level: int, role_id: int) -> LevelReward:
        """Give ``role_id`` at ``level`` (a role rewards one level: this replaces its old one)."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.rewards.upsert(guild_id=guild_id, role_id=role_id, level=level)

    async def remove_reward(self, guild_id: int, role_id: int) -> bool:
        """Stop giving a role; returns whether it was a reward."""
        return await self.rewards.delete_by_id((guild_id, role_id))
