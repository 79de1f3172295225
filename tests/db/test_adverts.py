"""AdvertController on both databases: cooldowns, ending once, clearing, clean-up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import discord

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.adverts import Advert, AdvertEnd

GUILD = 1_300_000_000_000_000_001
OTHER_GUILD = 1_300_000_000_000_000_002
SERVER = 1_300_000_000_000_000_003
ALICE = 1_300_000_000_000_000_101
BOB = 1_300_000_000_000_000_102


async def add(
    db: DatabaseCoordinator,
    author: int = ALICE,
    hours: float = 24,
    guild: int = GUILD,
    advertised: int | None = None,
    **extra: object,
) -> Advert:
    now = discord.utils.utcnow()
    return await db.advert.create(
        guild_id=guild,
        author_id=author,
        kind="guild" if advertised else "member",
        advertised_guild_id=advertised,
        title="Fish Tank",
        description="A server about fish",
        tags="fish, tanks",
        contact="https://discord.gg/abc",
        created_at=now - timedelta(hours=24 - hours),
        expires_at=now + timedelta(hours=hours),
        **extra,
    )


async def test_the_cooldown_holds_the_author_and_the_server(db: DatabaseCoordinator) -> None:
    now = discord.utils.utcnow()
    ad = await add(db, ALICE, advertised=SERVER)
    assert (await db.advert.blocking_ad(GUILD, ALICE, None, now)) is not None
    found = await db.advert.blocking_ad(GUILD, BOB, SERVER, now)
    assert found is not None and found.id == ad.id
    assert await db.advert.blocking_ad(GUILD, BOB, None, now) is None
    assert await db.advert.blocking_ad(OTHER_GUILD, ALICE, SERVER, now) is None
    # After its end the cooldown is over.
    assert await db.advert.blocking_ad(GUILD, ALICE, None, now + timedelta(hours=25)) is None


async def test_clear_cooldown_lifts_only_that_members(db: DatabaseCoordinator) -> None:
    now = discord.utils.utcnow()
    await add(db, ALICE)
    await add(db, BOB)
    assert await db.advert.clear_cooldown(GUILD, ALICE, now) == 1
    assert await db.advert.blocking_ad(GUILD, ALICE, None, now) is None
    assert await db.advert.blocking_ad(GUILD, BOB, None, now) is not None
    assert await db.advert.clear_cooldown(GUILD, ALICE, now) == 0


async def test_an_ad_ends_once_even_when_two_end_it_at_once(db: DatabaseCoordinator) -> None:
    ad = await add(db)
    assert ad.id is not None
    now = discord.utils.utcnow()
    results = await asyncio.gather(
        db.advert.end(ad.id, AdvertEnd.EXPIRED.value, now),
        db.advert.end(ad.id, AdvertEnd.MODERATOR.value, now),
    )
    assert sum(result is not None for result in results) == 1
    stored = await db.advert.get_by_id(ad.id)
    assert stored is not None and stored.deleted_at is not None
    assert await db.advert.live_ads(GUILD) == []
    assert await db.advert.find_live(GUILD, ad.id) is None


async def test_live_ads_are_found_by_number_or_post(db: DatabaseCoordinator) -> None:
    ad = await add(db)
    assert ad.id is not None
    await db.advert.set_post(ad.id, 55, 77)
    by_number = await db.advert.find_live(GUILD, ad.id)
    by_post = await db.advert.find_live(GUILD, 77)
    assert by_number is not None and by_post is not None and by_number.id == by_post.id
    assert await db.advert.find_live(OTHER_GUILD, ad.id) is None
    last = await db.advert.last_ad(GUILD, ALICE)
    assert last is not None and last.id == ad.id and last.tags == "fish, tanks"


async def test_purge_removes_old_ended_ads_and_left_servers(db: DatabaseCoordinator) -> None:
    now = discord.utils.utcnow()
    old = await add(db, ALICE, hours=-24 * 40)
    recent = await add(db, BOB, hours=-1)
    live = await add(db, ALICE)
    left = await add(db, BOB, guild=OTHER_GUILD)
    for ad in (old, recent):
        assert ad.id is not None
        await db.advert.end(ad.id, AdvertEnd.EXPIRED.value, now)
    removed = await db.advert.purge(now - timedelta(days=30), [GUILD])
    assert removed == 2
    kept = {ad.id for ad in await db.advert.find_all()}
    assert kept == {recent.id, live.id}
    assert left.id not in kept
