"""The Example cog class: settings, cache data, tasks, jobs and status, composed of mixins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.example.commands import CommandsMixin
from fish_bot.cogs.example.constants import REMINDER_JOB
from fish_bot.cogs.example.listeners import ListenersMixin
from fish_bot.cogs.example.tasks import ExampleTasks
from fish_bot.cogs.example.utils import default_cache, guild_key, repair_cache
from fish_bot.core import text
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.bot import FishBot
    from fish_bot.database.models.scheduler import ScheduledJob


class Example(CommandsMixin, ListenersMixin, BaseCog):
    """A counter, a button, a heartbeat loop and reminders: the framework by example."""

    slug = "example"

    settings_config = {
        # Cache data
        "cache_filename": (
            "example_cache.json",
            "File name of the cache data, in the cog's data folder",
            ["type.str", r"pattern([A-Za-z0-9_.-]+\.json)"],
        ),
        "cache_save_interval": (
            300,
            "How often modified cache data is written to disk",
            "time.seconds(10,3600)",
        ),
        # The heartbeat loop
        "tick_interval": (
            1,
            "How often the heartbeat loop counts a tick (read when the cog loads)",
            "time.minutes(1,60)",
        ),
        # Commands
        "count_step": (1, "How much `example count` adds", ["type.int", "range(1,100)"]),
        "greeting": (
            "Hello from the example cog!",
            "The first line of `example show`",
            ["type.str", "length(1,200)"],
        ),
        "tags": (
            ["fish", "example"],
            "Words shown under `example show`",
            "collection.list(item_type=str,unique=true,max_length=10)",
        ),
        # Reminders (scheduled jobs)
        "reminder_channel": (
            None,
            "Where reminders are posted (not set: the channel of the command)",
            "discord.channel",
        ),
        "max_reminder_delay": (
            24,
            "Longest delay `example remind` accepts",
            "time.hours(1,168)",
        ),
        # The listener
        "count_messages": (
            False,
            "Count the messages members send (shown by `example show`)",
            "type.bool",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        self._cache: dict[str, Any] = default_cache()
        self.tasks: ExampleTasks | None = None

    # --- properties --------------------------------------------------------------------------

    @property
    def cache_file(self) -> Path:
        """Get the cache file path."""
        return self.data_directory / self.get_setting("cache_filename")

    # --- lifecycle ---------------------------------------------------------------------------

    async def cog_initialize(self) -> None:
        try:
            async with self.task_tracker.task_context("Initialization") as tracker:
                await super().cog_initialize()

                # Settings are already loaded by BaseCog automatically

                # Load cog-specific cache data
                tracker.update_status("Loading cache data")
                loaded = await self.load_data(self.cache_file, default=default_cache())
                self._cache, repaired = repair_cache(loaded)
                if repaired:
                    self.logger.warning("Cache data had a wrong shape; repaired it")
                    self.mark_data_modified(self.cache_file)

                # Start periodic saves for cache data
                await self.create_periodic_save_task(
                    self._cache,
                    self.cache_file,
                    self.get_setting("cache_save_interval", 300),
                )

                tracker.update_status("Starting tasks")
                self.bot.scheduler.register_handler(REMINDER_JOB, self.run_reminder)
                self.tasks = ExampleTasks(self)
                self.tasks.start_tasks()

                self.set_ready(True)
                tracker.update_status("Ready")
        except Exception:
            self._has_errors = True
            raise

    async def cog_unload(self) -> None:
        try:
            # Reminders wait in the database until the cog is loaded again
            self.bot.scheduler.unregister_handler(REMINDER_JOB)

            # Save cache data one last time
            if self.is_data_modified():
                await self.save_data_if_modified(self._cache, self.cache_file, force=True)

            # Cancel save tasks
            self.cancel_save_tasks()

            await super().cog_unload()
        except Exception as e:
            self.logger.error(f"Error during unload: {e}")
            raise

    # --- cache data ----------------------------------------------------------------------------

    def count(self, section: str, guild_id: int) -> int:
        """A guild's count in a section of the cache data (0 when it has none)."""
        value = self._cache[section].get(guild_key(guild_id), 0)
        return int(value)

    def add(self, section: str, guild_id: int, amount: int = 1) -> int:
        """Add to a guild's count, mark the cache data modified; returns the new count."""
        counts = self._cache[section]
        key = guild_key(guild_id)
        counts[key] = int(counts.get(key, 0)) + amount
        self.mark_data_modified(self.cache_file)
        return int(counts[key])

    @property
    def ticks(self) -> int:
        """How many heartbeats the loop has counted (kept across restarts)."""
        return int(self._cache["ticks"])

    def record_tick(self) -> int:
        """Count one heartbeat."""
        self._cache["ticks"] = self.ticks + 1
        self.mark_data_modified(self.cache_file)
        return self.ticks

    # --- scheduled jobs ------------------------------------------------------------------------

    async def run_reminder(self, job: ScheduledJob) -> None:
        """Post a reminder (the scheduler calls this when the job is due, even after a restart).

        It may run twice after a crash (at-least-once), which for a reminder is harmless.
        """
        async with self.task_tracker.task_context("Reminder") as tracker:
            payload = job.payload
            channel = self.bot.get_channel(int(payload["channel_id"]))
            if not isinstance(channel, discord.abc.Messageable):
                tracker.update_status("Channel gone; reminder dropped")
                self.logger.warning(
                    "Reminder %s: channel %s is gone", job.id, payload["channel_id"]
                )
                return
            user_id = int(payload["user_id"])
            await channel.send(
                f"⏰ <@{user_id}>, you asked me to remind you: {payload['text']}",
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[discord.Object(user_id)]
                ),
            )
            tracker.update_status("Posted")

    # --- status --------------------------------------------------------------------------------

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        """The cog's own fields under the standard ones of ``status example``."""
        counted = sum(self._cache["counters"].values())
        embed.add_field(
            name="Counted", value=f"{counted} in {len(self._cache['counters'])} servers"
        )
        embed.add_field(name="Heartbeats", value=str(self.ticks))
        if self.tasks is not None:
            embed.add_field(
                name="Loops", value=text.field("\n".join(self.tasks.status_lines())), inline=False
            )
        pending = await self.bot.scheduler.pending_count(REMINDER_JOB)
        embed.add_field(name="Pending reminders", value=str(pending))
