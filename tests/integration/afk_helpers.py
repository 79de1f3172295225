"""Helpers shared by the AFK tests (SimCord)."""

from __future__ import annotations

from typing import Any

import discord
import simcord

from fish_bot.database.models.afk import AFK
from fish_bot.database.models.scheduler import ScheduledJob

from .conftest import World
from .moderation_helpers import calm_scheduler, fish

MOD_RANK = 5


async def set_up(env: simcord.Env, world: World) -> World:
    """Moderators rank 5 (enough for `afk list` and `afk clear`), a calm job runner."""
    calm_scheduler(env)
    await fish(env).permission_store.set_role_rank(world.guild.id, world.mod_role.id, MOD_RANK)
    return world


async def afk_state(env: simcord.Env, world: World, actor: Any) -> AFK | None:
    """The actor's stored AFK state."""
    return await fish(env).db.afk.get_afk_member(actor.id, guild_id=world.guild.id)


def nick(env: simcord.Env, world: World, actor: Any) -> str | None:
    """The actor's nickname as Discord has it (None: none; Discord stores a reset as "")."""
    nickname: str | None = env.backend.get_member(world.guild.id, actor.id).nick
    return nickname or None


def bot_messages(channel: Any, after: discord.Message | None = None) -> list[discord.Message]:
    """The bot's messages in the channel (after a message), oldest first."""
    return [m for m in channel.history() if m.author.bot and (after is None or m.id > after.id)]


def record(env: simcord.Env, message: discord.Message) -> Any:
    """SimCord's record of a sent message: whom Discord pinged for it."""
    return env.backend.get_message(message.channel.id, message.id)


def pinged_nobody(env: simcord.Env, message: discord.Message) -> bool:
    stored = record(env, message)
    return not stored.mention_everyone and not stored.ping_role_ids and not stored.ping_user_ids


def exists(env: simcord.Env, message: discord.Message) -> bool:
    return message.id in env.backend.messages.get(message.channel.id, {})


async def afk_jobs(env: simcord.Env) -> list[ScheduledJob]:
    rows = await fish(env).db.scheduled_job.find_all({"job_type": "afk.expire"})
    return sorted(rows, key=lambda job: job.id or 0)
