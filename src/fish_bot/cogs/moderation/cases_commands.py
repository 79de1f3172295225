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

The case embed is the moderation log's own (:func:`fish_bot.cogs.moderation.modlog.case_embed`),
so `cases view` and an edited mod-log message look like the message the action posted.

Every list is read one page at a time (``paginate_cases``: a count and one page of rows); users
and moderators are shown as mentions, so no member is fetched per case. Reasons are user text:
no reply pings (the bot's default ``AllowedMentions.none()``, through ``BaseCog.reply``).
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.moderation.constants import ACTIONS, DEFAULT_RANKS, MAX_REASON_LENGTH
from fish_bot.cogs.moderation.modlog import case_embed
from fish_bot.cogs.moderation.utils import timestamp
from fish_bot.core.converters import parse_decimal
from fish_bot.core.decorators import hybrid_group
from fish_bot.core.durations import parse_moment
from fish_bot.core.error_policy import send_interaction
from fish_bot.core.permissions import requires_rank
from fish_bot.core.text import DESCRIPTION_LIMIT, clip, plain
from fish_bot.core.views import FishView
from fish_bot.database.controllers.cases import RESTRICTIONS
from fish_bot.database.models.cases import Case, CaseStatus, CaseType
from fish_bot.database.models.core import LogKind
from fish_bot.exceptions import PermissionDenied, UserFacingError

if TYPE_CHECKING:
    from fish_bot.cogs.moderation.utils import RestrictionCache
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.controllers.base import Page

    _MixinBase = BaseCog
else:
    _MixinBase = object

#: The rank the `cases` commands need by default; `cases modify` needs more.
CASES_RANK: int = DEFAULT_RANKS.get("cases", 2)
CASES_MODIFY_RANK: int = DEFAULT_RANKS.get("cases modify", 4)

#: Cases per page of a list, and how long its buttons work.
CASES_PER_PAGE = 10
CASES_VIEW_TIMEOUT = 180.0

#: How many edits of a case are remembered in ``Case.extra["edits"]``.
MAX_REMEMBERED_EDITS = 20

STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.ACTIVE: "Active",
    CaseStatus.EXPIRED: "Expired",
    CaseStatus.LIFTED: "Lifted",
    CaseStatus.VOIDED: "Voided",
    CaseStatus.PENDING: "Pending",
}

#: Other words people use for case types.
TYPE_ALIASES: dict[str, CaseType] = {
    "mute": CaseType.TIMEOUT,
    "unmute": CaseType.UNTIMEOUT,
    "warning": CaseType.WARN,
    "temp-ban": CaseType.TEMPBAN,
    "softban": CaseType.TEMPBAN,
}


# --- how a case looks ------------------------------------------------------------------------


def case_type_of(case: Case) -> CaseType | None:
    try:
        return CaseType(case.case_type)
    except ValueError:
        return None


def case_label(case: Case) -> str:
    """``🔨 Ban`` for a case's type."""
    kind = case_type_of(case)
    spec = ACTIONS.get(kind) if kind is not None else None
    if spec is None:
        return case.case_type.title()
    return f"{spec.emoji} {spec.label}"


def status_label(status: str) -> str:
    try:
        return STATUS_LABELS[CaseStatus(status)]
    except ValueError:
        return status


def case_detail_embed(
    case: Case,
    *,
    user: discord.abc.User | None = None,
    note: str | None = None,
    show_status: bool = True,
) -> discord.Embed:
    """The mod-log embed of a case (:func:`~fish_bot.cogs.moderation.modlog.case_embed`), with
    its status even when active (``show_status``) and who last edited it.

    ``cases view`` shows it; ``cases modify`` edits the mod-log message to it.
    """
    embed = case_embed(case, user=user, note=note)
    names = [field.name for field in embed.fields]
    if show_status and "Status" not in names:
        at = names.index("Reason") if "Reason" in names else len(names)
        embed.insert_field_at(at, name="Status", value=status_label(case.status), inline=True)
    edits = (case.extra or {}).get("edits") or []
    if edits and case.updated_at is not None:
        last = edits[-1]
        embed.add_field(
            name="Last edited",
            value=f"by <@{last.get('by')}> {timestamp(case.updated_at, 'R')}",
            inline=False,
        )
    return embed


def case_line(case: Case) -> str:
    """One case in a list: number, type, user, reason, then moderator, date and status."""
    reason = clip(discord.utils.escape_markdown(" ".join((case.reason or "no reason").split())), 80)
    return (
        f"`#{case.case_number}` {case_label(case)} · <@{case.user_id}> — {reason}\n"
        f"\u2003by <@{case.moderator_id}> · {timestamp(case.created_at, 'd')} · "
        f"{status_label(case.status)}"
    )


