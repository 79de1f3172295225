"""Who may change the permission model: rules, ranks and access settings.

DESIGN.md: nobody changes rules, ranks or access settings for a command they could not run, or
for a role at or above their own top role; the guild owner, Administrators and bot owners
(when they bypass permissions) are not limited. Concretely, for a member who is none of those:

* :func:`check_rank_authority` — no rank above their own is handed out or changed;
* :func:`check_role_authority` — no rule or rank is changed for a role ranked above them, or at
  or above their own top role;
* :func:`check_command_authority` — no rule or rank is changed for a command (or, for a group,
  any of its subcommands) they could not run themselves, somewhere in the server;
* :func:`check_lockout` — no access rule (a module's ``required_roles``, ``allowed_channels``,
  ``restricted_channels``, or a command's channel rules) leaves a role ranked above them without
  a channel to use the commands in.

Every refusal is a :class:`~fish_bot.exceptions.UserFacingError` saying why; nothing is stored.
The ``*_as`` functions apply a change on behalf of a member and return the reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from fish_bot.core.permission_store import parse_rank
from fish_bot.core.permission_subjects import (
    bypasses_permissions,
    cog_of,
    manages_server,
    subject_for,
)
from fish_bot.database.models.permissions import RuleTarget
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.host import FishHost

#: The module settings that decide who may use a module's commands (DESIGN.md, layer 4).
ACCESS_SETTINGS = ("required_roles", "allowed_channels", "restricted_channels")

_ASK = "Ask an Administrator or the server owner."


async def may_grant_any_rank(bot: FishHost, actor: discord.abc.User, guild: discord.Guild) -> bool:
    """The server owner, Administrators and (when they bypass permissions) bot owners."""
    return manages_server(actor, guild) or await bypasses_permissions(bot, actor)


async def actor_rank(bot: FishHost, actor: discord.abc.User) -> int:
    """The actor's permission rank in the guild (0 outside one)."""
    if not isinstance(actor, discord.Member):
        return 0
    return await bot.permissions.member_rank(actor)


async def check_rank_authority(
    bot: FishHost, actor: discord.abc.User, guild: discord.Guild, *ranks: int
) -> None:
    """Refuse to hand out or change a rank above the actor's own rank.

    Without it, a member with a rank that may manage ranks could give their own role rank 10.
    """
    if await may_grant_any_rank(bot, actor, guild):
        return
    own = await actor_rank(bot, actor)
    too_high = [rank for rank in ranks if rank > own]
    if too_high:
        raise UserFacingError(
            f"⛔ Your permission rank is {own}: you can't set or change rank {max(too_high)}. "
            + _ASK
        )


async def check_role_authority(
    bot: FishHost, actor: discord.abc.User, guild: discord.Guild, role: discord.Role
) -> None:
    """Refuse a change about a role ranked above the actor, or at or above their top role."""
    if await may_grant_any_rank(bot, actor, guild):
        return
    own = await actor_rank(bot, actor)
    rank = (await bot.permission_store.role_ranks(guild.id)).get(role.id, 0)
    if rank > own:
        raise UserFacingError(
            f"⛔ {role.mention} has permission rank {rank}, above yours ({own}): you can't "
            f"change its rules or rank. {_ASK}"
        )
    top = actor.top_role if isinstance(actor, discord.Member) else None
    if top is None or role >= top:
        raise UserFacingError(
            f"⛔ {role.mention} is not below your highest role: you can't change its rules or "
            f"rank. {_ASK}"
        )


def _with_subcommands(command: Any) -> list[Any]:
    found = [command]
    if isinstance(command, commands.Group):
        found.extend(command.walk_commands())
    return found


async def check_command_authority(
    bot: FishHost, actor: discord.abc.User, guild: discord.Guild, command: Any
) -> None:
    """Refuse a change to the rules or rank of a command the actor could not run themselves
    (in some channel of the server); for a group, every subcommand counts."""
    if await may_grant_any_rank(bot, actor, guild):
        return
    for each in _with_subcommands(command):
        subject = subject_for(bot, each, user=actor, guild=guild, channel=None)
        cog = cog_of(subject.command)
        decision = await bot.permissions.evaluate(subject, cog=cog, anywhere=True)
        if not decision.allowed:
            raise UserFacingError(
                f"⛔ You can't change who may use `{command.qualified_name}`: you could not "
                f"run `{each.qualified_name}` yourself ({decision.reason.rstrip('.')})."
            )


