"""A cog's status: its state, the embed ``status <module>`` shows, and the error record.

:class:`CogStatusMixin` is part of every :class:`~fish_bot.core.base_cog.BaseCog`. With the
guide's names: ``self._has_errors``, ``self._last_operation_time`` (the end of the last tracked
operation, or when the cog was built; a cog may also set it), ``create_status_embed()`` (with a
"Last operation" field, the task statistics, the loops of the cog and of its tasks holder,
errors, the cog's own ``_add_status_fields`` and a footer ``v<version>`` from the cog's
``version`` setting, else its ``version`` class attribute).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import discord
import discord.utils

from fish_bot.core.tasks import loop_status_lines
from fish_bot.core.text import clip, field

if TYPE_CHECKING:
    from fish_bot.core.data import CogDataStore
    from fish_bot.core.host import FishHost
    from fish_bot.core.task_tracker import TaskTracker

#: A cog still not ready this long after it loaded is logged as a warning and shown in status.
START_WARNING_SECONDS = 30

__all__ = ["START_WARNING_SECONDS", "CogStatusMixin"]


class CogStatusMixin:
    """State text, status embed and error record of a cog (mixed into BaseCog)."""

    #: The version the status footer shows when the cog declares no ``version`` setting.
    version: ClassVar[str] = "1.0"

    if TYPE_CHECKING:
        bot: FishHost
        task_tracker: TaskTracker
        qualified_name: str
        _has_errors: bool
        _last_error: str | None
        _start_overdue: bool
        _data: CogDataStore
        _built_at: datetime
        _operation_time: datetime | None

        @property
        def is_ready(self) -> bool: ...

        @property
        def is_paused(self) -> bool: ...

        def get_setting(
            self, name: str, default: Any = None, guild_id: int | None = None
        ) -> Any: ...

    def state_text(self) -> str:
        if self._has_errors:
            return "Error"
        if self.is_paused:
            return "Paused"
        if self.is_ready:
            return "Ready"
        return "Not ready" if self._start_overdue else "Starting"

    @property
    def _last_operation_time(self) -> datetime:
        """When the cog last did something: the end of its last tracked operation, a time the
        cog set itself, or when it was built (never None, as the guide's embed assumes)."""
        times = [self._built_at]
        last = self.task_tracker.last_operation
        if last is not None:
            times.append(last.finished_at)
        if self._operation_time is not None:
            times.append(self._operation_time)
        return max(times)

    @_last_operation_time.setter
    def _last_operation_time(self, value: datetime) -> None:
        self._operation_time = value

    def status_version(self) -> str:
        """The version the status footer shows: the ``version`` setting, else the class's."""
        return str(self.get_setting("version", type(self).version))

    async def create_status_embed(self) -> discord.Embed:
        """A status embed: state, last operation, tasks, loops, errors, then the cog's fields."""
        colour = discord.Color.red() if self._has_errors else discord.Color.blue()
        embed = discord.Embed(title=f"{self.qualified_name} status", color=colour)
        embed.add_field(name="State", value=self.state_text(), inline=True)
        stamp = f"<t:{int(self._last_operation_time.timestamp())}:R>"
        last = self.task_tracker.last_operation
        if last is not None and last.finished_at >= self._last_operation_time:
            outcome = "ok" if last.success else "failed"
            value = f"{last.name} ({outcome}) {stamp}"
        else:
            value = stamp
        embed.add_field(name="Last operation", value=value, inline=True)
        lines = self.task_tracker.summary_lines(limit=8)
        if lines:
            embed.add_field(name="Tasks", value=field("\n".join(lines)), inline=False)
        errors = self._error_lines()
        if errors:
            embed.add_field(name="Errors", value=field("\n".join(errors)), inline=False)
        await self._add_status_fields(embed)
        loops = loop_status_lines(self)  # type: ignore[arg-type]
        if loops and not any(f.name == "Loops" for f in embed.fields):
            embed.add_field(name="Loops", value=field("\n".join(loops)), inline=False)
        embed.set_footer(text=clip(f"v{self.status_version()}", 100))
        return embed

    def _error_lines(self) -> list[str]:
        lines = []
        if self._start_overdue:
            lines.append(f"Not ready {START_WARNING_SECONDS} s after it loaded")
        if self._last_error:
            lines.append(self._last_error)
        for original, _moved_to, error in self._data.corrupt_files:
            lines.append(f"Corrupt data file {Path(original).name} moved aside: {error}")
        for name, stats in self.task_tracker.all_stats().items():
            if stats.last_error:
                lines.append(f"{name}: {stats.last_error}")
        return lines[:10]

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        """Hook for subclasses to add their own fields to the status embed."""

    def status_summary(self) -> dict[str, Any]:
        """Machine-readable state for /healthz and the status command."""
        return {
            "ready": self.is_ready,
            "paused": self.is_paused,
            "errors": self._has_errors,
            "last_error": self._last_error,
        }

    def record_error(self, error: BaseException) -> None:
        """Note an error for the status embed (the cog keeps running)."""
        self._has_errors = True
        self._last_error = clip(f"{type(error).__name__}: {error}", 300)

    def _note_built(self) -> None:
        self._built_at = discord.utils.utcnow()
        self._operation_time = None
