"""Roles the bot hands out (the jail role; later level rewards and autoroles).

:func:`check_assignable_role` is the one check every such role passes, when it is configured and
again when it is given: a role the bot gives must not be a way to climb. It must be a normal role
(not @everyone, not managed by an integration), below the bot's top role and below the top role
of the member who configures or uses it (the server owner excepted), and it must carry none of
:data:`POWERFUL_PERMISSIONS`.

:func:`suggested_rank` is the permission rank ``perm rank init`` gives a role from its
permissions; :func:`role_rank_lines` and :func:`command_rank_lines` list a server's ranks (in
``perm show``, ``perm rank list`` and ``config show``).
"""

from __future__ import annotations

from typing import Final

import discord

from fish_bot.exceptions import UserFacingError

#: Permissions a role handed out by the bot must not carry: administration and moderation.
POWERFUL_PERMISSIONS: Final[dict[str, str]] = {
    "administrator": "Administrator",
    "manage_guild": "Manage Server",
    "manage_roles": "Manage Roles",
    "manage_channels": "Manage Channels",
    "manage_webhooks": "Manage Webhooks",
    "manage_expressions": "Manage Expressions",
    "manage_events": "Manage Events",
    "manage_threads": "Manage Threads",
    "manage_messages": "Manage Messages",
    "manage_nicknames": "Manage Nicknames",
    "ban_members": "Ban Members",
    "kick_members": "Kick Members",
    "moderate_members": "Timeout Members",
    "mute_members": "Mute Members",
    "deafen_members": "Deafen Members",
    "move_members": "Move Members",
    "mention_everyone": "Mention @everyone",
    "view_audit_log": "View Audit Log",
}

#: ``perm rank init``: a role gets the highest rank of the permissions it has; roles with none
#: of them get no rank.
DEFAULT_RANK_RULES: Final[tuple[tuple[str, int], ...]] = (
    ("administrator", 8),
    ("manage_guild", 7),
    ("ban_members", 5),
    ("kick_members", 3),
    ("moderate_members", 3),
    ("manage_messages", 2),
)


def powerful_permissions(role: discord.Role) -> list[str]:
    """The names of the administration and moderation permissions a role carries."""
    permissions = role.permissions
    return [label for name, label in POWERFUL_PERMISSIONS.items() if getattr(permissions, name)]


def assignable_role_problem(
    role: discord.Role, actor: discord.abc.User | None, *, purpose: str = "that role"
) -> str | None:
    """Why the bot must not hand out ``role`` for ``actor`` (None: it may)."""
    guild = role.guild
    if role.is_default():
        return f"@everyone can't be {purpose}: every member has it."
    if role.managed:
        return f"{role.mention} is managed by an integration; I can't give it to members."
    powers = powerful_permissions(role)
    if powers:
        return (
            f"{role.mention} can't be {purpose}: it carries "
            + ", ".join(powers[:5])
            + (" and more" if len(powers) > 5 else "")
            + ". Use a role without administration or moderation permissions."
        )
    me = guild.me
    if me is not None and role >= me.top_role:
        return (
            f"{role.mention} is not below my highest role, so I can't give it: "
            "move my role above it, or pick a lower role."
        )
    if isinstance(actor, discord.Member) and actor.id != guild.owner_id and role >= actor.top_role:
        return f"{role.mention} is not below your highest role, so you can't make me give it."
    return None


def check_assignable_role(
    role: discord.Role, actor: discord.abc.User | None, *, purpose: str = "that role"
) -> None:
    """Raise a :class:`UserFacingError` with the reason when the bot must not give ``role``.

    ``actor`` is the member who sets the role up or uses it (None: the bot acting on its own,
    e.g. re-jailing a member who rejoined); ``purpose`` names the role in messages
    (``"the jail role"``).
    """
    problem = assignable_role_problem(role, actor, purpose=purpose)
    if problem is not None:
        raise UserFacingError(problem)


def suggested_rank(role: discord.Role) -> int | None:
    """The rank ``perm rank init`` gives a role from its permissions (None: no rank)."""
    if role.is_default() or role.managed:
        return None
    permissions = role.permissions
    ranks = [rank for name, rank in DEFAULT_RANK_RULES if getattr(permissions, name, False)]
    return max(ranks) if ranks else None


def role_rank_lines(guild: discord.Guild, role_ranks: dict[int, int], limit: int = 25) -> str:
    """``rank · @role`` lines, highest rank first."""
    ordered = sorted(role_ranks.items(), key=lambda item: (-item[1], item[0]))
    lines = []
    for role_id, rank in ordered[:limit]:
        gone = "" if guild.get_role(role_id) is not None else " (deleted role)"
        lines.append(f"{rank} · <@&{role_id}>{gone}")
    if len(ordered) > limit:
        lines.append(f"… and {len(ordered) - limit} more")
    return "\n".join(lines)


def command_rank_lines(command_ranks: dict[str, int]) -> str:
    """The commands whose rank a server changed, one line each (name, then rank), by name."""
    return "\n".join(f"`{name}`: {rank}" for name, rank in sorted(command_ranks.items()))