# --- lock-outs -----------------------------------------------------------------------------


def locked_out(guild: discord.Guild, role: discord.Role, access: Mapping[str, Any]) -> bool:
    """Whether a member whose only role is ``role`` could use no channel under ``access``
    (``required_roles``, ``allowed_channels``, ``restricted_channels``)."""
    required = set(access.get("required_roles") or ())
    if required and role.id not in required:
        return True
    allowed = set(access.get("allowed_channels") or ())
    restricted = set(access.get("restricted_channels") or ())
    if not allowed and not restricted:
        return False
    for channel in guild.channels:
        if isinstance(channel, discord.CategoryChannel):
            continue
        permissions = channel.permissions_for(role)
        if not (permissions.view_channel and permissions.send_messages):
            continue
        if (allowed and channel.id not in allowed) or channel.id in restricted:
            continue
        return False
    return True


async def check_lockout(
    bot: FishHost,
    actor: discord.abc.User,
    guild: discord.Guild,
    what: str,
    current: Mapping[str, Any],
    proposed: Mapping[str, Any],
) -> None:
    """Refuse an access change that locks a role ranked above the actor out of ``what``."""
    if await may_grant_any_rank(bot, actor, guild):
        return
    own = await actor_rank(bot, actor)
    ranks = await bot.permission_store.role_ranks(guild.id)
    for role_id, rank in sorted(ranks.items(), key=lambda item: -item[1]):
        role = guild.get_role(role_id)
        if rank <= own or role is None:
            continue
        if locked_out(guild, role, proposed) and not locked_out(guild, role, current):
            raise UserFacingError(
                f"⛔ That would lock {role.mention} (permission rank {rank}, above yours: {own}) "
                f"out of {what}. Nothing was changed. {_ASK}"
            )


async def check_access_setting(
    bot: FishHost,
    actor: discord.abc.User,
    guild: discord.Guild | None,
    scope: str,
    key: str,
    value: Any,
) -> None:
    """Refuse a module access setting (``required_roles``...) that locks out a higher rank."""
    if guild is None or key not in ACCESS_SETTINGS:
        return
    manager = bot.config_manager
    current = {name: manager.get(scope, name, guild.id) or [] for name in ACCESS_SETTINGS}
    proposed = {**current, key: value or []}
    await check_lockout(bot, actor, guild, f"the {scope} commands", current, proposed)


# --- changes made on behalf of a member -----------------------------------------------------


def _access_of(rules: Mapping[str, Iterable[int]]) -> dict[str, list[int]]:
    return {
        "allowed_channels": list(rules.get("allow_channels", ())),
        "restricted_channels": list(rules.get("deny_channels", ())),
    }


async def set_rule_as(
    bot: FishHost,
    actor: discord.abc.User,
    guild: discord.Guild,
    command: Any,
    target: discord.Role | discord.abc.GuildChannel,
    *,
    allow: bool,
) -> None:
    """Allow or deny a role or channel for a command, within the actor's authority."""
    await check_command_authority(bot, actor, guild, command)
    store = bot.permission_store
    name = command.qualified_name
    if isinstance(target, discord.Role):
        await check_role_authority(bot, actor, guild, target)
        await store.set_rule(guild.id, name, RuleTarget.ROLE, target.id, allow=allow)
        return
    current = await store.command_rules(guild.id, name)
    proposed = {key: set(ids) - {target.id} for key, ids in current.items()}
    proposed["allow_channels" if allow else "deny_channels"].add(target.id)
    await check_lockout(bot, actor, guild, f"`{name}`", _access_of(current), _access_of(proposed))
    await store.set_rule(guild.id, name, RuleTarget.CHANNEL, target.id, allow=allow)


