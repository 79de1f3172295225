"""The ServerConfig cog class, composed of its mixins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.server_config.commands import ConfigCommandsMixin
from fish_bot.cogs.server_config.listeners import ConfigListenersMixin
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class ServerConfig(ConfigCommandsMixin, ConfigListenersMixin, BaseCog):
    """Per-server configuration: prefix, log channels, jail, reasons and permission ranks, and
    the welcome posted when the bot joins a server."""

    slug = "server_config"
    settings_config = {
        "welcome_message": (
            True,
            "Post a short welcome (what the bot does, help, ranks, mod log) when the bot joins "
            "the server",
            "type.bool",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
