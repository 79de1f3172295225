"""The levels cog's loop: write changed XP at a bounded interval, drop quiet servers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.core.tasks import CogTasks, cog_loop

if TYPE_CHECKING:
    from fish_bot.cogs.levels.cog import Levels
    from fish_bot.core.task_tracker import TrackedOperation


class LevelsTasks(CogTasks):
    """The flush loop of the Levels cog."""

    cog: Levels

    def __init__(self, cog: Levels) -> None:
        super().__init__(cog)
        # flush_interval is a setting (time.seconds); read when the cog loads.
        self.flush_xp.change_interval(seconds=cog.get_setting("flush_interval", 10))

    @cog_loop(seconds=10, name="Flush XP")
    async def flush_xp(self, tracker: TrackedOperation) -> None:
        """Write every changed row in one batched upsert, then drop servers gone quiet."""
        written = await self.cog.store.flush()
        evicted = self.cog.store.evict_idle(self.cog.get_setting("idle_eviction", 1800))
        tracker.update_status(f"{written} rows written, {len(evicted)} servers dropped")
