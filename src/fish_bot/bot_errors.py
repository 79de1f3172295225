"""FishBot's error hooks: where an error of a prefix, hybrid or slash command, of an unknown
command or of an event handler reaches the one error policy (:mod:`fish_bot.core.error_policy`),
and how the policy's answer is sent.

:class:`~fish_bot.bot.FishBot` is composed of :class:`ErrorHooksMixin`; its
``unknown_command_hooks`` are asked first about a prefix command nobody has.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.core import error_policy
from fish_bot.core.error_replies import send_interaction, send_reply
from fish_bot.database.controllers.audit import acting_as

if TYPE_CHECKING:
    from fish_bot.config import Settings
    from fish_bot.core.host import FishHost
    from fish_bot.monitoring import Monitor

    class _MixinBase(commands.AutoShardedBot, FishHost):
        """The bot as mypy sees the mixin: discord.py's bot with what core needs of it."""

else:
    _MixinBase = object

#: The bot's logger: the hooks log as they did when they were in ``fish_bot.bot``.
log = logging.getLogger("fish_bot.bot")

#: Asked, in order, about a prefix command nobody has; True: it handled the message.
UnknownCommandHook = Callable[[commands.Context[Any]], Awaitable[bool]]


class ErrorHooksMixin(_MixinBase):
    """The error hooks of the bot: every error goes to the error policy."""

    if TYPE_CHECKING:  # provided by FishBot
        settings: Settings
        monitor: Monitor
        unknown_command_hooks: list[UnknownCommandHook]

    # What a user sees for an error is decided by fish_bot.core.error_policy, for every kind of
    # invocation; the methods here only say where the error happened and send the answer.

    async def invoke(self, ctx: commands.Context[Any], /) -> None:
        """Run a command; an error raised outside its body (a check, a hook) reaches the policy.

        discord.py hands only :class:`~discord.ext.commands.CommandError` to the error
        handlers; anything else raised while preparing the command would end the invocation
        with no answer at all.
        """
        if ctx.command is None and not ctx.invoked_with:
            return  # an ordinary message (every message of a chat): nothing to run
        try:
            with acting_as(ctx.author.id):  # the changes it makes are audited as the author's
                await super().invoke(ctx)
        except commands.CommandError:
            raise
        except Exception as error:
            if ctx.command is None:
                raise
            await ctx.command.dispatch_error(ctx, commands.CommandInvokeError(error))

    async def on_command_error(
        self, ctx: commands.Context[Any], error: commands.CommandError
    ) -> None:
        """One error policy for prefix and hybrid commands: no raw exception reaches a user."""
        if isinstance(error, commands.CommandNotFound) and await self._unknown_handled(ctx):
            return
        if ctx.command is not None and ctx.command.has_error_handler():
            return
        cog = ctx.cog
        if cog is not None and cog.has_error_handler():
            return
        message = self.describe_command_error(ctx, error)
        if message is None:
            return
        await send_reply(ctx, message)

    async def _unknown_handled(self, ctx: commands.Context[Any]) -> bool:
        """Whether an :attr:`unknown_command_hooks` hook took the unknown command."""
        for hook in list(self.unknown_command_hooks):
            try:
                if await hook(ctx):
                    return True
            except Exception as error:
                self.report_unexpected(error, "unknown command hook")
        return False

    def describe_command_error(self, ctx: commands.Context[Any], error: Exception) -> str | None:
        """The text a user sees for an error (logged as the policy says), or None: silence."""
        name = ctx.command.qualified_name if ctx.command else "?"
        parameter = ctx.current_parameter
        situation = error_policy.Situation(
            usage=self.usage(ctx),
            argument=ctx.current_argument,
            parameter=parameter.name if parameter is not None else None,
        )
        return error_policy.respond(self, error, where=f"command {name}", situation=situation)

    def usage(self, ctx: commands.Context[Any]) -> str:
        command = ctx.command
        if command is None:
            return ""
        prefix = "/" if ctx.interaction is not None else (ctx.clean_prefix or self.settings.prefix)
        return f"{prefix}{command.qualified_name} {command.signature}".strip()

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Errors of pure slash commands (hybrid commands go through on_command_error)."""
        self.monitor.app_command_failed(interaction, error)
        command = interaction.command
        name = command.qualified_name if command else "?"
        situation = error_policy.Situation(usage=_slash_usage(command))
        text = error_policy.respond(self, error, where=f"slash command {name}", situation=situation)
        if text is not None:
            await send_interaction(interaction, text)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        if error is None:
            log.error("Error in event %s (no exception)", event_method)
            return
        self.report_unexpected(error, f"event {event_method}")

    def report_unexpected(self, error: BaseException, where: str) -> str:
        """Log an unexpected error under a new error id; returns the apology a user sees.

        Dispatches ``fishbot_error`` (error id, error): the monitor counts it and sends it to
        Sentry with the error id as a tag.
        """
        return error_policy.report(self, error, where)


def _slash_usage(command: Any) -> str | None:
    """``/name <required> [optional]`` of a pure slash command (None for a context menu)."""
    if not isinstance(command, app_commands.Command):
        return None
    parts = [f"/{command.qualified_name}"]
    for parameter in command.parameters:
        parts.append(f"<{parameter.name}>" if parameter.required else f"[{parameter.name}]")
    return " ".join(parts)
