"""The Help cog class, and the adapter that makes ``ctx.send_help`` show its pages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from discord.ext import commands

from fish_bot.cogs.help.commands import CommandsMixin
from fish_bot.cogs.help.constants import SUGGEST_SETTING
from fish_bot.cogs.help.listeners import ListenersMixin
from fish_bot.core.base_cog import BaseCog

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class Help(CommandsMixin, ListenersMixin, BaseCog):
    """Help for every command: what you can use here, usage, arguments and examples."""

    slug = "help"
    settings_config = {
        SUGGEST_SETTING: (
            True,
            "Answer an unknown command (`!bann`) with the closest commands you can use",
            "type.bool",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        self.fish = bot
        #: When each channel last got a "did you mean" answer (the rate limit).
        self._suggested_at: dict[int, datetime] = {}

    async def cog_initialize(self) -> None:
        await super().cog_initialize()
        # Last: a hook that answers for the name itself (a snippet) goes before it.
        self.fish.unknown_command_hooks.append(self.suggest_command)

    async def cog_unload(self) -> None:
        if self.suggest_command in self.fish.unknown_command_hooks:
            self.fish.unknown_command_hooks.remove(self.suggest_command)
        await super().cog_unload()


class HelpRouter(commands.HelpCommand):
    """The bot's ``help_command``: ``ctx.send_help(...)`` shows the Help cog's pages.

    It adds no command of its own (the Help cog's hybrid ``help`` is the command), so discord.py's
    default help never answers.
    """

    def _add_to_bot(self, bot: Any) -> None:
        """The Help cog provides the `help` command; nothing to add."""

    def _remove_from_bot(self, bot: Any) -> None:
        """Nothing was added."""

    async def _show(self, query: str | None) -> None:
        cog = self.context.bot.get_cog("Help")
        if isinstance(cog, Help):
            await cog.show_help(self.context, query)

    async def send_bot_help(self, mapping: Any, /) -> None:
        await self._show(None)

    async def send_cog_help(self, cog: commands.Cog, /) -> None:
        await self._show(cog.qualified_name)

    async def send_group_help(self, group: commands.Group[Any, ..., Any], /) -> None:
        await self._show(group.qualified_name)

    async def send_command_help(self, command: commands.Command[Any, ..., Any], /) -> None:
        await self._show(command.qualified_name)

    async def command_callback(
        self, ctx: commands.Context[Any], /, *, command: str | None = None
    ) -> None:
        self.context = ctx
        await self._show(command)
