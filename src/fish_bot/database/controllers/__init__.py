"""Controllers: business rules over the models, one per table or feature."""

from fish_bot.database.controllers.base import BaseController, Page
from fish_bot.database.controllers.core import (
    CogSettingController,
    GuildConfigController,
    GuildController,
)

__all__ = [
    "BaseController",
    "CogSettingController",
    "GuildConfigController",
    "GuildController",
    "Page",
]
