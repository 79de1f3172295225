"""The guide's named permission helpers, as views on the one permission model.

:class:`CogPermissionsMixin` is part of every :class:`~fish_bot.core.base_cog.BaseCog`. None of
these decides anything itself: each asks :class:`~fish_bot.core.permissions.PermissionManager`
(``bot.permissions``), so its answer is the answer a command would get.

* ``await self.is_channel_authorized(channel)``: the module-channels layer (the cog's
  ``restricted_channels`` deny, its ``allowed_channels``, when set, allow only those; a thread
  counts as its parent channel). Direct messages have no module channels: True.
* ``await self.has_required_role(member)``: the module-roles layer (the cog's
  ``required_roles``, when set, need one of them). A user outside a server: True.
* ``await self.check_command_permissions(ctx, command_name)``: the whole model for the command
  named ``command_name`` (a prefix, hybrid or slash command, or a component's
  ``<prefix>:<action>``), used by ``ctx.author`` in ``ctx.channel``: True exactly when that
  command would run there. A name that is no command is judged as a command of this cog with
  that name (the stored rules of that name apply).
* ``await self.check_permissions(ctx)`` (on BaseCog) raises
  :class:`~fish_bot.exceptions.ChannelUnauthorized` or
  :class:`~fish_bot.exceptions.UserUnauthorized` with the deciding rule's reason.

The two layer views answer only their layer: a bot owner (layer 1) and the server owner or an
Administrator on the settings and permission commands (layer 3) pass before those layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.core.permission_subjects import Subject, cog_of

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.host import FishHost

__all__ = ["CogPermissionsMixin", "NamedCommand"]


@dataclass
class NamedCommand:
    """A name that is not a loaded command, as the permission model sees it."""

    qualified_name: str
    cog: Any = None
    callback: Any = None
    parent: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


class CogPermissionsMixin:
    """``is_channel_authorized``, ``has_required_role``, ``check_command_permissions``."""

    if TYPE_CHECKING:
        bot: FishHost

    def _place_subject(self, channel: Any, user: Any) -> Subject:
        guild = getattr(channel, "guild", None) or getattr(user, "guild", None)
        return Subject(user=user, guild=guild, channel=channel, command=None, command_name="")

    async def is_channel_authorized(self, channel: Any) -> bool:
        """Whether the cog's channel settings let its commands run in ``channel``."""
        subject = self._place_subject(channel, self.bot.user)
        verdict = await self.bot.permissions.layer_verdict(
            "module_channels", subject, cog=self._as_cog()
        )
        return verdict is None or verdict.allowed

    async def has_required_role(self, member: discord.abc.User) -> bool:
        """Whether ``member`` has one of the cog's ``required_roles`` (True when none is set)."""
        subject = self._place_subject(None, member)
        verdict = await self.bot.permissions.layer_verdict(
            "module_roles", subject, cog=self._as_cog()
        )
        return verdict is None or verdict.allowed

    async def check_command_permissions(
        self, ctx: commands.Context[Any] | discord.Interaction, command_name: str
    ) -> bool:
        """Whether the permission model lets ``ctx``'s user run ``command_name`` here."""
        command = self._named_command(command_name)
        cog = cog_of(command) or self._as_cog()
        decision = await self.bot.permissions.evaluate(ctx, cog=cog, command=command)
        return decision.allowed

    def _named_command(self, command_name: str) -> Any:
        name = " ".join(command_name.split())
        found: Any = self.bot.get_command(name)
        if found is None and name:
            parts = name.split()
            node: Any = self.bot.tree.get_command(parts[0])
            for part in parts[1:]:
                node = node.get_command(part) if isinstance(node, app_commands.Group) else None
            found = node
        return found if found is not None else NamedCommand(name, cog=self)

    def _as_cog(self) -> BaseCog:
        return self  # type: ignore[return-value]
