"""Constants of the help cog: limits, the select menu's action and the suggestion rate limit."""

from __future__ import annotations

from typing import Final

import discord

#: The colour of every help embed.
HELP_COLOUR: Final = discord.Colour.blurple()

#: The custom_id action of the module select menu (``help:module:<channel>:<author>``).
MODULE_ACTION: Final = "module"
#: The select option that goes back to the overview.
OVERVIEW_VALUE: Final = "__overview__"

#: How much of a name help or the unknown-command answer quotes back.
NAME_SHOWN: Final = 60
#: At most this many close names are suggested.
SUGGESTIONS: Final = 3
#: How alike a name must be to be suggested (difflib ratio, 0..1).
SUGGESTION_CUTOFF: Final = 0.6
#: A word after the prefix longer than this is not taken for a command.
COMMAND_WORD_LIMIT: Final = 32

#: The setting that turns the "did you mean" answer to unknown commands on or off.
SUGGEST_SETTING: Final = "suggest_unknown_commands"
#: One "did you mean" answer per channel at most this often (seconds).
SUGGEST_COOLDOWN: Final = 30.0
#: Channels remembered for the rate limit before old entries are dropped.
SUGGEST_MEMORY: Final = 5000

#: Autocomplete offers at most this many names (Discord's limit).
AUTOCOMPLETE_LIMIT: Final = 25
