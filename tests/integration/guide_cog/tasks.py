"""The guide's "tasks.py - Background Task Implementation": a plain class, not a cog."""

from __future__ import annotations

from typing import Any

from discord.ext import tasks


class FeatureTasks:
    """Tasks for Feature cog."""

    def __init__(self, cog: Any) -> None:
        self.cog = cog
        self.start_tasks()  # Start tasks during initialization

    def start_tasks(self):
        """Start all background tasks."""
        if not self.weekly_cleanup.is_running():
            self.weekly_cleanup.start()
        if not self.check_deletions.is_running():
            self.check_deletions.start()

    def stop_tasks(self):
        """Stop all background tasks."""
        self.weekly_cleanup.cancel()
        self.check_deletions.cancel()

    @tasks.loop(hours=168)  # Weekly cleanup
    async def weekly_cleanup(self):
        async with self.cog.task_tracker.task_context("Weekly Cleanup"):
            await self.cog._cleanup_cooldowns()

    @weekly_cleanup.before_loop
    async def before_weekly_cleanup(self):
        """Setup for weekly cleanup task."""
        await self.cog.bot.wait_until_ready()
        await self.cog.wait_until_ready()

    @tasks.loop(minutes=1)
    async def check_deletions(self):
        if self.cog.is_paused:
            return

        async with self.cog.task_tracker.task_context("Ad Deletion Check"):
            # Task implementation
            self.cog.deletion_checks += 1
