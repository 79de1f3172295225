"""The AFK cog's state in memory and its pure helpers.

* :class:`AfkCache`: who is AFK, per guild, read once at start-up (one query for every guild)
  and then changed only after a committed write, so a message costs no query unless it
  concerns someone AFK.
* :class:`NoticeLimiter`: a channel hears about one AFK member at most every five minutes.
* The nickname rule (``[AFK] `` in front, never twice, at most 32 characters), the reading of
  ``afk [duration] [reason]`` and the lines the cog shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.afk.constants import (
    AFK_REASON_LIMIT,
    DURATION_WORDS,
    GRACE,
    MAX_AFK,
    MIN_AFK,
    NICK_PREFIX,
    NICKNAME_LIMIT,
    NOTICE_COOLDOWN,
)
from fish_bot.core.durations import parse_duration
from fish_bot.core.guild_cache import GuildCache
from fish_bot.core.text import clip, plain
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.database.coordinator import DatabaseCoordinator
    from fish_bot.database.models.afk import AFK


class AfkError(UserFacingError):
    """An AFK command refused (a reason too long, a bad duration, nobody to clear)."""


# --- who is AFK, in memory ---------------------------------------------------------------------


@dataclass(frozen=True)
class AfkMark:
    """What a message needs to know about an AFK member without asking the database."""

    since: datetime
    permanent: bool
    #: Until then the member's own messages do not end the AFK.
    grace_until: datetime

    @classmethod
    def of(cls, row: AFK, changed_at: datetime | None = None) -> AfkMark:
        return cls(
            since=row.since,
            permanent=bool(row.permanent),
            grace_until=(changed_at or row.since) + GRACE,
        )


Marks = dict[int, AfkMark]

#: The cache bus topic of AFK changes (see ``database/notify.py``).
AFK_BUS_TOPIC = "afk"


class AfkCache:
    """The AFK members of every guild, in a :class:`GuildCache`.

    :meth:`load_all` reads every guild's AFK members in one query (at cog load); from then on
    a guild that is not in memory has nobody AFK, so :meth:`peek` answers without I/O for
    every guild. :meth:`put` and :meth:`discard` are called after the write committed
    (``after_commit``): a write that rolls back never changes what the cache says. A guild
    that was :meth:`invalidate`\\ d (or every guild, when the start-up load failed) is read
    again on first use, one query.
    """

    def __init__(self, db: DatabaseCoordinator) -> None:
        self.db = db
        self._cache: GuildCache[Marks] = GuildCache(self._load, name="AFK members")
        # Another process changed a guild's AFK members (None: every guild, after a reconnect).
        self._unsubscribe = db.service.bus.subscribe(
            AFK_BUS_TOPIC, lambda event: self.invalidate(event.guild_id)
        )
        #: Whether every guild's members were loaded (then a missing guild has nobody AFK).
        self._complete = False
        #: Guilds invalidated since the full load: they must be read again.
        self._stale: set[int] = set()

    async def _load(self, guild_id: int) -> Marks:
        rows = await self.db.afk.get_all_afk_members(guild_id)
        return {row.member_id: AfkMark.of(row) for row in rows}

    async def load_all(self) -> int:
        """Read every AFK member of every guild (one query); returns how many there are."""
        rows = await self.db.afk.every_afk_member()
        grouped: dict[int, Marks] = {}
        for row in rows:
            grouped.setdefault(row.guild_id, {})[row.member_id] = AfkMark.of(row)
        self._cache.invalidate()
        self._cache.fill(grouped)
        self._stale.clear()
        self._complete = True
        return len(rows)

    def peek(self, guild_id: int) -> Marks | None:
        """The guild's AFK members from memory (None: it must be read, see :meth:`marks`)."""
        value = self._cache.peek(guild_id)
        if value is None and self._complete and guild_id not in self._stale:
            self._cache.fill({guild_id: {}})
            value = self._cache.peek(guild_id)
        return value

    async def marks(self, guild_id: int) -> Marks:
        """The guild's AFK members: from memory, or read once."""
        value = self.peek(guild_id)
        if value is not None:
            return value
        value = await self._cache.get(guild_id)
        if self._cache.is_loaded(guild_id):
            self._stale.discard(guild_id)
        return value

    def put(self, guild_id: int, member_id: int, mark: AfkMark) -> None:
        """A member is AFK (after the commit)."""
        self.peek(guild_id)
        self._cache.mutate(guild_id, lambda marks: marks.__setitem__(member_id, mark))

    def discard(self, guild_id: int, member_id: int) -> None:
        """A member is no longer AFK (after the commit)."""
        self.peek(guild_id)
        self._cache.mutate(guild_id, lambda marks: marks.pop(member_id, None))

    async def announce(self, guild_id: int) -> None:
        """Tell the other processes that the guild's AFK members change (call it inside the
        write's transaction: a rollback announces nothing)."""
        await self.db.service.bus.publish(AFK_BUS_TOPIC, guild_id)

    def close(self) -> None:
        """Stop hearing other processes' changes (the cog unloads)."""
        self._unsubscribe()

    def invalidate(self, guild_id: int | None = None) -> None:
        """Forget a guild (or every guild): it is read again on first use."""
        self._cache.invalidate(guild_id)
        if guild_id is None:
            self._complete = False
            self._stale.clear()
        else:
            self._stale.add(guild_id)

    def count(self) -> int:
        """How many AFK members are in memory (every guild)."""
        return sum(len(self._cache.peek(g) or {}) for g in self._cache.loaded())


