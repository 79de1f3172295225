"""The UnifiedAdvertise cog class: settings, the expiry job's handler, tasks, status."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.advertise.commands import CommandsMixin
from fish_bot.cogs.advertise.constants import EXPIRE_JOB
from fish_bot.cogs.advertise.flow import FlowMixin
from fish_bot.cogs.advertise.listeners import ListenersMixin
from fish_bot.cogs.advertise.tasks import UnifiedAdvertiseTasks
from fish_bot.core import text
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class UnifiedAdvertise(CommandsMixin, ListenersMixin, FlowMixin, BaseCog):
    """Ads in a forum channel: one per member and per server per cooldown, removed when it ends."""

    slug = "advertise"

    settings_config = {
        "forum_channel": (
            None,
            "The forum channel ads are posted in (not set: `advertise` says how to set it)",
            "discord.channel",
        ),
        "cooldown_hours": (
            24,
            "Hours between two ads of a member (or for a server); an ad is removed after them",
            ["type.int", "range(1,720)"],
        ),
        "dm_on_expiry": (
            True,
            "Tell the author by direct message when their ad ends",
            "type.bool",
        ),
        "tag_mapping": (
            {"guild": "Server", "member": "Member"},
            "The forum tag each type of ad gets (type -> the tag's name)",
            "collection.dict(value_type=str)",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        self.tasks: UnifiedAdvertiseTasks | None = None  # Tasks instance
        self._deleting: set[int] = set()

    async def cog_initialize(self) -> None:
        try:
            async with self.task_tracker.task_context("Initialization"):
                await super().cog_initialize()
                self.bot.scheduler.register_handler(EXPIRE_JOB, self.expire)
                # Initialize tasks
                self.tasks = UnifiedAdvertiseTasks(self)
                self.set_ready(True)
        except Exception:
            self._has_errors = True
            raise

    async def cog_unload(self) -> None:
        """Clean up tasks on unload."""
        # Expiry jobs wait in the database until the cog is loaded again.
        self.bot.scheduler.unregister_handler(EXPIRE_JOB)
        if self.tasks:
            self.tasks.stop_tasks()
        await super().cog_unload()

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        """The cog's own fields under the standard ones of ``status advertise``."""
        live = await self.db.advert.live_ads()
        embed.add_field(name="Ads up", value=str(len(live)))
        pending = await self.bot.scheduler.pending_count(EXPIRE_JOB)
        embed.add_field(name="Pending expiries", value=str(pending))
        if self.tasks is not None:
            embed.add_field(
                name="Loops", value=text.field("\n".join(self.tasks.status_lines())), inline=False
            )
