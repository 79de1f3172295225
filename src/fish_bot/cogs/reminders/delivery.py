"""Delivering reminders: the ``reminders.deliver`` job handler.

Each job names a reminder and the occurrence it delivers. The handler is idempotent, so a job
that runs twice (the scheduler delivers *at least once*: after a crash a job runs again)
delivers nothing twice:

1. A reminder that is no longer pending, or whose occurrence moved on, is left alone.
2. Before sending, the reminder is marked ``sending_at``; once sent, the delivery is recorded
   (a one-off becomes ``delivered``; a repeating one moves to its next occurrence and job, in one
   transaction) and the mark is cleared.
3. A run that finds the mark set (an earlier run stopped between sending and recording) looks
   through the recent messages where it would have posted for the delivery's marker line
   (``Reminder #12``) and only records it when it is there.

A reminder goes to the channel it was set in, pinging only its author (the text cannot ping
anyone: ``@everyone``, roles and other members are not allowed mentions), or by direct message
when the member chose that (``remind dm on``) or the channel is gone. When neither works it is
marked ``failed`` and shown as such by ``reminders``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.reminders.constants import DELIVER_JOB, HISTORY_LOOKBACK
from fish_bot.cogs.reminders.utils import delivery_text, marker, next_due
from fish_bot.database.models.reminders import Reminder, ReminderStatus

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.models.scheduler import ScheduledJob

    _MixinBase = BaseCog
else:
    _MixinBase = object


class DeliveryMixin(_MixinBase):
    """The job handler that delivers reminders, and scheduling their jobs."""

    async def schedule_delivery(self, reminder: Reminder) -> int:
        """Schedule the job of the reminder's next occurrence (joins an open transaction)."""
        assert reminder.id is not None
        job_id = await self.bot.scheduler.schedule(
            DELIVER_JOB,
            reminder.due_at,
            {"reminder_id": reminder.id, "occurrence": reminder.occurrence},
            guild_id=reminder.guild_id,
        )
        await self.db.reminder.set_job(reminder.id, job_id)
        return job_id

    async def deliver(self, job: ScheduledJob) -> None:
        """Deliver one occurrence of a reminder (the scheduler calls this when it is due)."""
        reminder_id = int(job.payload["reminder_id"])
        occurrence = int(job.payload.get("occurrence", 0))
        async with self.task_tracker.task_context("Deliver reminder") as tracker:
            reminder = await self.db.reminder.get_by_id(reminder_id)
            if (
                reminder is None
                or reminder.status != ReminderStatus.PENDING.value
                or reminder.occurrence != occurrence
            ):
                tracker.update_status("Already delivered or cancelled")
                return
            now = discord.utils.utcnow()
            if reminder.sending_at is not None and await self._already_posted(reminder):
                tracker.update_status("Found the delivery of an interrupted run")
                await self._record(reminder, now)
                return
            marked = await self.db.reminder.mark_sending(reminder_id, occurrence, now)
            if marked is None:  # cancelled meanwhile
                return
            problem = await self._send(marked, now)
            if problem is None:
                await self._record(marked, now)
                tracker.update_status("Delivered")
            else:
                await self.db.reminder.mark_failed(reminder_id, occurrence, problem)
                tracker.update_status("Failed")
                self.logger.info("Reminder %s could not be delivered: %s", reminder_id, problem)

    async def _record(self, reminder: Reminder, now: datetime) -> None:
        """Record a delivery: a one-off is done, a repeating one moves to its next occurrence."""
        assert reminder.id is not None
        if not reminder.repeat_seconds:
            await self.db.reminder.mark_delivered(reminder.id, reminder.occurrence, now)
            return
        async with self.db.transaction():
            advanced = await self.db.reminder.advance(
                reminder.id, reminder.occurrence, now, next_due(reminder, now)
            )
            if advanced is not None:
                await self.schedule_delivery(advanced)

    # --- where it goes ---------------------------------------------------------------------

    async def _channel(self, reminder: Reminder) -> discord.abc.Messageable | None:
        channel: Any = self.bot.get_channel(reminder.channel_id)
        if channel is None and reminder.guild_id is not None:
            try:
                channel = await self.bot.fetch_channel(reminder.channel_id)
            except (discord.NotFound, discord.Forbidden, discord.HTTPException):
                return None
        if reminder.guild_id is None:
            return None  # set in direct messages: delivered there
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def _dm(self, reminder: Reminder) -> discord.abc.Messageable | None:
        user = self.bot.get_user(reminder.member_id)
        if user is None:
            try:
                user = await self.bot.fetch_user(reminder.member_id)
            except (discord.NotFound, discord.HTTPException):
                return None
        try:
            return user.dm_channel or await user.create_dm()
        except discord.HTTPException:
            return None

    async def _destinations(self, reminder: Reminder) -> AsyncIterator[discord.abc.Messageable]:
        """Where the reminder can go, best first (the direct message is opened only if needed)."""
        preference = await self.db.reminder_preference.get_preference(reminder.member_id)
        channel = await self._channel(reminder)
        if channel is not None and not preference.dm:
            yield channel
        dm = await self._dm(reminder)
        if dm is not None:
            yield dm
        if channel is not None and preference.dm:
            yield channel

    async def _send(self, reminder: Reminder, now: datetime) -> str | None:
        """Post the reminder; None when it was delivered, otherwise why it could not be."""
        mentions = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(reminder.member_id)]
        )
        content = delivery_text(reminder, now)
        problems: list[str] = []
        async for target in self._destinations(reminder):
            try:
                await target.send(content, allowed_mentions=mentions)
                return None
            except discord.Forbidden:
                problems.append("not allowed to post there")
            except discord.HTTPException as error:
                problems.append(f"Discord refused it ({error.status})")
        if not problems:
            return "its channel is gone and I cannot reach you by direct message"
        return "; ".join(dict.fromkeys(problems))

    async def _already_posted(self, reminder: Reminder) -> bool:
        """Whether an interrupted run already posted this occurrence (found by its marker)."""
        assert reminder.sending_at is not None
        line = f"-# {marker(reminder)} ·"
        since = reminder.sending_at - timedelta(seconds=5)
        me = self.bot.user
        async for target in self._destinations(reminder):
            try:
                async for message in target.history(limit=HISTORY_LOOKBACK, after=since):
                    if me is not None and message.author.id == me.id and line in message.content:
                        return True
            except discord.HTTPException:
                continue
        return False
