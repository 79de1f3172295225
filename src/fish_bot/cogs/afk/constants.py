"""Constants of the AFK cog."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import discord

from fish_bot.database.models.afk import AFK_REASON_LIMIT, NICKNAME_LIMIT

__all__ = [
    "AFK_EXPIRY_JOB",
    "AFK_REASON_LIMIT",
    "DURATION_WORDS",
    "EMBED_COLOUR",
    "GRACE",
    "LIST_LIMIT",
    "MAX_AFK",
    "MIN_AFK",
    "MODERATOR_RANK",
    "NICKNAME_LIMIT",
    "NICK_PREFIX",
    "NOTICE_COOLDOWN",
    "WELCOME_SECONDS",
]

#: The job type that ends a timed AFK (``afk 2h ...``) in the persisted job scheduler.
AFK_EXPIRY_JOB: Final = "afk.expire"

#: What the bot puts in front of an AFK member's nickname.
NICK_PREFIX: Final = "[AFK] "

#: Messages sent this soon after going AFK (or changing the AFK) do not end it.
GRACE: Final = timedelta(seconds=10)

#: How long the "welcome back" message stays, in seconds.
WELCOME_SECONDS: Final = 10.0

#: A channel is told about one AFK member at most this often.
NOTICE_COOLDOWN: Final = timedelta(minutes=5)

#: The shortest and longest timed AFK.
MIN_AFK: Final = timedelta(minutes=1)
MAX_AFK: Final = timedelta(days=365)

#: At most this many words at the start of `afk ...` are read as its duration ("2 hours, 30 m").
DURATION_WORDS: Final = 6

#: The rank `afk list` and `afk clear` need by default (the rank of `cases`: moderators).
MODERATOR_RANK: Final = 2

#: `afk list` shows at most this many members.
LIST_LIMIT: Final = 40

EMBED_COLOUR: Final = discord.Color.dark_grey()
