"""AdvertController: the ads of the advertise cog, their cooldowns and their ends.

An ad ends once: :meth:`AdvertController.end` is a conditional ``UPDATE ... WHERE deleted_at IS
NULL``, so an expiry job that runs twice, or an expiry racing a moderator's delete, ends the ad
at most once; the loser gets ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController
from fish_bot.database.models.adverts import Advert

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

_A = Advert.__table__.c  # type: ignore[attr-defined]


class AdvertController(BaseController[Advert]):
    """Ads: post, cooldowns, live ads, ends, clean-up."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(Advert, service)

    # --- reads ---------------------------------------------------------------------------

    async def blocking_ad(
        self, guild_id: int, author_id: int, advertised_guild_id: int | None, now: datetime
    ) -> Advert | None:
        """The ad whose cooldown holds back a new one (by this author, or for this server).

        The one whose cooldown ends last; None when a new ad is allowed now.
        """
        who = _A.author_id == author_id
        if advertised_guild_id is not None:
            who = sa.or_(who, _A.advertised_guild_id == advertised_guild_id)
        return await self.find_one(
            [_A.guild_id == guild_id, who, _A.expires_at > now, _A.cooldown_cleared.is_(False)],
            order_by=[_A.expires_at.desc()],
        )

    async def last_ad(self, guild_id: int, author_id: int) -> Advert | None:
        """The author's latest ad in this server (live or ended), for "re-use my last ad"."""
        return await self.find_one(
            [_A.guild_id == guild_id, _A.author_id == author_id],
            order_by=[_A.created_at.desc(), _A.id.desc()],
        )

    async def live_ads(self, guild_id: int | None = None) -> list[Advert]:
        """The ads not ended yet (in one server, or everywhere), oldest first."""
        where = [_A.deleted_at.is_(None)]
        if guild_id is not None:
            where.append(_A.guild_id == guild_id)
        return await self.find_all(where, order_by=[_A.created_at, _A.id])

    async def find_live(self, guild_id: int, number: int) -> Advert | None:
        """A live ad of this server by its number or by its post's (thread's) id."""
        return await self.find_one(
            [
                _A.guild_id == guild_id,
                _A.deleted_at.is_(None),
                sa.or_(_A.id == number, _A.thread_id == number),
            ],
            order_by=[_A.id],
        )

    # --- writes --------------------------------------------------------------------------

    async def set_post(self, advert_id: int, channel_id: int, thread_id: int) -> None:
        """Remember the forum post made for the ad."""
        await self.update_by_id(advert_id, channel_id=channel_id, thread_id=thread_id)

    async def set_job(self, advert_id: int, job_id: int) -> None:
        """Remember the scheduler job that ends the ad."""
        await self.update_by_id(advert_id, job_id=job_id)

    async def end(self, advert_id: int, reason: str, at: datetime) -> Advert | None:
        """End a live ad (its post is gone); None when it had ended already."""
        async with self._session(write=True) as session:
            statement = (
                sa.update(Advert)
                .where(_A.id == advert_id, _A.deleted_at.is_(None))
                .values(deleted_at=at, deleted_reason=reason)
                .returning(Advert)
                .execution_options(populate_existing=True, synchronize_session=False)
            )
            return (await session.execute(statement)).scalar_one_or_none()

    async def clear_cooldown(self, guild_id: int, author_id: int, now: datetime) -> int:
        """Lift the cooldown of the member's ads in this server; how many ads held it."""
        return await self.update_where(
            [
                _A.guild_id == guild_id,
                _A.author_id == author_id,
                _A.expires_at > now,
                _A.cooldown_cleared.is_(False),
            ],
            {"cooldown_cleared": True},
        )

    async def purge(self, ended_before: datetime, keep_guilds: Iterable[int] | None) -> int:
        """Delete orphaned rows: ads ended before ``ended_before``, and every ad of a server
        not in ``keep_guilds`` (the bot left it; None: keep every server)."""
        stale: Any = sa.and_(_A.deleted_at.is_not(None), _A.expires_at < ended_before)
        if keep_guilds is not None:
            stale = sa.or_(stale, _A.guild_id.not_in(list(keep_guilds)))
        return await self.delete_where([stale])
