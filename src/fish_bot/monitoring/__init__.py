"""Health, metrics and error reporting of a running bot.

* :mod:`fish_bot.monitoring.metrics`: cheap in-process counters and the Prometheus text.
* :mod:`fish_bot.monitoring.health`: the optional aiohttp server (``/healthz``, ``/metrics``).
* :mod:`fish_bot.monitoring.sentry`: the optional Sentry integration.

:class:`Monitor` ties them to one bot (typed as :class:`~fish_bot.core.host.FishHost`, so
``monitoring`` never imports ``fish_bot.bot``): the bot builds it in its
constructor (``bot.monitor``), counts every dispatched event through it, starts it in
``setup_hook`` and stops it in ``close``. ``docs/operations.md`` describes what operators see.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from fish_bot.monitoring.metrics import BotMetrics

if TYPE_CHECKING:
    import discord

    from fish_bot.core.host import FishHost
    from fish_bot.monitoring.health import HealthServer
    from fish_bot.monitoring.sentry import CommandTracing

__all__ = ["BotMetrics", "Monitor"]

log = logging.getLogger(__name__)


class Monitor:
    """Metrics listeners, the health server and Sentry hooks of one bot."""

    def __init__(self, bot: FishHost) -> None:
        self.bot = bot
        self.metrics = BotMetrics()
        self.server: HealthServer | None = None
        self.tracing: CommandTracing | None = None
        self.sentry = False
        metrics = self.metrics
        for event in (
            "on_command",
            "on_command_completion",
            "on_command_error",
            "on_interaction",
            "on_app_command_completion",
        ):
            bot.add_event_hook(event, getattr(metrics, event))  # in dispatch: no task each
        bot.add_listener(self.on_fishbot_error, "on_fishbot_error")

    # --- hooks called by the bot -----------------------------------------------------------

    def count_event(self, name: str) -> None:
        self.metrics.count_event(name)

    async def on_fishbot_error(self, error_id: str, error: BaseException) -> None:
        """An unexpected error was logged under ``error_id``: count it, send it to Sentry.

        ``fishbot_error`` is dispatched by ``FishBot.report_unexpected``, the command error
        handler and the component error handler.
        """
        self.metrics.unexpected_error(type(error).__name__)
        if self.sentry:
            from fish_bot.monitoring.sentry import capture_unexpected

            capture_unexpected(error_id, error)

    def app_command_failed(self, interaction: discord.Interaction, error: BaseException) -> None:
        self.metrics.app_command_failed(interaction, error)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start Sentry (when configured) and the health server (when a port is set)."""
        settings = self.bot.settings
        if settings.sentry_dsn and not self.sentry:
            from fish_bot.monitoring.sentry import CommandTracing, init_sentry

            self.sentry = init_sentry(settings)
            if self.sentry:
                self.tracing = CommandTracing(self.bot)
                self.tracing.install()
        if settings.health_port is not None and self.server is None:
            from fish_bot.monitoring.health import HealthServer

            self.server = HealthServer(
                self.bot, self.metrics, settings.health_host, settings.health_port
            )
            await self.server.start()

    async def stop(self) -> None:
        """Stop the health server and send what Sentry still holds."""
        server, self.server = self.server, None
        if server is not None:
            await server.stop()
        if self.tracing is not None:
            self.tracing.uninstall()
        if self.sentry:
            import sentry_sdk

            await asyncio.to_thread(sentry_sdk.flush, 2.0)

    def describe(self) -> dict[str, Any]:
        return {
            "health_port": self.server.port if self.server else None,
            "sentry": self.sentry,
        }
