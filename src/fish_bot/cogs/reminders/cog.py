"""The Reminders cog class: settings, the delivery job's handler, composed of mixins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.reminders.commands import CommandsMixin
from fish_bot.cogs.reminders.constants import DELIVER_JOB
from fish_bot.cogs.reminders.delivery import DeliveryMixin
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class Reminders(CommandsMixin, DeliveryMixin, BaseCog):
    """Reminders people trust: on time, once, also when the bot was down at the time."""

    slug = "reminders"

    settings_config = {
        "max_pending": (
            25,
            "How many reminders a member may have waiting at once",
            ["type.int", "range(1,200)"],
        ),
        "max_ahead": (
            17520,
            "How far ahead a reminder may be set (default 2 years)",
            "time.hours(1,87600)",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)

    async def cog_initialize(self) -> None:
        async with self.task_tracker.task_context("Initialization") as tracker:
            await super().cog_initialize()
            self.bot.scheduler.register_handler(DELIVER_JOB, self.deliver)
            self.set_ready(True)
            tracker.update_status("Ready")

    async def cog_unload(self) -> None:
        # Reminders wait in the database (as scheduler jobs) until the cog is loaded again.
        self.bot.scheduler.unregister_handler(DELIVER_JOB)
        await super().cog_unload()
