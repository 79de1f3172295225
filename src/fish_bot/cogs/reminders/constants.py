"""Constants of the reminders cog."""

from __future__ import annotations

from typing import Final

import discord

#: The job type that delivers one occurrence of a reminder (``<cog>.<what>``).
DELIVER_JOB: Final = "reminders.deliver"

#: The shortest interval of a repeating reminder, in seconds.
MIN_REPEAT_SECONDS: Final = 3600

#: Longest reminder text.
MAX_TEXT: Final = 1500

#: A delivery this much after its due time says how late it is (the bot was down).
LATE_AFTER_SECONDS: Final = 60

#: Reminders per page of `reminders`.
PER_PAGE: Final = 5

#: How many of the channel's recent messages a repeated delivery looks through for the one an
#: interrupted delivery may have posted.
HISTORY_LOOKBACK: Final = 50

#: Colour of the cog's embeds.
EMBED_COLOUR: Final = discord.Color.gold()

#: Component actions (custom_id ``reminders:<action>:...``).
PAGE_ACTION: Final = "page"
CANCEL_ACTION: Final = "cancel"

#: The example shown when `remind` cannot read its input.
REMIND_EXAMPLE: Final = "`{prefix}remind 2h stretch your legs`"
