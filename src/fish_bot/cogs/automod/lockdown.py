"""Lockdowns: deny Send Messages to @everyone, then restore the exact previous overwrite.

Locking a channel first stores the ``@everyone`` overwrite it has and the bot's own (their
allow and deny bit fields, or "none"; the bot keeps Send Messages in the locked channel) in
``lockdown_state``, with the expiry job of a timed lockdown, in one transaction; only then
are the overwrites changed on Discord (DESIGN rule 12). Unlocking, by command or by the job
:data:`~fish_bot.cogs.automod.constants.UNLOCK_JOB` (one per channel, persisted, so it runs
after a restart too), puts back exactly the stored overwrites (removing those that were none)
and then forgets the row. Both are idempotent: unlocking a channel that is not locked does
nothing, and a job whose row is gone does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.automod.constants import UNLOCK_JOB

if TYPE_CHECKING:
    from fish_bot.cogs.automod.cog import Automod
    from fish_bot.database.controllers.automod import AutomodController
    from fish_bot.database.models.scheduler import ScheduledJob

#: The permissions a lockdown denies to @everyone.
LOCKED = ("send_messages", "send_messages_in_threads", "create_public_threads")

Lockable = discord.TextChannel | discord.ForumChannel | discord.VoiceChannel


def _bits(channel: Lockable, target: discord.Role | discord.Member) -> dict[str, int] | None:
    overwrite = channel.overwrites.get(target)
    if overwrite is None:
        return None
    allow, deny = overwrite.pair()
    return {"allow": allow.value, "deny": deny.value}


def stored_overwrites(channel: Lockable) -> dict[str, dict[str, int] | None]:
    """The channel's @everyone overwrite and the bot's own, as bit fields (None: none)."""
    return {
        "everyone": _bits(channel, channel.guild.default_role),
        "bot": _bits(channel, channel.guild.me),
    }


def locked_overwrite(channel: Lockable) -> discord.PermissionOverwrite:
    """The channel's @everyone overwrite with the lockdown's denials added."""
    overwrite = channel.overwrites_for(channel.guild.default_role)
    overwrite.update(**dict.fromkeys(LOCKED, False))
    return overwrite


def bot_overwrite(channel: Lockable) -> discord.PermissionOverwrite:
    """The bot's own overwrite, allowed to keep talking in the locked channel."""
    overwrite = channel.overwrites_for(channel.guild.me)
    overwrite.update(send_messages=True, send_messages_in_threads=True)
    return overwrite


def restored_overwrite(previous: dict[str, int] | None) -> discord.PermissionOverwrite | None:
    if previous is None:
        return None
    return discord.PermissionOverwrite.from_pair(
        discord.Permissions(int(previous.get("allow", 0))),
        discord.Permissions(int(previous.get("deny", 0))),
    )


async def restore(channel: Lockable, previous: dict[str, Any] | None, reason: str) -> None:
    """Put back the exact overwrites stored at the lockdown (removing those that were none)."""
    stored = previous or {}
    guild = channel.guild
    await channel.set_permissions(
        guild.default_role, overwrite=restored_overwrite(stored.get("everyone")), reason=reason
    )
    await channel.set_permissions(
        guild.me, overwrite=restored_overwrite(stored.get("bot")), reason=reason
    )


class Lockdowns:
    """Lock and unlock channels; the scheduler's handler of timed lockdowns."""

    def __init__(self, cog: Automod) -> None:
        self.cog = cog

    @property
    def store(self) -> AutomodController:
        return self.cog.automod_db

    async def lock(
        self,
        channel: Lockable,
        moderator_id: int,
        reason: str | None,
        ends_at: datetime | None,
    ) -> bool:
        """Lock one channel; False when it is locked already. Raises discord.HTTPException
        when Discord refuses (the stored row is dropped again)."""
        guild = channel.guild
        if await self.store.lockdown(guild.id, channel.id) is not None:
            return False
        async with self.cog.db.transaction():
            await self.store.save_lockdown(
                guild.id,
                channel.id,
                previous=stored_overwrites(channel),
                moderator_id=moderator_id,
                reason=reason,
                ends_at=ends_at,
            )
            if ends_at is not None:
                await self.cog.bot.scheduler.schedule(
                    UNLOCK_JOB, ends_at, {"channel_id": channel.id}, guild_id=guild.id
                )
        audit = f"Lockdown: {reason or 'no reason given'}"[:512]
        try:
            await channel.set_permissions(guild.me, overwrite=bot_overwrite(channel), reason=audit)
            await channel.set_permissions(
                guild.default_role, overwrite=locked_overwrite(channel), reason=audit
            )
        except discord.HTTPException:
            await self._forget(guild.id, channel.id)
            raise
        return True

    async def unlock(
        self, guild: discord.Guild, channel_id: int, reason: str | None = None
    ) -> bool:
        """Restore a channel's exact previous @everyone overwrite; False when not locked."""
        state = await self.store.lockdown(guild.id, channel_id)
        if state is None:
            return False
        channel = guild.get_channel(channel_id)
        if isinstance(channel, Lockable):
            audit = f"Lockdown lifted: {reason or 'no reason given'}"[:512]
            await restore(channel, state.previous, audit)
        await self._forget(guild.id, channel_id)
        return True

    async def _forget(self, guild_id: int, channel_id: int) -> None:
        async with self.cog.db.transaction():
            await self.store.forget_lockdown(guild_id, channel_id)
            await self.cog.bot.scheduler.cancel_where(
                UNLOCK_JOB, guild_id, {"channel_id": channel_id}
            )

    async def locked_channels(self, guild: discord.Guild) -> list[int]:
        return [state.channel_id for state in await self.store.guild_lockdowns(guild.id)]

    # --- the job ---------------------------------------------------------------------------

    async def unlock_job(self, job: ScheduledJob) -> None:
        """A timed lockdown ends: restore the channel (nothing when already unlocked)."""
        cog = self.cog
        async with cog.task_tracker.task_context("Lockdown expiry") as tracker:
            if job.guild_id is None:
                return
            guild = cog.bot.get_guild(int(job.guild_id))
            if guild is None:
                raise RuntimeError(f"guild {job.guild_id} is not available")
            channel_id = int((job.payload or {})["channel_id"])
            state = await self.store.lockdown(guild.id, channel_id)
            if state is None:
                tracker.update_status("Already unlocked")
                return
            channel = guild.get_channel(channel_id)
            if isinstance(channel, Lockable):
                await restore(channel, state.previous, "Lockdown ended")
            await self.store.forget_lockdown(guild.id, channel_id)
            await cog.post_notice(
                guild,
                "🔓 Lockdown ended",
                f"<#{channel_id}> is open again (its previous permissions are restored).",
            )
            tracker.update_status(f"Unlocked {channel_id}")
