"""The sandbox's demo server: one guild, four people, two roles, three channels, fixed ids.

The sandbox keeps its database between runs, and that database refers to the simulated world by
id (a case names its member, a rank names its role, the mod-log setting names its channel). So
the world is created with the *same* ids every run:

* the guild id is pinned through SimCord's public ``create_guild(id=...)``;
* SimCord 3.2.1 has no ``id=`` for users, roles and channels, so each of them is created inside
  :func:`pinned_snowflake`, which reserves the wanted id in the backend and hands it out as the
  next snowflake the backend allocates. The created handle's id is then checked, so a SimCord
  that allocates differently fails loudly (:class:`WorldMismatch`) instead of silently
  creating a world the stored state no longer matches;
* the bot's own user and application ids are the first two snowflakes SimCord allocates when
  its backend is built, at its fixed virtual epoch, so they are the same every run too.

The ids are snowflakes of 2025-01-01 (so ``created_at`` is in the past) with small sequence
numbers, which can never collide with the ids SimCord allocates while the sandbox runs.

The database side of the world (the moderator role's permission rank, the mod-log channel) is
written once, by :func:`seed_database`, and then left alone: what a person changes in the
sandbox stays changed in later runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
import simcord

from fish_bot.exceptions import FishBotError

if TYPE_CHECKING:
    from fish_bot.bot import FishBot

_DISCORD_EPOCH_MS = 1420070400000
#: When the demo world was "created": every pinned id is a snowflake of this instant.
WORLD_CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def world_snowflake(sequence: int) -> int:
    """The pinned id number ``sequence`` (a snowflake of :data:`WORLD_CREATED`)."""
    milliseconds = int(WORLD_CREATED.timestamp() * 1000) - _DISCORD_EPOCH_MS
    return (milliseconds << 22) | sequence


GUILD_ID = world_snowflake(1)
#: The bot's managed integration role, which SimCord creates with the guild.
BOT_ROLE_ID = world_snowflake(2)

GUILD_NAME = "Fish Tank"
BOT_NAME = "Fish Bot"
#: The permission rank (0..10) the Moderator role has in the sandbox.
MODERATOR_RANK = 5
#: Bumped when :func:`seed_database` learns something new to seed.
SEED_VERSION = 1
SEED_KEY = "__sandbox_seed__"


@dataclass(frozen=True)
class RoleSpec:
    key: str
    name: str
    id: int
    permissions: discord.Permissions
    rank: int | None = None
    color: int = 0


@dataclass(frozen=True)
class ChannelSpec:
    key: str
    name: str
    id: int
    topic: str
    #: Only these role keys (and the bot) can see the channel; empty: everyone.
    private_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonSpec:
    key: str
    id: int
    roles: tuple[str, ...] = ()
    description: str = ""


ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(
        key="moderator",
        name="Moderator",
        id=world_snowflake(20),
        permissions=discord.Permissions(
            kick_members=True,
            ban_members=True,
            moderate_members=True,
            manage_messages=True,
        ),
        rank=MODERATOR_RANK,
        color=0x2ECC71,
    ),
    RoleSpec(
        key="member",
        name="Member",
        id=world_snowflake(21),
        permissions=discord.Permissions.none(),
        color=0x3498DB,
    ),
)

CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("general", "general", world_snowflake(30), "Say hello to Fish Bot"),
    ChannelSpec(
        "mod-log",
        "mod-log",
        world_snowflake(31),
        "Fish Bot's moderation log (moderators only)",
        private_to=("moderator",),
    ),
    ChannelSpec("bot-commands", "bot-commands", world_snowflake(32), "Commands go here"),
)

PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec(
        "owner",
        world_snowflake(10),
        description="owns the server and the bot: may do everything",
    ),
    PersonSpec(
        "moderator",
        world_snowflake(11),
        roles=("moderator",),
        description=f"Moderator role: rank {MODERATOR_RANK}, kick/ban/timeout/manage messages",
    ),
    PersonSpec(
        "alice",
        world_snowflake(12),
        roles=("member",),
        description="Member role: rank 0",
    ),
    PersonSpec(
        "bob",
        world_snowflake(13),
        roles=("member",),
        description="Member role: rank 0",
    ),
)

OWNER_ID = PEOPLE[0].id


class WorldMismatch(FishBotError):
    """SimCord did not create the world with the pinned ids."""


@contextmanager
def pinned_snowflake(env: simcord.Env, value: int) -> Iterator[None]:
    """Make ``value`` the next snowflake ``env``'s backend allocates (once).

    The value is reserved first, so SimCord never hands it to anything else.
    """
    backend: Any = env.backend
    backend.reserve_id(value)
    allocate: Callable[[], int] = backend.snowflake
    used = False

    def next_snowflake() -> int:
        nonlocal used
        if used:
            return allocate()
        used = True
        return value

    backend.snowflake = next_snowflake
    try:
        yield
    finally:
        del backend.snowflake


def _check(kind: str, name: str, wanted: int, got: int) -> None:
    if wanted != got:
        raise WorldMismatch(
            f"SimCord gave the sandbox {kind} {name!r} the id {got}, not {wanted}; "
            "this SimCord version is not the one Fish Bot pins (see pyproject.toml)."
        )


@dataclass
class SandboxWorld:
    """The demo guild and handles to act in it."""

    env: simcord.Env
    guild: simcord.GuildHandle
    people: dict[str, simcord.MemberActor] = field(default_factory=dict)
    roles: dict[str, simcord.RoleHandle] = field(default_factory=dict)
    channels: dict[str, simcord.ChannelHandle] = field(default_factory=dict)
    #: Each person's direct-message channel with the bot.
    dms: dict[str, simcord.ChannelHandle] = field(default_factory=dict)

    def person(self, name: str) -> simcord.MemberActor:
        """A person by key (``alice``), also written ``@alice``; raises KeyError."""
        key = name.strip().removeprefix("@").lower()
        return self.people[key]

    def channel(self, name: str) -> simcord.ChannelHandle:
        """A channel by name (``general``), also written ``#general``; raises KeyError."""
        key = name.strip().removeprefix("#").lower()
        return self.channels[key]

    def role(self, name: str) -> simcord.RoleHandle:
        """A role by key or name (``moderator``, ``@Moderator``); raises KeyError."""
        key = name.strip().removeprefix("@").lower()
        for spec in ROLES:
            if key in (spec.key, spec.name.lower()):
                return self.roles[spec.key]
        raise KeyError(name)

    def spec_of(self, person: simcord.MemberActor) -> PersonSpec:
        return next(spec for spec in PEOPLE if spec.id == person.id)

    def name_of(self, user_id: int) -> str | None:
        """A sandbox person's key, or the bot's name, for a user id."""
        for key, actor in self.people.items():
            if actor.id == user_id:
                return key
        if user_id == self.env.backend.bot_user.id:
            return BOT_NAME
        return None

    def channel_name(self, channel_id: int) -> str | None:
        for key, channel in self.channels.items():
            if channel.id == channel_id:
                return key
        return None

    def dm_owner(self, channel_id: int) -> str | None:
        """Whose direct-message channel with the bot this is, if it is one."""
        for key, channel in self.dms.items():
            if channel.id == channel_id:
                return key
        return None

    def role_name(self, role_id: int) -> str | None:
        for spec in ROLES:
            if spec.id == role_id:
                return spec.name
        return None