class NoticeLimiter:
    """At most one notice per AFK member per channel per :data:`NOTICE_COOLDOWN`."""

    def __init__(self, cooldown: timedelta = NOTICE_COOLDOWN) -> None:
        self.cooldown = cooldown
        self._last: dict[tuple[int, int], datetime] = {}

    def take(self, channel_id: int, member_ids: Iterable[int], now: datetime) -> list[int]:
        """The members the channel may hear about now (counted as told, in order)."""
        if len(self._last) > 10_000:
            self._last = {k: t for k, t in self._last.items() if now - t < self.cooldown}
        allowed = []
        for member_id in member_ids:
            last = self._last.get((channel_id, member_id))
            if last is None or now - last >= self.cooldown:
                self._last[(channel_id, member_id)] = now
                allowed.append(member_id)
        return allowed

    def forget(self, member_id: int) -> None:
        """A member's AFK ended: the next AFK is announced afresh."""
        for key in [key for key in self._last if key[1] == member_id]:
            del self._last[key]


# --- nicknames -------------------------------------------------------------------------------


def afk_nickname(display_name: str) -> str | None:
    """``[AFK] <name>``, at most 32 characters; None when the name has the prefix already."""
    if display_name.startswith(NICK_PREFIX.strip()):
        return None
    return clip(NICK_PREFIX + display_name, NICKNAME_LIMIT)


def can_rename(member: discord.Member) -> bool:
    """Whether the bot may change this member's nickname (permission and role hierarchy)."""
    guild = member.guild
    me = guild.me
    if me is None or member.id == guild.owner_id or member.id == me.id:
        return False
    if not me.guild_permissions.manage_nicknames:
        return False
    return member.top_role < me.top_role


# --- reading the command ---------------------------------------------------------------------


def check_reason(reason: str | None) -> str | None:
    """The reason to store: stripped, None when empty; refused over 100 characters."""
    text = (reason or "").strip()
    if not text:
        return None
    if len(text) > AFK_REASON_LIMIT:
        raise AfkError(
            f"❌ An AFK reason is at most {AFK_REASON_LIMIT} characters; yours has {len(text)}."
        )
    return text


def check_duration(seconds: int) -> timedelta:
    """A timed AFK's length: between one minute and 365 days."""
    length = timedelta(seconds=seconds)
    if not MIN_AFK <= length <= MAX_AFK:
        raise AfkError("❌ A timed AFK lasts between 1 minute and 365 days (e.g. `2h`).")
    return length


def read_duration(text: str) -> timedelta:
    """A duration option (slash): parsed by the one parser, refused with its example."""
    try:
        return check_duration(parse_duration(text))
    except ValueError as error:
        raise AfkError(f"❌ {error}") from None


def split_duration(text: str) -> tuple[timedelta | None, str | None]:
    """``afk [duration] [reason]`` typed as one text: the duration that starts it, if any, and
    the rest as the reason (``2 hours lunch`` -> 2 h, ``lunch``; ``lunch`` -> none, ``lunch``).

    The longest run of leading words (up to six) that reads as a duration is the duration; a
    word without a letter ("5") does not start one.
    """
    words = text.split()
    for count in range(min(len(words), DURATION_WORDS), 0, -1):
        candidate = " ".join(words[:count])
        if not any(character.isalpha() for character in candidate):
            continue
        try:
            seconds = parse_duration(candidate)
        except ValueError:
            continue
        return check_duration(seconds), " ".join(words[count:]) or None
    return None, text.strip() or None


# --- what is shown ---------------------------------------------------------------------------


def reason_text(reason: str | None) -> str:
    """The reason as shown: inline code (no mention, no markdown), or a placeholder."""
    return f"`{plain(reason, AFK_REASON_LIMIT)}`" if reason else "no reason given"


def notice_line(row: AFK) -> str:
    """One member in a mention notice: who, why, since when (and until when)."""
    line = (
        f"💤 <@{row.member_id}> is AFK: {reason_text(row.reason)} "
        f"(since {discord.utils.format_dt(row.since, 'R')})"
    )
    if row.until is not None:
        line += f", back {discord.utils.format_dt(row.until, 'R')}"
    return line + "."


def list_line(row: AFK) -> str:
    """One member in `afk list`."""
    if row.permanent:
        kind = "permanent"
    elif row.until is not None:
        kind = f"until {discord.utils.format_dt(row.until, 'R')}"
    else:
        kind = "until they write"
    return (
        f"<@{row.member_id}> · {reason_text(row.reason)} · since "
        f"{discord.utils.format_dt(row.since, 'R')} · {kind}"
    )
