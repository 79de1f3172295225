"""The one way an AFK starts and ends: :meth:`AfkFlowMixin.start_afk` and
:meth:`AfkFlowMixin.end_afk`, whoever asks (the commands, the member's next message, the expiry
job, a moderator, the member leaving).

Both record before they act: the row (and its expiry job) commit first, then the nickname
changes; the in-memory AFK members change only after the commit (``after_commit``), so a write
that rolls back leaves them as they were.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.afk.constants import AFK_EXPIRY_JOB
from fish_bot.cogs.afk.utils import AfkMark, afk_nickname, can_rename
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.cogs.afk.utils import AfkCache, NoticeLimiter
    from fish_bot.database.models.afk import AFK


class Nickname(enum.Enum):
    """What happened to the nickname when an AFK started."""

    CHANGED = "changed"  # the bot put [AFK] in front
    KEPT = "kept"  # already AFK, or the name has the prefix already: nothing to do
    CANNOT = "cannot"  # the bot may not change it (permissions, hierarchy, the owner, refused)
    OFF = "off"  # the server turned the nickname off (`set_nickname`)


@dataclass(frozen=True)
class Started:
    """What :meth:`AfkFlowMixin.start_afk` did."""

    row: AFK
    #: False: the member was AFK already and only the reason (duration, kind) changed.
    created: bool
    nickname: Nickname


class AfkFlowMixin(BaseCog):
    """Starting and ending AFKs; the mixins of the AFK cog build on it."""

    #: Who is AFK in every guild (set by the Afk class): the listener reads it without I/O.
    afk_members: AfkCache
    #: Which channel was told about which AFK member, when.
    notices: NoticeLimiter

    # --- the one way in ----------------------------------------------------------------------

    async def start_afk(
        self,
        member: discord.Member,
        reason: str | None,
        *,
        duration: timedelta | None = None,
        permanent: bool | None = None,
    ) -> Started:
        """Make ``member`` AFK, or change the AFK they are in.

        ``duration``: the AFK ends that long from now. ``permanent``: True makes it permanent
        (messages do not end it; no end time unless a duration is given); None keeps the kind
        a member already AFK has (a new AFK is a normal one). A member already AFK keeps their
        end time unless a duration (or ``permanent=True``) replaces it: ``afk <reason>``
        changes only the reason. The row and the expiry job commit together; then the
        nickname gets its ``[AFK] `` prefix (once: an AFK changed again leaves it alone).
        """
        guild = member.guild
        existing = await self.db.afk.get_afk_member(member.id, guild_id=guild.id)
        now = discord.utils.utcnow()
        if permanent is None:
            permanent = bool(existing.permanent) if existing is not None else False
        if duration is not None:
            until: datetime | None = now + duration
        elif existing is not None and not permanent:
            until = existing.until
        else:
            until = None
        wanted = self.get_setting("set_nickname", True, guild.id)
        if existing is not None:
            before, planned = existing.nickname_before, existing.afk_nickname
            nickname = Nickname.KEPT
        elif not wanted:
            before, planned, nickname = member.nick, None, Nickname.OFF
        else:
            before, planned = member.nick, afk_nickname(member.display_name)
            nickname = Nickname.KEPT
            if planned is not None and not can_rename(member):
                planned, nickname = None, Nickname.CANNOT
        async with self.task_tracker.task_context("Start AFK"), self.db.transaction():
            row = await self.db.afk.set_afk(
                member.id,
                before,
                reason,
                guild.id,
                permanent,
                until,
                afk_nickname=planned,
                since=now,
            )
            if existing is not None and existing.until is not None:
                await self.bot.scheduler.cancel_where(
                    AFK_EXPIRY_JOB, guild.id, {"member_id": member.id}
                )
            if row.until is not None:
                await self.bot.scheduler.schedule(
                    AFK_EXPIRY_JOB,
                    row.until,
                    {"member_id": member.id, "until": row.until.isoformat()},
                    guild_id=guild.id,
                )
            mark = AfkMark.of(row, changed_at=now)
            await self.afk_members.announce(guild.id)
            await self.db.service.after_commit(
                lambda: self.afk_members.put(guild.id, member.id, mark)
            )
        if existing is None and planned is not None:
            nickname = await self._rename(member, planned, "Went AFK")
        return Started(row=row, created=existing is None, nickname=nickname)

    async def _rename(self, member: discord.Member, nick: str | None, why: str) -> Nickname:
        try:
            await member.edit(nick=nick, reason=why)
        except discord.HTTPException as error:
            self.logger.info("Could not change the nickname of %s: %s", member.id, error)
            return Nickname.CANNOT
        return Nickname.CHANGED

    # --- the one way out ---------------------------------------------------------------------

    async def end_afk(
        self,
        guild_id: int,
        member_id: int,
        *,
        member: discord.Member | None = None,
        until: datetime | None = None,
    ) -> AFK | None:
        """End a member's AFK; returns the state that ended (None: they were not AFK).

        ``until``: only an AFK that ends at that time (the expiry job of an AFK that was
        changed since does nothing). The nickname goes back to what it was before, when it is
        still the one the bot gave (a nickname the member chose meanwhile stays).
        """
        removed: AFK | None = None
        async with self.task_tracker.task_context("End AFK"), self.db.transaction():
            removed = await self.db.afk.remove_afk(member_id, guild_id=guild_id, until=until)
            if removed is not None:
                if removed.until is not None and until is None:
                    await self.bot.scheduler.cancel_where(
                        AFK_EXPIRY_JOB, guild_id, {"member_id": member_id}
                    )
                await self.afk_members.announce(guild_id)
                await self.db.service.after_commit(
                    lambda: self.afk_members.discard(guild_id, member_id)
                )
        if removed is None:
            return None
        self.notices.forget(member_id)
        given = removed.afk_nickname
        if member is None and given is not None:
            member = await self._find_member(guild_id, member_id)
        if member is not None and given is not None and member.nick == given:
            await self._rename(member, removed.nickname_before, "Back from AFK")
        return removed

    async def _find_member(self, guild_id: int, member_id: int) -> discord.Member | None:
        """The member from the cache, or asked of Discord (a cache not filled yet)."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return None
        member = guild.get_member(member_id)
        if member is not None:
            return member
        try:
            return await guild.fetch_member(member_id)
        except discord.HTTPException:  # left the server, or Discord refused
            return None