def cases_page_embed(title: str, page: Page[Case], header: str | None = None) -> discord.Embed:
    """One page of a case list."""
    lines = [case_line(case) for case in page.items]
    body = "\n".join(lines) if lines else "No cases match."
    if header:
        body = f"{header}\n\n{body}"
    embed = discord.Embed(
        title=title, description=clip(body, DESCRIPTION_LIMIT), color=discord.Colour.blurple()
    )
    noun = "case" if page.total == 1 else "cases"
    embed.set_footer(text=f"Page {page.page}/{page.pages} · {page.total} {noun}")
    return embed


# --- arguments -------------------------------------------------------------------------------


def parse_case_types(argument: str) -> tuple[CaseType, ...]:
    """``ban`` or ``ban,tempban`` (any case, with a few aliases such as ``mute``)."""
    kinds: list[CaseType] = []
    for part in re.split(r"[,\s]+", argument.strip()):
        if not part:
            continue
        word = part.lower()
        kind = TYPE_ALIASES.get(word)
        if kind is None:
            try:
                kind = CaseType(word.upper().replace("-", ""))
            except ValueError:
                names = ", ".join(t.value.lower() for t in CaseType)
                raise commands.BadArgument(
                    f"Unknown case type `{plain(part)}`: use one of {names}."
                ) from None
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise commands.BadArgument("Name a case type, e.g. `ban` or `warn`.")
    return tuple(kinds)


def parse_case_statuses(argument: str) -> tuple[CaseStatus, ...]:
    """``active`` or ``expired,lifted``."""
    statuses: list[CaseStatus] = []
    for part in re.split(r"[,\s]+", argument.strip()):
        if not part:
            continue
        try:
            status = CaseStatus(part.lower())
        except ValueError:
            names = ", ".join(s.value for s in CaseStatus)
            raise commands.BadArgument(
                f"Unknown case status `{plain(part)}`: use one of {names}."
            ) from None
        if status not in statuses:
            statuses.append(status)
    if not statuses:
        raise commands.BadArgument("Name a case status, e.g. `active`.")
    return tuple(statuses)


def past_moment(argument: str) -> datetime:
    """A moment in the past: ``7d`` (seven days ago), ``12h``, or a date ``2024-05-01``."""
    try:
        return parse_moment(argument.strip(), discord.utils.utcnow(), past=True)
    except ValueError as error:
        raise commands.BadArgument(str(error)) from None


class CaseTypesConverter(commands.Converter[Any], app_commands.Transformer):
    """Case types: ``ban`` or ``ban,tempban`` typed; a choice in slash commands."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> tuple[CaseType, ...]:
        return parse_case_types(argument)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]] | None:
        options: list[app_commands.Choice[int | float | str]] = [
            app_commands.Choice(name=spec.label, value=kind.value) for kind, spec in ACTIONS.items()
        ]
        return options[:25]  # Discord shows at most 25 choices

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return parse_case_types(str(value))


class CaseStatusesConverter(commands.Converter[Any], app_commands.Transformer):
    """Case statuses: ``active`` or ``expired,lifted`` typed; a choice in slash commands."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> tuple[CaseStatus, ...]:
        return parse_case_statuses(argument)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]] | None:
        return [
            app_commands.Choice(name=label, value=status.value)
            for status, label in STATUS_LABELS.items()
        ]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return parse_case_statuses(str(value))


class MomentConverter(commands.Converter[Any], app_commands.Transformer):
    """A moment in the past: ``7d`` means seven days ago; a date such as ``2024-05-01``."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> datetime:
        return past_moment(argument)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return past_moment(str(value))


class CaseNumberConverter(commands.Converter[int], app_commands.Transformer):
    """A case number: ``12`` or ``#12``."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> int:
        return self._number(argument)

    @staticmethod
    def _number(argument: str) -> int:
        number = parse_decimal(argument.strip().lstrip("#"), max_digits=10)
        if number is None or not 0 < number < 2**31:
            raise commands.BadArgument(f"`{plain(argument)}` is not a case number, e.g. `12`.")
        return number

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.integer

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return 2**31 - 1

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return self._number(str(value))


if TYPE_CHECKING:
    CaseTypesArg = tuple[CaseType, ...] | None
    CaseStatusesArg = tuple[CaseStatus, ...] | None
    MomentArg = datetime | None
    CaseNumberArg = int
else:
    CaseTypesArg = CaseTypesConverter
    CaseStatusesArg = CaseStatusesConverter
    MomentArg = MomentConverter
    CaseNumberArg = CaseNumberConverter


