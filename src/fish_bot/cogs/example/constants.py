"""Constants of the example cog."""

from __future__ import annotations

from typing import Final

import discord

#: The job type of reminders in the persisted job scheduler (``<cog>.<what>``).
REMINDER_JOB: Final = "example.reminder"

#: Longest reminder text kept in a job's payload.
MAX_REMINDER_TEXT: Final = 500

#: Colour of the cog's embeds.
EMBED_COLOUR: Final = discord.Color.teal()

#: How long the `example show` refresh button stays usable, in seconds.
SHOW_VIEW_TIMEOUT: Final = 120.0

#: The component actions handled by the cog (custom_id ``example:<action>:...``).
PRESS_ACTION: Final = "press"
