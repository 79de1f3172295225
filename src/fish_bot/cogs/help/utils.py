"""What help knows about commands: whether the caller may run them here (the permission model),
who may, their arguments, usage, aliases and examples, the modules, and the names closest to a
misspelt one.

Whether a command is shown is the permission model's decision, asked the way ``perm explain``
asks it (:meth:`PermissionManager.evaluate` on a :class:`Subject`), followed by the command's
own discord.py checks (bot owners only, servers only: layer 7). Nothing is logged per command:
``cog_check`` logs a denial at INFO because a member tried to run something; help only looks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands
from discord.ext.commands.bot import BotBase
from discord.ext.commands.view import StringView
from discord.utils import MISSING

from fish_bot.cogs.help.constants import SUGGESTION_CUTOFF, SUGGESTIONS
from fish_bot.core.base_cog import BaseCog, command_meta
from fish_bot.core.decorators import command_examples
from fish_bot.core.permission_subjects import Decision, cog_of, subject_for
from fish_bot.core.text import permission_label

if TYPE_CHECKING:
    from fish_bot.bot import FishBot

AnyCommand = commands.Command[Any, ..., Any]

#: What discord.py puts as the description of a slash option that has none.
NO_SLASH_DESCRIPTION = "…"


# --- who is asking ---------------------------------------------------------------------------


@dataclass
class Viewer:
    """The member asking for help, where, and the server's prefix.

    ``ctx`` is the context the command's own checks are asked with (for a select menu click,
    one built around the click: :func:`interaction_context`).
    """

    bot: FishBot
    ctx: commands.Context[Any]
    prefix: str

    @property
    def user(self) -> discord.abc.User:
        return self.ctx.author

    @property
    def guild(self) -> discord.Guild | None:
        return self.ctx.guild

    async def decision(self, command: AnyCommand) -> Decision:
        """The permission model's verdict on this member running ``command`` here."""
        subject = subject_for(
            self.bot, command, user=self.user, guild=self.guild, channel=self.ctx.channel
        )
        return await self.bot.permissions.evaluate(subject, cog=cog_of(subject.command))

    async def may_run(self, command: AnyCommand) -> bool:
        """Whether help shows ``command``: not hidden, enabled, allowed by the permission model
        and by the command's own checks (and its groups')."""
        if command.hidden or not command.enabled:
            return False
        if not (await self.decision(command)).allowed:
            return False
        return await own_checks_pass(command, self.ctx)

    async def runnable(self, items: Iterable[AnyCommand]) -> list[AnyCommand]:
        return [command for command in items if await self.may_run(command)]


async def own_checks_pass(command: AnyCommand, ctx: commands.Context[Any]) -> bool:
    """The command's own discord.py checks (``is_owner``, ``guild_only``...) and its groups'."""
    level: AnyCommand | None = command
    while level is not None:
        for check in level.checks:
            try:
                if not await discord.utils.maybe_coroutine(check, ctx):
                    return False
            except (commands.CommandError, app_commands.AppCommandError):
                return False
        level = _parent(level)
    return True


async def interaction_context(
    bot: FishBot, interaction: discord.Interaction
) -> commands.Context[Any]:
    """A context for the member behind an interaction: the slash command's own context, or, for
    a component click (which has no command), one whose author is the member who clicked."""
    if interaction.command is not None:
        return await commands.Context.from_interaction(interaction)
    message = interaction.message
    if message is None:  # pragma: no cover - a component click always has its message
        raise ValueError("a component interaction without a message")
    ctx: commands.Context[Any] = commands.Context(
        message=message, bot=bot, view=StringView(""), interaction=interaction
    )
    ctx.author = interaction.user  # the message's author is the bot
    return ctx


def _parent(command: AnyCommand) -> AnyCommand | None:
    parent = command.parent
    return parent if isinstance(parent, commands.Command) else None


def is_owner_only(command: AnyCommand) -> bool:
    """Whether the command (or a group above it) carries discord.py's ``is_owner`` check."""
    level: AnyCommand | None = command
    while level is not None:
        if any(
            getattr(check, "__qualname__", "").startswith("is_owner.") for check in level.checks
        ):
            return True
        level = _parent(level)
    return False


# --- modules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """A cog as help shows it: ``key`` (its slug) names it in the select menu."""

    key: str
    title: str
    description: str
    cog: commands.Cog

    def top_level(self) -> list[AnyCommand]:
        return sorted(
            (command for command in self.cog.get_commands() if command.parent is None),
            key=lambda command: command.qualified_name,
        )

    def all_commands(self) -> list[AnyCommand]:
        return sorted(self.cog.walk_commands(), key=lambda command: command.qualified_name)


