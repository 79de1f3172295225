"""Helpers of the core cog: finding cogs by name, showing setting values, fitting lists into
embeds (Discord's limits are in :mod:`fish_bot.core.text`)."""

from __future__ import annotations

import json
import pkgutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.core.durations import format_duration
from fish_bot.core.permissions import RankRequirement
from fish_bot.core.text import FIELD_VALUE_LIMIT, clip, permission_label, plain
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.host import FishHost
    from fish_bot.core.settings.specs import SettingSpec

#: Where the built-in cog packages live; a short name ``example`` means ``fish_bot.cogs.example``.
COG_PACKAGE_ROOT = "fish_bot.cogs"
CORE_EXTENSION = "fish_bot.cogs.admin"

PAGE_LIMIT = 3900  # one page of an embed description, with room for a footer

#: Rank needed by the settings commands and by cog pause/resume; on a server without ranks,
#: Manage Server.
SETTINGS_RANK = RankRequirement(8, "manage_guild")

STATE_ICONS = {"Ready": "🟢", "Paused": "⏸️", "Error": "🔴", "Starting": "🟡"}

#: How much of a typed module or package name a reply quotes.
NAME_SHOWN = 100


def no_module(name: str) -> UserFacingError:
    return UserFacingError(f"No loaded module is called `{plain(name, 50)}`.")


# --- names -----------------------------------------------------------------------------------


def package_name(name: str) -> str:
    """``example`` -> ``fish_bot.cogs.example``; a dotted package path is kept as it is."""
    cleaned = name.strip()
    return cleaned if "." in cleaned else f"{COG_PACKAGE_ROOT}.{cleaned.lower()}"


def extension_of(bot: FishHost, cog: commands.Cog) -> str | None:
    """The loaded extension (package) a cog came from."""
    module = type(cog).__module__
    for extension in bot.extensions:
        if module == extension or module.startswith(extension + "."):
            return extension
    return None


def find_extension(bot: FishHost, name: str) -> str | None:
    """A loaded extension named by package path, short name or cog name (any case)."""
    wanted = name.strip()
    for candidate in (wanted, package_name(wanted)):
        if candidate in bot.extensions:
            return candidate
    cog = find_cog(bot, wanted)
    return extension_of(bot, cog) if cog is not None else None


def find_cog(bot: FishHost, name: str) -> BaseCog | None:
    """A loaded Fish cog by qualified name or slug (any case), package path or short name."""
    wanted = name.strip().lower()
    cogs = bot.fish_cogs()
    for cog in cogs:
        if wanted in (cog.qualified_name.lower(), cog.slug):
            return cog
    package = package_name(name).lower()
    for cog in cogs:
        extension = extension_of(bot, cog)
        if extension is not None and extension.lower() == package:
            return cog
    return None


def available_packages() -> list[str]:
    """The built-in cog packages shipped with Fish Bot (loaded or not)."""
    import fish_bot.cogs as root

    return sorted(
        f"{COG_PACKAGE_ROOT}.{info.name}"
        for info in pkgutil.iter_modules(root.__path__)
        if info.ispkg
    )


# --- values ----------------------------------------------------------------------------------

_MENTION_FORMATS = {"channel": "<#{}>", "role": "<@&{}>", "user": "<@{}>"}


def format_value(spec: SettingSpec | None, value: Any, limit: int = 200) -> str:
    """A setting value as a reader wants it: durations as ``5m``, channels as mentions."""
    if value is None:
        return "*not set*"
    kind = spec.rules.kind if spec is not None else None
    item_kind = None
    if spec is not None and kind == "list":
        converter = spec.rules.converter
        item_kind = getattr(converter, "item_type", None)
    if kind == "duration" and isinstance(value, int) and not isinstance(value, bool):
        text = format_duration(value)
    elif kind in _MENTION_FORMATS and isinstance(value, int):
        text = _MENTION_FORMATS[kind].format(value)
    elif item_kind in _MENTION_FORMATS and isinstance(value, list):
        text = ", ".join(_MENTION_FORMATS[item_kind].format(v) for v in value) or "*none*"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value if value else '""'
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    return clip(text, limit)


def join_lines(lines: Iterable[str], limit: int = FIELD_VALUE_LIMIT) -> str:
    """Lines joined for an embed field; the tail is replaced by "… and N more" when too long."""
    items = list(lines)
    if not items:
        return "*none*"
    kept: list[str] = []
    size = 0
    for index, line in enumerate(items):
        line = clip(line, limit)
        remaining = len(items) - index
        tail = len(f"\n… and {remaining} more")
        if size + len(line) + 1 + (tail if remaining > 1 else 0) > limit:
            kept.append(f"… and {remaining} more")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def paginate(blocks: Iterable[str], limit: int = PAGE_LIMIT) -> list[str]:
    """Group text blocks into pages of at most ``limit`` characters (a block is never split
    unless it alone is too long, then it is cut)."""
    pages: list[str] = []
    current = ""
    for block in blocks:
        block = clip(block, limit)
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) > limit:
            pages.append(current)
            current = block
        else:
            current = candidate
    if current:
        pages.append(current)
    return pages


# --- the --global flag -----------------------------------------------------------------------

GLOBAL_WORDS = frozenset({"--global", "global", "-g"})


class GlobalFlag(commands.Converter[bool], app_commands.Transformer):
    """``--global`` in a prefix command; a true/false option ``global_`` in a slash command."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> bool:
        if argument.strip().lower() in GLOBAL_WORDS:
            return True
        raise commands.BadArgument(f"Expected `--global` here, not `{plain(argument, 40)}`.")

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.boolean

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> bool:
        return bool(value)


def split_global(text: str) -> tuple[str, bool]:
    """``"hello --global"`` -> ``("hello", True)``: the flag typed after a free-text value."""
    stripped = text.rstrip()
    if stripped.lower() == "--global":
        return "", True
    if stripped.lower().endswith(" --global"):
        return stripped[: -len(" --global")].rstrip(), True
    return text, False


async def rank_source_line(
    bot: FishHost, guild: discord.Guild, who: discord.abc.User, command: Any, needed: int
) -> str:
    """`perm explain`: whether ranks or the Discord permission decide layer 6 here."""
    permissions = bot.permissions
    flag = permissions.discord_permission(command)
    label = permission_label(flag)
    if await permissions.uses_ranks(guild.id):
        return (
            "**Ranks or Discord permission:** this server has configured permission ranks, "
            f"so ranks decide (without ranks, **{label}** would)."
        )
    if needed <= 0:
        return "**Ranks or Discord permission:** no rank is needed, so neither decides."
    has = getattr(getattr(who, "guild_permissions", None), flag, False)
    return (
        "**Ranks or Discord permission:** no permission ranks are configured here, so the "
        f"Discord permission **{label}** decides: {who.mention} {'has' if has else 'lacks'} it."
    )
