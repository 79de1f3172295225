"""Background tasks of the advertise cog: the guide's ``UnifiedAdvertiseTasks``, in its shape.

A plain class (not a cog) with ``@tasks.loop`` methods, each waiting for the bot and the cog in
its ``before_loop``, skipping while the cog is paused, and tracked with ``task_context``:

* ``weekly_cleanup`` removes orphaned records (ads ended long ago, ads of servers the bot left);
* ``check_deletions`` (hourly) ends the ads whose post was deleted by hand while the cog did not
  see it happen.

A failed iteration is logged and counted; the loop runs again at the next interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import tasks

if TYPE_CHECKING:
    from fish_bot.cogs.advertise.cog import UnifiedAdvertise


class UnifiedAdvertiseTasks:
    """Tasks for UnifiedAdvertise cog."""

    def __init__(self, cog: UnifiedAdvertise) -> None:
        self.cog = cog
        self.start_tasks()  # Start tasks during initialization

    def start_tasks(self) -> None:
        """Start all background tasks."""
        if not self.weekly_cleanup.is_running():
            self.weekly_cleanup.start()
        if not self.check_deletions.is_running():
            self.check_deletions.start()

    def stop_tasks(self) -> None:
        """Stop all background tasks."""
        self.weekly_cleanup.cancel()
        self.check_deletions.cancel()

    @tasks.loop(hours=168)  # Weekly cleanup
    async def weekly_cleanup(self) -> None:
        if self.cog.is_paused:
            return
        try:
            async with self.cog.task_tracker.task_context("Weekly Cleanup") as tracker:
                removed = await self.cog._cleanup_cooldowns()
                tracker.update_status(f"Removed {removed} records")
        except Exception as error:
            self.cog.logger.error("Weekly cleanup failed: %s", error, exc_info=error)
            self.cog.record_error(error)

    @weekly_cleanup.before_loop
    async def before_weekly_cleanup(self) -> None:
        """Setup for weekly cleanup task."""
        await self.cog.bot.wait_until_ready()
        await self.cog.wait_until_ready()

    @tasks.loop(hours=1)
    async def check_deletions(self) -> None:
        if self.cog.is_paused:
            return
        try:
            async with self.cog.task_tracker.task_context("Ad Deletion Check") as tracker:
                ended = await self.cog._check_deletions()
                tracker.update_status(f"{ended} posts deleted by hand")
        except Exception as error:
            self.cog.logger.error("Ad deletion check failed: %s", error, exc_info=error)
            self.cog.record_error(error)

    @check_deletions.before_loop
    async def before_check_deletions(self) -> None:
        """Setup for the deletion check."""
        await self.cog.bot.wait_until_ready()
        await self.cog.wait_until_ready()

    def status_lines(self) -> list[str]:
        """One line per loop for the status embed."""
        return [
            f"{name}: {'running' if loop.is_running() else 'stopped'}"
            for name, loop in (
                ("Weekly cleanup", self.weekly_cleanup),
                ("Deletion check", self.check_deletions),
            )
        ]