def module_key(cog: commands.Cog) -> str:
    return cog.slug if isinstance(cog, BaseCog) else cog.qualified_name.lower()


def modules(bot: BotBase) -> list[Module]:
    """Every loaded cog that has commands, by title."""
    found = [
        Module(
            key=module_key(cog),
            title=cog.qualified_name,
            description=(cog.description or "").strip(),
            cog=cog,
        )
        for cog in bot.cogs.values()
        if cog.get_commands()
    ]
    return sorted(found, key=lambda module: module.title.lower())


def find_module(bot: BotBase, name: str) -> Module | None:
    """The module called ``name`` (its title or slug, in any case)."""
    wanted = name.strip().lower()
    for module in modules(bot):
        if wanted in {module.key.lower(), module.title.lower()}:
            return module
    return None


# --- one command -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Argument:
    """One argument of a command as help describes it."""

    name: str
    description: str
    required: bool


def slash_command(command: AnyCommand) -> app_commands.Command[Any, ..., Any] | None:
    """The slash side of a hybrid command (a hybrid group's fallback command), if any."""
    app = getattr(command, "app_command", None)
    if isinstance(app, app_commands.Group):
        fallback = getattr(command, "fallback", None)
        found = app.get_command(fallback) if fallback else None
        return found if isinstance(found, app_commands.Command) else None
    return app if isinstance(app, app_commands.Command) else None


def slash_name(command: AnyCommand) -> str | None:
    """``/cases search`` for a hybrid command; None when it has no slash side."""
    app = slash_command(command)
    return f"/{app.qualified_name}" if app is not None else None


def _slash_description(command: AnyCommand, name: str) -> str:
    app = slash_command(command)
    parameter = app.get_parameter(name) if app is not None else None
    text = str(parameter.description) if parameter is not None else ""
    return "" if text == NO_SLASH_DESCRIPTION else text


def _flag_converter(annotation: Any) -> type[commands.FlagConverter] | None:
    if isinstance(annotation, type) and issubclass(annotation, commands.FlagConverter):
        return annotation
    return None


def arguments(command: AnyCommand) -> list[Argument]:
    """The command's arguments with their descriptions, in order.

    A description is the prefix parameter's (``commands.parameter(description=...)``) or else
    the slash option's (``app_commands.describe``): built-in commands describe each argument
    once, with ``app_commands.describe``, and both sides of help read it. The flags of a flag
    converter are listed one by one (``user:``) with their ``commands.flag`` descriptions.
    """
    found: list[Argument] = []
    for name, parameter in command.clean_params.items():
        flags = _flag_converter(parameter.converter)
        if flags is not None:
            for flag in flags.get_flags().values():
                text = flag.description if flag.description is not MISSING else ""
                found.append(Argument(f"{flag.name}:", str(text or ""), bool(flag.required)))
            continue
        text = parameter.description or _slash_description(command, name)
        found.append(Argument(parameter.displayed_name or name, text, parameter.required))
    return found


def usage(command: AnyCommand, prefix: str) -> str:
    """``!kick <member> [reason]``: the command written with the server's prefix; a flag
    converter's flags are written one by one (``!cases search [user:] [since:] ...``)."""
    params = command.clean_params.values()
    if not any(_flag_converter(parameter.converter) for parameter in params):
        return f"{prefix}{command.qualified_name} {command.signature}".strip()
    parts = [f"{prefix}{command.qualified_name}"]
    for name, parameter in command.clean_params.items():
        flags = _flag_converter(parameter.converter)
        if flags is None:
            shown = parameter.displayed_name or name
            parts.append(f"<{shown}>" if parameter.required else f"[{shown}]")
            continue
        for flag in flags.get_flags().values():
            parts.append(f"<{flag.name}:>" if flag.required else f"[{flag.name}:]")
    return " ".join(parts)


def examples(command: AnyCommand, prefix: str) -> list[str]:
    """The command's declared examples, written with the server's prefix."""
    return [f"{prefix}{line}" for line in command_examples(command)]


def short_help(command: AnyCommand) -> str:
    return command.short_doc or command.brief or "No summary."


