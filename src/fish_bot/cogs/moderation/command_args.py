"""Shared argument types and help texts of the moderation action commands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from discord.ext import commands

from fish_bot.core.converters import FutureMoment, OptionalFutureMoment

Ctx = commands.Context[Any]
#: A required duration or date-time: the words after the member (``5 days``, ``1h30m``).
When = Annotated[datetime, FutureMoment]
#: The same, optional: when the words do not start with a duration they are the reason.
MaybeWhen = Annotated[datetime | None, OptionalFutureMoment]

REASON_HELP = "Why (shown to the member and in the mod log); add --silent to skip the DM"
DURATION_HELP = (
    "How long: 30m, 2h, 5 days, 1h30m, 1 week 2 days, or a UTC date-time like 2030-01-31T18:00"
)
