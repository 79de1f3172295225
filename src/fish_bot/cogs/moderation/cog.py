"""The Moderation cog class, composed of its mixins."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.moderation.cases_commands import CasesCommandsMixin
from fish_bot.cogs.moderation.commands import ModerationCommandsMixin
from fish_bot.cogs.moderation.external import ExternalActionsMixin
from fish_bot.cogs.moderation.jobs import ModerationJobs
from fish_bot.cogs.moderation.listeners import ModerationListenersMixin
from fish_bot.cogs.moderation.utils import RestrictionCache
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.text import field
from fish_bot.database.models.cases import CaseType

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class Moderation(
    ModerationCommandsMixin,
    CasesCommandsMixin,
    ModerationListenersMixin,
    ExternalActionsMixin,
    BaseCog,
):
    """Cases, moderation actions, timed expiries and the mod log."""

    slug = "moderation"
    settings_config = {
        "dm_members": (
            True,
            "Tell members by DM about actions taken against them (--silent skips it once)",
            "type.bool",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        #: Poll-banned users per guild, read once per guild (the poll listener does no I/O).
        self.pollbans = RestrictionCache(bot.db, CaseType.POLLBAN)
        #: The restriction caches by case type, kept in step when such a case opens or closes.
        self.restrictions = {CaseType.POLLBAN: self.pollbans}
        self.jobs = ModerationJobs(self)
        self._reconcile_task: asyncio.Task[None] | None = None

    async def cog_initialize(self) -> None:
        try:
            async with self.task_tracker.task_context("Initialization") as tracker:
                await super().cog_initialize()
                tracker.update_status("Registering expiry jobs")
                self.jobs.register()
                # Pending cases left by a crash are settled once the guilds are there.
                self._reconcile_task = asyncio.create_task(
                    self._reconcile_at_start(), name="fish-bot-moderation-reconcile"
                )
                self.set_ready(True)
                tracker.update_status("Ready")
        except Exception:
            self._has_errors = True
            raise

    async def _reconcile_at_start(self) -> None:
        """Settle the pending cases a crash left (checked against Discord) after ready."""
        await self.bot.wait_until_ready()
        try:
            async with self.task_tracker.task_context("Reconcile pending cases") as tracker:
                counts = await self.reconcile_pending_cases()
                tracker.update_status(
                    f"{counts['active']} active, {counts['voided']} voided, "
                    f"{counts['unresolved']} unresolved"
                )
        except Exception:
            # Logged; the cases stay pending and the next start-up (or their expiry) tries again.
            self.logger.exception("Could not reconcile the pending moderation cases")

    async def cog_unload(self) -> None:
        if self._reconcile_task is not None and not self._reconcile_task.done():
            self._reconcile_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconcile_task
        self.jobs.unregister()
        self.pollbans.invalidate()
        await super().cog_unload()

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        stats = self.bot.scheduler.stats
        pending = await self.bot.scheduler.pending_count(*self.jobs.handlers)
        embed.add_field(name="Pending expiries", value=str(pending))
        if stats.get("last_error"):
            embed.add_field(name="Scheduler", value=field(str(stats["last_error"])), inline=False)
