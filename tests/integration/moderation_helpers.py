"""Helpers shared by the moderation tests (SimCord)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simcord
from simcord.backend.models.message import Poll, PollAnswer

from fish_bot.bot import FishBot
from fish_bot.cogs.moderation.cog import Moderation
from fish_bot.database.models.cases import Case
from fish_bot.database.models.scheduler import ScheduledJob

from .conftest import World

MOD_RANK = 5
ADMIN_RANK = 6


def fish(env: simcord.Env) -> FishBot:
    bot = env.bot
    assert isinstance(bot, FishBot)
    return bot


def moderation(env: simcord.Env) -> Moderation:
    cog = fish(env).get_cog("Moderation")
    # By name: discord.py drops a cog package's modules when a bot unloads it (every close),
    # so the next bot imports fresh classes.
    assert cog is not None and type(cog).__name__ == "Moderation"
    return cog  # type: ignore[return-value]


def is_a(error: BaseException, kind: type) -> bool:
    """isinstance by class name, robust to reloaded cog modules."""
    return any(cls.__name__ == kind.__name__ for cls in type(error).__mro__)


def calm_scheduler(env: simcord.Env) -> None:
    """Let the idle job runner sleep long between polls.

    It still wakes for every job scheduled through it and at each job's time; the default
    one-minute poll only makes ``advance_time`` over hours slow (each poll is a real query).
    """
    fish(env).scheduler.poll_interval = 6 * 3600


async def restart(env: simcord.Env, make_bot: Callable[..., FishBot]) -> None:
    """Restart the bot on the same data (a new FishBot, a new job scheduler)."""
    await env.restart_bot(make_bot())
    calm_scheduler(env)


async def set_up_moderation(env: simcord.Env, world: World) -> World:
    """Moderators rank 5, admins rank 6, #mod-log as the mod log."""
    bot = fish(env)
    calm_scheduler(env)
    await bot.permission_store.set_role_rank(world.guild.id, world.mod_role.id, MOD_RANK)
    await bot.permission_store.set_role_rank(world.guild.id, world.admin_role.id, ADMIN_RANK)
    await bot.db.guild_config.set_log_channel(world.guild.id, "mod", world.mod_log.id)
    return world


async def say(actor: Any, channel: Any, text: str) -> str:
    """Send a message as ``actor``; the bot's answer (the channel's last message)."""
    await actor.send(channel, text)
    last = channel.last_message
    assert last is not None
    return str(last.content)


def unwrap(error: BaseException) -> BaseException:
    for _ in range(5):
        original = getattr(error, "original", None)
        if original is None:
            break
        error = original
    return error


def assert_refused(env: simcord.Env, reply: str, text: str, kind: type = Exception) -> None:
    """The user was told ``text`` and the bot recorded the refusal (acknowledged here)."""
    assert text in reply, reply
    errors = [unwrap(error) for error in env.errors]
    assert any(is_a(e, kind) and text in str(e) for e in errors), errors


async def cases(env: simcord.Env, world: World, **options: Any) -> list[Case]:
    """The guild's cases, oldest first."""
    found = await fish(env).db.case.get_cases_by_options(world.guild.id, options)
    return list(reversed(found))


async def jobs(env: simcord.Env, job_type: str | None = None) -> list[ScheduledJob]:
    """Every scheduled job (of a type), oldest first."""
    controller = fish(env).db.scheduled_job
    rows = await controller.find_all({"job_type": job_type} if job_type else None)
    return sorted(rows, key=lambda job: job.id or 0)


def dms(actor: Any) -> list[str]:
    """What the bot sent the actor by DM, oldest first."""
    return [message.content for message in actor.user.dm_channel.history()]


def requests(env: simcord.Env, method: str, fragment: str) -> list[Any]:
    return [r for r in env.http_requests if r.method == method and fragment in r.path]


async def post_poll(env: simcord.Env, actor: Any, channel: Any) -> int:
    """``actor`` posts a poll in ``channel``; returns the message id."""
    poll = Poll(
        question="Pizza tonight?",
        answers=[PollAnswer(answer_id=1, text="Yes"), PollAnswer(answer_id=2, text="No")],
        expiry=env.backend.iso_after(3600),
    )
    message = env.backend.create_message(channel.id, actor.id, "", poll=poll)
    await env.settle()
    return message.id


def exists(env: simcord.Env, channel: Any, message_id: int) -> bool:
    return message_id in env.backend.messages.get(channel.id, {})
