"""The AFK cog class: settings, the in-memory AFK members, the expiry job and status, composed
of its mixins (the flows that start and end an AFK are in ``flow.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.afk.commands import CommandsMixin
from fish_bot.cogs.afk.constants import AFK_EXPIRY_JOB
from fish_bot.cogs.afk.listeners import ListenersMixin
from fish_bot.cogs.afk.utils import AfkCache, NoticeLimiter

if TYPE_CHECKING:
    from fish_bot.bot import FishBot
    from fish_bot.database.models.scheduler import ScheduledJob


class Afk(CommandsMixin, ListenersMixin):
    """Members say they are away; whoever mentions them is told why and since when."""

    slug = "afk"
    settings_config = {
        "notice_delete_after": (
            30,
            "How long the notice about mentioned AFK members stays before it deletes itself",
            "time.seconds(5,600)",
        ),
        "set_nickname": (
            True,
            "Put `[AFK] ` in front of an AFK member's nickname when the bot can",
            "type.bool",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        #: Who is AFK in every guild: the listener reads it without I/O.
        self.afk_members = AfkCache(bot.db)
        self.notices = NoticeLimiter()

    # --- lifecycle -------------------------------------------------------------------------

    async def cog_initialize(self) -> None:
        try:
            async with self.task_tracker.task_context("Initialization") as tracker:
                await super().cog_initialize()
                tracker.update_status("Loading AFK members")
                try:
                    count = await self.afk_members.load_all()
                except Exception:
                    # Each guild is read on its first message instead (one query).
                    self.logger.exception("Could not load the AFK members; reading them lazily")
                else:
                    tracker.update_status(f"{count} AFK members loaded")
                self.bot.scheduler.register_handler(AFK_EXPIRY_JOB, self.expire_afk)
                self.set_ready(True)
                tracker.update_status("Ready")
        except Exception:
            self._has_errors = True
            raise

    async def cog_unload(self) -> None:
        # Timed AFKs wait in the database until the cog is loaded again.
        self.bot.scheduler.unregister_handler(AFK_EXPIRY_JOB)
        self.afk_members.invalidate()
        self.afk_members.close()
        await super().cog_unload()

    # --- the expiry job ----------------------------------------------------------------------

    async def expire_afk(self, job: ScheduledJob) -> None:
        """A timed AFK ends (on time, also after a restart). Idempotent: an AFK that ended or
        was changed since is left alone."""
        async with self.task_tracker.task_context("Expire AFK") as tracker:
            if job.guild_id is None:
                tracker.update_status("Job without a guild; dropped")
                return
            payload = job.payload or {}
            until = datetime.fromisoformat(str(payload["until"]))
            row = await self.end_afk(int(job.guild_id), int(payload["member_id"]), until=until)
            tracker.update_status("AFK ended" if row is not None else "Nothing to end")

    # --- status ------------------------------------------------------------------------------

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        embed.add_field(name="AFK members in memory", value=str(self.afk_members.count()))
        pending = await self.bot.scheduler.pending_count(AFK_EXPIRY_JOB)
        embed.add_field(name="Pending AFK expiries", value=str(pending))
