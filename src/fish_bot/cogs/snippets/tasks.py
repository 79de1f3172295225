"""Background loop of the snippets cog: buffered use counts written every 30 seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.snippets.constants import FLUSH_SECONDS
from fish_bot.core.tasks import CogTasks, cog_loop

if TYPE_CHECKING:
    from fish_bot.cogs.snippets.cog import Snippets
    from fish_bot.core.task_tracker import TrackedOperation


class SnippetTasks(CogTasks):
    """Tasks of the Snippets cog."""

    cog: Snippets

    @cog_loop(seconds=FLUSH_SECONDS, name="Write use counts")
    async def flush_uses(self, tracker: TrackedOperation) -> None:
        """Write the uses counted since the last flush (one transaction, batched UPDATEs)."""
        written = await self.cog.flush_uses()
        tracker.update_status(f"{written} uses written")
