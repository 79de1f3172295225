"""The permission model: one decision procedure for prefix commands, slash commands and
components (DESIGN.md, "Permissions").

The model is the ordered tuple :data:`PERMISSION_LAYERS`; each layer is a small function that
returns a :class:`Decision` (allow or deny) or ``None`` (no opinion), and the first decision wins:

1. ``owner`` — bot owners are allowed (unless ``FISHBOT_OWNERS_BYPASS=false``);
2. ``dm`` — in DMs, only commands marked :func:`dm_allowed` run;
3. ``server_manager`` — the guild owner and Administrators can always run commands marked
   :func:`admin_override` (the settings and permission commands: nobody can lock the server out);
   then ``paused``: a paused module refuses its commands;
4. ``module_channels`` / ``module_roles`` — the module's ``restricted_channels`` deny, its
   ``allowed_channels`` (when set) allow only those, its ``required_roles`` (when set) require one;
5. ``command_channels`` / ``command_roles`` — per-command rules stored per guild: denied and
   allowed channels, denied and allowed roles. A rule on a command group applies to its
   subcommands; a subcommand's own rules of the same kind (roles, channels) replace the group's;
6. ``rank`` — the command needs a rank (declared with :func:`requires_rank`, changeable per
   guild); a member's rank is the highest rank of its roles. On a guild that has given no role
   a rank, the Discord permission the command names (``requires_rank(3, "kick_members")``)
   decides instead (Administrator for a command that names none), as Red does;
7. Discord's own permission checks on the command run afterwards, as discord.py checks.

:meth:`PermissionManager.evaluate` returns the deciding :class:`Decision`;
:meth:`PermissionManager.explain` returns every layer's verdict, which ``perm explain`` prints.
A command marked :func:`alias_of` is judged as the command it stands for (same rank, rules and
module settings), so an alias is never a way around a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord.ext import commands

from fish_bot.core.permission_layers import (
    PERMISSION_LAYERS,
    Check,
    Layer,
    default_decision,
)
from fish_bot.core.permission_subjects import (
    RULE_KINDS,
    Decision,
    EffectiveRules,
    Subject,
    cog_of,
    command_chain,
    subject_from,
)

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.host import FishHost

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


@dataclass(frozen=True)
class RankRequirement:
    """What a command needs: a permission rank, and the Discord permission that decides on a
    server that has configured no ranks (and hides the slash command from members without it).

    A cog keeps a table of these (``DEFAULT_RANKS["kick"]``) and passes them to
    :func:`requires_rank`.
    """

    rank: int
    permission: str | None = None


def requires_rank(rank: int | RankRequirement, permission: str | None = None) -> Callable[[F], F]:
    """Declare the permission rank (0..10) a command needs by default, and the Discord
    permission (a :class:`discord.Permissions` flag such as ``"kick_members"``) that decides
    instead on a server without ranks. The same declaration sets the slash command's
    ``default_member_permissions`` (:mod:`fish_bot.core.slash_visibility`)."""
    if isinstance(rank, RankRequirement):
        permission = permission or rank.permission
        rank = rank.rank
    if not 0 <= rank <= MAX_RANK:
        raise ValueError(f"rank must be between 0 and {MAX_RANK}")
    if permission is not None and permission not in discord.Permissions.VALID_FLAGS:
        raise ValueError(f"{permission!r} is not a Discord permission")
    mark_rank = _mark("rank", rank)
    mark_permission = _mark("discord_permission", permission)

    def decorator(obj: F) -> F:
        obj = mark_rank(obj)
        return mark_permission(obj) if permission is not None else obj

    return decorator


def dm_allowed() -> Callable[[F], F]:
    """Allow a command in direct messages."""
    return _mark("dm_allowed", True)


def admin_override() -> Callable[[F], F]:
    """Let the guild owner and Administrators always run this command (settings, perm)."""
    return _mark("admin_override", True)


def alias_of(qualified_name: str) -> Callable[[F], F]:
    """Mark a command as another name for ``qualified_name``: the permission model judges it as
    that command (its rank, its stored rules, its module's settings)."""
    return _mark("alias_of", qualified_name)


class PermissionManager:
    """Evaluates the permission model; stored rules and ranks come from :class:`PermissionStore`."""

    def __init__(self, bot: FishHost) -> None:
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

    async def uses_ranks(self, guild_id: int) -> bool:
        """Whether the guild has given any role a rank; until it has, the Discord permission
        each command names decides (layer 6)."""
        return await self.bot.permission_store.has_role_ranks(guild_id)

    @staticmethod
    def discord_permission(command: Any) -> str:
        """The Discord permission that decides for ``command`` on a guild without ranks: the
        one it declares with :func:`requires_rank`, else Administrator."""
        from fish_bot.core.base_cog import command_meta

        declared = command_meta(command, "discord_permission", None) if command else None
        return str(declared or "administrator")

    async def member_rank(self, member: discord.Member) -> int:
        """The highest rank of the member's roles (the guild owner has the top rank)."""
        if member.guild.owner_id == member.id:
            return MAX_RANK
        ranks = await self.bot.permission_store.role_ranks(member.guild.id)
        return max((ranks.get(role.id, 0) for role in member.roles), default=0)

    async def effective_rules(self, guild_id: int, subject: Subject) -> EffectiveRules:
        """The stored rules that apply to the subject's command: for roles and for channels
        separately, those of the most specific level (command, its group, ...) that has any."""
        rules: dict[str, set[int]] = {}
        source: dict[str, str] = {}
        with_rules = await self.bot.permission_store.commands_with_rules(guild_id)
        chain = command_chain(subject.command, subject.via) if with_rules else []
        stored = [
            (level, await self.command_rules(guild_id, level.qualified_name))
            for level in chain
            if level.qualified_name in with_rules
        ]
        for kind in RULE_KINDS:
            allow, deny = f"allow_{kind}s", f"deny_{kind}s"
            rules[allow], rules[deny] = set(), set()
            for level, level_rules in stored:
                if level_rules.get(allow) or level_rules.get(deny):
                    rules[allow] = set(level_rules.get(allow, set()))
                    rules[deny] = set(level_rules.get(deny, set()))
                    source[kind] = level.qualified_name
                    break
        return EffectiveRules(rules, source)

    def _check(
        self,
        source: commands.Context[Any] | discord.Interaction | Subject,
        cog: BaseCog | None,
        command: Any,
    ) -> Check:
        subject = source if isinstance(source, Subject) else subject_from(source, command)
        if subject.via is not None and cog_of(subject.command) is not None:
            # An alias is judged in the module of the command it stands for.
            cog = cog_of(subject.command)
        return Check(manager=self, subject=subject, cog=cog)

    async def evaluate(
        self,
        source: commands.Context[Any] | discord.Interaction | Subject,
        *,
        cog: BaseCog | None = None,
        command: Any = None,
        anywhere: bool = False,
    ) -> Decision:
        """Decide whether the command may run; the first layer that decides wins.

        ``anywhere=True`` leaves out the layers about the place (channels, pause): whether the
        member could run the command in some channel.
        """
        check = self._check(source, cog, command)
        for layer in PERMISSION_LAYERS:
            if anywhere and layer.place:
                continue
            decision = await layer.decide(check)
            if decision is not None:
                return decision
        return default_decision(check.subject)

    async def layer_verdict(
        self, key: str, subject: Subject, *, cog: BaseCog | None = None
    ) -> Decision | None:
        """The verdict of the one layer ``key`` of :data:`PERMISSION_LAYERS` on ``subject``
        (``None``: no opinion). BaseCog's ``is_channel_authorized`` and ``has_required_role``
        ask the module layers through it."""
        layer = next((layer for layer in PERMISSION_LAYERS if layer.key == key), None)
        if layer is None:
            raise KeyError(f"no permission layer {key!r}")
        return await layer.decide(self._check(subject, cog, subject.command))

    async def explain(
        self,
        source: commands.Context[Any] | discord.Interaction | Subject,
        *,
        cog: BaseCog | None = None,
        command: Any = None,
    ) -> tuple[Decision, list[tuple[Layer, Decision | None]]]:
        """The deciding decision and every layer's verdict (``None``: the layer has no opinion)."""
        check = self._check(source, cog, command)
        verdicts = [(layer, await layer.decide(check)) for layer in PERMISSION_LAYERS]
        decided = next((d for _, d in verdicts if d is not None), None)
        return decided or default_decision(check.subject), verdicts
