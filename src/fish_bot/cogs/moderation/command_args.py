"""Shared argument types and help texts of the moderation action commands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from discord.ext import commands

from fish_bot.cogs.moderation.utils import FutureTime

Ctx = commands.Context[Any]
When = Annotated[datetime, FutureTime]

REASON_HELP = "Why (shown to the member and in the mod log); add --silent to skip the DM"
DURATION_HELP = "How long: 30m, 2h, 7d, 1w2d, or a UTC date-time like 2030-01-31T18:00"
