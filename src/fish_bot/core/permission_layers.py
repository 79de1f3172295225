"""The layers of the permission model: one small function per step, and
:data:`PERMISSION_LAYERS`, the order they decide in (see :mod:`fish_bot.core.permissions`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import discord

from fish_bot.core.permission_subjects import (
    Decision,
    Subject,
    bypasses_permissions,
)
from fish_bot.core.text import permission_label

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.permission_subjects import EffectiveRules
    from fish_bot.core.permissions import PermissionManager

# --- the layers ------------------------------------------------------------------------------


@dataclass
class Check:
    """What the layers read: the subject, its module, and the manager's stored-layer hooks.

    One check is one decision: what several layers read (the channel, the roles, the stored
    rules) is worked out once and kept on it.
    """

    manager: PermissionManager
    subject: Subject
    cog: BaseCog | None
    _effective: EffectiveRules | None = field(default=None, repr=False)

    @property
    def guild(self) -> discord.Guild | None:
        return self.subject.guild

    @property
    def name(self) -> str:
        return self.subject.command_name or "this command"

    @cached_property
    def here(self) -> set[int]:
        """This channel and, in a thread, its parent channel."""
        channel = self.subject.channel
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return {i for i in ids if i is not None}

    @cached_property
    def role_ids(self) -> set[int]:
        return {role.id for role in getattr(self.subject.member, "roles", [])}

    async def effective_rules(self, guild_id: int) -> EffectiveRules:
        """The stored rules of the command (read once for the channel and the role layers)."""
        if self._effective is None:
            self._effective = await self.manager.effective_rules(guild_id, self.subject)
        return self._effective


#: Mention formats for :func:`_listed`.
_CHANNEL = "<#{}>"
_ROLE = "<@&{}>"


def _listed(ids: Sequence[int], mention: str) -> str:
    """The first five ``ids`` as mentions (``mention`` is ``_CHANNEL`` or ``_ROLE``)."""
    return ", ".join(mention.format(item) for item in ids[:5])


async def bot_owner_layer(check: Check) -> Decision | None:
    """1. Bot owners run every command (switchable)."""
    if await bypasses_permissions(check.manager.bot, check.subject.user):
        return Decision(True, "owner", "Bot owners may run every command.")
    return None


async def direct_message_layer(check: Check) -> Decision | None:
    """2. In direct messages only commands marked usable there run."""
    from fish_bot.core.base_cog import command_meta

    if check.guild is not None:
        return None
    cmd = check.subject.command
    if cmd is not None and command_meta(cmd, "dm_allowed", False):
        return Decision(True, "dm", f"`{check.name}` is usable in direct messages.")
    return Decision(
        False, "dm", f"`{check.name}` can only be used in a server, not in direct messages."
    )


async def server_manager_layer(check: Check) -> Decision | None:
    """3. The guild owner and Administrators on the settings and permission commands."""
    from fish_bot.core.base_cog import command_meta

    guild, member, cmd = check.guild, check.subject.member, check.subject.command
    if guild is None or member is None or cmd is None:
        return None
    if not command_meta(cmd, "admin_override", False):
        return None
    if guild.owner_id == member.id:
        return Decision(True, "guild_owner", "The server owner may always run this command.")
    if member.guild_permissions.administrator:
        return Decision(True, "administrator", "Administrators may always run this command.")
    return None


async def paused_layer(check: Check) -> Decision | None:
    """A paused module refuses its commands (except those that manage pausing)."""
    cog, guild = check.cog, check.guild
    if guild is None or cog is None or cog.works_while_paused or not cog.is_paused_in(guild.id):
        return None
    return Decision(False, "paused", f"The {cog.qualified_name} module is paused here.")


async def module_channels_layer(check: Check) -> Decision | None:
    """4. The module's ``restricted_channels`` and ``allowed_channels``."""
    cog, guild = check.cog, check.guild
    if guild is None or cog is None:
        return None
    here = check.here
    restricted = cog.get_setting("restricted_channels", [], guild.id) or []
    if here & set(restricted):
        return Decision(
            False,
            "cog_restricted_channels",
            f"{cog.qualified_name} commands are not allowed in this channel.",
            channel_rule=True,
        )
    allowed = cog.get_setting("allowed_channels", [], guild.id) or []
    if allowed and not here & set(allowed):
        return Decision(
            False,
            "cog_allowed_channels",
            f"{cog.qualified_name} commands only work in {_listed(allowed, _CHANNEL)}.",
            channel_rule=True,
        )
    return None


