"""Posting, ending and checking ads: the advertise cog's work on Discord and in the database.

* Posting records first: the ad's row and its expiry job commit together (the cooldown is then
  taken, also against a second form sent at the same moment), then the forum post is made. A post
  that fails removes the row and the job again.
* An ad ends once (``AdvertController.end`` is conditional): at the end of its cooldown by the
  ``advertise.expire`` job (idempotent: a second run finds it ended and does nothing), by a
  moderator's ``advertise delete``, or when its post was deleted by hand in Discord (seen as it
  happens by the listener, and by the hourly ``check_deletions`` for what happened while the
  cog was not running).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.advertise.constants import CONFIGURE_HINT, EXPIRE_JOB, KEEP_ENDED_DAYS
from fish_bot.cogs.advertise.utils import (
    AdForm,
    AdvertError,
    ad_embed,
    invite_code,
    match_tags,
    post_content,
)
from fish_bot.core.text import plain
from fish_bot.database.models.adverts import Advert, AdvertEnd, AdvertKind

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.models.scheduler import ScheduledJob

    _MixinBase = BaseCog
else:
    _MixinBase = object


def _when(moment: datetime) -> str:
    return f"{discord.utils.format_dt(moment, 'f')} ({discord.utils.format_dt(moment, 'R')})"


class FlowMixin(_MixinBase):
    """post_ad, the expiry job's handler, ending ads, the deletion check and the cleanup."""

    #: Posts this cog is deleting itself (the delete listener leaves them to it).
    _deleting: set[int]

    # --- checks before posting -------------------------------------------------------------

    def forum_of(self, guild: discord.Guild) -> discord.ForumChannel:
        """The configured forum channel, or :class:`AdvertError` saying how to configure it."""
        channel_id = self.get_setting("forum_channel", None, guild.id)
        channel = guild.get_channel(int(channel_id)) if channel_id else None
        if channel is None:
            raise AdvertError(CONFIGURE_HINT)
        if not isinstance(channel, discord.ForumChannel):
            raise AdvertError(
                f"{channel.mention} is not a forum channel; " + CONFIGURE_HINT.split(": ", 1)[1]
            )
        return channel

    async def check_cooldown(
        self, guild_id: int, member_id: int, advertised: int | None, now: datetime
    ) -> None:
        """Refuse a new ad while the member's (or the advertised server's) cooldown runs."""
        blocking = await self.db.advert.blocking_ad(guild_id, member_id, advertised, now)
        if blocking is None:
            return
        if blocking.author_id == member_id:
            raise AdvertError(
                f"⏳ You posted an ad here recently; your next one is allowed "
                f"{_when(blocking.expires_at)}."
            )
        raise AdvertError(
            f"⏳ That server was advertised here recently; its next ad is allowed "
            f"{_when(blocking.expires_at)}."
        )

    async def advertised_guild(self, form: AdForm) -> int | None:
        """The id of the server a server ad is for, read from the invite in its contact."""
        if form.kind != AdvertKind.GUILD.value:
            return None
        code = invite_code(form.contact)
        if code is None:
            raise AdvertError(
                "❌ A server ad needs the server's invite link as its contact "
                "(for example `https://discord.gg/abc123`)."
            )
        client: Any = self.bot  # FishHost names only what core needs
        try:
            # The raw invite: its server is ``guild.id`` (and ``guild_id`` in newer payloads).
            data: dict[str, Any] = await client.http.get_invite(code, with_counts=False)
        except discord.NotFound:
            raise AdvertError(
                f"❌ The invite `{plain(code, 40)}` is not valid (expired or deleted)."
            ) from None
        guild_id = (data.get("guild") or {}).get("id") or data.get("guild_id")
        if not guild_id:
            raise AdvertError("❌ That invite is not for a server.")
        return int(guild_id)

    # --- posting ---------------------------------------------------------------------------

    async def post_ad(self, interaction: discord.Interaction, form: AdForm) -> None:
        """Post a submitted form as a forum post (called by the form's ``on_submit``)."""
        guild = interaction.guild
        member = interaction.user
        if guild is None:
            raise AdvertError("Ads are posted in a server.")
        async with self.task_tracker.task_context("Post ad") as tracker:
            forum = self.forum_of(guild)
            advertised = await self.advertised_guild(form)
            now = discord.utils.utcnow()
            await self.check_cooldown(guild.id, member.id, advertised, now)
            mapping = self.get_setting("tag_mapping", {}, guild.id) or {}
            tags = match_tags(form, forum.available_tags, mapping)
            await interaction.response.defer(ephemeral=True, thinking=True)
            expires = now + timedelta(hours=int(self.get_setting("cooldown_hours", 24, guild.id)))
            advert = await self._record(guild.id, member.id, advertised, form, now, expires)
            assert advert.id is not None
            try:
                created = await forum.create_thread(
                    name=form.title,
                    content=post_content(member),
                    embed=ad_embed(form, member),
                    applied_tags=tags,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except discord.HTTPException as error:
                async with self.db.transaction():
                    await self.db.advert.delete_by_id(advert.id)
                    if advert.job_id is not None:
                        await self.bot.scheduler.cancel(advert.job_id)
                tracker.update_status("Post failed", success=False)
                raise AdvertError(
                    f"❌ I could not post in {forum.mention} (Discord said: "
                    f"{plain(error.text or str(error.status), 80)}). Nothing was posted and your "
                    "cooldown did not start."
                ) from None
            await self.db.advert.set_post(advert.id, forum.id, created.thread.id)
            tracker.update_status("Posted")
        await interaction.followup.send(
            f"✅ Your ad is posted: {created.thread.mention}. It stays up until {_when(expires)}; "
            "your next ad is allowed then.",
            ephemeral=True,
        )

    async def _record(
        self,
        guild_id: int,
        member_id: int,
        advertised: int | None,
        form: AdForm,
        now: datetime,
        expires: datetime,
    ) -> Advert:
        """The ad's row and its expiry job, in one transaction (the cooldown checked inside)."""
        async with self.db.transaction():
            await self.check_cooldown(guild_id, member_id, advertised, now)
            advert = await self.db.advert.create(
                guild_id=guild_id,
                author_id=member_id,
                kind=form.kind,
                advertised_guild_id=advertised,
                title=form.title,
                description=form.description,
                tags=form.tags_text,
                contact=form.contact,
                created_at=now,
                expires_at=expires,
            )
            assert advert.id is not None
            job_id = await self.bot.scheduler.schedule(
                EXPIRE_JOB, expires, {"advert_id": advert.id}, guild_id=guild_id
            )
            await self.db.advert.set_job(advert.id, job_id)
            advert.job_id = job_id
        return advert

    # --- ending ----------------------------------------------------------------------------

    async def expire(self, job: ScheduledJob) -> None:
        """The cooldown of an ad ended: delete its post, end it, tell its author (idempotent)."""
        async with self.task_tracker.task_context("Expire ad") as tracker:
            advert = await self.db.advert.get_by_id(int(job.payload["advert_id"]))
            if advert is None or advert.deleted_at is not None:
                tracker.update_status("Already ended")
                return
            await self.delete_post(advert)
            ended = await self.db.advert.end(
                int(job.payload["advert_id"]), AdvertEnd.EXPIRED.value, discord.utils.utcnow()
            )
            if ended is not None and self.get_setting("dm_on_expiry", True, ended.guild_id):
                await self._tell_author(ended)
            tracker.update_status("Expired")

    async def end_ad(self, advert: Advert, reason: AdvertEnd) -> Advert | None:
        """End a live ad now (a moderator's delete): its post, its row, its job."""
        assert advert.id is not None
        await self.delete_post(advert)
        async with self.db.transaction():
            ended = await self.db.advert.end(advert.id, reason.value, discord.utils.utcnow())
            if ended is not None and ended.job_id is not None:
                await self.bot.scheduler.cancel(ended.job_id)
        return ended

    async def delete_post(self, advert: Advert) -> None:
        """Delete the ad's forum post; one already gone is fine."""
        if advert.thread_id is None:
            return
        thread = await self._find_post(advert)
        if thread is None:
            return
        self._deleting.add(thread.id)
        try:
            await thread.delete()
        except discord.NotFound:
            pass
        except discord.Forbidden:
            self.logger.warning(
                "Ad %s: not allowed to delete its post %s; it stays", advert.id, thread.id
            )
        finally:
            self._deleting.discard(thread.id)

    async def _find_post(self, advert: Advert) -> Any:
        """The ad's post (a thread), None when it no longer exists (or the bot cannot see it)."""
        assert advert.thread_id is not None
        thread = self.bot.get_channel(advert.thread_id)
        if thread is not None:
            return thread
        try:
            return await self.bot.fetch_channel(advert.thread_id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def _tell_author(self, advert: Advert) -> None:
        """A direct message to the author: the ad ended, a new one is allowed."""
        guild = self.bot.get_guild(advert.guild_id)
        where = f" in **{plain(guild.name, 80)}**" if guild is not None else ""
        try:
            user = self.bot.get_user(advert.author_id) or await self.bot.fetch_user(
                advert.author_id
            )
            await user.send(
                f"📣 Your ad `{plain(advert.title, 80)}`{where} has ended and was removed. You "
                "can post a new one now: `/advertise post` (with `reuse: True` the form is "
                "filled from this one)."
            )
        except discord.HTTPException:
            self.logger.info("Ad %s: could not tell its author by direct message", advert.id)

    async def post_gone(self, thread_id: int) -> None:
        """A post was deleted in Discord: end its ad (the cooldown stays)."""
        if thread_id in self._deleting:
            return
        advert = await self.db.advert.find_one({"thread_id": thread_id, "deleted_at": None})
        if advert is None or advert.id is None:
            return
        async with self.db.transaction():
            ended = await self.db.advert.end(
                advert.id, AdvertEnd.BY_HAND.value, discord.utils.utcnow()
            )
            if ended is not None and ended.job_id is not None:
                await self.bot.scheduler.cancel(ended.job_id)
        if ended is not None:
            self.logger.info("Ad %s: its post was deleted by hand", advert.id)

    # --- the loops' work -------------------------------------------------------------------

    async def _check_deletions(self) -> int:
        """End the live ads whose post was deleted by hand; how many."""
        ended = 0
        for advert in await self.db.advert.live_ads():
            if advert.thread_id is None or self.bot.get_guild(advert.guild_id) is None:
                continue
            if await self._find_post(advert) is None:
                await self.post_gone(advert.thread_id)
                ended += 1
        return ended

    async def _cleanup_cooldowns(self) -> int:
        """Remove orphaned records: ads ended long ago, ads of servers the bot left."""
        before = discord.utils.utcnow() - timedelta(days=KEEP_ENDED_DAYS)
        return await self.db.advert.purge(before, [guild.id for guild in self.bot.guilds])
