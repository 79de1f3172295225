"""Commands of the reminders cog: `remind` (with `timezone` and `dm`) and `reminders`.

Everyone may use them, in a server or in direct messages. A reminder belongs to its author:
only they see it in `reminders` (by direct message or, for the slash command, a reply only they
see) and only they can cancel it (commands and the list's buttons check the member).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.reminders.constants import CANCEL_ACTION, PAGE_ACTION, PER_PAGE
from fish_bot.cogs.reminders.utils import check_timezone, plan_reminder, zone_of
from fish_bot.cogs.reminders.views import reminders_page
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.durations import format_duration
from fish_bot.core.permissions import dm_allowed
from fish_bot.core.views import MemberId, component
from fish_bot.database.models.reminders import Reminder
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


def _example(ctx: commands.Context[Any]) -> str:
    if ctx.interaction is not None:
        return "`/remind me when:2h text:stretch your legs`"
    return f"`{ctx.clean_prefix}remind 2h stretch your legs`"


class CommandsMixin(_MixinBase):
    """remind, remind timezone, remind dm, reminders, reminders cancel, reminders clear."""

    if TYPE_CHECKING:  # provided by the Reminders class

        async def schedule_delivery(self, reminder: Reminder) -> int: ...

    # --- remind --------------------------------------------------------------------------

    @hybrid_group(name="remind", aliases=["remindme"], fallback="me", invoke_without_command=True)
    @dm_allowed()
    @app_commands.describe(
        when="When: 10m, 2 hours, tomorrow 9:00, friday 17:30, 2026-12-24 18:00 or every 1d",
        text="What to remind you of",
    )
    @examples(
        "remind 2h stretch your legs",
        "remind tomorrow 9:00 call the bank",
        "remind every 1d drink water",
    )
    async def remind_group(self, ctx: commands.Context[Any], when: str, *, text: str = "") -> None:
        """Remind you of something later, in this channel (or by direct message).

        `when` is a duration (`10m`, `2 hours`, `1d12h`), a date and time in your time zone
        (`tomorrow 9:00`, `friday 17:30`, `2026-12-24 18:00`; set yours with
        `remind timezone`), or `every <duration>` for a reminder that repeats (at least every
        hour). Examples: `remind 2h stretch your legs`, `remind tomorrow 9:00 call the bank`,
        `remind every 1d drink water`.
        """
        now = discord.utils.utcnow()
        preference = await self.db.reminder_preference.get_preference(ctx.author.id)
        zone = zone_of(preference.timezone)
        example = _example(ctx)
        if ctx.interaction is None:  # the prefix form: the time is the first words of the rest
            plan = plan_reminder(f"{when} {text}", None, now, zone, example=example)
        else:
            plan = plan_reminder(when, text, now, zone, example=example)
        guild_id = ctx.guild.id if ctx.guild is not None else None
        ahead = self.get_setting("max_ahead", 730 * 86400, guild_id)
        if (plan.due - now).total_seconds() > ahead:
            raise UserFacingError(
                f"That is too far ahead: reminders can be at most {format_duration(ahead)} "
                f"away. For example: {example}"
            )
        limit = self.get_setting("max_pending", 25, guild_id)
        async with self.db.transaction():
            if await self.db.reminder.count_pending(ctx.author.id) >= limit:
                raise UserFacingError(
                    f"You already have {limit} reminders waiting; cancel one first "
                    "(`reminders` lists them)."
                )
            reminder = await self.db.reminder.create(
                guild_id=guild_id,
                channel_id=ctx.channel.id,
                member_id=ctx.author.id,
                message_id=ctx.message.id if ctx.interaction is None else None,
                text=plan.text,
                created_at=now,
                due_at=plan.due,
                repeat_seconds=plan.repeat_seconds,
            )
            await self.schedule_delivery(reminder)
        when_text = discord.utils.format_dt(plan.due, "f")
        relative = discord.utils.format_dt(plan.due, "R")
        repeat = (
            f", then every {format_duration(plan.repeat_seconds)}" if plan.repeat_seconds else ""
        )
        await self.reply(
            ctx, f"⏰ Reminder #{reminder.id} set for {when_text} ({relative}){repeat}."
        )

    @remind_group.command(name="timezone")
    @dm_allowed()
    @app_commands.describe(name="An IANA time zone, e.g. Europe/Berlin (leave out to see yours)")
    @examples("remind timezone Europe/Berlin", "remind timezone")
    async def remind_timezone(self, ctx: commands.Context[Any], name: str | None = None) -> None:
        """Set the time zone in which `remind` reads dates and times (e.g. Europe/Berlin).

        Without a name it shows yours; `remind timezone UTC` goes back to UTC.
        """
        if name is None:
            current = (await self.db.reminder_preference.get_preference(ctx.author.id)).timezone
            await self.reply(ctx, f"🕒 Your time zone is {current or 'UTC'}.", ephemeral=True)
            return
        zone = check_timezone(name)
        await self.db.reminder_preference.set_timezone(ctx.author.id, zone)
        local = discord.utils.utcnow().astimezone(zone_of(zone)).strftime("%H:%M")
        await self.reply(
            ctx, f"🕒 Your time zone is now {zone} (it is {local} there).", ephemeral=True
        )

    @remind_group.command(name="dm")
    @dm_allowed()
    @app_commands.describe(enabled="on: reminders come by direct message; off: in the channel")
    @examples("remind dm on", "remind dm off")
    async def remind_dm(self, ctx: commands.Context[Any], enabled: bool) -> None:
        """Choose whether your reminders come by direct message (`on`) or in the channel (`off`)."""
        await self.db.reminder_preference.set_dm(ctx.author.id, enabled)
        where = "by direct message" if enabled else "in the channel where you set them"
        await self.reply(ctx, f"📬 Your reminders will come {where}.", ephemeral=True)

    # --- reminders -----------------------------------------------------------------------

    @hybrid_group(name="reminders", fallback="list", invoke_without_command=True)
    @dm_allowed()
    @examples("reminders")
    async def reminders_group(self, ctx: commands.Context[Any]) -> None:
        """List your reminders, soonest first, each with a button that cancels it.

        Only you see the list: in a server it comes by direct message (or, with `/reminders
        list`, as a reply only you see).
        """
        page = await self.db.reminder.list_for_member(ctx.author.id, 1, PER_PAGE)
        embed, view = reminders_page(self, ctx.author.id, page)
        extra: dict[str, Any] = {"embed": embed} | ({"view": view} if view else {})
        if ctx.interaction is not None or ctx.guild is None:
            await ctx.send(ephemeral=True, **extra)
            return
        try:
            await ctx.author.send(**extra)
        except discord.HTTPException:
            raise UserFacingError(
                "I cannot send you a direct message; use `/reminders list`, whose answer only "
                "you see."
            ) from None
        await self.reply(ctx, "📬 I sent you your reminders by direct message.")

    @reminders_group.command(name="cancel")
    @dm_allowed()
    @app_commands.describe(reminder_id="The reminder's number, as `reminders` shows it (e.g. 12)")
    @examples("reminders cancel 12")
    async def reminders_cancel(
        self, ctx: commands.Context[Any], reminder_id: commands.Range[int, 1, 2**53 - 1]
    ) -> None:
        """Cancel one of your reminders by its number."""
        await self._cancel(ctx.author.id, int(reminder_id))
        await self.reply(ctx, f"🗑️ Reminder #{reminder_id} is cancelled.", ephemeral=True)

    @reminders_group.command(name="clear")
    @dm_allowed()
    @examples("reminders clear")
    async def reminders_clear(self, ctx: commands.Context[Any]) -> None:
        """Cancel all of your reminders."""
        async with self.db.transaction():
            cancelled = await self.db.reminder.cancel_all(ctx.author.id)
            for reminder in cancelled:
                if reminder.job_id is not None:
                    await self.bot.scheduler.cancel(reminder.job_id)
        count = len(cancelled)
        noun = "reminder" if count == 1 else "reminders"
        await self.reply(ctx, f"🗑️ Cancelled {count} {noun}.", ephemeral=True)

    async def _cancel(self, member_id: int, reminder_id: int) -> None:
        async with self.db.transaction():
            reminder = await self.db.reminder.cancel(reminder_id, member_id)
            if reminder is None:
                raise UserFacingError(
                    f"You have no reminder #{reminder_id}; `reminders` lists yours."
                )
            if reminder.job_id is not None:
                await self.bot.scheduler.cancel(reminder.job_id)

    # --- the list's buttons --------------------------------------------------------------

    @component(PAGE_ACTION)
    @dm_allowed()
    async def on_page(
        self, interaction: discord.Interaction, member_id: MemberId, page: int
    ) -> None:
        """Previous/Next under the list (only its owner can click them)."""
        shown = await self.db.reminder.list_for_member(member_id, max(1, page), PER_PAGE)
        embed, view = reminders_page(self, member_id, shown)
        await interaction.response.edit_message(embed=embed, view=view)

    @component(CANCEL_ACTION)
    @dm_allowed()
    async def on_cancel(
        self, interaction: discord.Interaction, member_id: MemberId, reminder_id: int, page: int
    ) -> None:
        """A "Cancel #12" button: cancel that reminder and show the page again."""
        await self._cancel(member_id, reminder_id)
        shown = await self.db.reminder.list_for_member(member_id, max(1, page), PER_PAGE)
        if not shown.items and shown.page > 1:
            shown = await self.db.reminder.list_for_member(member_id, shown.pages, PER_PAGE)
        embed, view = reminders_page(self, member_id, shown)
        await interaction.response.edit_message(
            content=f"🗑️ Reminder #{reminder_id} is cancelled.", embed=embed, view=view
        )