async def remove_rule_as(
    bot: FishHost,
    actor: discord.abc.User,
    guild: discord.Guild,
    command: Any,
    target: discord.Role | discord.abc.GuildChannel,
) -> bool:
    """Remove the rule a command has for a role or channel, within the actor's authority."""
    await check_command_authority(bot, actor, guild, command)
    store = bot.permission_store
    name = command.qualified_name
    if isinstance(target, discord.Role):
        await check_role_authority(bot, actor, guild, target)
        return await store.remove_rule(guild.id, name, RuleTarget.ROLE, target.id)
    current = await store.command_rules(guild.id, name)
    proposed = {key: set(ids) - {target.id} for key, ids in current.items()}
    await check_lockout(bot, actor, guild, f"`{name}`", _access_of(current), _access_of(proposed))
    return await store.remove_rule(guild.id, name, RuleTarget.CHANNEL, target.id)


async def clear_rules_as(
    bot: FishHost, actor: discord.abc.User, guild: discord.Guild, command: Any
) -> int:
    """Remove every rule of a command, within the actor's authority (every role it names)."""
    await check_command_authority(bot, actor, guild, command)
    store = bot.permission_store
    name = command.qualified_name
    rules = await store.command_rules(guild.id, name)
    for role_id in sorted(rules["allow_roles"] | rules["deny_roles"]):
        role = guild.get_role(role_id)
        if role is not None:
            await check_role_authority(bot, actor, guild, role)
    return await store.clear_command(guild.id, name)


async def set_role_rank_as(
    bot: FishHost, actor: discord.abc.User, guild: discord.Guild, role: discord.Role, rank: int
) -> str:
    """Give a role a rank on behalf of ``actor`` (within their authority); returns the reply."""
    store = bot.permission_store
    current = (await store.role_ranks(guild.id)).get(role.id, 0)
    await check_rank_authority(bot, actor, guild, rank, current)
    await check_role_authority(bot, actor, guild, role)
    await store.set_role_rank(guild.id, role.id, rank)
    return f"✅ {role.mention} now has permission rank {rank}."


async def remove_role_rank_as(
    bot: FishHost, actor: discord.abc.User, guild: discord.Guild, role: discord.Role
) -> str:
    """Take a role's rank away on behalf of ``actor``; returns the reply."""
    store = bot.permission_store
    current = (await store.role_ranks(guild.id)).get(role.id, 0)
    await check_rank_authority(bot, actor, guild, current)
    await check_role_authority(bot, actor, guild, role)
    if await store.remove_role_rank(guild.id, role.id):
        return f"🗑️ {role.mention} no longer has a permission rank."
    return f"{role.mention} had no permission rank."


async def set_command_rank_as(
    bot: FishHost, actor: discord.abc.User, guild: discord.Guild, command: Any, rank: str
) -> str:
    """Set (a number) or reset (``default``) the rank a command needs; returns the reply."""
    from fish_bot.core.base_cog import command_meta

    value = parse_rank(rank)
    name = str(getattr(command, "qualified_name", command))
    declared = int(command_meta(command, "rank", 0) or 0)
    store = bot.permission_store
    override = await store.command_rank(guild.id, name)
    current = declared if override is None else override
    await check_rank_authority(bot, actor, guild, current, declared if value is None else value)
    await check_command_authority(bot, actor, guild, command)
    if value is None:
        await store.reset_command_rank(guild.id, name)
        return f"✅ `{name}` needs its declared rank again ({declared})."
    await store.set_command_rank(guild.id, name, value)
    return f"✅ `{name}` now needs permission rank {value} here (declared: {declared})."


async def check_role_ranks_authority(
    bot: FishHost,
    actor: discord.abc.User,
    guild: discord.Guild,
    planned: Sequence[tuple[discord.Role, int]],
) -> None:
    """Check a batch of role ranks (``perm rank init``) before any is stored."""
    await check_rank_authority(bot, actor, guild, *(rank for _, rank in planned))
    for role, _rank in planned:
        await check_role_authority(bot, actor, guild, role)
