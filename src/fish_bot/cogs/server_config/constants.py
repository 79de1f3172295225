"""Constants of the guild configuration cog."""

from __future__ import annotations

from typing import Final

import discord

from fish_bot.core.permissions import RankRequirement

#: The permission rank every `config` command needs by default, and on a server without ranks
#: Manage Server (the server owner and Administrators can always run them).
CONFIG_RANK: Final = RankRequirement(7, "manage_guild")

#: Command prefixes are 1 to 16 characters without spaces (the column holds 16).
PREFIX_MAX_LENGTH: Final = 16

#: Words that turn a channel or role setting off in prefix commands.
NONE_WORDS: Final = frozenset({"none", "off", "clear", "reset", "disable", "-"})

#: Human names of the log kinds, in the order `config show` lists them.
LOG_KIND_LABELS: Final[dict[str, str]] = {
    "mod": "Moderation log",
    "message": "Message log",
    "member": "Member log",
    "server": "Server log",
}

EMBED_COLOUR: Final = discord.Color.blurple()

#: The internal settings value that records a server as welcomed (the welcome is posted once).
WELCOMED_KEY: Final = "__welcomed__"
