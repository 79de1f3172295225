"""The shared moderation action flow (one place for every command).

Every action command runs the same steps::

    target = await self.prepare_action(ctx, user, ACTIONS[CaseType.BAN], reason)   # 1. checks
    await self.execute_action(ctx, target, action=lambda: guild.ban(...))           # 2.-5.

1. :meth:`ModerationUtilsMixin.prepare_action`: not yourself, not the bot, not the server owner;
   the moderator's Discord permission; the moderator's top role above the target's (the server
   owner stands above everyone); the bot's top role above the target's; the bot's Discord
   permission; a reason when the server requires one. A failed check raises
   :class:`~fish_bot.cogs.moderation.utils.ModerationError` (a ``UserFacingError``) naming
   the check, before anything changed.
2. :meth:`ModerationUtilsMixin.execute_action` records first (DESIGN rule 12): the case, as
   ``pending``, and its expiry job commit in one transaction before anything happens on
   Discord. When the database is unavailable the moderator is told
   :data:`~fish_bot.cogs.moderation.constants.DATABASE_DOWN` and nothing is done. Actions that
   exist only in the record (warn, note, poll and snippet bans) commit ``active`` at once.
3. It DMs the member before a removal (ban, tempban, kick) unless ``--silent``; a closed DM is
   noted in the reply, not an error.
4. It performs the Discord action. When it succeeds, the case becomes ``active``, closing the
   cases it lifts and cancelling their expiry jobs in one transaction. When Discord refuses,
   the case is ``voided`` with Discord's reason and its expiry job cancelled. A crash between
   the steps leaves a pending case that
   :meth:`~fish_bot.cogs.moderation.reconcile.ReconcileMixin.reconcile_pending_cases` settles at
   start-up against the guild's bans, timeouts and members.
5. It answers the moderator; once the answer has left, it DMs the member after the other
   actions (warn, timeout, jail...) unless ``--silent``, posts the case embed to the mod-log
   channel and stores the message id on the case (also when the answer failed). A DM that
   turns out closed is added to the answer by one edit. (:meth:`perform_action` without an
   ``answer``, the automod cog's way, runs the same steps unanswered.)

Nothing here pings: the bot's default is ``AllowedMentions.none()``; answers go through
``BaseCog.reply`` (clipped to Discord's limits).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

import discord
from discord.ext import commands

from fish_bot.cogs.moderation.constants import MAX_REASON_LENGTH, ActionSpec
from fish_bot.cogs.moderation.reconcile import ReconcileMixin
from fish_bot.cogs.moderation.utils import (
    Action,
    ActionResult,
    ActionTarget,
    ModerationError,
    discord_refusal,
    split_reason,
    timestamp,
)
from fish_bot.core.error_policy import report
from fish_bot.core.permission_subjects import bypasses_permissions
from fish_bot.core.text import clip, permission_label
from fish_bot.database.models.cases import CaseType


class ModerationUtilsMixin(ReconcileMixin):
    """The shared action flow (checks → pending case → DM → Discord action → active or voided
    case → mod log)."""

    # --- small helpers --------------------------------------------------------------------

    async def _bot_owner_bypass(self, user: discord.abc.User) -> bool:
        """Bot owners pass the moderator checks (permission rule 1), unless switched off."""
        return await bypasses_permissions(self.bot, user)

    async def require_reason(self, guild_id: int, reason: str | None, spec: ActionSpec) -> None:
        """Refuse an action without a reason when the server requires one."""
        if reason:
            return
        config = await self.guild_config(guild_id)
        if config is not None and config.reason_required:
            raise ModerationError(
                f"⛔ This server requires a reason for every moderation action; "
                f"add one after the member, e.g. `{spec.case_type.value.lower()} @member spamming`."
            )

    def check_bot_permission(self, guild: discord.Guild, permission: str, what: str) -> None:
        """Refuse when the bot lacks a server-wide Discord permission."""
        if not getattr(guild.me.guild_permissions, permission):
            raise ModerationError(
                f"⛔ I need the **{permission_label(permission)}** permission to {what}."
            )

    async def check_user_permission(
        self, ctx: commands.Context[Any], permission: str, what: str
    ) -> None:
        """Refuse when the moderator lacks a server-wide Discord permission."""
        author = ctx.author
        if not isinstance(author, discord.Member) or await self._bot_owner_bypass(author):
            return
        if not getattr(author.guild_permissions, permission):
            raise ModerationError(
                f"⛔ You need the **{permission_label(permission)}** permission to {what}."
            )

    # --- step 1: checks -------------------------------------------------------------------

    async def prepare_action(
        self,
        ctx: commands.Context[Any],
        user: discord.abc.User,
        spec: ActionSpec,
        reason_text: str | None,
        *,
        reason_required: bool = False,
        flags: bool = True,
    ) -> ActionTarget:
        """Run the checks of an action; raises :class:`ModerationError` naming the failed one.

        ``flags=False`` keeps the text as it is (a note may well contain ``-s``).
        """
        guild = self.require_guild(ctx)
        author = ctx.author
        verb = spec.verb
        if flags:
            reason, silent = split_reason(reason_text)
        else:
            reason, silent = (reason_text or "").strip() or None, False
            if reason is not None and len(reason) > MAX_REASON_LENGTH:
                raise ModerationError(
                    f"❌ The text is too long ({len(reason)} characters; at most "
                    f"{MAX_REASON_LENGTH})."
                )
        member = user if isinstance(user, discord.Member) else guild.get_member(user.id)
        if member is not None and member.guild.id != guild.id:
            member = guild.get_member(user.id)
        mention = f"<@{user.id}>"

        if user.id == author.id:
            raise ModerationError(f"⛔ You can't {verb} yourself.")
        if self.bot.user is not None and user.id == self.bot.user.id:
            raise ModerationError(f"⛔ I can't {verb} myself.")
        if user.id == guild.owner_id:
            raise ModerationError(f"⛔ You can't {verb} the server owner.")
        if spec.needs_member and member is None:
            raise ModerationError(f"⛔ {mention} is not a member of this server.")
        if spec.user_permission:
            await self.check_user_permission(ctx, spec.user_permission, f"{verb} members")
        if member is not None:
            if (
                isinstance(author, discord.Member)
                and author.id != guild.owner_id
                and not await self._bot_owner_bypass(author)
                and author.top_role <= member.top_role
            ):
                raise ModerationError(
                    f"⛔ Your top role ({author.top_role.name}) must be above the top role of "
                    f"{mention} ({member.top_role.name}) to {verb} them."
                )
            me = guild.me
            if me.top_role <= member.top_role:
                raise ModerationError(
                    f"⛔ My top role ({me.top_role.name}) must be above the top role of "
                    f"{mention} ({member.top_role.name}) to {verb} them; move my role higher "
                    "in Server Settings → Roles."
                )
        if spec.bot_permission:
            self.check_bot_permission(guild, spec.bot_permission, f"{verb} members")
        if reason_required and not reason:
            raise ModerationError(
                f"❌ Give a reason: `{spec.case_type.value.lower()} @member <reason>`."
            )
        with self.database_required():
            await self.require_reason(guild.id, reason, spec)
        return ActionTarget(spec=spec, user=user, member=member, reason=reason, silent=silent)

    # --- steps 2-5 ------------------------------------------------------------------------

    async def notify_member(
        self,
        guild: discord.Guild,
        target: ActionTarget,
        *,
        expires_at: datetime | None = None,
    ) -> bool:
        """DM the member about an action; False when their DMs are closed."""
        lines = [target.spec.dm_text.format(guild=discord.utils.escape_markdown(guild.name))]
        if expires_at is not None:
            lines.append(f"**Until:** {timestamp(expires_at)} ({timestamp(expires_at, 'R')})")
        lines.append(f"**Reason:** {target.reason or 'No reason given.'}")
        recipient = target.member
        if recipient is None:
            return False
        try:
            await recipient.send(clip("\n".join(lines)))
        except discord.HTTPException as error:
            self.logger.info(
                "Could not DM %s about a %s: %s", target.user.id, target.spec.verb, error
            )
            return False
        return True

    def _should_dm(self, target: ActionTarget, when: str) -> bool:
        if target.silent or target.spec.dm != when or target.member is None:
            return False
        guild_id = target.member.guild.id
        return bool(self.get_setting("dm_members", True, guild_id))

    async def execute_action(
        self,
        ctx: commands.Context[Any],
        target: ActionTarget,
        *,
        action: Action | None,
        expires_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        close_types: Iterable[CaseType] = (),
        details: str = "",
    ) -> ActionResult:
        """Record, DM, perform ``action``, confirm the case, post it to the mod log, answer.

        The case is committed before anything happens on Discord (DESIGN rule 12): with an
        ``action``, as ``pending`` together with its expiry job; it becomes ``active`` once
        Discord did the action (closing the cases it lifts, ``close_types``, and cancelling
        their expiry jobs in that transaction), or ``voided`` with the reason when Discord
        refused. Without an action (warn, note, poll and snippet bans) the record is the
        action: it is committed ``active`` at once. No database, no action.
        """
        guild = self.require_guild(ctx)
        if ctx.interaction is not None and not ctx.interaction.response.is_done():
            await ctx.defer()
        told_after = self._should_dm(target, "after")

        async def answer(result: ActionResult) -> discord.Message:
            return await self.reply(ctx, self._answer(target, result, details))

        result = await self.perform_action(
            guild,
            target,
            ctx.author.id,
            action=action,
            expires_at=expires_at,
            extra=extra,
            close_types=close_types,
            answer=answer,
        )
        if told_after and result.dm_sent is False and result.answer is not None:
            # The DM turned out closed after the answer left: say so in it (one edit).
            await result.answer.edit(
                content=self._answer(target, result, details),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        return result

    def _answer(self, target: ActionTarget, result: ActionResult, details: str) -> str:
        """The moderator's answer: what was done, the case, the reason, whether they were told."""
        assert result.case is not None
        text = f"{target.spec.emoji} {target.spec.done.format(user=target.mention)}"
        text += f" (Case #{result.case.case_number})"
        if details:
            text += f" {details}"
        text += "."
        if target.reason:
            text += f"\n**Reason:** {target.reason}"
        if target.silent:
            text += "\n🤫 Silent: no DM was sent."
        elif result.dm_sent is False:
            text += "\n📭 Their DMs are closed; they were not told."
        if result.pending_error is not None:
            text += (
                "\n⚠️ The database failed right after the action: the case stays pending and is "
                f"confirmed against Discord at the next start-up. {result.pending_error}"
            )
        return text

    async def perform_action(
        self,
        guild: discord.Guild,
        target: ActionTarget,
        moderator_id: int,
        *,
        action: Action | None,
        expires_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        close_types: Iterable[CaseType] = (),
        answer: Callable[[ActionResult], Coroutine[Any, Any, discord.Message]] | None = None,
    ) -> ActionResult:
        """Steps 2-5: record, DM, act, confirm, then the DM after and the mod log.

        ``answer`` (a command's reply; :meth:`execute_action` gives it) is sent as soon as the
        case is recorded and the action done, before step 5: the moderator waits for the
        record and the action, not for the DM and the mod log. Without it (the automod cog,
        with the bot as the moderator) nothing is answered. Raises :class:`ModerationError`
        when the database is down (nothing done) or Discord refused (the case is voided).
        """
        spec = target.spec
        user = target.user
        # 1. The record first: nothing happens on Discord unless it is committed.
        # A record-only action (warn, note...) is active at once; the others start pending.
        record = self.record_case if action is None else self.record_pending
        with self.database_required():
            case = await record(
                guild.id,
                user.id,
                moderator_id,
                spec.case_type,
                reason=target.reason,
                expires_at=expires_at,
                extra=extra,
                close_types=close_types,
            )

        # 2. DM before a removal (the member cannot be reached afterwards).
        dm_sent: bool | None = None
        if self._should_dm(target, "before"):
            dm_sent = await self.notify_member(guild, target, expires_at=expires_at)

        # 3. The Discord action; a refusal voids the pending case.
        pending_error: str | None = None
        if action is not None:
            try:
                await action()
            except discord.HTTPException as error:
                refusal = discord_refusal(spec, target.mention, error)
                voided = await self._void_after_refusal(case, refusal)
                outcome = (
                    f"Nothing was done (case #{case.case_number} is voided)."
                    if voided
                    else "Nothing was done."
                )
                raise ModerationError(f"❌ {refusal}. {outcome}") from None
            # 4. Confirm: the case becomes active and closes what it lifts.
            try:
                await self.activate_case(case, close_types)
            except Exception as error:
                self.record_error(error)
                pending_error = report(
                    self.bot,
                    error,
                    f"moderation: confirming {spec.case_type.value} case #{case.case_number}",
                )
        result = ActionResult(
            case=case, dm_sent=dm_sent, mod_log_message=None, pending_error=pending_error
        )
        if answer is None:
            return await self.finish_action(guild, target, result, expires_at=expires_at)
        # The answer first, then the DM and the mod log: in a burst of actions the answers do
        # not queue behind the DMs' own requests (opening each member's DM channel).
        try:
            message = await answer(result)
        except Exception:
            await self.finish_action(guild, target, result, expires_at=expires_at)
            raise
        result = await self.finish_action(guild, target, result, expires_at=expires_at)
        return replace(result, answer=message)

    async def finish_action(
        self,
        guild: discord.Guild,
        target: ActionTarget,
        result: ActionResult,
        *,
        expires_at: datetime | None = None,
    ) -> ActionResult:
        """Step 5: the DM after the other actions, then the case in the mod log."""
        case = result.case
        assert case is not None
        dm_sent = result.dm_sent
        if self._should_dm(target, "after"):
            dm_sent = await self.notify_member(guild, target, expires_at=expires_at)
        note = None
        if target.silent:
            note = "Silent: the member was not told."
        elif dm_sent is False:
            note = "The member's DMs are closed: they were not told."
        elif dm_sent:
            note = "The member was told by DM."
        message = await self.log_case(guild, case, user=target.user, note=note)
        return replace(result, dm_sent=dm_sent, mod_log_message=message)
