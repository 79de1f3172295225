"""The removal and record commands: ban, tempban, unban, kick, warn, note."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.moderation.command_args import DURATION_HELP, REASON_HELP, Ctx, When
from fish_bot.cogs.moderation.constants import (
    ACTIONS,
    DEFAULT_RANKS,
    MAX_PURGE_DAYS,
)
from fish_bot.cogs.moderation.flow import ModerationUtilsMixin
from fish_bot.cogs.moderation.utils import (
    ModerationError,
    audit_reason,
    until_text,
)
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.permissions import requires_rank
from fish_bot.database.models.cases import CaseType

if TYPE_CHECKING:
    pass


class RemovalCommandsMixin(ModerationUtilsMixin):
    """ban, tempban, unban, kick, warn, note."""

    # --- bans --------------------------------------------------------------------------

    async def _refuse_if_banned(self, guild: discord.Guild, user: discord.abc.User) -> None:
        try:
            await guild.fetch_ban(user)
        except discord.NotFound:
            return
        except discord.HTTPException:
            return  # the ban itself will tell
        raise ModerationError(f"⛔ <@{user.id}> is already banned; `unban` them first.")

    @staticmethod
    def _purge_seconds(purge_days: int | None) -> int:
        days = purge_days or 0
        if not 0 <= days <= MAX_PURGE_DAYS:
            raise ModerationError(
                f"❌ A ban can delete 0 to {MAX_PURGE_DAYS} days of messages, not {days}."
            )
        return days * 86400

    async def _ban(
        self,
        ctx: Ctx,
        user: discord.User,
        kind: CaseType,
        purge_days: int | None,
        reason: str | None,
        *,
        until: datetime | None = None,
    ) -> None:
        """Ban (until ``until``, for a tempban): the one flow of ``ban`` and ``tempban``."""
        guild = self.require_guild(ctx)
        seconds = self._purge_seconds(purge_days)
        target = await self.prepare_action(ctx, user, ACTIONS[kind], reason)
        await self._refuse_if_banned(guild, user)
        await self.execute_action(
            ctx,
            target,
            action=lambda: guild.ban(
                user,
                reason=audit_reason(ctx.author, target.reason),
                delete_message_seconds=seconds,
            ),
            expires_at=until,
            # Not banned now, so open ban cases are stale (unbanned by hand): close them.
            close_types=[CaseType.BAN, CaseType.TEMPBAN],
            details=until_text(until) if until is not None else "",
        )

    @hybrid_command(name="ban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["ban"])
    @app_commands.describe(
        user="The member or user (id) to ban",
        purge_days="Delete this many days of their messages (0-7)",
        reason=REASON_HELP,
    )
    @examples("ban @bob spamming", "ban 123456789012345678 raid")
    async def ban_command(
        self,
        ctx: Ctx,
        user: discord.User,
        purge_days: int | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Ban a member, or a user by id, permanently.

        Usage: `ban <user> [purge days 0-7] [reason] [--silent]`
        The member is told by DM before the ban unless --silent is given.
        """
        await self._ban(ctx, user, CaseType.BAN, purge_days, reason)

    @hybrid_command(name="tempban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["tempban"])
    @app_commands.describe(
        user="The member or user (id) to ban",
        duration=DURATION_HELP,
        purge_days="Delete this many days of their messages (0-7)",
        reason=REASON_HELP,
    )
    @examples("tempban @bob 7d spamming", "tempban 123456789012345678 2h raid")
    async def tempban_command(
        self,
        ctx: Ctx,
        user: discord.User,
        duration: When,
        purge_days: int | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Ban a member for a while; the ban is lifted on time, even across restarts.

        Usage: `tempban <user> <duration> [purge days 0-7] [reason] [--silent]`
        Durations: 30m, 2h, 5 days, 1h30m, 1 week 2 days, or a UTC date-time (2030-01-31T18:00).
        """
        await self._ban(ctx, user, CaseType.TEMPBAN, purge_days, reason, until=duration)

    @hybrid_command(name="unban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["unban"])
    @app_commands.describe(user="The user (id) to unban", reason=REASON_HELP)
    @examples("unban 123456789012345678 appeal accepted")
    async def unban_command(
        self, ctx: Ctx, user: discord.User, *, reason: str | None = None
    ) -> None:
        """Lift a ban (and close its case; a pending tempban expiry is cancelled).

        Usage: `unban <user id> [reason]`
        """
        guild = self.require_guild(ctx)
        spec = ACTIONS[CaseType.UNBAN]
        target = await self.prepare_action(ctx, user, spec, reason)
        try:
            await guild.fetch_ban(user)
        except discord.NotFound:
            # Unbanned by hand in Discord: just close what is still open.
            with self.database_required():
                closed = await self.lift_cases(guild.id, user.id, [CaseType.BAN, CaseType.TEMPBAN])
            if not closed:
                raise ModerationError(f"⛔ <@{user.id}> is not banned.") from None
            await self.reply(
                ctx,
                f"🔓 <@{user.id}> was not banned on Discord any more; closed their open ban "
                f"case{'s' if closed > 1 else ''}.",
            )
            return
        await self.execute_action(
            ctx,
            target,
            action=lambda: guild.unban(user, reason=audit_reason(ctx.author, target.reason)),
            close_types=[CaseType.BAN, CaseType.TEMPBAN],
        )

    # --- kick and warn -------------------------------------------------------------------

    @hybrid_command(name="kick")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["kick"])
    @app_commands.describe(member="The member to kick", reason=REASON_HELP)
    @examples("kick @bob spamming", "kick @bob spamming --silent")
    async def kick_command(
        self, ctx: Ctx, member: discord.Member, *, reason: str | None = None
    ) -> None:
        """Kick a member (they can join again with an invite).

        Usage: `kick <member> [reason] [--silent]`
        """
        target = await self.prepare_action(ctx, member, ACTIONS[CaseType.KICK], reason)
        await self.execute_action(
            ctx,
            target,
            action=lambda: member.kick(reason=audit_reason(ctx.author, target.reason)),
        )

    @hybrid_command(name="warn")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["warn"])
    @app_commands.describe(member="The member to warn", reason=REASON_HELP)
    @examples("warn @bob please keep it civil")
    async def warn_command(self, ctx: Ctx, member: discord.Member, *, reason: str) -> None:
        """Warn a member: recorded as a case and sent to them by DM.

        Usage: `warn <member> <reason> [--silent]`
        """
        target = await self.prepare_action(
            ctx, member, ACTIONS[CaseType.WARN], reason, reason_required=True
        )
        await self.execute_action(ctx, target, action=None)

    @hybrid_command(name="note")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["note"])
    @app_commands.describe(user="The member or user (id)", text="The note")
    @examples("note @bob was warned in voice chat")
    async def note_command(self, ctx: Ctx, user: discord.User, *, text: str) -> None:
        """Add a note to a member's record (they are not told).

        Usage: `note <user> <text>`
        """
        target = await self.prepare_action(
            ctx, user, ACTIONS[CaseType.NOTE], text, reason_required=True, flags=False
        )
        await self.execute_action(ctx, target, action=None)
