"""The guide's "cog.py - Main Cog Implementation", with its error recovery and retry logic."""

from __future__ import annotations

import asyncio
from typing import Any

from fish_bot.core.base_cog import BaseCog
from fish_bot.exceptions import RetryableError

from .commands import CommandsMixin
from .listeners import ListenersMixin
from .tasks import FeatureTasks


class Feature(CommandsMixin, ListenersMixin, BaseCog):
    """A cog written from the guide's code blocks."""

    def __init__(self, bot: Any) -> None:
        settings_config = {
            "version": ("2.4", "Version shown in the status footer", "type.str"),
            "error_retry_delay": (30, "Seconds a task waits after an error", "type.int"),
            "retry_delay": (2, "Seconds between two attempts", "type.int"),
        }
        super().__init__(bot, settings_config)
        self.tasks = None  # Tasks instance
        self.deletion_checks = 0
        self.cooldowns_cleaned = 0
        self.recoveries = 0
        self.cleanups = 0
        self.failures_left = 0

    async def cog_initialize(self):
        try:
            async with self.task_tracker.task_context("Initialization"):
                await super().cog_initialize()
                # Initialize tasks
                self.tasks = FeatureTasks(self)
                self.set_ready(True)
        except Exception:
            self._has_errors = True
            raise

    async def cog_unload(self):
        """Clean up tasks on unload."""
        if self.tasks:
            self.tasks.stop_tasks()
        await super().cog_unload()

    async def _cleanup_cooldowns(self) -> None:
        self.cooldowns_cleaned += 1

    # --- the guide's "Error Recovery", "Retry Logic" and "Resource Cleanup" ------------------

    async def attempt_recovery(self) -> None:
        self.recoveries += 1
        self._has_errors = False

    async def operation(self) -> str:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RetryableError("the service did not answer")
        return "done"

    async def operation_with_retry(self):
        retries = 3
        for attempt in range(retries):
            try:
                return await self.operation()
            except RetryableError as e:
                if attempt == retries - 1:
                    raise
                self.logger.warning(f"Retry {attempt + 1}/{retries}: {e}")
                await asyncio.sleep(self.retry_delay)

    async def cleanup_resources(self):
        async with self.task_tracker.task_context("Cleanup") as tracker:
            try:
                tracker.update_status("Cleaning up")
                # Cleanup implementation
                self.cleanups += 1
                self._has_errors = False  # Reset error state
            except Exception as e:
                self.logger.error(f"Cleanup failed: {e}")
                tracker.update_status("Failed")
                self._has_errors = True
                raise
