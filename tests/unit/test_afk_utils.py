"""The AFK cog's pure helpers: reading `afk [duration] [reason]`, the nickname rule, the notice
limit and the in-memory AFK members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fish_bot.cogs.afk.utils import (
    AfkCache,
    AfkError,
    AfkMark,
    NoticeLimiter,
    afk_nickname,
    check_reason,
    split_duration,
)
from fish_bot.database.notify import CacheBus

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "duration", "reason"),
    [
        ("", None, None),
        ("lunch", None, "lunch"),
        ("2h lunch", timedelta(hours=2), "lunch"),
        ("2 hours lunch", timedelta(hours=2), "lunch"),
        ("1h30m", timedelta(minutes=90), None),
        ("1 hour and 30 minutes at the dentist", timedelta(minutes=90), "at the dentist"),
        ("5 more minutes", None, "5 more minutes"),
        ("back in 5m", None, "back in 5m"),
        ("2h", timedelta(hours=2), None),
    ],
)
def test_split_duration(text: str, duration: timedelta | None, reason: str | None) -> None:
    assert split_duration(text) == (duration, reason)


@pytest.mark.parametrize("text", ["30s nap", "400d away", "0m"])
def test_split_duration_refuses_durations_out_of_range(text: str) -> None:
    with pytest.raises(AfkError, match="between 1 minute and 365 days"):
        split_duration(text)


def test_check_reason() -> None:
    assert check_reason(None) is None
    assert check_reason("   ") is None
    assert check_reason("  lunch ") == "lunch"
    assert check_reason("x" * 100) == "x" * 100
    with pytest.raises(AfkError, match="yours has 101"):
        check_reason("x" * 101)


def test_afk_nickname() -> None:
    assert afk_nickname("Fishy") == "[AFK] Fishy"
    long = afk_nickname("n" * 40)
    assert long is not None and len(long) == 32 and long.endswith("…")
    assert afk_nickname("[AFK] Fishy") is None
    assert afk_nickname("[AFK]Fishy") is None


def test_notice_limiter_once_per_channel_and_member_per_five_minutes() -> None:
    limiter = NoticeLimiter()
    assert limiter.take(1, [10, 11], NOW) == [10, 11]
    assert limiter.take(1, [10, 11, 12], NOW + timedelta(minutes=1)) == [12]
    assert limiter.take(2, [10], NOW + timedelta(minutes=1)) == [10]
    assert limiter.take(1, [10], NOW + timedelta(minutes=5)) == [10]
    limiter.forget(11)
    assert limiter.take(1, [11], NOW + timedelta(minutes=5, seconds=1)) == [11]


class _Row:
    def __init__(self, guild_id: int, member_id: int) -> None:
        self.guild_id, self.member_id = guild_id, member_id
        self.since, self.permanent = NOW, False


class _Afk:
    """A stand-in for the controller that counts its reads."""

    def __init__(self, rows: list[_Row]) -> None:
        self.rows = rows
        self.reads = 0

    async def every_afk_member(self) -> list[_Row]:
        self.reads += 1
        return list(self.rows)

    async def get_all_afk_members(self, guild_id: int) -> list[_Row]:
        self.reads += 1
        return [row for row in self.rows if row.guild_id == guild_id]


class _Service:
    is_sqlite = True  # one process: the cache bus is off
    url = "sqlite+aiosqlite://"
    engine_options: dict[str, Any] = {}

    def __init__(self) -> None:
        self.bus = CacheBus(self)  # type: ignore[arg-type]


class _Db:
    def __init__(self, rows: list[_Row]) -> None:
        self.afk = _Afk(rows)
        self.service = _Service()


async def test_after_the_full_load_every_guild_is_answered_from_memory() -> None:
    db: Any = _Db([_Row(1, 10), _Row(1, 11), _Row(2, 20)])
    cache = AfkCache(db)
    assert cache.peek(1) is None  # nothing loaded yet

    assert await cache.load_all() == 3
    assert db.afk.reads == 1
    assert set(cache.peek(1) or {}) == {10, 11}
    assert cache.peek(3) == {}  # a guild with nobody AFK
    mark = AfkMark(since=NOW, permanent=False, grace_until=NOW)
    cache.put(3, 30, mark)
    cache.discard(1, 10)
    assert await cache.marks(3) == {30: mark}
    assert set(await cache.marks(1)) == {11}
    assert db.afk.reads == 1
    assert cache.count() == 3


async def test_an_invalidated_guild_is_read_again() -> None:
    db: Any = _Db([_Row(1, 10)])
    cache = AfkCache(db)
    await cache.load_all()
    cache.invalidate(1)
    assert cache.peek(1) is None
    assert set(await cache.marks(1)) == {10}
    assert db.afk.reads == 2
    assert set(cache.peek(1) or {}) == {10}
