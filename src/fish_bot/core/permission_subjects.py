"""Who and what a permission check is about (the subject, its module and command chain, the
stored rules that apply to it), and who is above the rules. :mod:`fish_bot.core.permissions`
holds the model itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from fish_bot.exceptions import ChannelUnauthorized, PermissionDenied, UserUnauthorized

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.host import FishHost

# --- who is above the rules ------------------------------------------------------------------


async def bypasses_permissions(bot: FishHost, user: discord.abc.User) -> bool:
    """Whether ``user`` is a bot owner who passes every permission rule (layer 1).

    The one place that decides it: the permission model, rank authority and moderation's
    moderator checks all ask here. ``FISHBOT_OWNERS_BYPASS=false`` switches it off.
    """
    return bool(bot.settings.owners_bypass_permissions) and await bot.is_owner(user)


def manages_server(user: discord.abc.User, guild: discord.Guild) -> bool:
    """The guild owner or a member with Administrator (layer 3, and authority over rules)."""
    if guild.owner_id == user.id:
        return True
    return isinstance(user, discord.Member) and user.guild_permissions.administrator


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
    """Who wants to run what, where: built from a Context or an Interaction.

    ``command`` is the command judged; ``via`` is the alias that was typed for it, if any.
    """

    user: discord.abc.User
    guild: discord.Guild | None
    channel: Any
    command: Any
    command_name: str
    via: Any = None

    @property
    def member(self) -> discord.Member | None:
        return self.user if isinstance(self.user, discord.Member) else None


def resolve_alias(client: Any, command: Any) -> Any:
    """The command an :func:`alias_of` command stands for (the command itself otherwise)."""
    from fish_bot.core.base_cog import command_meta

    target_name = command_meta(command, "alias_of", None) if command is not None else None
    if not target_name or not isinstance(client, commands.bot.BotBase):
        return command
    target = client.get_command(str(target_name))
    return command if target is None else target


def subject_from(
    source: commands.Context[Any] | discord.Interaction, command: Any = None
) -> Subject:
    """Describe a Context or Interaction for the permission model."""
    channel: Any
    if isinstance(source, discord.Interaction):
        user: discord.abc.User = source.user
        guild = source.guild
        channel = source.channel
        client: Any = source.client
        command = command if command is not None else source.command
        # The slash side of a hybrid command is a separate app command object without the
        # Fish Bot markers (rank, admin_override...): judge the hybrid command it wraps.
        command = getattr(command, "wrapped", command)
    else:
        user = source.author
        guild = source.guild
        channel = source.channel
        client = source.bot
        command = command if command is not None else source.command
    return subject_for(client, command, user=user, guild=guild, channel=channel)


def subject_for(
    client: Any, command: Any, *, user: discord.abc.User, guild: discord.Guild | None, channel: Any
) -> Subject:
    """``user`` running ``command`` in ``channel``; an alias is judged as the command it stands
    for (``via`` keeps the alias)."""
    target = resolve_alias(client, command)
    return Subject(
        user=user,
        guild=guild,
        channel=channel,
        command=target,
        command_name=getattr(command, "qualified_name", None) or "",
        via=command if target is not command else None,
    )


def cog_of(command: Any) -> BaseCog | None:
    """The Fish Bot cog a command belongs to (None for another cog's or a bare command)."""
    from fish_bot.core.base_cog import BaseCog

    cog = getattr(command, "cog", None)
    return cog if isinstance(cog, BaseCog) else None


def command_chain(command: Any, via: Any = None) -> list[Any]:
    """The command, then its parent groups (then the alias and its groups): the levels whose
    stored rules may apply, most specific first."""
    chain: list[Any] = []
    for start in (command, via):
        level = start
        while level is not None and all(level is not seen for seen in chain):
            chain.append(level)
            parent = getattr(level, "parent", None)
            level = parent if parent is not level else None
    return chain


RULE_KINDS = ("role", "channel")


@dataclass
class EffectiveRules:
    """The per-command rules that apply to a command, and which command each kind came from."""

    rules: dict[str, set[int]]
    source: dict[str, str]

    def any(self) -> bool:
        return any(self.rules.values())
