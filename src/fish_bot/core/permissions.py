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
   guild); a member's rank is the highest rank of its roles;
7. Discord's own permission checks on the command run afterwards, as discord.py checks.

:meth:`PermissionManager.evaluate` returns the deciding :class:`Decision`;
:meth:`PermissionManager.explain` returns every layer's verdict, which ``perm explain`` prints.
A command marked :func:`alias_of` is judged as the command it stands for (same rank, rules and
module settings), so an alias is never a way around a rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord.ext import commands

from fish_bot.exceptions import ChannelUnauthorized, PermissionDenied, UserUnauthorized

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


def alias_of(qualified_name: str) -> Callable[[F], F]:
    """Mark a command as another name for ``qualified_name``: the permission model judges it as
    that command (its rank, its stored rules, its module's settings)."""
    return _mark("alias_of", qualified_name)


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


# --- the layers ------------------------------------------------------------------------------


@dataclass
class Check:
    """What the layers read: the subject, its module, and the manager's stored-layer hooks."""

    manager: PermissionManager
    subject: Subject
    cog: BaseCog | None

    @property
    def guild(self) -> discord.Guild | None:
        return self.subject.guild

    @property
    def name(self) -> str:
        return self.subject.command_name or "this command"

    @property
    def here(self) -> set[int]:
        """This channel and, in a thread, its parent channel."""
        channel = self.subject.channel
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return {i for i in ids if i is not None}

    @property
    def role_ids(self) -> set[int]:
        return {role.id for role in getattr(self.subject.member, "roles", [])}


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
    effective = await check.manager.effective_rules(guild.id, check.subject)
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
    effective = await check.manager.effective_rules(guild.id, check.subject)
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
    """6. The rank the command needs against the member's rank."""
    guild = check.guild
    if guild is None:
        return None
    needed = await check.manager.command_rank(guild.id, check.subject.command)
    if needed <= 0:
        return None
    member = check.subject.member
    have = await check.manager.member_rank(member) if member is not None else 0
    if have < needed:
        return Decision(
            False, "rank", f"`{check.name}` needs permission rank {needed}; your rank is {have}."
        )
    return Decision(True, "rank", f"`{check.name}` needs rank {needed}; your rank is {have}.")


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
        chain = command_chain(subject.command, subject.via)
        stored = [
            (level, await self.command_rules(guild_id, level.qualified_name)) for level in chain
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