async def module_roles_layer(check: Check) -> Decision | None:
    """4. The module's ``required_roles``."""
    cog, guild = check.cog, check.guild
    if guild is None or cog is None:
        return None
    required = cog.get_setting("required_roles", [], guild.id) or []
    if required and not check.role_ids.intersection(required):
        return Decision(
            False,
            "cog_required_roles",
            f"{cog.qualified_name} commands need one of the roles {_listed(required, _ROLE)}.",
        )
    return None


async def command_channels_layer(check: Check) -> Decision | None:
    """5. Stored channel rules of the command (or of its group)."""
    guild = check.guild
    if guild is None or check.subject.command is None:
        return None
    effective = await check.effective_rules(guild.id)
    here, rules, name = check.here, effective.rules, check.name
    if here & rules["deny_channels"]:
        return Decision(
            False, "command_denied_channel", f"`{name}` is disabled in this channel.", True
        )
    allow_channels = rules["allow_channels"]
    if allow_channels and not here & allow_channels:
        return Decision(
            False,
            "command_allowed_channels",
            f"`{name}` only works in {_listed(sorted(allow_channels), _CHANNEL)}.",
            True,
        )
    return None


async def command_roles_layer(check: Check) -> Decision | None:
    """5. Stored role rules of the command (or of its group); an allowed role skips the rank."""
    guild = check.guild
    if guild is None or check.subject.command is None:
        return None
    effective = await check.effective_rules(guild.id)
    role_ids, rules, name = check.role_ids, effective.rules, check.name
    if role_ids & rules["deny_roles"]:
        return Decision(False, "command_denied_role", f"One of your roles may not use `{name}`.")
    allow_roles = rules["allow_roles"]
    if not allow_roles:
        return None
    if role_ids & allow_roles:
        return Decision(True, "command_allowed_role", f"Your role is allowed to use `{name}`.")
    return Decision(
        False,
        "command_allowed_roles",
        f"`{name}` needs one of the roles {_listed(sorted(allow_roles), _ROLE)}.",
    )


async def rank_layer(check: Check) -> Decision | None:
    """6. The rank the command needs against the member's rank; on a guild that has given no
    role a rank, the Discord permission the command names decides instead."""
    guild = check.guild
    if guild is None:
        return None
    needed = await check.manager.command_rank(guild.id, check.subject.command)
    if needed <= 0:
        return None
    member = check.subject.member
    if not await check.manager.uses_ranks(guild.id):
        return discord_permission_decision(check)
    have = await check.manager.member_rank(member) if member is not None else 0
    if have < needed:
        return Decision(
            False, "rank", f"`{check.name}` needs permission rank {needed}; your rank is {have}."
        )
    return Decision(True, "rank", f"`{check.name}` needs rank {needed}; your rank is {have}.")


def discord_permission_decision(check: Check) -> Decision:
    """Layer 6 on a guild without ranks: the member's server-wide Discord permission (from
    their roles; the guild owner and Administrators have every permission)."""
    permission = check.manager.discord_permission(check.subject.command)
    label = permission_label(permission)
    member = check.subject.member
    if member is not None and getattr(member.guild_permissions, permission, False):
        return Decision(
            True,
            "discord_permission",
            f"No permission ranks are configured here, so the Discord permission **{label}** "
            "decides: you have it.",
        )
    return Decision(
        False,
        "discord_permission",
        f"`{check.name}` needs the **{label}** permission: no permission ranks are configured "
        "here, so Discord permissions decide (`config ranks init` sets ranks up).",
    )


@dataclass(frozen=True)
class Layer:
    """One step of the permission model. ``place`` layers judge where (channels, pause),
    not who: :meth:`PermissionManager.evaluate` can leave them out to ask "could this member
    run the command somewhere?"."""

    key: str
    label: str
    decide: Callable[[Check], Awaitable[Decision | None]]
    place: bool = False


#: The permission model, in the order it decides (the first decision wins).
PERMISSION_LAYERS: tuple[Layer, ...] = (
    Layer("owner", "1 · bot owner", bot_owner_layer),
    Layer("dm", "2 · direct messages", direct_message_layer),
    Layer("server_manager", "3 · server owner / Administrator override", server_manager_layer),
    Layer("paused", "module paused", paused_layer, place=True),
    Layer("module_channels", "4 · module channels", module_channels_layer, place=True),
    Layer("module_roles", "4 · module required roles", module_roles_layer),
    Layer("command_channels", "5 · command rules: channels", command_channels_layer, place=True),
    Layer("command_roles", "5 · command rules: roles", command_roles_layer),
    Layer("rank", "6 · permission rank", rank_layer),
)


def default_decision(subject: Subject) -> Decision:
    return Decision(True, "default", f"No rule restricts `{subject.command_name or 'it'}`.")