async def who_may_use(viewer: Viewer, command: AnyCommand) -> list[str]:
    """Who may use the command here, from the permission model: the rank it needs in this
    server (or the rule that decides instead), the module's role and channel settings, the
    server-manager override and the command's own checks."""
    bot = viewer.bot
    subject = subject_for(bot, command, user=viewer.user, guild=viewer.guild, channel=None)
    target = subject.command
    lines: list[str] = []
    if is_owner_only(target):
        lines.append("Bot owners only.")
    declared = int(command_meta(target, "rank", 0) or 0)
    guild = viewer.guild
    if guild is None:
        needed = declared
    else:
        needed = await bot.permissions.command_rank(guild.id, target)
    if needed > 0 and guild is not None and not await bot.permissions.uses_ranks(guild.id):
        permission = permission_label(bot.permissions.discord_permission(target))
        lines.append(
            f"Members with the **{permission}** permission (no permission ranks are configured "
            f"here; with ranks, rank {needed} or higher)."
        )
    elif needed > 0:
        changed = f" (this server's setting; {declared} by default)" if needed != declared else ""
        lines.append(f"Permission rank {needed} or higher{changed}.")
    elif not lines:
        lines.append("Everyone (no permission rank needed).")
    if guild is not None:
        effective = await bot.permissions.effective_rules(guild.id, subject)
        rules = effective.rules
        if rules["allow_roles"]:
            lines.append(f"Command rule: only the roles {_mentions(rules['allow_roles'], '&')}.")
        if rules["deny_roles"]:
            lines.append(f"Command rule: not the roles {_mentions(rules['deny_roles'], '&')}.")
        if rules["allow_channels"]:
            lines.append(f"Command rule: only in {_mentions(rules['allow_channels'], '#')}.")
        if rules["deny_channels"]:
            lines.append(f"Command rule: not in {_mentions(rules['deny_channels'], '#')}.")
        cog = cog_of(target)
        if cog is not None:
            required = cog.get_setting("required_roles", [], guild.id) or []
            if required:
                lines.append(f"Module setting: members need one of {_mentions(required, '&')}.")
            allowed = cog.get_setting("allowed_channels", [], guild.id) or []
            if allowed:
                lines.append(f"Module setting: only in {_mentions(allowed, '#')}.")
    if command_meta(target, "admin_override", False):
        lines.append("The server owner and Administrators always may.")
    if command_meta(target, "dm_allowed", False):
        lines.append("Works in direct messages too.")
    if subject.via is not None:
        lines.append(f"Another name for `{target.qualified_name}`: the same rules apply.")
    return lines


def _mentions(ids: Iterable[int], kind: str) -> str:
    ordered = sorted(ids)
    shown = ", ".join(f"<{'@&' if kind == '&' else '#'}{item}>" for item in ordered[:5])
    return shown + (f" and {len(ordered) - 5} more" if len(ordered) > 5 else "")


# --- names ---------------------------------------------------------------------------------------


def closest(word: str, names: Iterable[str], *, limit: int = SUGGESTIONS) -> list[str]:
    """The names most like ``word``, best first (difflib), at most ``limit``."""
    pool = sorted(set(names))
    return difflib.get_close_matches(word.lower(), pool, n=limit, cutoff=SUGGESTION_CUTOFF)


def closest_title(word: str, titles: Iterable[str]) -> list[str]:
    """The titles (module names, in any case) most like ``word``, as they are written."""
    lowered = {title.lower(): title for title in titles}
    return [lowered[name] for name in closest(word, lowered)]


async def closest_runnable(
    viewer: Viewer, word: str, candidates: dict[str, AnyCommand]
) -> list[str]:
    """The names (of ``candidates``: name -> command) most like ``word`` whose command the viewer
    may run: matched first, so the permission model is asked only about the close ones."""
    ranked = closest(word, candidates, limit=len(candidates) or 1)
    found: list[str] = []
    for name in ranked:
        if await viewer.may_run(candidates[name]):
            found.append(name)
        if len(found) == SUGGESTIONS:
            break
    return found


def top_level_names(bot: BotBase) -> dict[str, AnyCommand]:
    """Every top-level command by its name and by each alias."""
    names: dict[str, AnyCommand] = {}
    for command in bot.commands:
        for name in (command.name, *command.aliases):
            names[name.lower()] = command
    return names


def all_names(bot: BotBase) -> dict[str, AnyCommand]:
    """Every command by its qualified name, and top-level ones by their aliases too."""
    names = top_level_names(bot)
    for command in bot.walk_commands():
        names[command.qualified_name.lower()] = command
    return names