def build_world(env: simcord.Env) -> SandboxWorld:
    """Create the demo server in ``env`` (before ``env.start()``, so no join events fire)."""
    env.backend.edit_bot_profile(BOT_NAME)
    users: dict[str, simcord.UserHandle] = {}
    for person in PEOPLE:
        with pinned_snowflake(env, person.id):
            user = env.create_user(person.key)
        _check("user", person.key, person.id, user.id)
        users[person.key] = user

    owner = users[PEOPLE[0].key]
    with pinned_snowflake(env, BOT_ROLE_ID):
        guild = env.create_guild(GUILD_NAME, id=GUILD_ID, owner=owner)
    _check("guild", GUILD_NAME, GUILD_ID, guild.id)
    bot_role = guild.roles.get(BOT_NAME)
    _check("role", BOT_NAME, BOT_ROLE_ID, bot_role.id if bot_role else 0)
    assert bot_role is not None
    world = SandboxWorld(env=env, guild=guild)

    for role_spec in ROLES:
        with pinned_snowflake(env, role_spec.id):
            role = guild.create_role(
                role_spec.name, permissions=role_spec.permissions, color=role_spec.color
            )
        _check("role", role_spec.name, role_spec.id, role.id)
        world.roles[role_spec.key] = role

    for channel_spec in CHANNELS:
        overwrites: dict[Any, discord.PermissionOverwrite] = {}
        if channel_spec.private_to:
            overwrites[guild.default_role] = discord.PermissionOverwrite(view_channel=False)
            for key in channel_spec.private_to:
                overwrites[world.roles[key]] = discord.PermissionOverwrite(view_channel=True)
            overwrites[bot_role] = discord.PermissionOverwrite(
                view_channel=True, send_messages=True, embed_links=True
            )
        with pinned_snowflake(env, channel_spec.id):
            channel = guild.create_text_channel(
                channel_spec.name, overwrites=overwrites or None, topic=channel_spec.topic
            )
        _check("channel", channel_spec.name, channel_spec.id, channel.id)
        world.channels[channel_spec.key] = channel

    for person in PEOPLE:
        user = users[person.key]
        roles = [world.roles[key] for key in person.roles]
        if user.id in guild.member_ids():  # the owner is a member of their guild already
            actor = simcord.MemberActor(env, guild, user)
        else:
            actor = guild.add_member(user, roles=roles)
        world.people[person.key] = actor
        world.dms[person.key] = user.dm_channel
    return world


async def seed_database(bot: FishBot) -> bool:
    """Store the world's ranks and mod-log channel, once; returns whether it wrote anything.

    Later runs find the seed marker and leave the stored state alone, so what a person changed
    with the bot's own commands (another mod-log channel, other ranks) survives a restart.
    """
    from fish_bot.bot_startup import BOT_STATE_COG

    manager = bot.config_manager
    if manager.stored(BOT_STATE_COG, SEED_KEY, GUILD_ID) == (True, SEED_VERSION):
        return False
    for role_spec in ROLES:
        if role_spec.rank is not None:
            await bot.permission_store.set_role_rank(GUILD_ID, role_spec.id, role_spec.rank)
    mod_log = next(spec for spec in CHANNELS if spec.key == "mod-log")
    await bot.db.guild_config.set_log_channel(GUILD_ID, "mod", mod_log.id)
    await manager.set_internal(BOT_STATE_COG, SEED_KEY, SEED_VERSION, GUILD_ID)
    return True
