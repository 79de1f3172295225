"""AfkController: members' AFK states, one row per member and guild.

The AFK cog keeps the AFK members of every guild in memory, so an ordinary message costs no
query; the controller is asked only when someone AFK is involved. ``get_afk_members`` reads
many members in one query (a message that mentions twenty members costs one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import discord
import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController
from fish_bot.database.controllers.core import GuildController
from fish_bot.database.models.afk import AFK, AFK_REASON_LIMIT, NICKNAME_LIMIT

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: Columns an AFK that is set again changes; the start, and the nicknames, stay as they were.
_UPDATED_ON_SET = ("reason", "until", "permanent")


def _checked_nickname(value: str | None, what: str) -> str | None:
    if value is not None and len(value) > NICKNAME_LIMIT:
        raise ValueError(f"{what} is longer than {NICKNAME_LIMIT} characters")
    return value


class AfkController(BaseController[AFK]):
    """AFK states: set, read one, read many in one query, remove (returning what was removed)."""

    def __init__(self, service: DatabaseService, guilds: GuildController | None = None) -> None:
        super().__init__(AFK, service)
        #: The hub's guild controller (``db.guild``): an AFK row refers to its guild's row.
        self.guilds = guilds if guilds is not None else GuildController(service)

    # --- reads ---------------------------------------------------------------------------

    async def get_afk_member(self, member_id: int, *, guild_id: int) -> AFK | None:
        """The member's AFK state in the guild, or None when they are not AFK."""
        return await self.get_by_id((guild_id, member_id))

    async def is_afk(self, member_id: int, *, guild_id: int) -> bool:
        """Whether the member is AFK in the guild."""
        return await self.exists({"guild_id": guild_id, "member_id": member_id})

    async def get_afk_members(self, guild_id: int, member_ids: Iterable[int]) -> dict[int, AFK]:
        """The AFK states of several members of a guild, in one query, keyed by member id.

        Members who are not AFK are left out; no member asked for: no query.
        """
        wanted = sorted(set(member_ids))
        if not wanted:
            return {}
        column = self.table.c.member_id
        rows = await self.find_all([self.table.c.guild_id == guild_id, column.in_(wanted)])
        return {row.member_id: row for row in rows}

    async def get_all_afk_members(self, guild_id: int) -> list[AFK]:
        """Every AFK member of a guild, longest away first."""
        return await self.find_all(
            {"guild_id": guild_id}, order_by=[self.table.c.since, self.table.c.member_id]
        )

    async def every_afk_member(self) -> list[AFK]:
        """Every AFK state of every guild, in one query (the cog's start-up load)."""
        return await self.find_all(order_by=[self.table.c.guild_id, self.table.c.member_id])

    # --- writes --------------------------------------------------------------------------

    async def set_afk(
        self,
        member_id: int,
        nickname: str | None,
        reason: str | None,
        guild_id: int,
        is_perm: bool = False,
        until: datetime | None = None,
        *,
        afk_nickname: str | None = None,
        since: datetime | None = None,
    ) -> AFK:
        """Make the member AFK, or change the AFK they are in; returns the row as stored.

        ``nickname`` is their nickname before (None: none), ``afk_nickname`` the one the bot
        gives them (None: it leaves the nickname alone). For a member who is AFK already only
        ``reason``, ``until`` and the permanent flag change: the start and both nicknames stay,
        so the nickname restored at the end is the one from before the first AFK. One
        statement (``INSERT ... ON CONFLICT DO UPDATE``), so two concurrent calls never make
        two rows.
        """
        if reason is not None and len(reason) > AFK_REASON_LIMIT:
            raise ValueError(f"an AFK reason is at most {AFK_REASON_LIMIT} characters")
        if until is not None and until.tzinfo is None:
            raise ValueError("until must be timezone-aware (use discord.utils.utcnow())")
        values = {
            "guild_id": guild_id,
            "member_id": member_id,
            "reason": reason,
            "since": since or discord.utils.utcnow(),
            "until": until,
            "permanent": bool(is_perm),
            "nickname_before": _checked_nickname(nickname, "the nickname before"),
            "afk_nickname": _checked_nickname(afk_nickname, "the AFK nickname"),
        }
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.upsert(
                values,
                conflict_columns=["guild_id", "member_id"],
                update_columns=list(_UPDATED_ON_SET),
            )

    async def remove_afk(
        self, member_id: int, *, guild_id: int, until: datetime | None = None
    ) -> AFK | None:
        """End the member's AFK; returns the state that was removed (None: they were not AFK).

        ``until``: only an AFK that ends at exactly that time (an expiry job of an AFK that was
        changed since removes nothing). One ``DELETE ... RETURNING``: when two callers end the
        same AFK at once (the member's message and the expiry), exactly one gets the row.
        """
        table = self.table.c
        conditions = [table.guild_id == guild_id, table.member_id == member_id]
        if until is not None:
            conditions.append(table.until == until)
        statement = sa.delete(self.table).where(*conditions).returning(*self.table.c)
        async with self._session(write=True) as session:
            found = (await session.execute(statement)).mappings().first()
        return AFK(**dict(found)) if found is not None else None
