"""The Core cog class, composed of its mixins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.admin.commands import CommandsMixin
from fish_bot.cogs.admin.perm_commands import PermissionCommandsMixin
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class Core(CommandsMixin, PermissionCommandsMixin, BaseCog):
    """Bot status, cog management, settings and permissions."""

    slug = "core"
    works_while_paused = True

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
