"""The `reminders` list: one page of a member's reminders, each with a cancel button.

The buttons are routed components (``reminders:page:<member>:<page>`` and
``reminders:cancel:<member>:<reminder>:<page>``): they keep working after a restart, and the
member id is checked against whoever clicks, so nobody else can page through or cancel them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.reminders.constants import CANCEL_ACTION, EMBED_COLOUR, PAGE_ACTION
from fish_bot.core.durations import format_duration
from fish_bot.core.text import plain
from fish_bot.core.views import RoutedView, routed_button
from fish_bot.database.models.reminders import Reminder, ReminderStatus

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.controllers.base import Page


def reminder_line(reminder: Reminder) -> str:
    """One reminder in the list: id, when (a Discord timestamp), repeat, state, then its text."""
    due = reminder.due_at
    when = f"{discord.utils.format_dt(due, 'f')} ({discord.utils.format_dt(due, 'R')})"
    head = f"**#{reminder.id}** · {when}"
    if reminder.repeat_seconds:
        head += f" · every {format_duration(reminder.repeat_seconds)}"
    if reminder.status == ReminderStatus.FAILED.value:
        head += f"\n❌ Not delivered: {plain(reminder.last_error or 'unknown reason', 120)}"
    return f"{head}\n`{plain(reminder.text, 100)}`"


def reminders_page(
    cog: BaseCog, member_id: int, page: Page[Reminder]
) -> tuple[discord.Embed, RoutedView | None]:
    """The embed and buttons of one page of a member's reminders."""
    embed = discord.Embed(title="Your reminders", colour=EMBED_COLOUR)
    if not page.items:
        embed.description = "You have no reminders. Set one with `remind 2h stretch your legs`."
        return embed, None
    embed.description = "\n\n".join(reminder_line(reminder) for reminder in page.items)
    embed.set_footer(text=f"Page {page.page} of {page.pages} · {page.total} in all")
    buttons = [
        routed_button(
            cog,
            CANCEL_ACTION,
            member_id,
            reminder.id,
            page.page,
            label=f"Cancel #{reminder.id}",
            style=discord.ButtonStyle.danger,
        )
        for reminder in page.items
    ]
    if page.pages > 1:
        buttons.append(
            routed_button(
                cog,
                PAGE_ACTION,
                member_id,
                page.page - 1,
                label="Previous",
                disabled=not page.has_previous,
            )
        )
        buttons.append(
            routed_button(
                cog, PAGE_ACTION, member_id, page.page + 1, label="Next", disabled=not page.has_next
            )
        )
    return embed, RoutedView(*buttons)
