"""The restriction commands: timeout, jail, pollban and snippetban, and their reversals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.moderation.command_args import (
    DURATION_HELP,
    REASON_HELP,
    Ctx,
    MaybeWhen,
    When,
)
from fish_bot.cogs.moderation.constants import (
    ACTIONS,
    DEFAULT_RANKS,
    MAX_TIMEOUT,
)
from fish_bot.cogs.moderation.flow import ModerationUtilsMixin
from fish_bot.cogs.moderation.utils import (
    ModerationError,
    audit_reason,
    expires_in_text,
    timestamp,
    until_text,
)
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.permissions import requires_rank
from fish_bot.core.roles import check_assignable_role
from fish_bot.core.text import clip
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

if TYPE_CHECKING:
    pass

F = TypeVar("F")

#: The restriction each lifting action ends.
LIFTS = {CaseType.POLLUNBAN: CaseType.POLLBAN, CaseType.SNIPPETUNBAN: CaseType.SNIPPETBAN}


def _restriction_command(name: str, example: str, *, timed: bool = False) -> Callable[[F], Any]:
    """The decorators of a record-only restriction command (pollban, snippetunban...): a guild
    hybrid command at its default rank, with the same slash options; ``timed`` (a ban) adds
    the duration option."""
    duration = {"duration": DURATION_HELP + " (empty: permanent)"} if timed else {}
    options = {"user": "The member or user (id)", **duration, "reason": REASON_HELP}

    def decorator(func: F) -> Any:
        func = examples(example)(func)
        func = app_commands.describe(**options)(func)
        func = requires_rank(DEFAULT_RANKS[name])(func)
        func = commands.guild_only()(func)
        return hybrid_command(name=name)(func)

    return decorator


class RestrictionCommandsMixin(ModerationUtilsMixin):
    """timeout, untimeout, jail, unjail, pollban, pollunban, snippetban, snippetunban."""

    # --- timeouts --------------------------------------------------------------------------

    @hybrid_command(name="timeout")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["timeout"])
    @app_commands.describe(
        member="The member to time out",
        duration=DURATION_HELP + " (at most 28d)",
        reason=REASON_HELP,
    )
    @examples("timeout @bob 1h spamming", "timeout @bob 30m --silent")
    async def timeout_command(
        self, ctx: Ctx, member: discord.Member, duration: When, *, reason: str | None = None
    ) -> None:
        """Time a member out with Discord's native timeout (at most 28 days).

        Usage: `timeout <member> <duration> [reason] [--silent]`
        Durations: 30m, 2h, 5 days, 1h30m, 1 week 2 days, or a UTC date-time (2030-01-31T18:00).
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
    @app_commands.describe(member="The member", reason=REASON_HELP)
    @examples("untimeout @bob")
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
        member="The member to jail",
        duration=DURATION_HELP + " (empty: until unjailed)",
        reason=REASON_HELP,
    )
    @examples("jail @bob 2h cool down", "jail @bob")
    async def jail_command(
        self,
        ctx: Ctx,
        member: discord.Member,
        duration: MaybeWhen = None,
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
    @app_commands.describe(member="The member to release", reason=REASON_HELP)
    @examples("unjail @bob")
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

    async def _restrict(
        self,
        ctx: Ctx,
        user: discord.User,
        kind: CaseType,
        duration: datetime | None,
        reason: str | None,
        what: str,
    ) -> None:
        """A record-only restriction (poll ban, snippet ban), unless one is already active."""
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, user, ACTIONS[kind], reason)
        with self.database_required():
            banned = await self.db.case.is_user_under_restriction(guild.id, user.id, kind)
        if banned:
            raise ModerationError(f"⛔ <@{user.id}> is already banned from {what}.")
        await self.execute_action(
            ctx, target, action=None, expires_at=duration, details=expires_in_text(duration)
        )

    async def _unrestrict(
        self, ctx: Ctx, user: discord.User, lift: CaseType, reason: str | None, what: str
    ) -> None:
        """Lift the restriction that ``lift`` (POLLUNBAN, SNIPPETUNBAN) undoes, if active."""
        kind = LIFTS[lift]
        guild = self.require_guild(ctx)
        target = await self.prepare_action(ctx, user, ACTIONS[lift], reason)
        with self.database_required():
            banned = await self.db.case.is_user_under_restriction(guild.id, user.id, kind)
        if not banned:
            raise ModerationError(f"⛔ <@{user.id}> is not banned from {what}.")
        await self.execute_action(ctx, target, action=None, close_types=[kind])

    @_restriction_command("pollban", "pollban @bob 7d poll spam", timed=True)
    async def pollban_command(
        self, ctx: Ctx, user: discord.User, duration: MaybeWhen = None, *, reason: str | None = None
    ) -> None:
        """Forbid a member to post polls: their polls are removed and they are told why.

        Usage: `pollban <user> [duration] [reason] [--silent]`
        """
        await self._restrict(ctx, user, CaseType.POLLBAN, duration, reason, "posting polls")

    @_restriction_command("pollunban", "pollunban @bob")
    async def pollunban_command(
        self, ctx: Ctx, user: discord.User, *, reason: str | None = None
    ) -> None:
        """Allow a member to post polls again.

        Usage: `pollunban <user> [reason] [--silent]`
        """
        await self._unrestrict(ctx, user, CaseType.POLLUNBAN, reason, "posting polls")

    @_restriction_command("snippetban", "snippetban @bob 30d snippet abuse", timed=True)
    async def snippetban_command(
        self, ctx: Ctx, user: discord.User, duration: MaybeWhen = None, *, reason: str | None = None
    ) -> None:
        """Forbid a member to create or use snippets (the snippets module refuses them).

        Usage: `snippetban <user> [duration] [reason] [--silent]`
        """
        await self._restrict(ctx, user, CaseType.SNIPPETBAN, duration, reason, "snippets")

    @_restriction_command("snippetunban", "snippetunban @bob")
    async def snippetunban_command(
        self, ctx: Ctx, user: discord.User, *, reason: str | None = None
    ) -> None:
        """Allow a member to use snippets again.

        Usage: `snippetunban <user> [reason] [--silent]`
        """
        await self._unrestrict(ctx, user, CaseType.SNIPPETUNBAN, reason, "snippets")
