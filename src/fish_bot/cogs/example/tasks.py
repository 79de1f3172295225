"""Background loops of the example cog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.core.tasks import CogTasks, cog_loop

if TYPE_CHECKING:
    from fish_bot.cogs.example.cog import Example
    from fish_bot.core.task_tracker import TrackedOperation


class ExampleTasks(CogTasks):
    """Tasks for the Example cog."""

    cog: Example

    def __init__(self, cog: Example) -> None:
        super().__init__(cog)
        # The interval is a setting (time.minutes, stored in seconds); read when the cog loads.
        self.heartbeat.change_interval(seconds=cog.get_setting("tick_interval", 60))

    @cog_loop(minutes=1, name="Heartbeat")
    async def heartbeat(self, tracker: TrackedOperation) -> None:
        """Count one tick into the cache data (skipped while the cog is paused everywhere)."""
        ticks = self.cog.record_tick()
        tracker.update_status(f"Tick {ticks}")
