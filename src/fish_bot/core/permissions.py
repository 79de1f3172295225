"""The permission model: one decision procedure for prefix commands, slash commands and
components (DESIGN.md, "Permissions"). The first rule that matches decides:

1. bot owners are allowed (unless ``FISHBOT_OWNERS_BYPASS=false``);
2. in DMs, only commands marked :func:`dm_allowed` run;
3. the guild owner and Administrators can always run commands marked :func:`admin_override`
   (the settings and permission commands: nobody can lock the server out);
4. the cog's ``restricted_channels`` deny, its ``allowed_channels`` (when set) allow only those,
   its ``required_roles`` (when set) require one of them;
5. per-command rules stored per guild: denied roles and channels, allowed roles and channels;
6. permission ranks: the command needs a rank (declared with :func:`requires_rank`, changeable
   per guild); a member's rank is the highest rank of its roles;
7. Discord's own permission checks on the command run afterwards, as discord.py checks.

:meth:`PermissionManager.evaluate` returns a :class:`Decision` naming the rule; ``perm explain``
prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord.ext import commands

from fish_bot.exceptions import ChannelUnauthorized, PermissionDenied, UserUnauthorized

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.host import FishHost as FishBot

F = TypeVar("F")

MAX_RANK = 10


def _mark(key: str, value: Any) -> Callable[[F], F]:
    """A decorator that stores a marker on a command or on its callback (either order)."""

    def decorator(obj: F) -> F:
        extras = getattr(obj, "extras", None)
        if isinstance(extras, dict):
            extras[key] = value
        else:
            meta = getattr(obj, "__fishbot_meta__", None)
            if meta is None:
                meta = {}
                obj.__fishbot_meta__ = meta  # type: ignore[attr-defined]
            meta[key] = value
        return obj

    return decorator


def requires_rank(rank: int) -> Callable[[F], F]:
    """Declare the permission rank (0..10) a command needs by default."""
    if not 0 <= rank <= MAX_RANK:
        raise ValueError(f"rank must be between 0 and {MAX_RANK}")
    return _mark("rank", rank)


def dm_allowed() -> Callable[[F], F]:
    """Allow a command in direct messages."""
    return _mark("dm_allowed", True)


def admin_override() -> Callable[[F], F]:
    """Let the guild owner and Administrators always run this command (settings, perm)."""
    return _mark("admin_override", True)


@dataclass(frozen=True)
class Decision:
    """The outcome of the permission model and the rule that decided it."""

    allowed: bool
    rule: str
    reason: str
    channel_rule: bool = False
    details: list[str] = field(default_factory=list)

    def to_error(self) -> PermissionDenied:
        cls = ChannelUnauthorized if self.channel_rule else UserUnauthorized
        return cls(self.reason, rule=self.rule)


@dataclass
class Subject:
    """Who wants to run what, where: built from a Context or an Interaction."""

    user: discord.abc.User
    guild: discord.Guild | None
    channel: Any
    command: Any
    command_name: str

    @property
    def member(self) -> discord.Member | None:
        return self.user if isinstance(self.user, discord.Member) else None


def subject_from(
    source: commands.Context[Any] | discord.Interaction, command: Any = None
) -> Subject:
    """Describe a Context or Interaction for the permission model."""
    channel: Any
    if isinstance(source, discord.Interaction):
        user: discord.abc.User = source.user
        guild = source.guild
        channel = source.channel
        command = command if command is not None else source.command
        # The slash side of a hybrid command is a separate app command object without the
        # Fish Bot markers (rank, admin_override...): judge the hybrid command it wraps.
        command = getattr(command, "wrapped", command)
    else:
        user = source.author
        guild = source.guild
        channel = source.channel
        command = command if command is not None else source.command
    name = getattr(command, "qualified_name", None) or ""
    return Subject(user=user, guild=guild, channel=channel, command=command, command_name=name)


class PermissionManager:
    """Evaluates the permission model; stored rules and ranks come from :class:`PermissionStore`."""

    def __init__(self, bot: FishBot) -> None:
        self.bot = bot

    # The stored layers (5 and 6) are read through these hooks; the rule store keeps them
    # cached per guild, so a check does no I/O once a guild's rules are loaded.

    async def command_rules(self, guild_id: int, command: str) -> dict[str, set[int]]:
        """Stored per-command rules: keys allow_roles, deny_roles, allow_channels, deny_channels."""
        return await self.bot.permission_store.command_rules(guild_id, command)

    async def command_rank(self, guild_id: int, command: Any) -> int:
        """The rank a command needs in a guild: the guild's override, else its declared rank."""
        from fish_bot.core.base_cog import command_meta

        if command is None:
            return 0
        declared = int(command_meta(command, "rank", 0) or 0)
        override = await self.bot.permission_store.command_rank(guild_id, command.qualified_name)
        return declared if override is None else override

    async def member_rank(self, member: discord.Member) -> int:
        """The highest rank of the member's roles (the guild owner has the top rank)."""
        if member.guild.owner_id == member.id:
            return MAX_RANK
        ranks = await self.bot.permission_store.role_ranks(member.guild.id)
        return max((ranks.get(role.id, 0) for role in member.roles), default=0)

    async def evaluate(
        self,
        source: commands.Context[Any] | discord.Interaction | Subject,
        *,
        cog: BaseCog | None = None,
        command: Any = None,
    ) -> Decision:
        """Decide whether the command may run; the first matching rule wins."""
        from fish_bot.core.base_cog import command_meta

        subject = source if isinstance(source, Subject) else subject_from(source, command)
        cmd = subject.command
        name = subject.command_name or "this command"

        # 1. Bot owners.
        if self.bot.settings.owners_bypass_permissions and await self.bot.is_owner(subject.user):
            return Decision(True, "owner", "Bot owners may run every command.")

        # 2. Direct messages.
        if subject.guild is None:
            if cmd is not None and command_meta(cmd, "dm_allowed", False):
                return Decision(True, "dm", f"`{name}` is usable in direct messages.")
            return Decision(
                False, "dm", f"`{name}` can only be used in a server, not in direct messages."
            )

        member = subject.member
        guild = subject.guild
        channel_id = getattr(subject.channel, "id", 0)

        # 3. Guild owner and Administrators on settings/permission commands.
        if member is not None and cmd is not None and command_meta(cmd, "admin_override", False):
            if guild.owner_id == member.id:
                return Decision(
                    True, "guild_owner", "The server owner may always run this command."
                )
            if member.guild_permissions.administrator:
                return Decision(
                    True, "administrator", "Administrators may always run this command."
                )

        # Paused cogs refuse their commands (except those that manage pausing).
        if cog is not None and not cog.works_while_paused and cog.is_paused_in(guild.id):
            return Decision(False, "paused", f"The {cog.qualified_name} module is paused here.")

        # 4. The cog's channel and role settings.
        if cog is not None:
            restricted = cog.get_setting("restricted_channels", [], guild.id) or []
            if (
                channel_id in restricted
                or getattr(subject.channel, "parent_id", None) in restricted
            ):
                return Decision(
                    False,
                    "cog_restricted_channels",
                    f"{cog.qualified_name} commands are not allowed in this channel.",
                    channel_rule=True,
                )
            allowed = cog.get_setting("allowed_channels", [], guild.id) or []
            if (
                allowed
                and channel_id not in allowed
                and getattr(subject.channel, "parent_id", None) not in allowed
            ):
                places = ", ".join(f"<#{cid}>" for cid in allowed[:5])
                return Decision(
                    False,
                    "cog_allowed_channels",
                    f"{cog.qualified_name} commands only work in {places}.",
                    channel_rule=True,
                )
            required = cog.get_setting("required_roles", [], guild.id) or []
            if required:
                role_ids = {role.id for role in getattr(member, "roles", [])}
                if not role_ids.intersection(required):
                    return Decision(
                        False,
                        "cog_required_roles",
                        f"{cog.qualified_name} commands need one of the roles "
                        + ", ".join(f"<@&{rid}>" for rid in required[:5])
                        + ".",
                    )

        # 5. Per-command rules stored for this guild.
        if cmd is not None:
            rules = await self.command_rules(guild.id, cmd.qualified_name)
            role_ids = {role.id for role in getattr(member, "roles", [])}
            # A thread follows the rules of its parent channel too.
            here = {channel_id, getattr(subject.channel, "parent_id", None)} - {None}
            if here & rules.get("deny_channels", set()):
                return Decision(
                    False, "command_denied_channel", f"`{name}` is disabled in this channel.", True
                )
            if role_ids & rules.get("deny_roles", set()):
                return Decision(
                    False, "command_denied_role", f"One of your roles may not use `{name}`."
                )
            allow_channels = rules.get("allow_channels", set())
            if allow_channels and not here & allow_channels:
                return Decision(
                    False,
                    "command_allowed_channels",
                    f"`{name}` only works in "
                    + ", ".join(f"<#{c}>" for c in sorted(allow_channels)[:5])
                    + ".",
                    True,
                )
            allow_roles = rules.get("allow_roles", set())
            if allow_roles:
                if role_ids & allow_roles:
                    return Decision(
                        True, "command_allowed_role", f"Your role is allowed to use `{name}`."
                    )
                return Decision(
                    False,
                    "command_allowed_roles",
                    f"`{name}` needs one of the roles "
                    + ", ".join(f"<@&{r}>" for r in sorted(allow_roles)[:5])
                    + ".",
                )

        # 6. Permission ranks.
        needed = await self.command_rank(guild.id, cmd)
        if needed > 0:
            have = await self.member_rank(member) if member is not None else 0
            if have < needed:
                return Decision(
                    False,
                    "rank",
                    f"`{name}` needs permission rank {needed}; your rank is {have}.",
                )
            return Decision(True, "rank", f"`{name}` needs rank {needed}; your rank is {have}.")

        return Decision(True, "default", f"No rule restricts `{name}`.")
