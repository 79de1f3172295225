"""The `cases` command group of the moderation cog: list, view, search, modify and history.

* ``cases`` lists the server's recent cases, ten per page, with Previous/Next buttons that only
  the invoker can use (and only while the permission model still lets them run the command);
  the buttons are disabled after three minutes.
* ``cases view <n>`` shows one case; ``cases history <user>`` every case of one user.
* ``cases search`` filters by user, moderator, type, status and time. Its options are flags,
  for example ``cases search user:@Fish type:ban,tempban status:active since:7d`` as a prefix
  command, or separate options of the slash command.
* ``cases modify <n>`` changes a case's reason and/or status (``cases modify 12 spam links``,
  ``cases modify 12 status:voided``) and edits the case's message in the moderation log to match.

How a case looks (labels, embeds, the list's pager) is in
:mod:`fish_bot.cogs.moderation.cases_display`; the commands' arguments and flags in
:mod:`fish_bot.cogs.moderation.cases_arguments`.

Every list is read one page at a time (``paginate_cases``: a count and one page of rows); users
and moderators are shown as mentions with their cached names, so no member is fetched per case.
Reasons are user text: no reply pings (the bot's default ``AllowedMentions.none()``, through
``BaseCog.reply``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.moderation.cases_arguments import (
    CaseModifyFlags,
    CaseNumberArg,
    CaseSearchFlags,
)
from fish_bot.cogs.moderation.cases_display import (
    CASES_PER_PAGE,
    CasesPager,
    case_detail_embed,
    case_label,
    case_type_of,
    cases_page_embed,
    status_label,
)
from fish_bot.cogs.moderation.constants import DEFAULT_RANKS, MAX_REASON_LENGTH
from fish_bot.cogs.moderation.utils import timestamp
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import RankRequirement, requires_rank
from fish_bot.database.controllers.cases import RESTRICTIONS
from fish_bot.database.models.cases import Case, CaseStatus, CaseType
from fish_bot.database.models.core import LogKind
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.cogs.moderation.utils import RestrictionCache
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object

#: The rank the `cases` commands need by default; `cases modify` needs more.
CASES_RANK: RankRequirement = DEFAULT_RANKS["cases"]
CASES_MODIFY_RANK: RankRequirement = DEFAULT_RANKS["cases modify"]

#: How many edits of a case are remembered in ``Case.extra["edits"]``.
MAX_REMEMBERED_EDITS = 20


# --- the commands ----------------------------------------------------------------------------


class CasesCommandsMixin(_MixinBase):
    """cases, cases view/search/modify/history."""

    if TYPE_CHECKING:  # provided by the Moderation class
        restrictions: dict[CaseType, RestrictionCache]

    # --- helpers -------------------------------------------------------------------------

    async def _cases_send_list(
        self,
        ctx: commands.Context[Any],
        *,
        title: str,
        options: dict[str, Any],
        header: str | None = None,
    ) -> None:
        """Send the first page of a case list, with buttons when there is more than one."""
        guild = self.require_guild(ctx)
        page = await self.db.case.paginate_cases(guild.id, options, page=1, per_page=CASES_PER_PAGE)
        embed = cases_page_embed(title, page, header, self.bot.get_user)
        if page.pages <= 1:
            await self.reply(ctx, embed=embed)
            return
        view = CasesPager(
            self,
            author_id=ctx.author.id,
            guild_id=guild.id,
            command=ctx.command,
            options=options,
            title=title,
            page=page,
            header=header,
        )
        view.message = await self.reply(ctx, embed=embed, view=view)

    async def _cases_get(self, guild_id: int, number: int) -> Case:
        case = await self.db.case.get_case_by_number(guild_id, number)
        if case is None:
            raise UserFacingError(f"There is no case #{number} in this server.")
        return case

    # --- the group: recent cases ---------------------------------------------------------

    @hybrid_group(name="cases", fallback="list", invoke_without_command=True)
    @commands.guild_only()
    @requires_rank(CASES_RANK)
    @examples("cases", "cases list")
    async def cases_group(self, ctx: commands.Context[Any]) -> None:
        """List this server's moderation cases, newest first (10 per page).

        `cases view`, `cases search`, `cases history` and `cases modify` do the rest.
        """
        guild = self.require_guild(ctx)
        await self._cases_send_list(ctx, title=f"Cases in {guild.name}", options={})

    # --- view ----------------------------------------------------------------------------

    @cases_group.command(name="view")
    @app_commands.describe(number="The case number, e.g. 12")
    @examples("cases view 12")
    async def cases_view(self, ctx: commands.Context[Any], number: CaseNumberArg) -> None:
        """Show one case: user, moderator, type, status, dates and reason."""
        guild = self.require_guild(ctx)
        case = await self._cases_get(guild.id, number)
        embed = case_detail_embed(case, lookup=self.bot.get_user)
        await self.reply(ctx, embed=embed)

    # --- search --------------------------------------------------------------------------

    @cases_group.command(name="search")
    @examples("cases search user:@bob", "cases search type:ban,tempban status:active since:7d")
    async def cases_search(self, ctx: commands.Context[Any], *, flags: CaseSearchFlags) -> None:
        """Find cases by user, moderator, type, status and time.

        Example: `cases search user:@Fish type:ban,tempban status:active since:7d`.
        `since:7d` means the last seven days; `until:` takes the same values (or a date such as
        2024-05-01). Without any filter it lists every case.
        """
        self.require_guild(ctx)
        options: dict[str, Any] = {}
        described: list[str] = []
        if flags.user is not None:
            options["user_id"] = flags.user.id
            described.append(f"user {flags.user.mention}")
        if flags.moderator is not None:
            options["moderator_id"] = flags.moderator.id
            described.append(f"moderator {flags.moderator.mention}")
        if flags.case_type:
            options["case_type"] = list(flags.case_type)
            described.append("type " + ", ".join(t.value.lower() for t in flags.case_type))
        if flags.status:
            options["status"] = list(flags.status)
            described.append("status " + ", ".join(s.value for s in flags.status))
        if flags.since is not None:
            options["since"] = flags.since
            described.append(f"since {timestamp(flags.since)}")
        if flags.until is not None:
            options["until"] = flags.until
            described.append(f"until {timestamp(flags.until)}")
        if flags.since is not None and flags.until is not None and flags.since > flags.until:
            raise UserFacingError("`since:` must be before `until:`.")
        header = ("Filters: " + " · ".join(described)) if described else "No filters: all cases."
        await self._cases_send_list(ctx, title="Case search", options=options, header=header)

    # --- history -------------------------------------------------------------------------

    @cases_group.command(name="history")
    @app_commands.describe(user="The member or user (a user who left works too, by id)")
    @examples("cases history @bob")
    async def cases_history(self, ctx: commands.Context[Any], user: discord.User) -> None:
        """Show every case of one user, newest first, and what is in force now."""
        guild = self.require_guild(ctx)
        active = await self.db.case.get_cases_by_options(
            guild.id,
            {
                "user_id": user.id,
                "case_type": list(RESTRICTIONS),
                "status": CaseStatus.ACTIVE,
            },
            limit=10,
        )
        header = f"{user.mention} (`{user.id}`)"
        if active:
            header += "\nIn force: " + ", ".join(
                f"{case_label(case)} `#{case.case_number}`" for case in active
            )
        await self._cases_send_list(
            ctx,
            title=f"Case history of {user}",
            options={"user_id": user.id},
            header=header,
        )

    # --- modify --------------------------------------------------------------------------

    @cases_group.command(name="modify")
    @requires_rank(CASES_MODIFY_RANK)
    @app_commands.describe(number="The case number, e.g. 12")
    @examples("cases modify 12 reason:spamming links", "cases modify 12 status:voided")
    async def cases_modify(
        self, ctx: commands.Context[Any], number: CaseNumberArg, *, flags: CaseModifyFlags
    ) -> None:
        """Change a case's reason and/or status; its moderation-log message is edited to match.

        Examples: `cases modify 12 Spamming invite links`, `cases modify 12 status:voided`,
        `cases modify 12 reason:Wrong member status:voided`. Changing the status only changes
        the record: it does not ban or unban anyone.
        """
        guild = self.require_guild(ctx)
        reason = " ".join(flags.reason.split()) if flags.reason is not None else None
        if flags.reason is not None and not reason:
            raise UserFacingError("The new reason is empty.")
        if reason is not None and len(reason) > MAX_REASON_LENGTH:
            raise UserFacingError(
                f"A reason is at most {MAX_REASON_LENGTH} characters; this one has {len(reason)}."
            )
        status: CaseStatus | None = None
        if flags.status:
            if len(flags.status) > 1:
                raise UserFacingError("Give one status, e.g. `status:voided`.")
            status = flags.status[0]
        if reason is None and status is None:
            raise UserFacingError(
                "Give a new reason, a new status or both, e.g. "
                f"`cases modify {number} Spamming links` or `cases modify {number} status:voided`."
            )

        async with self.task_tracker.task_context("Modify case"):
            result = await self._cases_apply_changes(ctx, guild, number, reason, status)
            if result is None:
                await self.reply(
                    ctx, f"Case #{number} already has that reason and status: nothing changed."
                )
                return
            updated, summary = result
            log_note = await self._cases_edit_log_message(guild, updated)
        text = f"✏️ Case #{number} updated: {', '.join(summary)}. {log_note}"
        embed = case_detail_embed(updated, lookup=self.bot.get_user)
        await self.reply(ctx, text, embed=embed)

    async def _cases_apply_changes(
        self,
        ctx: commands.Context[Any],
        guild: discord.Guild,
        number: int,
        reason: str | None,
        status: CaseStatus | None,
    ) -> tuple[Case, list[str]] | None:
        """Store a new reason and/or status (and who changed what in ``extra["edits"]``).

        Returns the updated case and what changed, or None when nothing would change.
        """
        case = await self._cases_get(guild.id, number)
        changes: dict[str, Any] = {}
        summary: list[str] = []
        if reason is not None and reason != (case.reason or ""):
            changes["reason"] = reason
            summary.append("reason changed")
        if status is not None and status.value != case.status:
            changes["status"] = status.value
            summary.append(f"status {status_label(case.status)} → {status_label(status)}")
        if not changes:
            return None
        now = discord.utils.utcnow()
        extra = dict(case.extra or {})
        edits = list(extra.get("edits") or [])
        edits.append(
            {
                "by": ctx.author.id,
                "at": now.isoformat(),
                "reason": case.reason,
                "status": case.status,
            }
        )
        extra["edits"] = edits[-MAX_REMEMBERED_EDITS:]
        assert case.id is not None
        updated = await self.db.case.update_by_id(case.id, **changes, extra=extra, updated_at=now)
        if updated is None:
            raise UserFacingError(f"Case #{number} was deleted meanwhile.")
        kind = case_type_of(case)
        cache = self.restrictions.get(kind) if kind is not None else None
        if "status" in changes and cache is not None:
            # A poll ban voided or made active again: the poll listener reads the list afresh.
            await self.db.service.after_commit(partial(cache.invalidate, guild.id))
        return updated, summary

    async def _cases_edit_log_message(self, guild: discord.Guild, case: Case) -> str:
        """Edit the case's message in the moderation log; returns a sentence saying what
        happened (the case itself is already saved)."""
        if case.mod_log_message_id is None:
            return "It has no moderation-log message to update."
        extra = case.extra or {}
        channel_id = extra.get("mod_log_channel_id") or await self.db.guild_config.get_log_channel(
            guild.id, LogKind.MOD
        )
        channel = guild.get_channel_or_thread(int(channel_id)) if channel_id else None
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return "There is no moderation-log channel now, so its message was not updated."
        try:
            message = await channel.fetch_message(case.mod_log_message_id)
        except discord.NotFound:
            return (
                "Its moderation-log message is gone (deleted, or the log moved to another "
                "channel), so only the case was updated."
            )
        except discord.Forbidden:
            return "I can't read the moderation-log channel, so its message was not updated."
        except discord.HTTPException:
            self.logger.warning("Fetching mod-log message of case %s failed", case.case_number)
            return "I couldn't reach its moderation-log message, so it was not updated."
        me = self.bot.user
        if me is None or message.author.id != me.id:
            return "Its moderation-log message is not mine, so I can't update it."
        # The same embed the mod log posted, with the footer (how the member was told) kept.
        note = message.embeds[0].footer.text if message.embeds else None
        embed = case_detail_embed(case, note=note, show_status=False, lookup=self.bot.get_user)
        try:
            await message.edit(embed=embed)
        except discord.HTTPException:
            self.logger.warning("Editing mod-log message of case %s failed", case.case_number)
            return "Updating its moderation-log message failed."
        return f"The moderation-log message was updated: {message.jump_url}"
