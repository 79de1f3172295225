"""The moderation action commands (hybrid: prefix and slash).

Each command declares its default rank (``DEFAULT_RANKS``), parses its arguments, runs the
command-specific checks and hands over to the shared flow in ``flow.py``. A reason may end
with ``--silent`` (or ``-s``) to skip the DM to the member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.moderation.channel_commands import ChannelCommandsMixin
from fish_bot.cogs.moderation.removal_commands import RemovalCommandsMixin
from fish_bot.cogs.moderation.restriction_commands import RestrictionCommandsMixin

if TYPE_CHECKING:
    from fish_bot.cogs.moderation.utils import RestrictionCache


# Listed last-first: discord.py collects a cog's commands from the most basic class up, so this
# keeps the commands in their usual order (removals, restrictions, channel tools).
class ModerationCommandsMixin(ChannelCommandsMixin, RestrictionCommandsMixin, RemovalCommandsMixin):
    """ban, tempban, unban, kick, warn, timeout, untimeout, jail, unjail, pollban, pollunban,
    snippetban, snippetunban, note, purge, slowmode."""

    if TYPE_CHECKING:  # provided by the Moderation class
        pollbans: RestrictionCache
