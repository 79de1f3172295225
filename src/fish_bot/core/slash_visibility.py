"""Who sees a slash command in the ``/`` menu, derived from the permission declarations.

Discord hides a slash command from members who lack its ``default_member_permissions`` (server
admins can change that per command in Server Settings → Integrations) and, when it is
guild-only, from direct messages. Fish Bot declares nothing of this by hand: before the
commands are synced, :func:`apply_slash_visibility` sets both on every top-level slash command
from what the permission model already knows:

* the Discord permission a command names with
  :func:`~fish_bot.core.permissions.requires_rank` (``kick_members`` for ``kick``) becomes its
  ``default_member_permissions``;
* a command for bot owners only (``commands.is_owner()``) gets no permission bits at all, so
  only Administrators see it (the check still decides who may run it);
* a command not marked :func:`~fish_bot.core.permissions.dm_allowed` cannot run in direct
  messages (layer 2 refuses it), so it is guild-only.

Discord only knows top-level commands: a group is judged by its slash subcommands. It is
hidden behind a permission when each of them needs that same one (owner-only subcommands
aside), behind no bits when all are owner-only, and visible to everyone as soon as one needs
nothing or two need different permissions; it is guild-only unless one of them works in
direct messages. Whatever the menu shows, the permission model decides at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import discord
from discord import app_commands

from fish_bot.core.permission_subjects import resolve_alias

#: The requirement of a command for bot owners only.
OWNER_ONLY: Final = "bot owner"


def is_owner_only(command: Any) -> bool:
    """Whether ``command`` (or a group above it) carries discord.py's ``commands.is_owner()``."""
    level = command
    while level is not None:
        for predicate in getattr(level, "checks", ()):
            if getattr(predicate, "__qualname__", "").startswith("is_owner.") and getattr(
                predicate, "__module__", ""
            ).startswith("discord.ext.commands"):
                return True
        parent = getattr(level, "parent", None)
        level = parent if parent is not level else None
    return False


def slash_leaves(app_command: Any) -> list[Any]:
    """The commands a slash entry runs: itself, or every subcommand of a group."""
    if isinstance(app_command, app_commands.Group):
        return [c for c in app_command.walk_commands() if not isinstance(c, app_commands.Group)]
    return [app_command]


def requirement(client: Any, command: Any) -> str | None:
    """What a member needs to see ``command``: :data:`OWNER_ONLY`, a Discord permission flag,
    or None (everyone). ``command`` is a slash command or the prefix command it wraps."""
    from fish_bot.core.base_cog import command_meta

    command = getattr(command, "wrapped", command)
    target = resolve_alias(client, command)
    if is_owner_only(command) or is_owner_only(target):
        return OWNER_ONLY
    declared = command_meta(target, "discord_permission", None)
    return str(declared) if declared else None


def dm_usable(client: Any, command: Any) -> bool:
    """Whether ``command`` is marked usable in direct messages."""
    from fish_bot.core.base_cog import command_meta

    target = resolve_alias(client, getattr(command, "wrapped", command))
    return bool(command_meta(target, "dm_allowed", False))


def combined(needs: Iterable[str | None]) -> discord.Permissions | None:
    """The ``default_member_permissions`` of a top-level command whose leaves need ``needs``."""
    wanted = set(needs)
    if not wanted or None in wanted:
        return None
    named = {need for need in wanted if need is not None and need != OWNER_ONLY}
    if not named:
        return discord.Permissions.none()
    if len(named) == 1:
        return discord.Permissions(**{named.pop(): True})
    return None


def visibility(client: Any, app_command: Any) -> tuple[discord.Permissions | None, bool]:
    """``(default_member_permissions, guild_only)`` for one top-level slash command."""
    leaves = slash_leaves(app_command)
    permissions = combined(requirement(client, leaf) for leaf in leaves)
    guild_only = not any(dm_usable(client, leaf) for leaf in leaves)
    return permissions, guild_only


def apply_slash_visibility(client: Any, tree: app_commands.CommandTree[Any]) -> None:
    """Set ``default_member_permissions`` and guild-only on every global slash command.

    A permission set by hand (``@app_commands.default_permissions``) is kept when the
    declarations name none; guild-only is only ever added.
    """
    for app_command in tree.get_commands():
        permissions, guild_only = visibility(client, app_command)
        if permissions is not None:
            app_command.default_permissions = permissions
        if guild_only:
            app_command.guild_only = True
