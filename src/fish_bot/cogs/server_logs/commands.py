"""Commands of the server logs: `logs` shows where each event goes; route, toggle and ignore.

The log channels themselves are set with `config log message|member|server #channel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.server_config.constants import CONFIG_RANK
from fish_bot.cogs.server_logs.constants import EVENTS, ROUTE_KINDS
from fish_bot.cogs.server_logs.utils import parse_routes
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import admin_override, requires_rank
from fish_bot.core.text import plain
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


def _event(name: str) -> str:
    cleaned = name.strip().lower().replace("-", "_")
    if cleaned not in EVENTS:
        raise UserFacingError(
            f"`{plain(name, 40)}` is not an event; `logs show` lists them "
            f"(e.g. `message_edit`, `member_join`)."
        )
    return cleaned


async def _event_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    typed = current.lower()
    return [app_commands.Choice(name=e, value=e) for e in EVENTS if typed in e][:25]


class CommandsMixin(_MixinBase):
    """logs, logs show, logs route, logs toggle, logs ignore."""

    if TYPE_CHECKING:  # provided by the Logging class

        def kind_of(self, guild_id: int, event: str) -> str: ...
        async def log_channels(self, guild_id: int) -> dict[str, int]: ...

    @hybrid_group(name="logs", fallback="show", invoke_without_command=True)
    @commands.guild_only()
    @admin_override()
    @requires_rank(CONFIG_RANK)
    @examples("logs")
    async def logs_group(self, ctx: commands.Context[Any]) -> None:
        """Show where each server-log event goes, and what is left out.

        Set the log channels with `config log message|member|server #channel`; `logs route`,
        `logs toggle` and `logs ignore` choose the rest.
        """
        guild = self.require_guild(ctx)
        channels = await self.log_channels(guild.id)
        lines = []
        for event, (_, about) in EVENTS.items():
            kind = self.kind_of(guild.id, event)
            if kind == "off":
                target = "off"
            elif kind in channels:
                target = f"{kind} log · <#{channels[kind]}>"
            else:
                target = f"{kind} log · *no channel set*"
            lines.append(f"`{event}` → {target} ({about})")
        embed = discord.Embed(title="Server logs", description="\n".join(lines))
        ignored = self.get_setting("ignored_channels", [], guild.id)
        embed.add_field(
            name="Ignored channels",
            value=" ".join(f"<#{c}>" for c in ignored) or "none (the log channels always are)",
            inline=False,
        )
        bots = self.get_setting("ignore_bots", True, guild.id)
        embed.add_field(name="Bots", value="left out" if bots else "logged", inline=True)
        await self.reply(ctx, embed=embed)

    @logs_group.command(name="route")
    @app_commands.describe(
        event="The event, e.g. message_edit (see `logs show`)",
        kind="Where it goes: message, member or server log, off, or default",
    )
    @app_commands.autocomplete(event=_event_choices)
    @examples("logs route message_edit server", "logs route member_join off")
    async def logs_route(self, ctx: commands.Context[Any], event: str, kind: str) -> None:
        """Send an event to another log (`message`, `member`, `server`), `off`, or `default`.

        Example: `logs route message_edit server`.
        """
        guild = self.require_guild(ctx)
        name = _event(event)
        wanted = kind.strip().lower()
        if wanted not in (*ROUTE_KINDS, "default"):
            raise UserFacingError(
                f"`{plain(kind, 20)}` is not a log; use message, member, server, off or default."
            )
        routes = parse_routes(self.get_setting("routes", [], guild.id))
        routes.pop(name, None)
        if wanted != "default" and wanted != EVENTS[name][0].value:
            routes[name] = wanted
        await self.set_setting("routes", [f"{e}={k}" for e, k in routes.items()], guild.id)
        await self.reply(ctx, f"📋 `{name}` now goes to: {self.kind_of(guild.id, name)}.")

    @logs_group.command(name="toggle")
    @app_commands.describe(event="The event to turn on or off, e.g. member_join")
    @app_commands.autocomplete(event=_event_choices)
    @examples("logs toggle member_roles")
    async def logs_toggle(self, ctx: commands.Context[Any], event: str) -> None:
        """Turn the logging of one event off, or back on."""
        guild = self.require_guild(ctx)
        name = _event(event)
        disabled = list(self.get_setting("disabled_events", [], guild.id))
        if name in disabled:
            disabled.remove(name)
            state = "on"
        else:
            disabled.append(name)
            state = "off"
        await self.set_setting("disabled_events", disabled, guild.id)
        await self.reply(ctx, f"📋 Logging of `{name}` is {state}.")

    @logs_group.command(name="ignore")
    @app_commands.describe(channel="The channel whose message deletes and edits are left out")
    @examples("logs ignore #staff")
    async def logs_ignore(
        self, ctx: commands.Context[Any], channel: discord.TextChannel | discord.Thread
    ) -> None:
        """Leave a channel's message deletes and edits out of the logs, or take it back in."""
        guild = self.require_guild(ctx)
        ignored = list(self.get_setting("ignored_channels", [], guild.id))
        if channel.id in ignored:
            ignored.remove(channel.id)
            answer = f"📋 {channel.mention} is logged again."
        else:
            ignored.append(channel.id)
            answer = f"📋 {channel.mention} is left out of the logs."
        await self.set_setting("ignored_channels", ignored, guild.id)
        await self.reply(ctx, answer)
