"""Small helpers of the moderation cog: the error it raises, reason parsing, time texts, the
restriction cache and the data classes of the action flow.

The cog's other shared code lives by concern:

* :mod:`~fish_bot.cogs.moderation.flow`: the action flow (checks, record, DM, Discord action,
  answer), :class:`~fish_bot.cogs.moderation.flow.ModerationUtilsMixin`;
* :mod:`~fish_bot.cogs.moderation.records`: cases and their expiry jobs in the database;
* :mod:`~fish_bot.cogs.moderation.reconcile`: pending cases settled against Discord at start-up;
* :mod:`~fish_bot.cogs.moderation.modlog`: the case embeds and the mod-log channel.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.moderation.constants import (
    AUDIT_REASON_LENGTH,
    MAX_REASON_LENGTH,
    SILENT_FLAGS,
    ActionSpec,
)
from fish_bot.core.durations import format_duration
from fish_bot.core.guild_cache import GuildCache
from fish_bot.core.text import clip
from fish_bot.database.models.cases import Case, CaseType
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.database.coordinator import DatabaseCoordinator

_SILENT = re.compile(
    r"(?<!\S)(?:" + "|".join(re.escape(flag) for flag in sorted(SILENT_FLAGS)) + r")(?!\S)",
    re.IGNORECASE,
)


class ModerationError(UserFacingError):
    """A moderation check refused an action, or Discord did: the message says which."""


def discord_refusal(spec: ActionSpec, mention: str, error: discord.HTTPException) -> str:
    """What Discord said when it refused an action, as one sentence (no final stop)."""
    if isinstance(error, discord.Forbidden):
        detail = error.text or "missing permissions"
        return f"Discord refused to let me {spec.verb} {mention}: {detail}"
    if isinstance(error, discord.NotFound):
        return f"Discord could not {spec.verb} {mention}: {error.text or 'not found'}"
    return f"Discord failed to {spec.verb} {mention} (HTTP {error.status}: {error.text or 'error'})"


# --- parsing ---------------------------------------------------------------------------------


def split_reason(text: str | None) -> tuple[str | None, bool]:
    """The reason without its ``--silent`` / ``-s`` flag, and whether the flag was there."""
    if not text:
        return None, False
    silent = _SILENT.search(text) is not None
    cleaned = re.sub(r"[ \t]{2,}", " ", _SILENT.sub("", text)).strip()
    if len(cleaned) > MAX_REASON_LENGTH:
        raise ModerationError(
            f"❌ The reason is too long ({len(cleaned)} characters; at most {MAX_REASON_LENGTH})."
        )
    return cleaned or None, silent


def audit_reason(moderator: discord.abc.User, reason: str | None) -> str:
    """The reason shown in the server's audit log."""
    return clip(f"{moderator} ({moderator.id}): {reason or 'no reason given'}", AUDIT_REASON_LENGTH)


def timestamp(moment: datetime, style: str = "f") -> str:
    """A Discord timestamp that every reader sees in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def until_text(moment: datetime) -> str:
    """``until <date> (in 2h)``."""
    seconds = max(0, round((moment - discord.utils.utcnow()).total_seconds()))
    return f"until {timestamp(moment)} ({format_duration(seconds)})"


#: Finds a user in the bot's cache, without a request (``bot.get_user``).
UserLookup = Callable[[int], "discord.abc.User | None"]


def user_label(
    user: discord.abc.User | None, user_id: int, lookup: UserLookup | None = None
) -> str:
    """``<@id> (name, `id`)``: the mention and, next to it, the name as text.

    Embeds show the name even where a client does not turn the mention into one (an uncached
    member, a notification, the sandbox's browser preview). ``lookup`` finds the user in the
    bot's cache when ``user`` is not given; a user nobody knows is ``<@id> (`id`)``.
    """
    if user is None and lookup is not None:
        user = lookup(user_id)
    if user is None:
        return f"<@{user_id}> (`{user_id}`)"
    name = discord.utils.escape_markdown(str(user))
    return f"<@{user_id}> ({name}, `{user_id}`)"


# --- the poll-ban cache ----------------------------------------------------------------------


class RestrictionCache:
    """The users under one restriction (e.g. POLLBAN), per guild, read once per guild.

    A :class:`~fish_bot.core.guild_cache.GuildCache`: :meth:`contains` does no I/O once a guild
    is loaded. Writers call :meth:`add` and :meth:`discard` after their transaction committed;
    a load running at that moment does not keep what it read, so the change is never lost.
    """

    def __init__(self, db: DatabaseCoordinator, case_type: CaseType) -> None:
        self.db = db
        self.case_type = case_type
        self._cache: GuildCache[set[int]] = GuildCache(
            self._load, name=f"{case_type.value.lower()} users"
        )

    async def _load(self, guild_id: int) -> set[int]:
        return await self.db.case.restricted_users(guild_id, self.case_type)

    def is_loaded(self, guild_id: int) -> bool:
        return self._cache.is_loaded(guild_id)

    async def users(self, guild_id: int) -> set[int]:
        """The restricted users of a guild (loaded from the database on first use)."""
        return await self._cache.get(guild_id)

    async def contains(self, guild_id: int, user_id: int) -> bool:
        return user_id in await self.users(guild_id)

    async def add(self, guild_id: int, user_id: int) -> None:
        self._cache.mutate(guild_id, lambda users: users.add(user_id))

    async def discard(self, guild_id: int, user_id: int) -> None:
        self._cache.mutate(guild_id, lambda users: users.discard(user_id))

    def invalidate(self, guild_id: int | None = None) -> None:
        """Forget a guild (or every guild): read again on next use (after a case is voided)."""
        self._cache.invalidate(guild_id)


# --- the action flow's data ---------------------------------------------------------------


@dataclass
class ActionTarget:
    """A target that passed the checks, with the parsed reason."""

    spec: ActionSpec
    user: discord.abc.User
    member: discord.Member | None
    reason: str | None
    silent: bool

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"


@dataclass
class ActionResult:
    """What :meth:`ModerationUtilsMixin.execute_action` did."""

    case: Case | None
    #: True: delivered; False: their DMs are closed; None: not attempted.
    dm_sent: bool | None
    mod_log_message: discord.Message | None
    #: Why the case could not be confirmed after the action (None: it was).
    pending_error: str | None = None
    #: The answer to the moderator (a command's reply), when one was sent.
    answer: discord.Message | None = None


Action = Callable[[], Awaitable[Any]]


def expires_in_text(expires_at: datetime | None) -> str:
    """`until <date> (2h)` or `permanently`."""
    return until_text(expires_at) if expires_at is not None else "permanently"
