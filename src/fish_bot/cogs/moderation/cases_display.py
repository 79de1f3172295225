"""How a case looks in the `cases` commands: labels, list lines, embeds and the list's pager.

The case embed is the moderation log's own (:func:`fish_bot.cogs.moderation.modlog.case_embed`),
so `cases view` and an edited mod-log message look like the message the action posted. Users
and moderators are shown as a mention and their name from the bot's cache (``username (id)``
text, readable where a client does not render the mention), so no member is fetched per case.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.moderation.constants import ACTIONS
from fish_bot.cogs.moderation.modlog import case_embed
from fish_bot.cogs.moderation.utils import UserLookup, timestamp, user_label
from fish_bot.core.error_replies import send_interaction
from fish_bot.core.text import DESCRIPTION_LIMIT, clip
from fish_bot.core.views import FishView
from fish_bot.database.models.cases import Case, CaseStatus, CaseType
from fish_bot.exceptions import PermissionDenied

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.controllers.base import Page

#: Cases per page of a list, and how long its buttons work.
CASES_PER_PAGE = 10
CASES_VIEW_TIMEOUT = 180.0

STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.ACTIVE: "Active",
    CaseStatus.EXPIRED: "Expired",
    CaseStatus.LIFTED: "Lifted",
    CaseStatus.VOIDED: "Voided",
    CaseStatus.PENDING: "Pending",
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
    lookup: UserLookup | None = None,
) -> discord.Embed:
    """The mod-log embed of a case (:func:`~fish_bot.cogs.moderation.modlog.case_embed`), with
    its status even when active (``show_status``) and who last edited it.

    ``cases view`` shows it; ``cases modify`` edits the mod-log message to it.
    """
    embed = case_embed(case, user=user, note=note, lookup=lookup)
    names = [field.name for field in embed.fields]
    if show_status and "Status" not in names:
        at = names.index("Reason") if "Reason" in names else len(names)
        embed.insert_field_at(at, name="Status", value=status_label(case.status), inline=True)
    edits = (case.extra or {}).get("edits") or []
    if edits and case.updated_at is not None:
        last = edits[-1]
        embed.add_field(
            name="Last edited",
            value=f"by {_editor(last.get('by'), lookup)} {timestamp(case.updated_at, 'R')}",
            inline=False,
        )
    return embed


def _editor(user_id: object, lookup: UserLookup | None) -> str:
    return user_label(None, user_id, lookup) if isinstance(user_id, int) else "someone"


def case_line(case: Case, lookup: UserLookup | None = None) -> str:
    """One case in a list: number, type, user, reason, then moderator, date and status."""
    reason = clip(discord.utils.escape_markdown(" ".join((case.reason or "no reason").split())), 80)
    return (
        f"`#{case.case_number}` {case_label(case)} · {user_label(None, case.user_id, lookup)} "
        f"— {reason}\n"
        f"\u2003by {user_label(None, case.moderator_id, lookup)} · "
        f"{timestamp(case.created_at, 'd')} · "
        f"{status_label(case.status)}"
    )


def cases_page_embed(
    title: str, page: Page[Case], header: str | None = None, lookup: UserLookup | None = None
) -> discord.Embed:
    """One page of a case list (names from ``lookup``, the bot's cache)."""
    lines = [case_line(case, lookup) for case in page.items]
    body = "\n".join(lines) if lines else "No cases match."
    if header:
        body = f"{header}\n\n{body}"
    embed = discord.Embed(
        title=title, description=clip(body, DESCRIPTION_LIMIT), color=discord.Colour.blurple()
    )
    noun = "case" if page.total == 1 else "cases"
    embed.set_footer(text=f"Page {page.page}/{page.pages} · {page.total} {noun}")
    return embed


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
            embed=cases_page_embed(self.title, page, self.header, self.cog.bot.get_user),
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
