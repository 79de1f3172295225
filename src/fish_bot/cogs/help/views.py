"""How help looks: the overview, a module's page, a command's page, and the module select menu.

The select menu is a routed component (``help:module:<channel id>:<author id>``): a click
reaches the cog's ``@component("module")`` handler before and after a restart, and a menu
whose channel id is not the channel it is clicked in is refused before the handler runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.help.constants import HELP_COLOUR, MODULE_ACTION, OVERVIEW_VALUE
from fish_bot.cogs.help.utils import (
    AnyCommand,
    Argument,
    Module,
    short_help,
    slash_name,
    usage,
)
from fish_bot.core.text import DESCRIPTION_LIMIT, FIELD_VALUE_LIMIT, clip, field, fit_embed
from fish_bot.core.views import RoutedView, make_custom_id

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

#: Discord's limits of a select menu.
SELECT_OPTION_LIMIT = 25
OPTION_TEXT_LIMIT = 100


def command_line(command: AnyCommand, prefix: str, *, subcommands: int = 0) -> str:
    """One line of a list: ``!cases search`` — its summary."""
    noun = "subcommand" if subcommands == 1 else "subcommands"
    more = f" (+{subcommands} {noun})" if subcommands else ""
    return f"`{prefix}{command.qualified_name}` — {short_help(command)}{more}"


def footer(prefix: str) -> str:
    return (
        f"{prefix}help <command> for details · {prefix}help <module> for a module · "
        "only the commands you can use here are listed"
    )


def overview_embed(
    sections: Sequence[tuple[Module, list[tuple[AnyCommand, int]]]], prefix: str
) -> discord.Embed:
    """Every module with one line per top-level command (and how many subcommands it has)."""
    embed = discord.Embed(
        title="Help",
        description=(
            f"Commands you can use here, by module. `{prefix}help <command>` shows a command's "
            f"usage, arguments and examples; `{prefix}help <module>` lists a module's commands. "
            "Slash commands work too (`/help`)."
        ),
        colour=HELP_COLOUR,
    )
    for module, lines in sections:
        texts = [command_line(command, prefix, subcommands=n) for command, n in lines]
        for index, chunk in enumerate(_chunks(texts, FIELD_VALUE_LIMIT)):
            name = module.title if index == 0 else f"{module.title} (continued)"
            embed.add_field(name=name, value=field(chunk), inline=False)
    if not sections:
        embed.add_field(name="Nothing here", value="There is no command you can use here.")
    embed.set_footer(text=footer(prefix))
    return fit_embed(embed)


def _chunks(lines: Sequence[str], limit: int) -> list[str]:
    """``lines`` joined into texts of at most ``limit`` characters (a longer line is clipped)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def module_embed(module: Module, listed: Sequence[AnyCommand], prefix: str) -> discord.Embed:
    """A module's page: its description, then one line per command it lets the viewer use."""
    lines = [command_line(command, prefix) for command in listed]
    description = module.description or f"The {module.title} module."
    body = f"{description}\n\n" + "\n".join(lines)
    embed = discord.Embed(
        title=f"{module.title} module",
        description=clip(body, DESCRIPTION_LIMIT),
        colour=HELP_COLOUR,
    )
    embed.set_footer(text=footer(prefix))
    return fit_embed(embed)


def command_embed(
    command: AnyCommand,
    prefix: str,
    *,
    args: Sequence[Argument],
    who: Sequence[str],
    verdict: str,
    examples: Sequence[str],
    subcommands: Sequence[AnyCommand],
) -> discord.Embed:
    """A command's page, titled with its full name (``!cases search``)."""
    embed = discord.Embed(
        title=f"{prefix}{command.qualified_name}",
        description=clip(command.help or short_help(command), DESCRIPTION_LIMIT),
        colour=HELP_COLOUR,
    )
    usage_lines = [f"`{usage(command, prefix)}`"]
    slash = slash_name(command)
    if slash is not None:
        usage_lines.append(f"Slash: `{slash}`")
    embed.add_field(name="Usage", value=field("\n".join(usage_lines)), inline=False)
    if args:
        lines = [
            f"`{arg.name}`{'' if arg.required else ' (optional)'} — {arg.description}"
            for arg in args
        ]
        embed.add_field(name="Arguments", value=field("\n".join(lines)), inline=False)
    if command.aliases:
        names = ", ".join(f"`{prefix}{_alias(command, alias)}`" for alias in command.aliases)
        embed.add_field(name="Aliases", value=field(names), inline=False)
    if subcommands:
        lines = [command_line(sub, prefix) for sub in subcommands]
        embed.add_field(name="Subcommands", value=field("\n".join(lines)), inline=False)
    embed.add_field(name="Who may use it", value=field("\n".join([*who, verdict])), inline=False)
    if examples:
        embed.add_field(
            name="Examples", value=field("\n".join(f"`{line}`" for line in examples)), inline=False
        )
    module = command.cog.qualified_name if command.cog is not None else None
    embed.set_footer(text=f"{module} module · {footer(prefix)}" if module else footer(prefix))
    return fit_embed(embed)


def _alias(command: AnyCommand, alias: str) -> str:
    parent = command.full_parent_name
    return f"{parent} {alias}" if parent else alias


def module_menu(
    cog: BaseCog,
    *,
    channel_id: int,
    author_id: int,
    listed: Sequence[Module],
    current: str | None,
) -> RoutedView | None:
    """The select menu that switches between the modules the viewer can use (None: none)."""
    if not listed:
        return None
    options = [
        discord.SelectOption(
            label="Overview",
            value=OVERVIEW_VALUE,
            description="Every module you can use here",
            default=current is None,
        )
    ]
    for module in listed[: SELECT_OPTION_LIMIT - 1]:
        options.append(
            discord.SelectOption(
                label=clip(module.title, OPTION_TEXT_LIMIT),
                value=module.key,
                description=clip(module.description, OPTION_TEXT_LIMIT) or None,
                default=module.key == current,
            )
        )
    select: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=make_custom_id(cog, MODULE_ACTION, channel_id, author_id),
        placeholder="Switch module",
        options=options,
    )
    return RoutedView(select)
