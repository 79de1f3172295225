"""The audit trail in the server logs: `audit` lists it, and each entry is posted as it happens.

Entries are written by the data layer beside every configuration change (see
:mod:`fish_bot.database.controllers.audit`); this module shows them.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.server_config.constants import CONFIG_RANK
from fish_bot.cogs.server_logs.sender import LogEntry
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.durations import parse_moment
from fish_bot.core.permissions import admin_override, requires_rank
from fish_bot.core.text import plain
from fish_bot.core.views import MemberId, RoutedView, component, routed_button
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.controllers.base import Page
    from fish_bot.database.models.audit import AuditEntry

    _MixinBase = BaseCog
else:
    _MixinBase = object

#: Audit entries per page of `audit`.
AUDIT_PER_PAGE = 10
AUDIT_PAGE_ACTION = "audit"

_LABELS = {
    "setting": "Setting",
    "config": "Configuration",
    "rule": "Permission rule",
    "rank": "Role rank",
    "command_rank": "Command rank",
    "module": "Module",
    "automod": "Automod",
}


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return plain(text, 80)


def actor_text(entry: AuditEntry) -> str:
    return f"<@{entry.actor_id}> ({entry.actor_id})" if entry.actor_id else "an operator"


def entry_line(entry: AuditEntry) -> str:
    """One entry of the `audit` list."""
    label = _LABELS.get(entry.action, entry.action)
    when = discord.utils.format_dt(entry.created_at, "R")
    return (
        f"{when} · {actor_text(entry)} · {label} `{plain(entry.target, 60)}`: "
        f"`{_shown(entry.old_value)}` → `{_shown(entry.new_value)}`"
    )


def entry_embed(entry: AuditEntry) -> discord.Embed:
    """An entry as it is posted to the server log."""
    embed = discord.Embed(
        title=f"📝 {_LABELS.get(entry.action, entry.action)} changed",
        colour=discord.Colour.light_grey(),
        timestamp=entry.created_at,
    )
    embed.add_field(name="By", value=actor_text(entry), inline=True)
    embed.add_field(name="What", value=f"`{plain(entry.target, 100)}`", inline=True)
    embed.add_field(name="Before", value=f"`{_shown(entry.old_value)}`", inline=False)
    embed.add_field(name="After", value=f"`{_shown(entry.new_value)}`", inline=False)
    return embed


class AuditMixin(_MixinBase):
    """`audit`, its page buttons, and posting new entries to the server log."""

    if TYPE_CHECKING:  # provided by the Logging class

        async def emit(self, guild_id: int, event: str, entries: list[LogEntry]) -> None: ...

    _audit_tasks: set[asyncio.Task[None]]

    def on_audit_entry(self, entry: AuditEntry) -> None:
        """A committed audit entry: post it to the guild's server log (``config_change``)."""
        if entry.guild_id is None or not self.is_ready:
            return
        task = asyncio.get_running_loop().create_task(
            self.emit(entry.guild_id, "config_change", [LogEntry(entry_embed(entry))])
        )
        self._audit_tasks.add(task)
        task.add_done_callback(self._audit_tasks.discard)

    @hybrid_command(name="audit")
    @commands.guild_only()
    @admin_override()
    @requires_rank(CONFIG_RANK)
    @app_commands.describe(
        member="Only the changes this member made",
        since="Only changes since then: 7d, 12h or a date like 2026-11-01",
    )
    @examples("audit", "audit @Fish", "audit @Fish 7d")
    async def audit_command(
        self,
        ctx: commands.Context[Any],
        member: discord.Member | None = None,
        since: str | None = None,
    ) -> None:
        """List the changes made to the bot's configuration here, newest first.

        Settings, permission rules and ranks, `config` values and paused modules: who changed
        what, from what to what, and when. Examples: `audit`, `audit @Fish`, `audit @Fish 7d`.
        """
        guild = self.require_guild(ctx)
        moment: datetime | None = None
        if since is not None:
            try:
                moment = parse_moment(since, discord.utils.utcnow(), past=True)
            except ValueError as error:
                raise UserFacingError(f"❌ {error}") from None
        actor_id = member.id if member is not None else None
        page = await self.db.audit.list_entries(
            guild.id, actor_id=actor_id, since=moment, per_page=AUDIT_PER_PAGE
        )
        embed, view = self._audit_page(ctx.author.id, actor_id, moment, page)
        await self.reply(ctx, embed=embed, view=view)

    def _audit_page(
        self, invoker: int, actor_id: int | None, since: datetime | None, page: Page[AuditEntry]
    ) -> tuple[discord.Embed, RoutedView | None]:
        embed = discord.Embed(title="Audit trail", colour=discord.Colour.light_grey())
        embed.description = (
            "\n".join(entry_line(entry) for entry in page.items) or "No changes recorded."
        )
        embed.set_footer(text=f"Page {page.page} of {page.pages} · {page.total} changes")
        if page.pages <= 1:
            return embed, None
        stamp = int(since.timestamp()) if since is not None else 0
        args = (invoker, actor_id or 0, stamp)
        return embed, RoutedView(
            routed_button(
                self,
                AUDIT_PAGE_ACTION,
                *args,
                page.page - 1,
                label="Previous",
                disabled=not page.has_previous,
            ),
            routed_button(
                self,
                AUDIT_PAGE_ACTION,
                *args,
                page.page + 1,
                label="Next",
                disabled=not page.has_next,
            ),
        )

    @component(AUDIT_PAGE_ACTION)
    @admin_override()
    @requires_rank(CONFIG_RANK)
    async def on_audit_page(
        self, interaction: discord.Interaction, invoker: MemberId, actor: int, since: int, page: int
    ) -> None:
        """Previous/Next under `audit` (only whoever asked can turn its pages)."""
        if interaction.guild is None:
            return
        moment = datetime.fromtimestamp(since, UTC) if since else None
        shown = await self.db.audit.list_entries(
            interaction.guild.id,
            actor_id=actor or None,
            since=moment,
            page=max(1, page),
            per_page=AUDIT_PER_PAGE,
        )
        embed, view = self._audit_page(invoker, actor or None, moment, shown)
        await interaction.response.edit_message(embed=embed, view=view)
