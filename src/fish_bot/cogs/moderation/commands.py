"""The moderation action commands (hybrid: prefix and slash).

Each command declares its default rank (``DEFAULT_RANKS``), parses its arguments, runs the
command-specific checks and hands over to the shared flow in ``flow.py``. A reason may end
with ``--silent`` (or ``-s``) to skip the DM to the member.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.moderation.constants import (
    ACTIONS,
    DEFAULT_RANKS,
    INFO_COLOUR,
    MAX_PURGE_DAYS,
    MAX_TIMEOUT,
    NOTICE_SECONDS,
    PURGE_MAX,
    PURGE_SCAN_LIMIT,
    SLOWMODE_MAX_SECONDS,
)
from fish_bot.cogs.moderation.flow import ModerationUtilsMixin
from fish_bot.cogs.moderation.utils import (
    FutureTime,
    ModerationError,
    audit_reason,
    expires_in_text,
    timestamp,
    until_text,
)
from fish_bot.core.decorators import hybrid_command
from fish_bot.core.durations import DurationError, format_duration, parse_duration
from fish_bot.core.permissions import requires_rank
from fish_bot.core.roles import check_assignable_role
from fish_bot.core.text import clip
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

if TYPE_CHECKING:
    from fish_bot.cogs.moderation.utils import RestrictionCache

Ctx = commands.Context[Any]
When = Annotated[datetime, FutureTime]

_REASON = "Why (shown to the member and in the mod log); add --silent to skip the DM"
_DURATION = "How long: 30m, 2h, 7d, 1w2d, or a UTC date-time like 2030-01-31T18:00"

# Slow mode values that switch it off.
_OFF_WORDS = frozenset({"off", "0", "none", "disable", "disabled"})


class ModerationCommandsMixin(ModerationUtilsMixin):
    """ban, tempban, unban, kick, warn, timeout, untimeout, jail, unjail, pollban, pollunban,
    snippetban, snippetunban, note, purge, slowmode."""

    if TYPE_CHECKING:  # provided by the Moderation class
        pollbans: RestrictionCache

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

    @hybrid_command(name="ban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["ban"])
    @app_commands.describe(
        user="The member or user (id) to ban",
        purge_days="Delete this many days of their messages (0-7)",
        reason=_REASON,
    )
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
        guild = self.require_guild(ctx)
        seconds = self._purge_seconds(purge_days)
        target = await self.prepare_action(ctx, user, ACTIONS[CaseType.BAN], reason)
        await self._refuse_if_banned(guild, user)
        await self.execute_action(
            ctx,
            target,
            action=lambda: guild.ban(
                user,
                reason=audit_reason(ctx.author, target.reason),
                delete_message_seconds=seconds,
            ),
            # Not banned now, so open ban cases are stale (unbanned by hand): close them.
            close_types=[CaseType.BAN, CaseType.TEMPBAN],
        )

    @hybrid_command(name="tempban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["tempban"])
    @app_commands.describe(
        user="The member or user (id) to ban",
        duration=_DURATION,
        purge_days="Delete this many days of their messages (0-7)",
        reason=_REASON,
    )
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
        Durations: 30m, 2h, 7d, 1w2d, or a UTC date-time (2030-01-31T18:00).
        """
        guild = self.require_guild(ctx)
        seconds = self._purge_seconds(purge_days)
        target = await self.prepare_action(ctx, user, ACTIONS[CaseType.TEMPBAN], reason)
        await self._refuse_if_banned(guild, user)
        await self.execute_action(
            ctx,
            target,
            action=lambda: guild.ban(
                user,
                reason=audit_reason(ctx.author, target.reason),
                delete_message_seconds=seconds,
            ),
            expires_at=duration,
            close_types=[CaseType.BAN, CaseType.TEMPBAN],
            details=until_text(duration),
        )

    @hybrid_command(name="unban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["unban"])
    @app_commands.describe(user="The user (id) to unban", reason=_REASON)
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
    @app_commands.describe(member="The member to kick", reason=_REASON)
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
    @app_commands.describe(member="The member to warn", reason=_REASON)
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
    async def note_command(self, ctx: Ctx, user: discord.User, *, text: str) -> None:
        """Add a note to a member's record (they are not told).

        Usage: `note <user> <text>`
        """
        target = await self.prepare_action(
            ctx, user, ACTIONS[CaseType.NOTE], text, reason_required=True, flags=False
        )
        await self.execute_action(ctx, target, action=None)

    # --- timeouts --------------------------------------------------------------------------

    @hybrid_command(name="timeout")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["timeout"])
    @app_commands.describe(
        member="The member to time out", duration=_DURATION + " (at most 28d)", reason=_REASON
    )
    async def timeout_command(
        self, ctx: Ctx, member: discord.Member, duration: When, *, reason: str | None = None
    ) -> None:
        """Time a member out with Discord's native timeout (at most 28 days).

        Usage: `timeout <member> <duration> [reason] [--silent]`
        Durations: 30m, 2h, 7d, 1w2d, or a UTC date-time (2030-01-31T18:00).
        """
        target = await self.prepare_action(ctx, member, ACTIONS[CaseType.TIMEOUT], reason)
        if duration - discord.utils.utcnow() > MAX_TIMEOUT:
            raise ModerationError(
                "⛔ Discord timeouts last at most 28 days (e.g. `28d`); use `jail` or `tempban` "
                "for longer."
            )
        if member.guild_permissions.administrator:
            raise ModerationError("⛔ Discord does not let anyone time out an Administrator.")
        if member.is_timed_out() and member.timed_out_until is not None:
            raise ModerationError(
                f"⛔ <@{member.id}> is already timed out until "
                f"{timestamp(member.timed_out_until)}; use `untimeout` first."
            )
        await self.execute_action(
            ctx,
            target,
            action=lambda: member.timeout(duration, reason=audit_reason(ctx.author, target.reason)),
            expires_at=duration,
            close_types=[CaseType.TIMEOUT],
            details=until_text(duration),
        )

    @hybrid_command(name="untimeout")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["untimeout"])
    @app_commands.describe(member="The member", reason=_REASON)
    async def untimeout_command(
        self, ctx: Ctx, member: discord.Member, *, reason: str | None = None
    ) -> None:
        """Remove a member's timeout early.

        Usage: `untimeout <member> [reason] [--silent]`
        """
        target = await self.prepare_action(ctx, member, ACTIONS[CaseType.UNTIMEOUT], reason)
        if not member.is_timed_out():
            guild = self.require_guild(ctx)
            with self.database_required():
                closed = await self.lift_cases(guild.id, member.id, [CaseType.TIMEOUT])
            if closed:
                await self.reply(ctx, f"🔊 <@{member.id}> was not timed out; closed the case.")
                return
            raise ModerationError(f"⛔ <@{member.id}> is not timed out.")
        await self.execute_action(
            ctx,
            target,
            action=lambda: member.timeout(None, reason=audit_reason(ctx.author, target.reason)),
            close_types=[CaseType.TIMEOUT],
        )

    # --- jail ------------------------------------------------------------------------------

    @hybrid_command(name="jail")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["jail"])
    @app_commands.describe(
        member="The member to jail", duration=_DURATION + " (empty: until unjailed)", reason=_REASON
    )
    async def jail_command(
        self,
        ctx: Ctx,
        member: discord.Member,
        duration: When | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Jail a member: the jail role replaces the roles I can manage; unjail gives them back.

        Usage: `jail <member> [duration] [reason] [--silent]`
        A jailed member who leaves and joins again is jailed again.
        """
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, member, ACTIONS[CaseType.JAIL], reason)
        with self.database_required():
            role = await self.jail_role(guild)
            jailed = await self.db.case.get_active_restriction(guild.id, member.id, [CaseType.JAIL])
        check_assignable_role(role, ctx.author, purpose="the jail role")
        if role in member.roles or jailed:
            raise ModerationError(f"⛔ <@{member.id}> is already jailed.")
        removed = [r for r in member.roles if not r.is_default() and r.is_assignable()]
        kept = [r for r in member.roles if not r.is_default() and not r.is_assignable()]
        result = await self.execute_action(
            ctx,
            target,
            action=lambda: member.edit(
                roles=[*kept, role], reason=audit_reason(ctx.author, target.reason)
            ),
            expires_at=duration,
            extra={"roles": [r.id for r in removed]},
            details=expires_in_text(duration) if duration else "until unjailed",
        )
        if result.case is not None and result.case.status == CaseStatus.ACTIVE.value:
            await self._announce_jail(guild, member, result.case)

    async def _announce_jail(
        self, guild: discord.Guild, member: discord.Member, case: Case
    ) -> None:
        """Tell the member in the jail channel, when the server has one."""
        config = await self.guild_config(guild.id)
        channel_id = config.jail_channel_id if config is not None else None
        channel = guild.get_channel(channel_id) if channel_id else None
        if not isinstance(channel, discord.abc.Messageable):
            return
        text = f"🔒 {member.mention}, you were jailed (Case #{case.case_number})."
        if case.reason:
            text += f"\n**Reason:** {case.reason}"
        try:
            await channel.send(
                clip(text),
                # The one ping of moderation: the jailed member, in the jail channel.
                allowed_mentions=discord.AllowedMentions(
                    users=[member], everyone=False, roles=False
                ),
            )
        except discord.HTTPException as error:
            self.logger.warning("Could not post in the jail channel of %s: %s", guild.id, error)

    @hybrid_command(name="unjail")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["unjail"])
    @app_commands.describe(member="The member to release", reason=_REASON)
    async def unjail_command(
        self, ctx: Ctx, member: discord.Member, *, reason: str | None = None
    ) -> None:
        """Release a member from jail and give back the roles jail took.

        Usage: `unjail <member> [reason] [--silent]`
        """
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, member, ACTIONS[CaseType.UNJAIL], reason)
        with self.database_required():
            role_id = await self.jail_role_id(guild.id)
            case = await self.db.case.get_active_restriction(guild.id, member.id, [CaseType.JAIL])
        role = guild.get_role(role_id) if role_id else None
        if case is None and (role is None or role not in member.roles):
            raise ModerationError(f"⛔ <@{member.id}> is not jailed.")
        if role is not None and role in member.roles and not role.is_assignable():
            raise ModerationError(
                f"⛔ I can't take the jail role ({role.name}): it must be below my top role."
            )
        stored = (case.extra or {}).get("roles", []) if case is not None else []
        roles = self.restored_roles(member, role, stored)
        await self.execute_action(
            ctx,
            target,
            action=lambda: member.edit(roles=roles, reason=audit_reason(ctx.author, target.reason)),
            close_types=[CaseType.JAIL],
        )

    # --- poll and snippet bans ---------------------------------------------------------------

    @hybrid_command(name="pollban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["pollban"])
    @app_commands.describe(
        user="The member or user (id)", duration=_DURATION + " (empty: permanent)", reason=_REASON
    )
    async def pollban_command(
        self,
        ctx: Ctx,
        user: discord.User,
        duration: When | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Forbid a member to post polls: their polls are removed and they are told why.

        Usage: `pollban <user> [duration] [reason] [--silent]`
        """
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, user, ACTIONS[CaseType.POLLBAN], reason)
        with self.database_required():
            banned = await self.db.case.is_user_under_restriction(
                guild.id, user.id, CaseType.POLLBAN
            )
        if banned:
            raise ModerationError(f"⛔ <@{user.id}> is already banned from posting polls.")
        await self.execute_action(
            ctx, target, action=None, expires_at=duration, details=expires_in_text(duration)
        )

    @hybrid_command(name="pollunban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["pollunban"])
    @app_commands.describe(user="The member or user (id)", reason=_REASON)
    async def pollunban_command(
        self, ctx: Ctx, user: discord.User, *, reason: str | None = None
    ) -> None:
        """Allow a member to post polls again.

        Usage: `pollunban <user> [reason] [--silent]`
        """
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, user, ACTIONS[CaseType.POLLUNBAN], reason)
        with self.database_required():
            banned = await self.db.case.is_user_under_restriction(
                guild.id, user.id, CaseType.POLLBAN
            )
        if not banned:
            raise ModerationError(f"⛔ <@{user.id}> is not banned from posting polls.")
        await self.execute_action(ctx, target, action=None, close_types=[CaseType.POLLBAN])

    @hybrid_command(name="snippetban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["snippetban"])
    @app_commands.describe(
        user="The member or user (id)", duration=_DURATION + " (empty: permanent)", reason=_REASON
    )
    async def snippetban_command(
        self,
        ctx: Ctx,
        user: discord.User,
        duration: When | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Forbid a member to create or use snippets (the snippets module refuses them).

        Usage: `snippetban <user> [duration] [reason] [--silent]`
        """
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, user, ACTIONS[CaseType.SNIPPETBAN], reason)
        with self.database_required():
            banned = await self.db.case.is_user_under_restriction(
                guild.id, user.id, CaseType.SNIPPETBAN
            )
        if banned:
            raise ModerationError(f"⛔ <@{user.id}> is already banned from snippets.")
        await self.execute_action(
            ctx, target, action=None, expires_at=duration, details=expires_in_text(duration)
        )

    @hybrid_command(name="snippetunban")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["snippetunban"])
    @app_commands.describe(user="The member or user (id)", reason=_REASON)
    async def snippetunban_command(
        self, ctx: Ctx, user: discord.User, *, reason: str | None = None
    ) -> None:
        """Allow a member to use snippets again.

        Usage: `snippetunban <user> [reason] [--silent]`
        """
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, user, ACTIONS[CaseType.SNIPPETUNBAN], reason)
        with self.database_required():
            banned = await self.db.case.is_user_under_restriction(
                guild.id, user.id, CaseType.SNIPPETBAN
            )
        if not banned:
            raise ModerationError(f"⛔ <@{user.id}> is not banned from snippets.")
        await self.execute_action(ctx, target, action=None, close_types=[CaseType.SNIPPETBAN])

    # --- channel tools ----------------------------------------------------------------------

    @hybrid_command(name="purge")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["purge"])
    @app_commands.describe(
        amount=f"How many messages to delete (1-{PURGE_MAX})",
        member="Only delete this member's messages",
    )
    async def purge_command(
        self,
        ctx: Ctx,
        amount: commands.Range[int, 1, PURGE_MAX],
        member: discord.User | None = None,
    ) -> None:
        """Delete the last messages of this channel, optionally only one member's.

        Usage: `purge <amount 1-500> [member]`
        """
        guild = self.require_guild(ctx)
        channel = ctx.channel
        if not isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            raise ModerationError("⛔ Messages can only be purged in text channels and threads.")
        await self.check_user_permission(ctx, "manage_messages", "purge messages")
        mine = channel.permissions_for(guild.me)
        if not (mine.manage_messages and mine.read_message_history):
            raise ModerationError(
                "⛔ I need the **Manage Messages** and **Read Message History** permissions in "
                "this channel to purge messages."
            )
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        matched = 0

        def wanted(message: discord.Message) -> bool:
            nonlocal matched
            if member is not None and message.author.id != member.id:
                return False
            if matched >= amount:
                return False
            matched += 1
            return True

        before = ctx.message if ctx.interaction is None else None
        try:
            deleted = await channel.purge(
                limit=amount if member is None else PURGE_SCAN_LIMIT,
                check=wanted,
                before=before,
                reason=audit_reason(ctx.author, f"purge of {amount} messages"),
            )
        except discord.HTTPException as error:
            raise ModerationError(
                f"❌ Discord refused to delete the messages: {error.text or error.status}."
            ) from None
        whose = f" from <@{member.id}>" if member is not None else ""
        text = f"🧹 Deleted {len(deleted)} message{'s' if len(deleted) != 1 else ''}{whose}."
        embed = discord.Embed(
            title="🧹 Messages purged",
            colour=INFO_COLOUR,
            description=f"{len(deleted)} message(s){whose} in {channel.mention} "
            f"by <@{ctx.author.id}>.",
            timestamp=discord.utils.utcnow(),
        )
        await self.post_mod_log(guild, embed)
        if ctx.interaction is None:
            with contextlib.suppress(discord.HTTPException):
                await ctx.message.delete()
            notice = await self.reply(ctx, text)
            await notice.delete(delay=NOTICE_SECONDS)
        else:
            await self.reply(ctx, text, ephemeral=True)

    @hybrid_command(name="slowmode")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["slowmode"])
    @app_commands.describe(
        delay="Time between a member's messages: 5s, 1m, 2h (at most 6h); off to disable",
        channel="The channel (default: this one)",
    )
    async def slowmode_command(
        self,
        ctx: Ctx,
        delay: str | None = None,
        channel: discord.TextChannel | discord.Thread | None = None,
    ) -> None:
        """Show or set a channel's slow mode.

        Usage: `slowmode [delay|off] [channel]` (no delay: show the current one)
        """
        guild = self.require_guild(ctx)
        where = channel or ctx.channel
        if not isinstance(where, discord.TextChannel | discord.Thread):
            raise ModerationError("⛔ Slow mode exists only in text channels and threads.")
        current = where.slowmode_delay
        if delay is None:
            state = f"{format_duration(current)}" if current else "off"
            await self.reply(ctx, f"🐢 Slow mode in {where.mention} is {state}.")
            return
        if delay.strip().lower() in _OFF_WORDS:
            seconds = 0
        else:
            try:
                seconds = parse_duration(delay)
            except DurationError as error:
                raise ModerationError(f"❌ {error}") from None
            if seconds > SLOWMODE_MAX_SECONDS:
                raise ModerationError("❌ Slow mode is at most 6h (e.g. `30s`, `5m`, `6h`).")
        await self.check_user_permission(ctx, "manage_channels", "change slow mode")
        if not where.permissions_for(guild.me).manage_channels:
            raise ModerationError(
                f"⛔ I need the **Manage Channels** permission in {where.mention} to change slow "
                "mode."
            )
        try:
            await where.edit(
                slowmode_delay=seconds,
                reason=audit_reason(ctx.author, f"slow mode {format_duration(seconds)}"),
            )
        except discord.HTTPException as error:
            raise ModerationError(
                f"❌ Discord refused to change slow mode: {error.text or error.status}."
            ) from None
        state = format_duration(seconds) if seconds else "off"
        await self.reply(ctx, f"🐢 Slow mode in {where.mention} is now {state}.")
        embed = discord.Embed(
            title="🐢 Slow mode changed",
            colour=INFO_COLOUR,
            description=f"{where.mention}: {state} (was "
            f"{format_duration(current) if current else 'off'}) by <@{ctx.author.id}>.",
            timestamp=discord.utils.utcnow(),
        )
        await self.post_mod_log(guild, embed)
