"""The ServerConfig cog class, composed of its mixins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.server_config.commands import ConfigCommandsMixin
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class ServerConfig(ConfigCommandsMixin, BaseCog):
    """Per-server configuration: prefix, log channels, jail, reasons and permission ranks."""

    slug = "server_config"

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