class CaseSearchFlags(commands.FlagConverter, delimiter=":", prefix="", case_insensitive=True):
    """``user:@x moderator:@y type:ban status:active since:7d until:1d``."""

    # The annotations are not Optional on purpose: a value that does not convert is an error
    # the user sees, not a filter silently left out.
    user: discord.User = commands.flag(default=None, description="Cases about this user")
    moderator: discord.User = commands.flag(
        default=None, aliases=["mod"], description="Cases this moderator opened"
    )
    case_type: CaseTypesArg = commands.flag(
        name="type", default=None, description="The kind of case, e.g. Ban"
    )
    status: CaseStatusesArg = commands.flag(
        default=None, description="Active, Expired, Lifted or Voided"
    )
    since: MomentArg = commands.flag(
        default=None, description="Only newer cases: 7d (7 days ago), 12h or 2024-05-01"
    )
    until: MomentArg = commands.flag(
        default=None, description="Only older cases: 1d (a day ago) or 2024-05-01"
    )


class CaseModifyFlags(commands.FlagConverter, delimiter=":", prefix="", case_insensitive=True):
    """``cases modify 12 new reason`` or ``cases modify 12 reason:… status:voided``."""

    reason: str = commands.flag(default=None, positional=True, description="The new reason")
    status: CaseStatusesArg = commands.flag(
        default=None, description="The new status: Active, Expired, Lifted or Voided"
    )


# --- the pager -------------------------------------------------------------------------------


class CasesPager(FishView):
    """Previous/Next buttons under a case list.

    Only the member who ran the command can turn the pages, and each click passes the same
    permission model as the command itself (a rank taken away meanwhile stops the buttons).
    After :data:`CASES_VIEW_TIMEOUT` seconds the buttons are disabled.
    """

    def __init__(
        self,
        cog: BaseCog,
        *,
        author_id: int,
        guild_id: int,
        command: Any,
        options: dict[str, Any],
        title: str,
        page: Page[Case],
        header: str | None = None,
    ) -> None:
        super().__init__(cog, timeout=CASES_VIEW_TIMEOUT)
        self.author_id = author_id
        self.guild_id = guild_id
        self.command = command
        self.options = options
        self.title = title
        self.header = header
        self.page = page
        self.message: discord.Message | None = None
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.previous_page.disabled = not self.page.has_previous
        self.next_page.disabled = not self.page.has_next

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Only the invoker, and only while the permission model allows the command."""
        if interaction.user.id != self.author_id:
            await send_interaction(
                interaction,
                f"⛔ Only <@{self.author_id}> can turn these pages; run the command yourself.",
            )
            return False
        try:
            return await self.cog.check_permissions(interaction, command=self.command)
        except PermissionDenied as denial:
            self.cog.logger.info("Case list click denied for %s: %s", interaction.user, denial)
            await send_interaction(interaction, f"⛔ {denial.message}")
            return False

    async def show(self, interaction: discord.Interaction, number: int) -> None:
        """Read page ``number`` (kept within the pages that exist now) and show it."""
        db = self.cog.db.case
        page = await db.paginate_cases(
            self.guild_id, self.options, page=max(1, number), per_page=CASES_PER_PAGE
        )
        if page.page > page.pages:  # cases went away meanwhile
            page = await db.paginate_cases(
                self.guild_id, self.options, page=page.pages, per_page=CASES_PER_PAGE
            )
        self.page = page
        self._update_buttons()
        await interaction.response.edit_message(
            embed=cases_page_embed(self.title, page, self.header),
            view=self,
        )

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        """Show the previous (newer) page."""
        await self.show(interaction, self.page.page - 1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        """Show the next (older) page."""
        await self.show(interaction, self.page.page + 1)

    async def on_timeout(self) -> None:
        """Disable the buttons so nobody clicks a dead control."""
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


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
        embed = cases_page_embed(title, page, header)
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
    async def cases_group(self, ctx: commands.Context[Any]) -> None:
        """List this server's moderation cases, newest first (10 per page).

        `cases view`, `cases search`, `cases history` and `cases modify` do the rest.
        """
        guild = self.require_guild(ctx)
        await self._cases_send_list(ctx, title=f"Cases in {guild.name}", options={})

    # --- view ----------------------------------------------------------------------------

    @cases_group.command(name="view")
    @app_commands.describe(number="The case number, e.g. 12")
    async def cases_view(self, ctx: commands.Context[Any], number: CaseNumberArg) -> None:
        """Show one case: user, moderator, type, status, dates and reason."""
        guild = self.require_guild(ctx)
        case = await self._cases_get(guild.id, number)
        embed = case_detail_embed(case, user=self.bot.get_user(case.user_id))
        await self.reply(ctx, embed=embed)

    # --- search --------------------------------------------------------------------------

    @cases_group.command(name="search")
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
        embed = case_detail_embed(updated, user=self.bot.get_user(updated.user_id))
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
        embed = case_detail_embed(
            case, user=self.bot.get_user(case.user_id), note=note, show_status=False
        )
        try:
            await message.edit(embed=embed)
        except discord.HTTPException:
            self.logger.warning("Editing mod-log message of case %s failed", case.case_number)
            return "Updating its moderation-log message failed."
        return f"The moderation-log message was updated: {message.jump_url}"
